// Data for the simulations: the MNIST split, the partitions over clients, and the seeded generator they use.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { partition } from '../../../host/fl/data-partition.js';
import { loadMnist, MNIST_PIXELS, subset } from '../../../host/fl/mnist.js';
import { SeededRandom } from '../../../host/fl/seeded-random.js';
import { shortestF32 } from '../../../host/fl/f32-text.js';
import { UsageError } from '../../../host/errors/index.js';

describe('MNIST from the mnist package', () => {
  test('10 classes, a fixed 80/20 split per class, pixels in [0, 1], digits not all blank', async () => {
    const { train, test: held } = await loadMnist();
    assert.ok(train.count > 7500 && held.count > 1800, `${train.count} train, ${held.count} test`);
    assert.equal(train.x.length, train.count * MNIST_PIXELS);
    for (const d of [train, held]) {
      const perClass = new Array(10).fill(0);
      for (const y of d.y) perClass[y]++;
      assert.ok(perClass.every((n) => n > d.count / 20), `classes ${perClass}`);
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of train.x) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    assert.equal(lo, 0);
    assert.ok(hi > 0.99 && hi <= 1);
    const one = subset(train, [5]);
    assert.ok(one.x.reduce((s, v) => s + v, 0) > 20, 'a digit has ink');
    assert.equal(one.y[0], train.y[5]);
  });
});

describe('partition', () => {
  const labels = Uint32Array.from({ length: 1000 }, (_, i) => i % 10);
  const cover = (parts: number[][]): void => {
    const all = parts.flat().sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: 1000 }, (_, i) => i), 'every sample exactly once');
  };
  test('sorted: 20 clients see at most two classes each', () => {
    const parts = partition(labels, 20, 'sorted', new SeededRandom(1));
    cover(parts);
    for (const p of parts) assert.ok(new Set(p.map((i) => labels[i])).size <= 2);
  });
  test('iid: near-equal sizes, mixed classes; dirichlet: every sample once, skewed', () => {
    const iid = partition(labels, 10, 'iid', new SeededRandom(2));
    cover(iid);
    assert.ok(iid.every((p) => p.length === 100 && new Set(p.map((i) => labels[i])).size >= 6));
    const dir = partition(labels, 10, 'dirichlet', new SeededRandom(3), 0.3);
    cover(dir);
    const sizes = dir.map((p) => p.length);
    assert.ok(Math.max(...sizes) > 2 * Math.min(...sizes), `sizes ${sizes}`);
  });
  test('the same seed gives the same split; too many clients is a usage error', () => {
    assert.deepEqual(partition(labels, 7, 'dirichlet', new SeededRandom(9)), partition(labels, 7, 'dirichlet', new SeededRandom(9)));
    assert.throws(() => partition(labels, 2000, 'iid', new SeededRandom(1)), UsageError);
  });
});

describe('SeededRandom', () => {
  test('uniform and normal moments over 200k draws', () => {
    const r = new SeededRandom(42);
    let s = 0; let s2 = 0; let n1 = 0; let n2 = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) { const u = r.next(); s += u; s2 += u * u; const z = r.normal(); n1 += z; n2 += z * z; }
    assert.ok(Math.abs(s / n - 0.5) < 0.005 && Math.abs(s2 / n - 1 / 3) < 0.005);
    assert.ok(Math.abs(n1 / n) < 0.01 && Math.abs(n2 / n - 1) < 0.015);
  });
});

describe('shortestF32', () => {
  test('reads back as the same f32 and is never longer than 9 significant digits', () => {
    fc.assert(fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (v) => {
      const s = shortestF32(v);
      assert.equal(Math.fround(Number(s)), Math.fround(v) === 0 ? 0 : Math.fround(v));
    }), { numRuns: 2000 });
    assert.equal(shortestF32(Math.fround(0.1)), '0.1');
  });
});
