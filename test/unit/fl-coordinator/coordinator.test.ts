// The pure FL coordinator: hand-written rounds for each rule (stragglers, duplicates, wrong rounds, unselected and
// invalid updates, a client leaving mid-round, quorum failure then recovery, refused starts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlCoordinator } from '../../../host/core/fl/coordinator.js';
import type { CoordinatorEffect, RoundConfig, RoundMetrics, UpdateVerdict } from '../../../host/core/fl/coordinator-types.js';

const DIGEST = new Uint8Array(32).fill(7);
const DIM = 2;

function config(over: Partial<RoundConfig> = {}): RoundConfig {
  return {
    roundId: 1, modelVersion: 0, modelDigest: DIGEST, dim: DIM, selection: { kind: 'fraction', fraction: 1 }, minClients: 2,
    deadlineMs: 100, stragglers: 'until-deadline', ...over,
  };
}

function update(from: string, round = 1, over: { verdict?: UpdateVerdict; weight?: number; dim?: number; digest?: Uint8Array } = {}) {
  return {
    type: 'update-received' as const, from, round, modelDigest: over.digest ?? DIGEST, verdict: over.verdict ?? 'valid',
    weight: over.weight ?? 1, update: new Float32Array(over.dim ?? DIM).fill(1), bytes: 100,
  };
}

function coordinator(clients: string[], seed = 1): FlCoordinator {
  const c = new FlCoordinator(seed);
  for (const id of clients) c.step({ type: 'client-joined', clientId: id }, 0);
  return c;
}

function find<T extends CoordinatorEffect['type']>(effects: CoordinatorEffect[], type: T): Extract<CoordinatorEffect, { type: T }> {
  const e = effects.find((x) => x.type === type);
  assert.ok(e, `no ${type} effect in ${effects.map((x) => x.type).join(', ')}`);
  return e as Extract<CoordinatorEffect, { type: T }>;
}

function finishMetrics(c: FlCoordinator, round: number, now: number): RoundMetrics {
  const effects = c.step({ type: 'aggregation-done', round, model: new Float32Array(DIM) }, now);
  return find(effects, 'round-finished').metrics;
}

test('a round: RoundStart to the selected, deadline scheduled, early close when all reported, publish, metrics', () => {
  const c = coordinator(['a', 'b', 'c']);
  const start = c.step({ type: 'start-round', config: config() }, 1000);
  assert.deepEqual(find(start, 'send-round-start').to, ['a', 'b', 'c']);
  assert.equal(find(start, 'schedule-tick').at, 1100);
  assert.deepEqual(c.step(update('b'), 1010), []);
  assert.deepEqual(c.step(update('a'), 1020), []);
  const agg = find(c.step(update('c', 1, { weight: 3 }), 1030), 'aggregate');
  assert.deepEqual(agg.contributions.map((x) => [x.clientId, x.weight]), [['a', 1], ['b', 1], ['c', 3]]);
  const done = c.step({ type: 'aggregation-done', round: 1, model: Float32Array.of(1, 1) }, 1050);
  const pub = find(done, 'publish-model');
  assert.equal(pub.modelVersion, 1);
  assert.deepEqual(pub.to, ['a', 'b', 'c']);
  const m = find(done, 'round-finished').metrics;
  assert.equal(m.received, 3);
  assert.equal(m.closedBy, 'all-reported');
  assert.equal(m.collectMs, 30);
  assert.equal(m.aggregateMs, 20);
  assert.equal(m.totalMs, 50);
  assert.equal(m.bytesAccepted, 300);
  assert.equal(c.snapshot().phase, 'idle');
});

test('stragglers after the deadline are counted as late and never aggregated', () => {
  const c = coordinator(['a', 'b', 'c', 'd']);
  c.step({ type: 'start-round', config: config() }, 0);
  c.step(update('a'), 10);
  c.step(update('b'), 99);
  // 'c' arrives exactly at the deadline, before the timer's tick: the deadline closes collection first.
  const effects = c.step(update('c'), 100);
  assert.deepEqual(find(effects, 'aggregate').contributions.map((x) => x.clientId), ['a', 'b']);
  c.step(update('d'), 150);
  const m = finishMetrics(c, 1, 160);
  assert.equal(m.received, 2);
  assert.equal(m.late, 2);
  assert.equal(m.closedBy, 'deadline');
  // Later still, after the round finished: counted in the snapshot only.
  c.step(update('d'), 500);
  assert.equal(c.snapshot().lateAfterFinish, 1);
});

test('duplicates, wrong rounds, wrong model, unselected, invalid signatures, unknown senders, malformed updates', () => {
  const c = coordinator(['a', 'b', 'c', 'd', 'e', 'f'], 3);
  const start = c.step({ type: 'start-round', config: config({ selection: { kind: 'count', count: 3 }, minClients: 1 }) }, 0);
  const selected = find(start, 'send-round-start').to;
  const other = ['a', 'b', 'c', 'd', 'e', 'f'].find((x) => !selected.includes(x))!;
  const [s0, s1, s2] = selected as [string, string, string];
  c.step(update(s0), 1);
  c.step(update(s0), 2); // duplicate
  c.step(update(s1, 2), 3); // wrong round
  c.step(update(s1, 1, { digest: new Uint8Array(32) }), 4); // wrong model
  c.step(update(other), 5); // not selected
  c.step(update(s1, 1, { verdict: 'bad-signature' }), 6);
  c.step(update('zz', 1, { verdict: 'unknown-sender' }), 7);
  c.step(update(s1, 1, { dim: 3 }), 8);
  c.step(update(s1, 1, { weight: 0 }), 9);
  c.step(update(s1, 1, { weight: Number.NaN }), 10);
  c.step(update(s1, 1, { verdict: 'malformed' }), 11);
  c.step(update(s1), 12);
  find(c.step(update(s2), 13), 'aggregate');
  const m = finishMetrics(c, 1, 20);
  assert.deepEqual(
    [m.selected, m.received, m.duplicates, m.wrongRound, m.unselected, m.invalidSignatures, m.unknownSenders, m.malformed, m.eligible],
    [3, 3, 1, 2, 1, 1, 1, 4, 6],
  );
  assert.equal(m.bytesReceived, 1300);
  assert.equal(m.bytesAccepted, 300);
});

