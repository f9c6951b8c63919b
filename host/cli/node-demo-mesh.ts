// x0t node demo-mesh [--nodes 5] [--hello MS] [--keep DIR]: `npm start`. A local demo mesh on loopback, no root:
// one node process per mesh node, the first the mesh CA, the others joining with single-use join tokens it makes
// (the real attestation path), wired into a ring with one chord (every node has two disjoint paths to every other)
// through static peers. Prints the topology, the routes once they converged, each node's admin URL and `x0t mesh …`
// commands to try; runs until Ctrl-C, then stops every child. Children also stop by themselves when this process
// dies (they watch the IPC channel to it), so nothing is left behind.
//
// Only the first node runs the `node start --demo` workload (FedAvg rounds, PQC, knowledge base) — the others carry
// just the kem and signer slots their sessions need — so two cores cope.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { IoError, UsageError } from '../errors/index.js';
import type { RouteStatus } from '../node/mesh/mesh-service.js';
import type { JoinToken } from '../node/mesh/mesh-trust.js';
import { shortFp } from './mesh-admin.js';
import { intOption, printErrLine, printLine } from './output.js';
import { adminRequest } from './plugin-swap.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CLI = join(ROOT, 'dist', 'host', 'cli', 'main.js');
const DEFAULT_MANIFEST = join(ROOT, 'manifests', 'nodes', 'default.json');
const TRUST_DOMAIN = 'demo.x0tta6bl4.dev';

interface DemoOptions {
  nodes: number;
  hello: number;
  keep?: string;
  config: string;
}

/** A ring 1-2-…-n-1 plus a chord from node 2 to node 4 (n ≥ 4): every pair has two disjoint paths. */
export function demoTopology(n: number): [number, number][] {
  const edges: [number, number][] = [];
  for (let i = 0; i < n; i++) edges.push([i, (i + 1) % n]);
  if (n >= 5) edges.push([1, 3]);
  return n === 2 ? [[0, 1]] : edges;
}

async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r, j) => server.once('error', j).listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((r, j) => socket.once('error', j).bind(0, '127.0.0.1', () => r()));
  const port = socket.address().port;
  await new Promise<void>((r) => socket.close(() => r()));
  return port;
}

interface DemoNode {
  readonly name: string;
  readonly index: number;
  readonly meshPort: number;
  readonly dir: string;
  child: ChildProcess | null;
  admin: string | null;
  fingerprint: string | null;
  exited: Promise<number | null> | null;
}

export function registerNodeDemoMesh(node: Command): void {
  node
    .command('demo-mesh')
    .description('run a local demo mesh: several node processes on 127.0.0.1 (the first the CA, the others joining with tokens), until Ctrl-C')
    .option('--nodes <n>', 'mesh nodes (2-12)', intOption(2, 12), 5)
    .option('--hello <ms>', 'originator/probe interval (mesh.helloMs)', intOption(50, 60_000), 1000)
    .option('--config <file>', 'node manifest the demo nodes are made from (slots, policies)', DEFAULT_MANIFEST)
    .option('--keep <dir>', 'keep the nodes\' manifests, keys and CA in this folder (default: a temporary folder, removed at exit)')
    .action(async (opts: DemoOptions) => runDemoMesh(opts));
}

