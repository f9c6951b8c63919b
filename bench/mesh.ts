// Mesh benchmark (issue 7): `npm run bench -- mesh [--quick] [--json]`.
//   handshakes  complete hybrid (X-Wing + Ed25519/ML-DSA-65) and classic (X25519 + Ed25519) handshakes per second,
//               both ends in this process (bench/mesh-session.ts).
//   throughput  sealed-session payload MB/s vs plain UDP through the same sockets on 127.0.0.1 (bench/mesh-session.ts).
//   convergence our nodes vs babeld at the same hello interval (1 s) on the same five-node namespace lab
//               (test/support/mesh-lab.ts: S–A–R primary, S–B–C–R backup): a flow S → R every 10 ms, the S–A link
//               cut (both ends admin down) or blackholed (netdev ingress drop, no link event), time from the fault
//               to the first reply to a request sent after it (bench/mesh-converge.ts). Median of 3 runs (1 with
//               --quick); a run that did not converge within its cap counts as missing.
//   control     routing traffic per node in steady state, bytes/s of IP datagrams to the routing port leaving each
//               node (nftables counters, 10 s; 5 s with --quick): babeld on UDP 6696, ours on the mesh port (routing
//               messages, keepalives and rekeys, all sealed).
// Convergence and control traffic need root (namespaces); without it they are skipped with a message, keys null.
// Leaves no namespace, process or nftables table behind.
import { BABEL_PORT, BabeldMesh, babeldUnavailable } from '../test/support/babeld.js';
import { MeshLab } from '../test/support/mesh-lab.js';
import { netnsUnavailable } from '../test/support/netns.js';
import { X0T_MESH_PORT, X0tMesh, x0tCliUnavailable, x0tUnderTest } from '../test/integration/mesh-netns/x0t-mesh.js';
import type { BenchOptions } from './main.js';
import { babeldUnderTest, controlBytesPerNode, measureConvergence, waitFirstHop, type ConvergenceRun, type Fault, type RoutingUnderTest } from './mesh-converge.js';
import { benchHandshakes, benchSessionThroughput } from './mesh-session.js';
import { fmt, median } from './stats.js';

const HELLO_S = 1;
const GOAL_CARRIER_MS = 300;
const GOAL_SILENT_MS = 2000;
/** Lab subnets 132–137 (the mesh tests use 120–131). */
const LAB_SUBNET = 132;
const PAYLOAD = 1200;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface SystemResult {
  readonly carrier: (number | null)[];
  readonly silent: (number | null)[];
  readonly recoverMs: (number | null)[];
  readonly controlBytesPerS: number;
}

/** Median of the runs that converged; null when none did. */
function medianOf(runs: readonly (number | null)[]): number | null {
  const ok = runs.filter((x): x is number => x !== null);
  return ok.length === 0 ? null : median(ok);
}

/**
 * Measures one routing system: steady-state control traffic, then `reps` × (carrier, silent) alternating. Before
 * each run the system must route S → R over the primary; `reset` brings it back when it did not (restart).
 */
async function measureSystem(
  lab: MeshLab, r: RoutingUnderTest, o: {
    readonly reps: number; readonly controlS: number; readonly udpPort: number; readonly capMs: number; readonly recoverTimeoutMs: number;
    readonly reset: () => Promise<void>; readonly log: (l: string) => void;
  },
): Promise<SystemResult> {
  const controlBytesPerS = await controlBytesPerNode(lab, o.udpPort, o.controlS);
  o.log(`  ${r.name}: control traffic ${fmt(controlBytesPerS, 0)} B/s per node (steady state, ${o.controlS} s)`);
  const result: SystemResult = { carrier: [], silent: [], recoverMs: [], controlBytesPerS };
  for (let i = 0; i < o.reps; i++) {
    for (const fault of ['carrier', 'silent'] as const satisfies readonly Fault[]) {
      if (!(await waitFirstHop(r, 'primary', 5000))) {
        o.log(`  ${r.name}: S does not route over the primary; restarting it`);
        await o.reset();
      }
      const last = i === o.reps - 1 && fault === 'silent';
      const run: ConvergenceRun = await measureConvergence(lab, r, fault, { capMs: o.capMs, recoverTimeoutMs: o.recoverTimeoutMs, awaitRecovery: !last });
      if (run.hopAfter !== 'backup' && run.convergenceMs !== null) throw new Error(`${r.name}: data flowed again, but S's first hop is ${run.hopAfter}`);
      result[fault].push(run.convergenceMs);
      if (!last) result.recoverMs.push(run.recoverMs);
      o.log(`  ${r.name} run ${i + 1} ${fault.padEnd(7)}: ${run.convergenceMs === null ? `no reply within ${o.capMs} ms` : `${fmt(run.convergenceMs, 0)} ms`}` +
        ` (${run.repliesBefore} replies before the fault; ${last ? 'last run' : `primary back ${run.recoverMs === null ? `not within ${o.recoverTimeoutMs / 1000} s` : `${fmt(run.recoverMs / 1000, 1)} s`} after restore`})`);
    }
  }
  return result;
}

