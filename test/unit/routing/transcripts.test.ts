// Scenario transcripts for the routing core: each file under test/scenarios/routing drives one Router (the node
// under test) while the transcript plays its neighbours. Lines are `@ms event args`; each is followed by the
// effects the router returned and its routing state after, all indented. The expected lines are regenerated only on
// purpose: run with UPDATE_TRANSCRIPTS=1 after a deliberate change and review the diff.
//
// Node names are single hex characters; name x is the address x repeated 32 times.
//   config key=value …                 a new Router for `self` (first line): self=a hello=1000 ogmTtl=… gateway=KBPS
//   @t up N | @t down N REASON         neighbour-up / neighbour-down (carrier, admin, session, send-error)
//   @t tick                            Router.tick
//   @t ogm N orig=O seq=S [ttl=T] [tq=Q] [hops=H] [prev=P] [gw=CLASS]    an OGM from neighbour N
//   @t probe N seq=S [ts=T] | @t reply N seq=S [ts=T]                   probe / probe-reply from N
//   @t rreq N id=I orig=O dest=D [hops=H] [ttl=T] | @t rrep N id=I orig=O dest=D [hops=H]
//   @t rerr N D,D…                      a route error from N
//   @t counters N rx=R tx=T             XDP link counters of the link to N
//   @t need D                           data for D has no route
// State line: `= routes D>primary|backup…  down=dead-neighbours  gw=G`.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Router } from '../../../host/core/routing/router.js';
import type { NeighbourDownReason, NodeAddress, RoutingConfig, RoutingEffect, RoutingEvent, RoutingMessage } from '../../../host/core/routing/types.js';

const dir = join(process.cwd(), 'test', 'scenarios', 'routing');
const addr = (name: string): NodeAddress => {
  if (!/^[0-9a-f]$/.test(name)) throw new Error(`node names are one hex character, got '${name}'`);
  return name.repeat(32);
};
const name = (a: NodeAddress): string => (/^(.)\1{31}$/.test(a) ? a[0]! : a);

function options(words: string[]): Map<string, string> {
  return new Map(words.filter((w) => w.includes('=')).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
}

function parseConfig(words: string[]): { self: NodeAddress; config: Partial<RoutingConfig> } {
  const o = options(words);
  const config: Record<string, unknown> = {};
  for (const [k, v] of o) {
    if (k === 'self') continue;
    if (k === 'hello') config['helloIntervalMs'] = Number(v);
    else if (k === 'gateway') config['gateway'] = { bandwidthKbps: Number(v) };
    else config[k] = Number(v);
  }
  return { self: addr(o.get('self') ?? 'a'), config: config as Partial<RoutingConfig> };
}

function parseEvent(words: string[]): RoutingEvent | 'tick' {
  const [kind, n, ...rest] = words;
  const o = options(rest);
  const num = (k: string, d?: number): number => {
    const v = o.get(k);
    if (v === undefined) {
      if (d === undefined) throw new Error(`missing ${k}=`);
      return d;
    }
    return Number(v);
  };
  const message = (m: RoutingMessage): RoutingEvent => ({ type: 'message', from: addr(n!), message: m });
  switch (kind) {
    case 'tick': return 'tick';
    case 'up': return { type: 'neighbour-up', neighbour: addr(n!) };
    case 'down': return { type: 'neighbour-down', neighbour: addr(n!), reason: (rest[0] ?? 'carrier') as NeighbourDownReason };
    case 'need': return { type: 'need-route', dest: addr(n!) };
    case 'counters': return { type: 'link-counters', neighbour: addr(n!), rxPackets: num('rx'), txPackets: num('tx') };
    case 'ogm':
      return message({
        type: 'ogm', originator: addr(o.get('orig')!), seq: num('seq'), ttl: num('ttl', 31), tq: num('tq', 255), hops: num('hops', 0),
        prevSender: addr(o.get('prev') ?? o.get('orig')!), gatewayClass: num('gw', 0),
      });
    case 'probe': return message({ type: 'probe', seq: num('seq'), timestamp: num('ts', 0) });
    case 'reply': return message({ type: 'probe-reply', seq: num('seq'), timestamp: num('ts', 0) });
    case 'rreq': return message({ type: 'rreq', requestId: num('id'), originator: addr(o.get('orig')!), dest: addr(o.get('dest')!), hops: num('hops', 0), ttl: num('ttl', 64) });
    case 'rrep': return message({ type: 'rrep', requestId: num('id'), originator: addr(o.get('orig')!), dest: addr(o.get('dest')!), hops: num('hops', 0) });
    case 'rerr': return message({ type: 'rerr', unreachable: rest[0]!.split(',').map(addr) });
    default: throw new Error(`unknown event ${kind}`);
  }
}

function fmtMessage(m: RoutingMessage): string {
  switch (m.type) {
    case 'ogm': return `ogm orig=${name(m.originator)} seq=${m.seq} ttl=${m.ttl} tq=${m.tq} hops=${m.hops} prev=${name(m.prevSender)}${m.gatewayClass ? ` gw=${m.gatewayClass}` : ''}`;
    case 'probe': case 'probe-reply': return `${m.type} seq=${m.seq} ts=${m.timestamp}`;
    case 'rreq': return `rreq id=${m.requestId} orig=${name(m.originator)} dest=${name(m.dest)} hops=${m.hops} ttl=${m.ttl}`;
    case 'rrep': return `rrep id=${m.requestId} orig=${name(m.originator)} dest=${name(m.dest)} hops=${m.hops}`;
    case 'rerr': return `rerr ${m.unreachable.map(name).join(',')}`;
  }
}

function fmtEffect(e: RoutingEffect): string {
  switch (e.type) {
    case 'send': return `send ${e.to === 'neighbours' ? '*' : name(e.to)} ${fmtMessage(e.message)}`;
    case 'route-changed': return `route-changed ${name(e.dest)} via ${e.nextHops.map(name).join(',')}`;
    case 'route-lost': return `route-lost ${name(e.dest)}`;
    case 'discovery-failed': return `discovery-failed ${name(e.dest)}`;
  }
}

function fmtState(r: Router): string {
  const routes = r.routes().map((x) => `${name(x.dest)}>${x.nextHops.map(name).join('|')}${x.source === 'aodv' ? `(aodv h${x.hops})` : `(${x.tq} h${x.hops})`}`);
  const down = r.neighbours().filter((n) => !n.up).map((n) => name(n.neighbour));
  const gw = r.gateway();
  return `= routes ${routes.join(' ') || '-'}${down.length > 0 ? `  down=${down.join(',')}` : ''}${gw === null ? '' : `  gw=${name(gw)}`}`;
}

export function runTranscript(text: string): string {
  const out: string[] = [];
  let router: Router | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('  ') || line.trim() === '') continue; // expected lines are regenerated
    out.push(line);
    if (line.startsWith('#')) continue;
    const words = line.trim().split(/\s+/);
    if (words[0] === 'config') {
      const { self, config } = parseConfig(words.slice(1));
      router = new Router(self, config);
      continue;
    }
    const at = Number(words[0]!.slice(1));
    const ev = parseEvent(words.slice(1));
    const fx = ev === 'tick' ? router!.tick(at) : router!.step(at, ev);
    for (const e of fx) out.push(`  ${fmtEffect(e)}`);
    out.push(`  ${fmtState(router!)}`);
  }
  return out.join('\n').trimEnd() + '\n';
}

for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  test(`routing transcript ${file}`, () => {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    const actual = runTranscript(text);
    if (process.env['UPDATE_TRANSCRIPTS'] === '1') writeFileSync(path, actual);
    else assert.equal(actual, text);
  });
}
