// Poisson sampling for DP rounds and the core's explicit selection that carries it: each client independently with
// probability q (checked on the count's distribution), and the core keeps exactly the sampled clients that are joined.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectClients, selectionSize } from '../../../host/core/fl/client-selection.js';
import { FlCoordinator } from '../../../host/core/fl/coordinator.js';
import { FlConfigError } from '../../../host/errors/index.js';
import { cryptoUniform, poissonSample } from '../../../host/fl/poisson-sampling.js';

test('cryptoUniform is in [0, 1) with mean 1/2 and variance 1/12', () => {
  const n = 100_000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const u = cryptoUniform();
    assert.ok(u >= 0 && u < 1);
    s += u;
    s2 += u * u;
  }
  assert.ok(Math.abs(s / n - 0.5) < 0.006);
  assert.ok(Math.abs(s2 / n - s * s / n / n - 1 / 12) < 0.003);
});

test('poissonSample keeps each id with probability q: the count is Binomial(N, q), the ids are independent of order', () => {
  const ids = Array.from({ length: 100 }, (_, i) => `c${i}`);
  const trials = 2000;
  const q = 0.3;
  let total = 0;
  let sq = 0;
  const hits = new Map<string, number>();
  for (let t = 0; t < trials; t++) {
    const s = poissonSample(ids, q);
    total += s.length;
    sq += s.length * s.length;
    for (const id of s) hits.set(id, (hits.get(id) ?? 0) + 1);
    assert.deepEqual(s, ids.filter((id) => s.includes(id)), 'in the given order');
  }
  const mean = total / trials;
  const variance = sq / trials - mean * mean;
  assert.ok(Math.abs(mean - 30) < 0.5, `mean ${mean}`); // sd of the mean ≈ 0.1
  assert.ok(Math.abs(variance - 21) < 3, `variance ${variance}`); // N q (1 − q) = 21
  for (const id of ids) assert.ok(Math.abs((hits.get(id) ?? 0) / trials - q) < 0.05, id);
  assert.deepEqual(poissonSample(ids, 1), ids);
  assert.throws(() => poissonSample(ids, 0), FlConfigError);
  assert.throws(() => poissonSample(ids, 1.5), FlConfigError);
});

test('explicit selection: exactly the listed clients that are eligible, sorted; the core starts the round with them', () => {
  assert.deepEqual(selectClients(['d', 'a', 'c', 'b'], { kind: 'explicit', clients: ['c', 'x', 'a', 'a'] }, 1, 1), ['a', 'c']);
  assert.equal(selectionSize({ kind: 'explicit', clients: ['a', 'b', 'b'] }, 10), 2);
  const core = new FlCoordinator(7);
  for (const id of ['a', 'b', 'c', 'd']) core.step({ type: 'client-joined', clientId: id }, 0);
  const effects = core.step({
    type: 'start-round',
    config: {
      roundId: 1, modelVersion: 0, modelDigest: new Uint8Array(32), dim: 4, selection: { kind: 'explicit', clients: ['b', 'd', 'z'] },
      minClients: 1, deadlineMs: 100, stragglers: 'until-deadline',
    },
  }, 0);
  const start = effects.find((e) => e.type === 'send-round-start');
  assert.ok(start && start.type === 'send-round-start');
  assert.deepEqual(start.to, ['b', 'd']);
});