async function babeldSide(lab: MeshLab, reps: number, controlS: number, log: (l: string) => void): Promise<SystemResult> {
  let babeld = await BabeldMesh.start(lab, { helloS: HELLO_S });
  const start = async (): Promise<void> => {
    await babeld.waitForRoute('s', lab.loopback('r'), lab.link('sa').a.dev, 60_000);
    await sleep(5000); // hellos and metrics settle (babeld smooths metrics with a 4 s half-life)
  };
  try {
    await start();
    // linkRestored goes to whichever daemons run now (`reset` replaces them).
    const r: RoutingUnderTest = { ...babeldUnderTest(lab, babeld), linkRestored: (l) => babeld.linkRestored(l) };
    return await measureSystem(lab, r, {
      reps, controlS, udpPort: BABEL_PORT, capMs: 15_000, recoverTimeoutMs: 60_000, log,
      reset: async () => {
        await babeld.stop();
        babeld = await BabeldMesh.start(lab, { helloS: HELLO_S });
        await start();
      },
    });
  } finally {
    await babeld.stop();
  }
}

async function x0tSide(lab: MeshLab, reps: number, controlS: number, log: (l: string) => void): Promise<SystemResult> {
  const mesh = await X0tMesh.start(lab, { helloMs: HELLO_S * 1000 });
  const r = x0tUnderTest(mesh);
  const start = async (): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      try {
        await mesh.waitForRoute('s', 'r', 'a', 20_000);
        return;
      } catch (e) {
        if (attempt >= 2) throw e;
        log(`  x0t: ${(e as Error).message}; restarting the nodes`);
        await mesh.restart();
      }
    }
  };
  try {
    await start();
    await sleep(2000);
    return await measureSystem(lab, r, {
      reps, controlS, udpPort: X0T_MESH_PORT, capMs: 5000, recoverTimeoutMs: 20_000, log,
      reset: async () => {
        await mesh.restart();
        await start();
      },
    });
  } finally {
    await mesh.stop();
  }
}

function ratio(ours: number | null, theirs: number | null): string {
  if (ours === null || theirs === null || ours <= 0) return '—';
  return `${fmt(theirs / ours, 1)}×`;
}

const ms = (x: number | null): string => (x === null ? '—' : fmt(x, 0));

