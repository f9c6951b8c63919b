// t-of-n Shamir secret sharing byte by byte over GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1. Each
// secret byte is the constant term of its own random polynomial of degree t − 1; a share is the values of all those
// polynomials at one non-zero x. Any t shares determine the secret by Lagrange interpolation at 0; t − 1 shares are
// consistent with every secret equally often (perfect secrecy), so no wrong answer can be "detected" — the combiner
// instead knows t and refuses fewer than t distinct shares.
import { randomBytes } from 'node:crypto';
import { SecAggError } from '../../errors/index.js';

// exp/log tables for the generator 3 (x + 1), which has order 255 in GF(2^8) mod 0x11b.
const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
{
  let v = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = v;
    EXP[i + 255] = v;
    LOG[v] = i;
    v ^= (v << 1) ^ (v & 0x80 ? 0x11b : 0); // v · 3 = v · 2 ⊕ v, reduced
    v &= 0xff;
  }
}

export function gfMul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!;
}

export function gfDiv(a: number, b: number): number {
  if (b === 0) throw new SecAggError('secagg: division by zero in GF(256)', { reason: 'protocol' });
  return a === 0 ? 0 : EXP[LOG[a]! + 255 - LOG[b]!]!;
}

export interface ShamirShare {
  /** The evaluation point, 1..255. */
  readonly x: number;
  /** One byte per secret byte. */
  readonly y: Uint8Array;
}

/**
 * Shares `secret` among the points `xs` (distinct, 1..255) so that any `threshold` of them recover it.
 * `random(n)` supplies the polynomial coefficients (fresh randomness by default; tests inject their own).
 */
export function shamirSplit(
  secret: Uint8Array,
  threshold: number,
  xs: readonly number[],
  random: (n: number) => Uint8Array = (n) => new Uint8Array(randomBytes(n)),
): ShamirShare[] {
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > xs.length) {
    throw new SecAggError(`secagg: cannot share with threshold ${threshold} among ${xs.length}`, { reason: 'config' });
  }
  checkPoints(xs);
  const len = secret.length;
  const coeffs = random((threshold - 1) * len); // coefficient k (1..t−1) of byte j at (k − 1) · len + j
  return xs.map((x) => {
    const y = new Uint8Array(len);
    for (let j = 0; j < len; j++) {
      // Horner from the highest coefficient down to the secret byte.
      let acc = 0;
      for (let k = threshold - 1; k >= 1; k--) acc = gfMul(acc, x) ^ coeffs[(k - 1) * len + j]!;
      y[j] = gfMul(acc, x) ^ secret[j]!;
    }
    return { x, y };
  });
}

/**
 * The secret behind `shares`, interpolated from the first `threshold` of them. Throws a SecAggError with reason
 * 'threshold' when fewer than `threshold` distinct points are given, and 'protocol' for malformed shares.
 */
export function shamirCombine(shares: readonly ShamirShare[], threshold: number): Uint8Array {
  const distinct = new Map<number, ShamirShare>();
  for (const s of shares) if (!distinct.has(s.x)) distinct.set(s.x, s);
  if (distinct.size < threshold || threshold < 1) {
    throw new SecAggError(`secagg: ${distinct.size} distinct shares, ${threshold} needed`, {
      reason: 'threshold', have: distinct.size, need: threshold,
    });
  }
  const used = [...distinct.values()].slice(0, threshold);
  checkPoints(used.map((s) => s.x));
  const len = used[0]!.y.length;
  if (used.some((s) => s.y.length !== len)) throw new SecAggError('secagg: shares differ in length', { reason: 'protocol' });
  // Lagrange basis at 0: l_i(0) = Π_{m≠i} x_m / (x_m ⊕ x_i)  (subtraction is xor in characteristic 2).
  const basis = used.map((si, i) => {
    let num = 1;
    let den = 1;
    used.forEach((sm, m) => {
      if (m === i) return;
      num = gfMul(num, sm.x);
      den = gfMul(den, sm.x ^ si.x);
    });
    return gfDiv(num, den);
  });
  const out = new Uint8Array(len);
  for (let j = 0; j < len; j++) {
    let acc = 0;
    for (let i = 0; i < used.length; i++) acc ^= gfMul(basis[i]!, used[i]!.y[j]!);
    out[j] = acc;
  }
  return out;
}

function checkPoints(xs: readonly number[]): void {
  const seen = new Set<number>();
  for (const x of xs) {
    if (!Number.isInteger(x) || x < 1 || x > 255 || seen.has(x)) {
      throw new SecAggError(`secagg: share point ${x} is not a distinct value in 1..255`, { reason: 'protocol', x });
    }
    seen.add(x);
  }
}
