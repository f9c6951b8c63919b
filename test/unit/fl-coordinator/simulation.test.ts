// Deterministic simulation of the pure coordinator under a seeded unreliable network: RoundStarts and updates are
// dropped, duplicated and delayed (which reorders them), clients train for random times (some past the deadline),
// leave mid-round and come back, forged and unknown-sender updates arrive, aggregation sometimes fails, stragglers
// of one round arrive during the next. fast-check draws the scenario; the properties hold for every one:
//   - no update is aggregated twice, after its deadline, from an unselected client, or other than as it was sent;
//   - every started round ends exactly once, finished (with at least the quorum) or failed (with a typed reason);
//   - every update delivered while a round runs is counted exactly once in that round's metrics.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { mulberry32 } from '../../../host/core/fl/client-selection.js';
import { FlCoordinator } from '../../../host/core/fl/coordinator.js';
import type { CoordinatorEffect, CoordinatorEvent, ReceivedUpdate, StragglerPolicy } from '../../../host/core/fl/coordinator-types.js';

interface Scenario {
  seed: number;
  clients: number;
  rounds: number;
  selectCount: number;
  minClients: number;
  deadlineMs: number;
  stragglers: StragglerPolicy;
  dropRate: number;
  duplicateRate: number;
  maxDelayMs: number;
  maxTrainMs: number;
  leaveRate: number;
  forgeRate: number;
  aggregationFailRate: number;
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  seed: fc.nat(),
  clients: fc.integer({ min: 1, max: 16 }),
  rounds: fc.integer({ min: 1, max: 5 }),
  selectCount: fc.integer({ min: 1, max: 16 }),
  minClients: fc.integer({ min: 1, max: 8 }),
  deadlineMs: fc.integer({ min: 50, max: 1000 }),
  stragglers: fc.constantFrom<StragglerPolicy>('until-deadline', 'close-at-quorum'),
  dropRate: fc.double({ min: 0, max: 0.4, noNaN: true }),
  duplicateRate: fc.double({ min: 0, max: 0.5, noNaN: true }),
  maxDelayMs: fc.integer({ min: 0, max: 300 }),
  maxTrainMs: fc.integer({ min: 0, max: 1500 }),
  leaveRate: fc.double({ min: 0, max: 0.3, noNaN: true }),
  forgeRate: fc.double({ min: 0, max: 0.3, noNaN: true }),
  aggregationFailRate: fc.double({ min: 0, max: 0.2, noNaN: true }),
});

const DIM = 3;
const digestOf = (version: number): Uint8Array => new Uint8Array(32).fill(version + 1);

interface Queued { at: number; seq: number; event: CoordinatorEvent }

interface RoundLog {
  selected: Set<string>;
  startedAt: number;
  deadlineAt: number;
  /** Valid updates the core saw for this round: client → the update objects and the times they were stepped. */
  valid: Map<string, { update: Float32Array; at: number }[]>;
  aggregated: number;
  ended: number;
  stepsWhileRunning: number;
}

/** How often each situation occurred over all scenarios, to show the simulation reaches them. */
const seen = { finished: 0, quorumFailed: 0, tooFew: 0, aggregationFailed: 0, late: 0, duplicates: 0, left: 0, wrongRound: 0, invalid: 0, closedAtQuorum: 0 };