async function runDemoMesh(opts: DemoOptions): Promise<void> {
  const base = JSON.parse(await readFile(resolve(opts.config), 'utf8')) as Record<string, unknown>;
  const baseSlots = base['slots'] as Record<string, { capability: string; plugin: string }> | undefined;
  if (!baseSlots) throw new UsageError(`${opts.config} has no slots`, { path: 'slots' });
  const slots = Object.fromEntries(Object.entries(baseSlots).map(([k, s]) => [k, { ...s, plugin: resolve(dirname(resolve(opts.config)), s.plugin) }]));
  const work = opts.keep === undefined ? await mkdtemp(join(tmpdir(), 'x0t-demo-mesh-')) : resolve(opts.keep);
  await mkdir(work, { recursive: true });

  const n = opts.nodes;
  const edges = demoTopology(n);
  const nodes: DemoNode[] = [];
  for (let i = 0; i < n; i++) {
    nodes.push({ name: `node-${i + 1}`, index: i, meshPort: await freeUdpPort(), dir: join(work, `node-${i + 1}`), child: null, admin: null, fingerprint: null, exited: null });
  }
  const caPort = await freeTcpPort();
  const neighboursOf = (i: number): number[] => edges.flatMap(([a, b]) => (a === i ? [b] : b === i ? [a] : []));

  const manifest = (nd: DemoNode, identityExtra: Record<string, unknown>): Record<string, unknown> => {
    // Node 1 keeps every slot of the template (it runs the --demo workload); the others need only kem + signer.
    const own = nd.index === 0 ? slots : Object.fromEntries(Object.entries(slots).filter(([, s]) => s.capability === 'kem' || s.capability === 'signer'));
    return {
      schemaVersion: 1,
      identity: { name: nd.name, trustDomain: TRUST_DOMAIN, stateDir: join(nd.dir, 'state'), ...identityExtra },
      listen: { admin: '127.0.0.1:0', mesh: [`127.0.0.1:${nd.meshPort}`] },
      peers: neighboursOf(nd.index).map((j) => ({ name: nodes[j]!.name, address: `127.0.0.1:${nodes[j]!.meshPort}` })),
      mesh: { helloMs: opts.hello },
      slots: own,
      ...(base['policies'] !== undefined ? { policies: base['policies'] } : {}),
      ...(nd.index === 0 && base['knowledge'] !== undefined ? { knowledge: knowledgeOf(base['knowledge'], dirname(resolve(opts.config))) } : {}),
    };
  };

  let stopping = false;
  const stopAll = async (): Promise<void> => {
    stopping = true;
    for (const nd of nodes) if (nd.child && nd.child.exitCode === null && nd.child.signalCode === null) nd.child.kill('SIGTERM');
    await Promise.all(nodes.map(async (nd) => {
      if (!nd.exited) return;
      const killer = setTimeout(() => {
        printErrLine(`${nd.name} did not stop within 15 s: killed`);
        nd.child?.kill('SIGKILL');
      }, 15_000);
      await nd.exited;
      clearTimeout(killer);
    }));
    if (opts.keep === undefined) await rm(work, { recursive: true, force: true });
  };
  // Last resort if this process exits without stopping them (an uncaught error): no child outlives it.
  const killAll = (): void => {
    for (const nd of nodes) if (nd.child && nd.child.exitCode === null) nd.child.kill('SIGKILL');
  };
  process.once('exit', killAll);

  const start = async (nd: DemoNode, identityExtra: Record<string, unknown>, demo: boolean): Promise<void> => {
    await mkdir(nd.dir, { recursive: true });
    const file = join(nd.dir, 'node.json');
    await writeFile(file, JSON.stringify(manifest(nd, identityExtra), null, 2));
    const child = spawn(process.execPath, [CLI, 'node', 'start', '--config', file, '--json', '--no-watch', ...(demo ? ['--demo'] : [])], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    nd.child = child;
    nd.exited = new Promise((r) => child.once('exit', (code) => r(code)));
    let started: (v: void) => void = () => undefined;
    let failed: (e: Error) => void = () => undefined;
    const ready = new Promise<void>((r, j) => {
      started = r;
      failed = j;
    });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      if (err.length > 20_000) err = err.slice(-10_000);
    });
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let e: Record<string, unknown>;
        try {
          e = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        if (e['event'] === 'started') {
          nd.admin = e['admin'] as string;
          nd.fingerprint = (e['mesh'] as { fingerprint?: string } | null)?.fingerprint ?? null;
          started();
        } else if (!stopping) {
          const text = describeChildEvent(e);
          if (text !== null) printLine(`[${nd.name}] ${text}`);
        }
      }
    });
    void nd.exited.then((code) => {
      failed(new IoError(`${nd.name} exited (code ${code}) before it started: ${err.trim().split('\n').slice(-3).join(' | ')}`, { node: nd.name }));
      if (!stopping) printErrLine(`[${nd.name}] exited with code ${code}${err.trim() === '' ? '' : `: ${err.trim().split('\n').slice(-2).join(' | ')}`}`);
    });
    await ready;
  };

  const onSignal = new Promise<NodeJS.Signals>((r) => {
    process.once('SIGINT', () => r('SIGINT'));
    process.once('SIGTERM', () => r('SIGTERM'));
  });
  try {
    printLine(`x0tta6bl4 demo mesh: ${n} node processes on 127.0.0.1, trust domain ${TRUST_DOMAIN}, hello ${opts.hello} ms; files in ${work}`);
    const ca = nodes[0]!;
    printLine(`starting ${ca.name}: the mesh CA (identity server on 127.0.0.1:${caPort}) and the --demo workload …`);
    await start(ca, { ca: { dir: join(ca.dir, 'ca'), listen: `127.0.0.1:${caPort}` } }, true);
    printLine(`starting ${nodes.slice(1).map((x) => x.name).join(', ')}: each joins with its own single-use token from ${ca.name} …`);
    await Promise.all(nodes.slice(1).map(async (nd) => {
      const t = await adminRequest(ca.admin!, '/mesh/token', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ttlMs: 600_000 }),
      }) as JoinToken;
      await start(nd, { join: { server: t.server, token: t.token, bundleSha256: t.bundleSha256 } }, false);
    }));

    printLine('');
    printLine('topology (static peers; every pair of nodes has two disjoint paths):');
    for (const [a, b] of edges) printLine(`  ${nodes[a]!.name} ─── ${nodes[b]!.name}`);
    printLine('');
    printLine('waiting for the routes to converge …');
    const t0 = Date.now();
    const converged = await waitConverged(nodes, neighboursOf, opts.hello, 60_000);
    printLine(converged
      ? `converged in ${((Date.now() - t0) / 1000).toFixed(1)} s:`
      : 'not converged after 60 s (a session or a route is missing, or routes still change); the routes so far:');
    for (const nd of nodes) {
      const routes = await adminRequest(nd.admin!, '/mesh/routes').catch(() => []) as RouteStatus[];
      printLine(`  ${nd.name} ${shortFp(nd.fingerprint ?? '?')}  admin ${nd.admin}  pid ${nd.child?.pid ?? '?'}`);
      const order = (fp: string): number => nodes.findIndex((x) => x.fingerprint === fp);
      for (const r of [...routes].sort((a, b) => order(a.dest) - order(b.dest))) {
        const name = nodes.find((x) => x.fingerprint === r.dest)?.name ?? shortFp(r.dest);
        const via = r.nextHops.map((h) => nodes.find((x) => x.fingerprint === h)?.name ?? shortFp(h));
        printLine(`      → ${name.padEnd(8)} via ${via.join(' (backup ')}${via.length > 1 ? ')' : ''}, ${r.hops} hop${r.hops === 1 ? '' : 's'}, tq ${r.tq}`);
      }
    }
    const far = nodes[Math.floor(n / 2)]!;
    printLine('');
    printLine('try (in another terminal):');
    printLine(`  node dist/host/cli/main.js mesh status   --admin ${ca.admin}`);
    printLine(`  node dist/host/cli/main.js mesh routes   --admin ${ca.admin}`);
    printLine(`  node dist/host/cli/main.js mesh sessions --admin ${ca.admin}`);
    printLine(`  node dist/host/cli/main.js mesh ping ${far.fingerprint} -c 5 --admin ${ca.admin}   # ${ca.name} → ${far.name}, over the mesh`);
    printLine(`  node dist/host/cli/main.js mesh token create --ttl 1h --admin ${ca.admin}`);
    printLine(`  curl ${ca.admin}/metrics | grep x0t_mesh_`);
    const hop = nodes[1]!;
    printLine(`  kill ${hop.child?.pid ?? '?'}   # stop ${hop.name}: the others route around it (see x0t mesh routes)`);
    printLine('Ctrl-C stops every node.');
    const signal = await onSignal;
    printLine(`${signal}: stopping ${n} nodes`);
  } finally {
    await stopAll();
    process.off('exit', killAll);
  }
  printLine('stopped');
}

