// Scenario transcripts for the FL coordinator core: each file under test/scenarios/fl-coordinator is a list of
// timed events (`@ms event args`), each followed by the effects the machine must return and its state after, all
// indented. The expected lines are regenerated only on purpose: run with UPDATE_TRANSCRIPTS=1 after a deliberate
// change and review the diff.
//
// Events:  seed N | @t join ID… | @t leave ID | @t tick
//          @t start rROUND vVERSION select=count:N|fraction:F min=N deadline=MS policy=until-deadline|close-at-quorum dim=N
//          @t update ID rROUND w=WEIGHT [x,y,…] [sig=bad|unknown|malformed] [digest=other]   (digest: of the round's version)
//          @t aggregated rROUND [x,y,…] | @t aggregation-failed rROUND REASON…
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FlCoordinator } from '../../../host/core/fl/coordinator.js';
import type { CoordinatorEffect, CoordinatorEvent, RoundMetrics, UpdateVerdict } from '../../../host/core/fl/coordinator-types.js';
import type { Selection } from '../../../host/core/fl/client-selection.js';

const dir = join(process.cwd(), 'test', 'scenarios', 'fl-coordinator');
const digestOf = (version: number): Uint8Array => new Uint8Array(32).fill(version + 1);
const OTHER_DIGEST = new Uint8Array(32).fill(0xee);

const vector = (s: string): Float32Array => Float32Array.from(s.replace(/^\[|\]$/g, '').split(',').filter((x) => x !== '').map(Number));
const fmtVector = (v: Float32Array): string => `[${[...v].map((x) => Number(x.toPrecision(6))).join(',')}]`;
const num = (s: string, prefix: string): number => Number(s.slice(prefix.length));

function options(words: string[]): Map<string, string> {
  return new Map(words.filter((w) => w.includes('=')).map((w) => [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)]));
}

function parseSelection(s: string): Selection {
  const [kind, v] = s.split(':');
  return kind === 'count' ? { kind: 'count', count: Number(v) } : { kind: 'fraction', fraction: Number(v) };
}

/** The events one transcript line stands for (`join` may name several clients). */
function parseEvents(words: string[], versions: Map<number, number>): CoordinatorEvent[] {
  const [kind, ...rest] = words;
  const opts = options(rest);
  switch (kind) {
    case 'join': return rest.map((clientId) => ({ type: 'client-joined', clientId }));
    case 'leave': return [{ type: 'client-left', clientId: rest[0]! }];
    case 'tick': return [{ type: 'tick' }];
    case 'start': {
      const roundId = num(rest[0]!, 'r');
      const modelVersion = num(rest[1]!, 'v');
      versions.set(roundId, modelVersion);
      return [{
        type: 'start-round',
        config: {
          roundId, modelVersion, modelDigest: digestOf(modelVersion), dim: Number(opts.get('dim')), selection: parseSelection(opts.get('select')!),
          minClients: Number(opts.get('min')), deadlineMs: Number(opts.get('deadline')),
          stragglers: opts.get('policy') as 'until-deadline' | 'close-at-quorum',
        },
      }];
    }
    case 'update': {
      const round = num(rest[1]!, 'r');
      const sig = opts.get('sig');
      const verdict: UpdateVerdict = sig === 'bad' ? 'bad-signature' : sig === 'unknown' ? 'unknown-sender' : sig === 'malformed' ? 'malformed' : 'valid';
      const update = vector(rest.find((w) => w.startsWith('['))!);
      return [{
        type: 'update-received', from: rest[0]!, round, verdict, weight: Number(opts.get('w')), update,
        modelDigest: opts.get('digest') === 'other' ? OTHER_DIGEST : digestOf(versions.get(round) ?? 0), bytes: 76 + update.length * 4,
      }];
    }
    case 'aggregated': return [{ type: 'aggregation-done', round: num(rest[0]!, 'r'), model: vector(rest[1]!) }];
    case 'aggregation-failed': return [{ type: 'aggregation-failed', round: num(rest[0]!, 'r'), reason: rest.slice(1).join(' ') }];
    default: throw new Error(`unknown event ${kind}`);
  }
}

function fmtMetrics(m: RoundMetrics): string {
  const counters = (['selected', 'received', 'late', 'invalidSignatures', 'unknownSenders', 'malformed', 'duplicates', 'wrongRound', 'unselected', 'left'] as const)
    .filter((k) => k === 'selected' || k === 'received' || m[k] !== 0).map((k) => `${k}=${m[k]}`);
  return [
    `eligible=${m.eligible}`, ...counters, `bytes=${m.bytesAccepted}/${m.bytesReceived}`, `closedBy=${m.closedBy ?? '-'}`,
    `ms=${m.collectMs ?? '-'}+${m.aggregateMs ?? '-'}=${m.totalMs}`,
  ].join(' ');
}

function fmtEffect(e: CoordinatorEffect): string {
  switch (e.type) {
    case 'send-round-start': return `send-round-start r${e.round} v${e.modelVersion} deadline=${e.deadlineMs} to=${e.to.join(',')}`;
    case 'schedule-tick': return `schedule-tick @${e.at}`;
    case 'aggregate': return `aggregate r${e.round} ${e.contributions.map((c) => `${c.clientId}:w${c.weight}${fmtVector(c.update)}`).join(' ')}`;
    case 'publish-model': return `publish-model r${e.round} v${e.modelVersion} ${fmtVector(e.model)} to=${e.to.join(',') || '-'}`;
    case 'round-finished': return `round-finished r${e.metrics.round} ${fmtMetrics(e.metrics)}`;
    case 'round-failed': {
      const { code, ...rest } = e.reason;
      const why = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : v}`).join(' ');
      return `round-failed r${e.metrics.round} ${code} ${why} | ${fmtMetrics(e.metrics)}`;
    }
    case 'start-rejected': return `start-rejected r${e.round} ${e.reason} "${e.message}"`;
  }
}

function run(text: string): string {
  const out: string[] = [];
  let machine: FlCoordinator | null = null;
  const versions = new Map<number, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('  ') || line.trim() === '') continue; // expected lines are regenerated
    out.push(line);
    if (line.startsWith('#')) continue;
    const words = line.trim().split(/\s+/);
    if (words[0] === 'seed') {
      machine = new FlCoordinator(Number(words[1]));
      continue;
    }
    const at = Number(words[0]!.slice(1));
    for (const event of parseEvents(words.slice(1), versions)) {
      for (const e of machine!.step(event, at)) out.push(`  ${fmtEffect(e)}`);
    }
    const s = machine!.snapshot();
    out.push(`  = ${s.phase}${s.round === null ? '' : ` r${s.round}`} joined=${s.joined.join(',') || '-'}` +
      (s.phase === 'idle' ? '' : ` reported=${s.reported.join(',') || '-'}`) +
      (s.lateAfterFinish === 0 ? '' : ` late-after-finish=${s.lateAfterFinish}`));
  }
  return out.join('\n').trimEnd() + '\n';
}

for (const file of readdirSync(dir).filter((f) => f.endsWith('.txt')).sort()) {
  test(`fl coordinator transcript ${file}`, () => {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    const actual = run(text);
    if (process.env['UPDATE_TRANSCRIPTS'] === '1') writeFileSync(path, actual);
    else assert.equal(actual, text);
  });
}
