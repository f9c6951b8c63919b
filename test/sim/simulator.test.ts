// The routing core in the seeded simulator, over many seeds and two topology families: convergence after every
// fault kind, no routing loops in steady state, recovery under reordering, duplication and loss, failover within
// the router's own bounds (carrier < 300 ms; silent: detection ≤ H + N·T and recovery ≤ that + feasibilityHoldMs),
// and byte-identical results for a seed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_SCENARIO, runScenario, type ScenarioConfig, type ScenarioResult } from '../../host/core/routing/sim-scenario.js';
import { MeshSimulator, DEFAULT_LINK } from '../../host/core/routing/simulator.js';
import { explicitTopology, lineTopology } from '../../host/core/routing/topology.js';

const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);
const POLL_MS = 10; // the scenario's recovery-poll resolution at hello 1000

function scenario(seed: number, over: Partial<ScenarioConfig> = {}): ScenarioResult {
  return runScenario({
    ...DEFAULT_SCENARIO, nodes: 12, topology: seed % 2 === 1 ? 'random' : 'grid', seed,
    faults: ['link-cut', 'blackhole', 'crash', 'partition'], faultsPerKind: 1, ...over,
  });
}

/** Steady state: at the end of warm-up and at the end of the run every connected pair works and none loops. */
function assertSteady(r: ScenarioResult, what: string): void {
  assert.equal(r.summary.warmupWorkingFraction, 1, `${what}: all routes work after warm-up`);
  assert.equal(r.summary.finalWorkingFraction, 1, `${what}: all routes work at the end`);
  const last = r.simulation.samples[r.simulation.samples.length - 1]!;
  assert.equal(last.loopingPairs, 0, `${what}: no loop at the end`);
}

