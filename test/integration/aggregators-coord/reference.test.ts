// Agreement with the plain TypeScript references (test/support/fl-reference/coordinate.ts) on random rounds,
// and robustness: a minority of huge outliers moves median, trimmed-mean, geomed and cclip little while the
// mean moves a lot.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Slot } from '../../../host/runtime/slot.js';
import * as ref from '../../support/fl-reference/coordinate.js';
import { aggregate, maxAbsDiff, norm, openSlot, randomRound } from './helpers.js';

const SHAPES: readonly [number, number][] = [[1, 5], [2, 3], [5, 37], [8, 130], [17, 63], [64, 257], [100, 1001]];

describe('robust aggregators: agreement with the TypeScript reference', () => {
  const slots = new Map<string, Slot>();
  before(async () => {
    slots.set('median', await openSlot('median'));
    slots.set('trimmed-mean', await openSlot('trimmed-mean'));
    slots.set('trimmed-mean 0.3', await openSlot('trimmed-mean', { beta: '0.3' }));
    slots.set('geomed', await openSlot('geomed'));
    slots.set('geomed 20', await openSlot('geomed', { iters: '20', eps: '1e-4' }));
    slots.set('cclip', await openSlot('cclip'));
    slots.set('cclip 0.5', await openSlot('cclip', { tau: '0.5', iters: '5' }));
    slots.set('trimmed-mean 0.2', await openSlot('trimmed-mean', { beta: '0.2' }));
  });
  after(async () => {
    for (const s of slots.values()) await s.close();
  });

  const cases: [string, (r: ref.Round) => Float64Array][] = [
    ['median', (r) => ref.median(r)],
    ['trimmed-mean', (r) => ref.trimmedMean(r)],
    ['trimmed-mean 0.3', (r) => ref.trimmedMean(r, 0.3)],
    ['geomed', (r) => ref.geomed(r)],
    ['geomed 20', (r) => ref.geomed(r, 20, 1e-4)],
    ['cclip', (r) => ref.cclip(r)],
    ['cclip 0.5', (r) => ref.cclip(r, 0.5, 5)],
  ];
  for (const [key, reference] of cases) {
    test(`${key} matches the reference within 1e-5 (n even and odd, dim not a multiple of 4)`, async () => {
      let seed = 100;
      for (const [n, dim] of SHAPES) {
        const r = randomRound(n, dim, seed++);
        const got = await aggregate(slots.get(key)!, r);
        const d = maxAbsDiff(got, reference(r));
        assert.ok(d <= 1e-5, `${key}, ${n} clients × ${dim}: off by ${d}`);
      }
    });
  }

  test('a minority of huge outliers moves the robust rules little and the mean a lot', async () => {
    const honest = 20;
    const bad = 4;
    const dim = 50;
    const clean = randomRound(honest, dim, 7);
    const attacked: ref.Round = {
      clients: honest + bad, dim,
      weights: Float32Array.from([...clean.weights, ...Array(bad).fill(5)]),
      updates: Float32Array.from([...clean.updates, ...Array(bad * dim).fill(1e4)]),
    };
    const meanShift = norm(ref.mean(clean), ref.mean(attacked));
    assert.ok(meanShift > 1e4, `the mean moved only ${meanShift}`);
    for (const key of ['median', 'trimmed-mean 0.2', 'geomed', 'cclip']) {
      const s = slots.get(key)!;
      const shift = norm(await aggregate(s, clean), await aggregate(s, attacked));
      assert.ok(shift < 8 && shift < meanShift * 1e-3, `${key} moved ${shift} (the mean ${meanShift})`);
    }
  });
});