function simulate(s: Scenario): void {
  const rand = mulberry32(s.seed);
  const chance = (p: number): boolean => rand() < p;
  const core = new FlCoordinator(s.seed);
  const ids = Array.from({ length: s.clients }, (_, i) => `n${i}`);
  const queue: Queued[] = [];
  let seq = 0;
  let now = 0;
  const push = (at: number, event: CoordinatorEvent): void => {
    queue.push({ at, seq: seq++, event });
  };
  const net = (): number => rand() * s.maxDelayMs;
  const logs = new Map<number, RoundLog>();
  let modelVersion = 0;
  let current: number | null = null;

  const step = (event: CoordinatorEvent): void => {
    const running = current !== null ? logs.get(current)! : null;
    if (event.type === 'update-received' && running !== null && core.snapshot().phase !== 'idle') running.stepsWhileRunning++;
    if (event.type === 'update-received' && event.verdict === 'valid') {
      const log = logs.get(event.round);
      if (log !== undefined) {
        const list = log.valid.get(event.from) ?? [];
        list.push({ update: event.update, at: now });
        log.valid.set(event.from, list);
      }
    }
    for (const e of core.step(event, now)) handle(e);
  };

  const sendUpdate = (from: string, round: number, digest: Uint8Array, verdict: ReceivedUpdate['verdict'], at: number): void => {
    const ev: ReceivedUpdate = {
      type: 'update-received', from, round, modelDigest: digest, verdict, weight: 1 + Math.floor(rand() * 5),
      update: Float32Array.from({ length: DIM }, () => rand()), bytes: 64 + DIM * 4,
    };
    const copies = chance(s.duplicateRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) if (!chance(s.dropRate)) push(at + net(), ev);
  };

  const handle = (e: CoordinatorEffect): void => {
    const log = current === null ? null : logs.get(current)!;
    switch (e.type) {
      case 'send-round-start':
        log!.selected = new Set(e.to);
        for (const to of e.to) {
          if (chance(s.dropRate)) continue;
          const arrives = now + net();
          const verdict = chance(s.forgeRate) ? 'bad-signature' : 'valid';
          sendUpdate(to, e.round, digestOf(e.modelVersion), verdict, arrives + rand() * s.maxTrainMs);
          if (chance(s.leaveRate)) push(arrives + rand() * s.deadlineMs, { type: 'client-left', clientId: to });
        }
        // Noise: an unknown sender, a client naming the wrong model, a replay of the previous round.
        if (chance(s.forgeRate)) sendUpdate('stranger', e.round, digestOf(e.modelVersion), 'unknown-sender', now + net());
        if (chance(s.forgeRate)) sendUpdate(ids[0]!, e.round, digestOf(e.modelVersion + 7), 'valid', now + net());
        if (chance(s.forgeRate)) sendUpdate(ids[0]!, e.round - 1, digestOf(e.modelVersion - 1), 'valid', now + net());
        return;
      case 'schedule-tick':
        push(e.at, { type: 'tick' });
        return;
      case 'aggregate': {
        log!.aggregated++;
        const ids2 = e.contributions.map((c) => c.clientId);
        assert.equal(new Set(ids2).size, ids2.length, 'a client aggregated twice in one round');
        for (const c of e.contributions) {
          assert.ok(log!.selected.has(c.clientId), `${c.clientId} was not selected for round ${e.round}`);
          const sent = log!.valid.get(c.clientId) ?? [];
          const match = sent.find((x) => x.update === c.update);
          assert.ok(match, `${c.clientId}'s aggregated update is not one it sent for round ${e.round}`);
          assert.ok(match.at < log!.deadlineAt && match.at >= log!.startedAt, `update from ${c.clientId} at ${match.at} outside the round`);
        }
        if (chance(s.aggregationFailRate)) {
          push(now + 5, { type: 'aggregation-failed', round: e.round, reason: 'simulated' });
        } else {
          const model = new Float32Array(DIM);
          const total = e.contributions.reduce((n, c) => n + c.weight, 0);
          for (const c of e.contributions) for (let i = 0; i < DIM; i++) model[i]! += (c.weight / total) * c.update[i]!;
          push(now + 1 + rand() * 20, { type: 'aggregation-done', round: e.round, model });
        }
        return;
      }
      case 'publish-model':
        assert.equal(e.modelVersion, modelVersion + 1);
        modelVersion = e.modelVersion;
        return;
      case 'round-finished': {
        const m = e.metrics;
        log!.ended++;
        assert.equal(log!.aggregated, 1);
        assert.ok(m.received >= s.minClients && m.received <= m.selected);
        assert.equal(m.collectMs! + m.aggregateMs!, m.totalMs);
        checkAccounting(m, log!);
        count(m);
        seen.finished++;
        if (m.closedBy === 'quorum') seen.closedAtQuorum++;
        current = null;
        return;
      }
      case 'round-failed': {
        const m = e.metrics;
        log!.ended++;
        if (e.reason.code === 'quorum-not-reached') assert.ok(m.received < s.minClients && log!.aggregated === 0);
        if (e.reason.code === 'not-enough-clients') assert.ok(e.reason.selected < s.minClients && m.selected < s.minClients);
        if (e.reason.code === 'aggregation-failed') assert.equal(log!.aggregated, 1);
        checkAccounting(m, log!);
        count(m);
        if (e.reason.code === 'quorum-not-reached') seen.quorumFailed++;
        else if (e.reason.code === 'not-enough-clients') seen.tooFew++;
        else seen.aggregationFailed++;
        current = null;
        return;
      }
      case 'start-rejected':
        assert.fail(`start rejected: ${e.message}`);
    }
  };

  const checkAccounting = (m: import('../../../host/core/fl/coordinator-types.js').RoundMetrics, log: RoundLog): void => {
    const counted = m.received + m.late + m.invalidSignatures + m.unknownSenders + m.malformed + m.duplicates + m.wrongRound + m.unselected;
    assert.equal(counted, log.stepsWhileRunning, `round ${m.round}: ${counted} counted, ${log.stepsWhileRunning} delivered`);
  };

  const count = (m: import('../../../host/core/fl/coordinator-types.js').RoundMetrics): void => {
    seen.late += m.late;
    seen.duplicates += m.duplicates;
    seen.left += m.left;
    seen.wrongRound += m.wrongRound;
    seen.invalid += m.invalidSignatures + m.unknownSenders;
  };

  for (const id of ids) step({ type: 'client-joined', clientId: id });
  for (let r = 1; r <= s.rounds; r++) {
    // Clients that left come back between rounds.
    for (const id of ids) step({ type: 'client-joined', clientId: id });
    current = r;
    logs.set(r, { selected: new Set(), startedAt: now, deadlineAt: now + s.deadlineMs, valid: new Map(), aggregated: 0, ended: 0, stepsWhileRunning: 0 });
    step({
      type: 'start-round',
      config: {
        roundId: r, modelVersion, modelDigest: digestOf(modelVersion), dim: DIM, selection: { kind: 'count', count: s.selectCount },
        minClients: s.minClients, deadlineMs: s.deadlineMs, stragglers: s.stragglers,
      },
    });
    while (current !== null) {
      queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = queue.shift();
      assert.ok(next, `round ${r} is waiting for nothing: it would never end`);
      now = Math.max(now, next.at);
      step(next.event);
    }
    assert.equal(logs.get(r)!.ended, 1);
    now += 10;
  }
}

test('seeded simulation: the coordinator\'s invariants hold under loss, duplication, reordering, stragglers and churn', () => {
  fc.assert(fc.property(scenario, (s) => simulate(s)), { numRuns: 400 });
  for (const [what, n] of Object.entries(seen)) assert.ok(n > 0, `no scenario produced ${what}: ${JSON.stringify(seen)}`);
});

test('the simulation is deterministic: the same seed gives the same effects', () => {
  const run = (seed: number): string => {
    const core = new FlCoordinator(seed);
    const out: string[] = [];
    for (let i = 0; i < 10; i++) core.step({ type: 'client-joined', clientId: `n${i}` }, 0);
    for (const e of core.step({
      type: 'start-round',
      config: { roundId: 1, modelVersion: 0, modelDigest: digestOf(0), dim: DIM, selection: { kind: 'fraction', fraction: 0.3 }, minClients: 1, deadlineMs: 10, stragglers: 'until-deadline' },
    }, 0)) out.push(JSON.stringify(e));
    return out.join('\n');
  };
  assert.equal(run(11), run(11));
  assert.notEqual(run(11), run(12));
});