describe('routing simulator', () => {
  test('every fault kind converges on every seed; carrier < 300 ms; silent failures within the router bound', () => {
    for (const seed of SEEDS) {
      const r = scenario(seed);
      const what = `seed ${seed} (${r.topology.name})`;
      assertSteady(r, what);
      const bound = r.summary.silentDetectionBoundMs;
      const hold = r.config.routingResolved.feasibilityHoldMs;
      assert.equal(r.simulation.faults.length, 8, `${what}: 4 faults and 4 heals measured`);
      for (const f of r.simulation.faults) {
        assert.notEqual(f.recoveryMs, null, `${what}: ${f.kind} at ${f.at} recovered`);
        if (f.kind === 'link-cut') assert.ok(f.recoveryMs! < 300, `${what}: link-cut recovery ${f.recoveryMs} ms`);
        if (f.kind === 'blackhole' || f.kind === 'crash') {
          assert.ok(f.detectMs !== null && f.detectMs <= bound + POLL_MS, `${what}: ${f.kind} detected in ${f.detectMs} ms > ${bound}`);
          assert.ok(f.recoveryMs! <= bound + hold + 2 * POLL_MS, `${what}: ${f.kind} recovered in ${f.recoveryMs} ms`);
        }
      }
    }
  });

  test('reordering (jitter 30 ms on 2 ms links), 10 % duplication and 2 % loss: still converges after faults and heals', () => {
    for (const seed of SEEDS.slice(0, 6)) {
      const r = scenario(seed, { link: { delayMs: 2, jitterMs: 30, loss: 0.02, duplicate: 0.1 } });
      assertSteady(r, `seed ${seed}`);
      for (const f of r.simulation.faults) assert.notEqual(f.recoveryMs, null, `seed ${seed}: ${f.kind} recovered`);
    }
  });

  test('no routing loop in steady state on larger meshes without faults', () => {
    for (const [seed, topology] of [[3, 'grid'], [4, 'random'], [5, 'ring']] as const) {
      const r = runScenario({ ...DEFAULT_SCENARIO, nodes: 25, topology, seed, faults: [], durationS: 20 });
      const steady = r.simulation.samples.filter((s) => s.t >= 5000);
      assert.ok(steady.length > 40);
      for (const s of steady) {
        assert.equal(s.loopingPairs, 0, `${topology}: loop at ${s.t}`);
        assert.equal(s.workingPairs, s.connectedPairs, `${topology}: broken pair at ${s.t}`);
      }
    }
  });

  test('a seed gives byte-identical results; another seed differs', () => {
    const a = JSON.stringify(scenario(7));
    assert.equal(JSON.stringify(scenario(7)), a);
    assert.notEqual(JSON.stringify(scenario(8)), a);
  });

  test('triangle: carrier loss fails over within the carrier delay; a silent blackhole within H + N·T', () => {
    const topology = explicitTopology(3, [[0, 1], [1, 2], [0, 2]], 'triangle');
    const run = (kind: 'link-cut' | 'blackhole') => {
      const sim = new MeshSimulator({ topology, seed: 1, routing: {}, link: DEFAULT_LINK, carrierDelayMs: 20, sessionUpDelayMs: 50, sampleEveryMs: 250, pollEveryMs: 5 });
      sim.schedule({ kind, at: 10_333, healAt: null, a: 0, b: 2 });
      sim.run(15_000);
      const [f] = sim.result().faults;
      assert.equal(f!.kind, kind);
      assert.equal(f!.affectedPairs, 2, 'the pairs 0→2 and 2→0 used the direct link');
      return f!;
    };
    const cut = run('link-cut');
    assert.ok(cut.recoveryMs! <= 25, `carrier failover ${cut.recoveryMs} ms`);
    const hole = run('blackhole');
    assert.ok(hole.recoveryMs! <= 1450 + 5 && hole.recoveryMs! >= 300, `silent failover ${hole.recoveryMs} ms`);
    assert.equal(hole.detectMs, hole.recoveryMs, 'the backup is used as soon as the neighbour is declared dead');
  });

  test('a longer path taken first gives way to a better, shorter one once it appears (hysteresis does not pin it)', () => {
    // S=0 reaches R=2 over A=1 (2 hops) or over B=3, C=4 (3 hops). The S–A link is silent for the first 5 s, so S
    // starts on the longer path; one hop's penalty is below the switch margin, and the shorter path must still win.
    const topology = explicitTopology(5, [[0, 1], [1, 2], [0, 3], [3, 4], [4, 2]], 'lab');
    const sim = new MeshSimulator({ topology, seed: 3, routing: {}, link: DEFAULT_LINK, carrierDelayMs: 20, sessionUpDelayMs: 50, sampleEveryMs: 500, pollEveryMs: 10 });
    sim.schedule({ kind: 'blackhole', at: 1, healAt: 5000, a: 0, b: 1 });
    sim.run(4900);
    const R = sim.addresses[2]!;
    assert.equal(sim.router(0)!.nextHops(R)[0], sim.addresses[3], 'while S–A is silent, S routes over B');
    // Revived at its first answered probe after 5 s, then the switch hold (2 s): over A well before 10 s.
    sim.run(10_000);
    assert.equal(sim.router(0)!.nextHops(R)[0], sim.addresses[1], 'after S–A recovers, S routes over A');
    assert.equal(sim.router(0)!.nextHops(R)[1], sim.addresses[3], 'with B as the backup');
  });

  test('gateway announcement and selection across a mesh: TQ × bandwidth class decides', () => {
    // Line 0-1-2-3-4: node 0 is a 10 Mbit/s gateway, node 4 a 64 kbit/s one. Everyone (even node 3, next to node 4)
    // picks node 0; each gateway uses itself; without gateways nobody has one.
    const topology = lineTopology(5);
    const base = { topology, seed: 4, routing: {}, link: DEFAULT_LINK, carrierDelayMs: 20, sessionUpDelayMs: 50, sampleEveryMs: 500, pollEveryMs: 10 };
    const none = new MeshSimulator(base);
    none.run(5000);
    for (let i = 0; i < 5; i++) assert.equal(none.router(i)!.gateway(), null);
    const gw = new MeshSimulator({
      ...base, routingFor: (i) => (i === 0 ? { gateway: { bandwidthKbps: 10_000 } } : i === 4 ? { gateway: { bandwidthKbps: 64 } } : {}),
    });
    gw.run(5000);
    assert.deepEqual([0, 1, 2, 3, 4].map((i) => gw.router(i)!.gateway()), [0, 0, 0, 0, 4].map((i) => gw.addresses[i]));
    assert.equal(gw.router(3)!.routes().find((r) => r.dest === gw.addresses[4])!.gatewayClass, 1);
  });

  test('a destination beyond the OGM TTL is found by on-demand discovery', () => {
    const sim = new MeshSimulator({
      topology: lineTopology(6), seed: 2, routing: { ogmTtl: 2 }, link: DEFAULT_LINK, carrierDelayMs: 20, sessionUpDelayMs: 50, sampleEveryMs: 500, pollEveryMs: 10,
    });
    sim.run(5000);
    const far = sim.addresses[5]!;
    assert.deepEqual(sim.router(0)!.nextHops(far), [], 'OGMs travel 2 hops only');
    assert.deepEqual(sim.router(0)!.nextHops(sim.addresses[2]!), [sim.addresses[1]]);
    sim.inject(0, { type: 'need-route', dest: far });
    sim.run(5200);
    assert.deepEqual(sim.router(0)!.nextHops(far), [sim.addresses[1]]);
    const route = sim.router(0)!.routes().find((x) => x.dest === far)!;
    assert.equal(route.source, 'aodv');
    assert.equal(route.hops, 5);
  });
});
