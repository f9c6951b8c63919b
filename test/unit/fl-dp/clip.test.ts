// L2 clipping: the bound the privacy analysis relies on (norm after clipping <= C even after float32 rounding),
// vectors inside the ball untouched bit for bit, flat clipping of several parts, and the errors.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clipAllToNorm, clipToNorm, l2Norm } from '../../../host/core/fl/clip.js';
import { FlConfigError, FlUpdateInvalidError } from '../../../host/errors/index.js';
import { seededGaussian } from '../../../host/fl/gaussian-noise.js';

const rng = seededGaussian('clip tests');
const randomVector = (n: number, scale: number): Float32Array => Float32Array.from({ length: n }, () => scale * rng.next());

describe('l2Norm', () => {
  test('exact small cases and a long vector accumulated in f64', () => {
    assert.equal(l2Norm(Float32Array.of(3, 4)), 5);
    assert.equal(l2Norm(new Float32Array(0)), 0);
    assert.equal(l2Norm(new Float32Array(1_000_000).fill(1)), 1000);
    // 1e6 coordinates of 1e-3 plus one of 1: float32 accumulation would lose the small ones' 1 (1e6 * 1e-6).
    const v = new Float32Array(1_000_001).fill(1e-3);
    v[0] = 1;
    const exact = Math.sqrt(1 + 1e6 * Math.fround(1e-3) ** 2);
    assert.ok(Math.abs(l2Norm(v) - exact) < 1e-9);
  });
});

describe('clipToNorm', () => {
  test('after clipping the stored float32 vector has norm <= C, and close to C', () => {
    for (const [n, scale, c] of [[10, 5, 1], [1000, 1, 0.1], [100_000, 0.01, 0.5], [7, 1e6, 3], [3, 1e-3, 1e-7]] as const) {
      for (let trial = 0; trial < 5; trial++) {
        const v = randomVector(n, scale);
        const before = l2Norm(v);
        const r = clipToNorm(v, c);
        assert.equal(r.norm, before);
        assert.equal(r.clipped, true);
        const after = l2Norm(v);
        assert.ok(after <= c, `n ${n}: ${after} > ${c}`);
        assert.ok(after > c * (1 - 1e-6), `n ${n}: ${after} not close to ${c}`);
        assert.ok(Math.abs(r.factor - (c / before) * (1 - 2 ** -22)) < 1e-15 * (c / before));
      }
    }
  });

  test('a vector already inside the ball (or on its boundary) is left bit for bit', () => {
    const v = randomVector(1000, 0.01);
    const copy = v.slice();
    const r = clipToNorm(v, l2Norm(v) * 2);
    assert.deepEqual(r, { factor: 1, norm: l2Norm(copy), clipped: false });
    assert.deepEqual(v, copy);
    const edge = Float32Array.of(3, 4);
    assert.equal(clipToNorm(edge, 5).clipped, false);
    assert.deepEqual(edge, Float32Array.of(3, 4));
  });

  test('direction is kept', () => {
    const v = Float32Array.of(30, -40, 0);
    clipToNorm(v, 1);
    assert.ok(Math.abs(v[0]! - 0.6) < 1e-6 && Math.abs(v[1]! + 0.8) < 1e-6 && v[2] === 0);
  });

  test('non-finite coordinates and bad clip norms are errors', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      const v = Float32Array.of(1, bad, 2);
      assert.throws(() => clipToNorm(v, 1), (e: unknown) => e instanceof FlUpdateInvalidError && e.code === 'X0T_FL_UPDATE_INVALID');
    }
    for (const c of [0, -1, Number.NaN, Infinity]) {
      assert.throws(() => clipToNorm(Float32Array.of(1), c), (e: unknown) => e instanceof FlConfigError && e.details['field'] === 'clipNorm');
    }
  });
});

describe('clipAllToNorm (flat clipping)', () => {
  test('bounds the joint norm of all parts with one factor', () => {
    const parts = [randomVector(100, 1), randomVector(7, 3), randomVector(1000, 0.2)];
    const joined = Float32Array.from(parts.flatMap((p) => [...p]));
    const copies = parts.map((p) => p.slice());
    const r = clipAllToNorm(parts, 2);
    // Equal up to the summation order (per part, then across parts).
    assert.ok(Math.abs(r.norm / l2Norm(joined) - 1) < 1e-12);
    const after = Math.sqrt(parts.reduce((s, p) => s + l2Norm(p) ** 2, 0));
    assert.ok(after <= 2 && after > 2 * (1 - 1e-6));
    parts.forEach((p, i) => p.forEach((x, k) => assert.equal(x, Math.fround(copies[i]![k]! * r.factor))));
    // The same factor as clipping the concatenation.
    assert.ok(Math.abs(clipToNorm(joined, 2).factor / r.factor - 1) < 1e-12);
  });

  test('parts inside the ball are untouched', () => {
    const parts = [Float32Array.of(0.1, 0.2), Float32Array.of(0.3)];
    assert.equal(clipAllToNorm(parts, 1).clipped, false);
    assert.deepEqual(parts, [Float32Array.of(0.1, 0.2), Float32Array.of(0.3)]);
  });
});