test('a selected client leaving mid-round: not waited for, and its later update is not aggregated', () => {
  const c = coordinator(['a', 'b', 'c']);
  c.step({ type: 'start-round', config: config() }, 0);
  c.step(update('a'), 10);
  c.step({ type: 'client-left', clientId: 'c' }, 20);
  const agg = find(c.step(update('b'), 30), 'aggregate'); // every client still in the round has reported
  assert.deepEqual(agg.contributions.map((x) => x.clientId), ['a', 'b']);
  const done = c.step({ type: 'aggregation-done', round: 1, model: new Float32Array(DIM) }, 40);
  assert.deepEqual(find(done, 'publish-model').to, ['a', 'b'], 'the model goes to the clients still joined');
  assert.equal(find(done, 'round-finished').metrics.left, 1);
});

test('quorum not reached by the deadline fails the round with a typed reason; the next round recovers', () => {
  const c = coordinator(['a', 'b', 'c']);
  c.step({ type: 'start-round', config: config({ minClients: 3 }) }, 0);
  c.step(update('a'), 10);
  c.step(update('b'), 20);
  const failed = find(c.step({ type: 'tick' }, 100), 'round-failed');
  assert.deepEqual(failed.reason, { code: 'quorum-not-reached', received: 2, needed: 3 });
  assert.equal(failed.metrics.closedBy, 'deadline');
  assert.equal(failed.metrics.aggregateMs, null);
  assert.equal(c.snapshot().phase, 'idle');
  // The failed round's stragglers do not reach round 2.
  c.step({ type: 'start-round', config: config({ roundId: 2, minClients: 2 }) }, 200);
  c.step(update('c', 1), 210);
  c.step(update('a', 2), 220);
  c.step({ type: 'client-left', clientId: 'b' }, 225);
  find(c.step(update('c', 2), 230), 'aggregate');
  const m = finishMetrics(c, 2, 240);
  assert.equal(m.wrongRound, 1);
  assert.equal(m.received, 2);
  assert.deepEqual([c.snapshot().finishedRounds, c.snapshot().failedRounds], [1, 1]);
});

test('too few joined clients fail at once; a failed aggregation fails the round', () => {
  const c = coordinator(['a']);
  const effects = c.step({ type: 'start-round', config: config({ minClients: 2 }) }, 0);
  assert.deepEqual(find(effects, 'round-failed').reason, { code: 'not-enough-clients', selected: 1, needed: 2 });
  assert.equal(effects.some((e) => e.type === 'send-round-start'), false);
  c.step({ type: 'client-joined', clientId: 'b' }, 1);
  c.step({ type: 'start-round', config: config({ roundId: 2 }) }, 10);
  c.step(update('a', 2), 11);
  find(c.step(update('b', 2), 12), 'aggregate');
  const failed = find(c.step({ type: 'aggregation-failed', round: 2, reason: 'X0T_PLUGIN_TRAP: boom' }, 20), 'round-failed');
  assert.deepEqual(failed.reason, { code: 'aggregation-failed', message: 'X0T_PLUGIN_TRAP: boom' });
});

test('close-at-quorum aggregates as soon as the quorum is in; later updates are stragglers', () => {
  const c = coordinator(['a', 'b', 'c', 'd']);
  c.step({ type: 'start-round', config: config({ stragglers: 'close-at-quorum', minClients: 2 }) }, 0);
  c.step(update('a'), 5);
  const agg = find(c.step(update('c'), 6), 'aggregate');
  assert.equal(agg.contributions.length, 2);
  c.step(update('b'), 7);
  assert.equal(finishMetrics(c, 1, 8).late, 1);
});

test('starts are refused while busy, for non-increasing round ids and for invalid configurations', () => {
  const c = coordinator(['a', 'b']);
  c.step({ type: 'start-round', config: config({ roundId: 5 }) }, 0);
  assert.equal(find(c.step({ type: 'start-round', config: config({ roundId: 6 }) }, 1), 'start-rejected').reason, 'busy');
  c.step({ type: 'tick' }, 100);
  assert.equal(find(c.step({ type: 'start-round', config: config({ roundId: 5 }) }, 101), 'start-rejected').reason, 'stale-round');
  const bad: Partial<RoundConfig>[] = [
    { roundId: -1 }, { dim: 0 }, { minClients: 0 }, { deadlineMs: 0 }, { modelDigest: new Uint8Array(3) },
    { selection: { kind: 'fraction', fraction: 0 } }, { selection: { kind: 'count', count: 1.5 } },
  ];
  for (const b of bad) {
    assert.equal(find(c.step({ type: 'start-round', config: config({ roundId: 9, ...b }) }, 102), 'start-rejected').reason, 'invalid-config');
  }
  // Aggregation results for rounds not being aggregated are ignored.
  assert.deepEqual(c.step({ type: 'aggregation-done', round: 5, model: new Float32Array(DIM) }, 103), []);
});