function knowledgeOf(k: unknown, baseDir: string): unknown {
  const kb = k as { dir: string; ingest?: string[]; models?: string };
  return {
    ...kb,
    dir: resolve(baseDir, kb.dir),
    ...(kb.ingest ? { ingest: kb.ingest.map((p) => resolve(baseDir, p)) } : {}),
    ...(kb.models ? { models: resolve(baseDir, kb.models) } : {}),
  };
}

/**
 * Converged: every node has a session with each of its static peers and a route to every other node, and no node's
 * table (destination → next hop, hops) changed over two hello intervals.
 */
async function waitConverged(nodes: readonly DemoNode[], peersOf: (i: number) => number[], helloMs: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  let stableSince = Infinity;
  while (Date.now() < deadline) {
    let complete = true;
    const snapshot: string[] = [];
    for (const nd of nodes) {
      const status = await adminRequest(nd.admin!, '/mesh').catch(() => null) as { neighbours: { fingerprint: string; session: boolean }[] } | null;
      const routes = await adminRequest(nd.admin!, '/mesh/routes').catch(() => []) as RouteStatus[];
      const sessions = new Set(status?.neighbours.filter((x) => x.session).map((x) => x.fingerprint) ?? []);
      const dests = new Set(routes.map((r) => r.dest));
      if (!peersOf(nd.index).every((j) => sessions.has(nodes[j]!.fingerprint ?? ''))
        || !nodes.every((o) => o === nd || (o.fingerprint !== null && dests.has(o.fingerprint)))) complete = false;
      snapshot.push(routes.map((r) => `${r.dest}>${r.nextHops[0]}/${r.hops}`).sort().join(','));
    }
    const now = Date.now();
    const text = snapshot.join(';');
    if (!complete || text !== last) stableSince = complete ? now : Infinity;
    last = text;
    if (complete && now - stableSince >= 2 * helloMs) return true;
    await new Promise((r) => setTimeout(r, Math.min(250, helloMs / 2)));
  }
  return false;
}

/** One line for a child's JSON event worth showing in the demo (sessions, failures, demo rounds); null to skip. */
function describeChildEvent(e: Record<string, unknown>): string | null {
  // The workload's lines for round 1 and every 10th round after it: enough to see it running, not a flood.
  if (e['event'] === 'demo') return Number(e['round']) % 10 === 1 ? `[demo] ${String(e['text'])}` : null;
  if (e['event'] === 'kb') return null;
  if (e['event'] !== 'mesh') return null;
  switch (e['kind']) {
    case 'session-up':
      return `session up with ${shortFp(String(e['peer']))}`;
    case 'session-down':
      return `session down with ${shortFp(String(e['peer']))} (${String(e['reason'])})`;
    case 'neighbour-down':
      return `neighbour ${shortFp(String(e['neighbour']))} down (${String(e['reason'])})`;
    case 'error':
      return `mesh error: ${JSON.stringify(e['error'])}`;
    default:
      return null;
  }
}
