// A whole simulator run as `x0t sim` and the simulator tests use it: build the topology from the seed, let the mesh
// converge, inject faults one after another (each healed before the next), and summarise. Pure and deterministic.
import { RoutingError } from '../../errors/index.js';
import { silentDetectionBoundMs } from './router.js';
import { SeededPrng } from './seeded-prng.js';
import { DEFAULT_LINK, MeshSimulator, type Fault, type FaultKind, type FaultResult, type LinkModel, type SimulationResult } from './simulator.js';
import { components, gridTopology, randomTopology, ringTopology, type Topology } from './topology.js';
import { routingConfig, type RoutingConfig } from './types.js';

export type TopologyKind = 'grid' | 'random' | 'ring';
export const TOPOLOGY_KINDS: readonly TopologyKind[] = ['grid', 'random', 'ring'];

export interface ScenarioConfig {
  readonly nodes: number;
  readonly topology: TopologyKind;
  readonly faults: readonly FaultKind[];
  /** Faults of each kind. */
  readonly faultsPerKind: number;
  readonly seed: number;
  readonly helloMs: number;
  /** Total simulated time; null = warm-up + one slot per fault. */
  readonly durationS: number | null;
  readonly link: LinkModel;
  readonly carrierDelayMs: number;
  readonly routing: Partial<RoutingConfig>;
}

export const DEFAULT_SCENARIO: ScenarioConfig = Object.freeze({
  nodes: 50, topology: 'grid', faults: ['link-cut', 'blackhole', 'crash'] as FaultKind[], faultsPerKind: 2, seed: 1, helloMs: 1000,
  durationS: null, link: DEFAULT_LINK, carrierDelayMs: 20, routing: {},
});

export interface FaultSummary {
  readonly count: number;
  readonly recovered: number;
  readonly recoveryMsMax: number | null;
  readonly recoveryMsMean: number | null;
  readonly detectMsMax: number | null;
}

export interface ScenarioResult {
  readonly config: ScenarioConfig & { readonly routingResolved: RoutingConfig };
  readonly topology: Topology;
  readonly faultPlan: readonly Fault[];
  readonly simulation: SimulationResult;
  readonly summary: {
    readonly byKind: Readonly<Record<string, FaultSummary>>;
    /** The router's worst-case silent detection bound at the measured RTT floor (H + N·T). */
    readonly silentDetectionBoundMs: number;
    readonly controlBytesPerNodePerS: number;
    readonly controlMessagesPerNodePerS: number;
    readonly loopSamples: number;
    readonly finalWorkingFraction: number;
    readonly warmupWorkingFraction: number;
  };
}

/** Slot per fault: the fault, its heal after faultHoldMs, then time to settle. */
function slots(helloMs: number): { warmupMs: number; holdMs: number; slotMs: number } {
  return { warmupMs: 12 * helloMs, holdMs: 8 * helloMs, slotMs: 16 * helloMs };
}

function buildTopology(c: ScenarioConfig, rng: SeededPrng): Topology {
  switch (c.topology) {
    case 'grid': return gridTopology(c.nodes);
    case 'ring': return ringTopology(c.nodes);
    case 'random': return randomTopology(c.nodes, rng);
  }
}

/** Faults in turn (kinds interleaved), each on a target whose loss leaves the rest of the mesh connected. */
export function planFaults(topo: Topology, kinds: readonly FaultKind[], perKind: number, rng: SeededPrng, helloMs: number): Fault[] {
  const { warmupMs, holdMs, slotMs } = slots(helloMs);
  const n = topo.nodes;
  const bridges = (skip: (e: readonly [number, number]) => boolean): boolean => components(n, topo.edges, skip).every((x) => x === 0);
  const linkTargets = topo.edges.filter((e) => bridges((x) => x === e));
  const nodeTargets = Array.from({ length: n }, (_, v) => v).filter((v) => {
    const comp = components(n, topo.edges, ([a, b]) => a === v || b === v);
    const rest = comp.filter((_, i) => i !== v);
    return rest.every((x) => x === rest[0]);
  });
  const out: Fault[] = [];
  let slotAt = warmupMs;
  for (let k = 0; k < perKind; k++) {
    for (const kind of kinds) {
      // A random phase within the hello interval, so faults do not line up with the probe schedule.
      const at = slotAt + rng.int(helloMs);
      const healAt = at + holdMs;
      if (kind === 'link-cut' || kind === 'blackhole') {
        if (linkTargets.length === 0) throw new RoutingError(`no link in this topology can fail without splitting it (${kind})`, { field: 'faults' });
        const [a, b] = linkTargets[rng.int(linkTargets.length)]!;
        out.push({ kind, at, healAt, a, b });
      } else if (kind === 'crash') {
        if (nodeTargets.length === 0) throw new RoutingError('no node can crash without splitting the mesh', { field: 'faults' });
        out.push({ kind, at, healAt, node: nodeTargets[rng.int(nodeTargets.length)]! });
      } else {
        // Partition: a BFS ball of about a quarter of the nodes around a random node, silently cut off.
        const start = rng.int(n);
        const side = new Set([start]);
        const queue = [start];
        while (queue.length > 0 && side.size < Math.max(1, Math.floor(n / 4))) {
          const v = queue.shift()!;
          for (const [a, b] of topo.edges) {
            const w = a === v ? b : b === v ? a : -1;
            if (w >= 0 && !side.has(w) && side.size < Math.max(1, Math.floor(n / 4))) { side.add(w); queue.push(w); }
          }
        }
        out.push({ kind, at, healAt, side: [...side].sort((x, y) => x - y) });
      }
      slotAt += slotMs;
    }
  }
  return out;
}