export async function meshBench(opts: BenchOptions): Promise<Record<string, unknown>> {
  const { log, quick } = opts;
  const seconds = quick ? 1 : 3;
  const result: Record<string, unknown> = {};

  const hybrid = await benchHandshakes({ suite: 'hybrid', seconds });
  const classic = await benchHandshakes({ suite: 'classic', seconds });
  result['handshakes_per_s'] = hybrid.perSecond;
  result['handshakes_classic_per_s'] = classic.perSecond;
  log(`mesh: handshakes/s (both ends in this process, ${seconds} s): hybrid X-Wing + Ed25519/ML-DSA-65 ${fmt(hybrid.perSecond, 1)} (${fmt(hybrid.ms, 2)} ms), ` +
    `classic X25519 + Ed25519 ${fmt(classic.perSecond, 1)} (${fmt(classic.ms, 2)} ms)`);
  const tp = await benchSessionThroughput({ seconds, payload: PAYLOAD });
  result['session_mbps'] = tp.sessionMbps;
  result['udp_mbps'] = tp.udpMbps;
  log(`mesh: ${PAYLOAD}-byte payloads on 127.0.0.1, ${seconds} s: sealed session ${fmt(tp.sessionMbps, 1)} MB/s (loss ${fmt(tp.sessionLoss * 100, 1)} %), ` +
    `plain UDP ${fmt(tp.udpMbps, 1)} MB/s (loss ${fmt(tp.udpLoss * 100, 1)} %)`);

  const keys = ['converge_carrier_ms', 'converge_silent_ms', 'babeld_carrier_ms', 'babeld_silent_ms', 'control_bytes_per_s', 'babeld_control_bytes_per_s'];
  for (const k of keys) result[k] = null;
  const skip = (await netnsUnavailable()) ?? babeldUnavailable() ?? x0tCliUnavailable();
  if (skip !== null) {
    log(`mesh: route convergence and control traffic skipped — ${skip}`);
    result['convergence_skipped'] = skip;
    return result;
  }
  const reps = quick ? 1 : 3;
  const controlS = quick ? 5 : 10;
  log(`mesh: route convergence on a 5-node namespace lab (S–A–R primary, S–B–C–R backup), hello ${HELLO_S} s, flow S → R every 10 ms, ` +
    `S–A fails; ${reps} run(s) per fault`);
  const lab = await MeshLab.create('bmesh', LAB_SUBNET);
  let babeld: SystemResult;
  let ours: SystemResult;
  try {
    babeld = await babeldSide(lab, reps, controlS, log);
    ours = await x0tSide(lab, reps, controlS, log);
  } finally {
    await lab.close();
  }
  const cOurs = medianOf(ours.carrier);
  const sOurs = medianOf(ours.silent);
  const cBab = medianOf(babeld.carrier);
  const sBab = medianOf(babeld.silent);
  Object.assign(result, {
    converge_carrier_ms: cOurs, converge_silent_ms: sOurs, babeld_carrier_ms: cBab, babeld_silent_ms: sBab,
    control_bytes_per_s: ours.controlBytesPerS, babeld_control_bytes_per_s: babeld.controlBytesPerS,
    converge_carrier_runs_ms: ours.carrier, converge_silent_runs_ms: ours.silent,
    babeld_carrier_runs_ms: babeld.carrier, babeld_silent_runs_ms: babeld.silent,
    recover_runs_ms: ours.recoverMs, babeld_recover_runs_ms: babeld.recoverMs,
  });
  log(`mesh: convergence, median of ${reps} (ms from the fault to data flowing again over the backup)`);
  log(`  ${'fault'.padEnd(22)} ${'x0t'.padStart(7)} ${'babeld'.padStart(7)} ${'babeld/x0t'.padStart(11)}  goal`);
  log(`  ${'carrier loss (cut)'.padEnd(22)} ${ms(cOurs).padStart(7)} ${ms(cBab).padStart(7)} ${ratio(cOurs, cBab).padStart(11)}  < ${GOAL_CARRIER_MS} ms: ${cOurs !== null && cOurs < GOAL_CARRIER_MS ? 'met' : 'not met'}`);
  log(`  ${'silent (blackhole)'.padEnd(22)} ${ms(sOurs).padStart(7)} ${ms(sBab).padStart(7)} ${ratio(sOurs, sBab).padStart(11)}  < ${GOAL_SILENT_MS} ms: ${sOurs !== null && sOurs < GOAL_SILENT_MS ? 'met' : 'not met'}`);
  log(`  control traffic per node: x0t ${fmt(ours.controlBytesPerS, 0)} B/s, babeld ${fmt(babeld.controlBytesPerS, 0)} B/s (x0t/babeld ${fmt(ours.controlBytesPerS / babeld.controlBytesPerS, 1)}×)`);
  return result;
}
