// The Gaussian sampler: moments and tail mass of 1e6 seeded samples within tight (5-standard-error) bounds,
// seeded determinism, the CSPRNG source's moments, stream continuity of the seeded byte source, addGaussianNoise.
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  addGaussianNoise, cryptoGaussian, GaussianSampler, SeededByteSource, seededGaussian,
} from '../../../host/fl/gaussian-noise.js';
import { FlConfigError } from '../../../host/errors/index.js';

interface Moments { mean: number; variance: number; kurtosis: number; tail196: number }

function moments(draw: () => number, n: number): Moments {
  let s1 = 0, s2 = 0, s4 = 0, tail = 0;
  for (let i = 0; i < n; i++) {
    const z = draw();
    s1 += z; s2 += z * z; s4 += z * z * z * z;
    if (Math.abs(z) > 1.959963984540054) tail++;
  }
  const mean = s1 / n;
  const variance = s2 / n - mean * mean;
  return { mean, variance, kurtosis: s4 / n / (variance * variance), tail196: tail / n };
}

/** 5 standard errors for n samples of N(0, 1): mean 1/√n, variance √(2/n), 4th moment/σ⁴ √(96/n) (rough), P(|Z| > 1.96) √(p(1−p)/n). */
function assertStandardNormal(m: Moments, n: number): void {
  assert.ok(Math.abs(m.mean) < 5 / Math.sqrt(n), `mean ${m.mean}`);
  assert.ok(Math.abs(m.variance - 1) < 5 * Math.sqrt(2 / n), `variance ${m.variance}`);
  assert.ok(Math.abs(m.kurtosis - 3) < 5 * Math.sqrt(96 / n), `kurtosis ${m.kurtosis}`);
  assert.ok(Math.abs(m.tail196 - 0.05) < 5 * Math.sqrt((0.05 * 0.95) / n), `P(|Z| > 1.96) ${m.tail196}`);
}

describe('GaussianSampler', () => {
  test('1e6 seeded samples: mean 0, variance 1, kurtosis 3, 5 % beyond ±1.96', () => {
    const g = seededGaussian('moments');
    const n = 1_000_000;
    assertStandardNormal(moments(() => g.next(), n), n);
  });

  test('the CSPRNG source gives standard normals too (2e5 samples)', () => {
    const g = cryptoGaussian();
    const n = 200_000;
    assertStandardNormal(moments(() => g.next(), n), n);
  });

  test('seeded: the same seed gives the same sequence, another seed a different one', () => {
    const a = seededGaussian('seed-1');
    const b = seededGaussian(new TextEncoder().encode('seed-1'));
    const c = seededGaussian('seed-2');
    const xa = Array.from({ length: 20_000 }, () => a.next());
    const xb = Array.from({ length: 20_000 }, () => b.next());
    const xc = Array.from({ length: 20_000 }, () => c.next());
    assert.deepEqual(xa, xb);
    assert.ok(xa.filter((x, i) => x === xc[i]).length === 0);
  });

  test('uniform() stays in the open interval (0, 1) with mean 1/2', () => {
    const g = seededGaussian('uniform');
    let s = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      const u = g.uniform();
      assert.ok(u > 0 && u < 1);
      s += u;
    }
    assert.ok(Math.abs(s / n - 0.5) < 5 * Math.sqrt(1 / 12 / n));
  });
});

describe('SeededByteSource', () => {
  test('is the ChaCha20 keystream under SHA-256(seed), continuous across fills of any size', () => {
    const src = new SeededByteSource('stream');
    const parts = [1, 63, 64, 65_536, 100_003, 7].map((n) => {
      const b = new Uint8Array(n);
      src.fill(b);
      return b;
    });
    const total = parts.reduce((s, p) => s + p.length, 0);
    const key = createHash('sha256').update('stream').digest();
    const expected = createCipheriv('chacha20', key, Buffer.alloc(16)).update(Buffer.alloc(total));
    assert.deepEqual(Buffer.concat(parts), expected);
  });
});

describe('addGaussianNoise', () => {
  test('adds N(0, std^2) per coordinate (2e5 coordinates), std 0 is a no-op, bad std is refused', () => {
    const v = new Float32Array(200_000).fill(3);
    addGaussianNoise(v, 0.25, seededGaussian('add'));
    let i = 0;
    const n = v.length;
    assertStandardNormal(moments(() => (v[i++]! - 3) / 0.25, n), n);
    const w = Float32Array.of(1, 2);
    addGaussianNoise(w, 0, new GaussianSampler({ fill: () => assert.fail('std 0 must not draw') }));
    assert.deepEqual(w, Float32Array.of(1, 2));
    for (const s of [-1, Number.NaN, Infinity]) {
      assert.throws(() => addGaussianNoise(w, s, seededGaussian('x')), (e: unknown) => e instanceof FlConfigError && e.details['field'] === 'std');
    }
  });
});