const mean = (xs: number[]): number | null => (xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length);
const max = (xs: number[]): number | null => (xs.length === 0 ? null : Math.max(...xs));

export function scenarioDurationMs(c: ScenarioConfig): number {
  const { warmupMs, slotMs } = slots(c.helloMs);
  return c.durationS !== null ? c.durationS * 1000 : warmupMs + c.faults.length * c.faultsPerKind * slotMs + 2 * c.helloMs;
}

export function runScenario(c: ScenarioConfig, onProgress?: (nowMs: number, totalMs: number) => void): ScenarioResult {
  const rng = new SeededPrng(c.seed);
  const topology = buildTopology(c, rng.fork());
  const routing = { ...c.routing, helloIntervalMs: c.helloMs };
  const routingResolved = routingConfig(routing);
  const durationMs = scenarioDurationMs(c);
  const faultPlan = planFaults(topology, c.faults, c.faultsPerKind, rng.fork(), c.helloMs).filter((f) => f.at < durationMs);
  const sim = new MeshSimulator({
    topology, seed: rng.nextU32(), routing, link: c.link, carrierDelayMs: c.carrierDelayMs, sessionUpDelayMs: 50,
    sampleEveryMs: Math.max(50, Math.round(c.helloMs / 4)), pollEveryMs: Math.max(5, Math.round(c.helloMs / 100)),
  });
  for (const f of faultPlan) sim.schedule(f);
  sim.run(durationMs, onProgress === undefined ? undefined : (t) => onProgress(t, durationMs));
  const simulation = sim.result();
  const byKind: Record<string, FaultSummary> = {};
  const groups = new Map<string, FaultResult[]>();
  for (const f of simulation.faults) groups.set(f.kind, [...(groups.get(f.kind) ?? []), f]);
  for (const [kind, fs] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const rec = fs.flatMap((f) => (f.recoveryMs === null ? [] : [f.recoveryMs]));
    const det = fs.flatMap((f) => (f.detectMs === null ? [] : [f.detectMs]));
    byKind[kind] = { count: fs.length, recovered: rec.length, recoveryMsMax: max(rec), recoveryMsMean: mean(rec), detectMsMax: max(det) };
  }
  const seconds = durationMs / 1000;
  const totalBytes = simulation.controlBytes.reduce((a, b) => a + b, 0);
  const totalMsgs = simulation.controlMessages.reduce((a, b) => a + b, 0);
  const frac = (s: { workingPairs: number; connectedPairs: number } | undefined): number => (s === undefined || s.connectedPairs === 0 ? 0 : s.workingPairs / s.connectedPairs);
  const { warmupMs } = slots(c.helloMs);
  const atWarmup = [...simulation.samples].reverse().find((s) => s.t < warmupMs);
  return {
    config: { ...c, routingResolved }, topology, faultPlan, simulation,
    summary: {
      byKind,
      silentDetectionBoundMs: silentDetectionBoundMs(routingResolved),
      controlBytesPerNodePerS: totalBytes / topology.nodes / seconds,
      controlMessagesPerNodePerS: totalMsgs / topology.nodes / seconds,
      loopSamples: simulation.loopSamples,
      finalWorkingFraction: frac(simulation.samples[simulation.samples.length - 1]),
      warmupWorkingFraction: frac(atWarmup),
    },
  };
}
