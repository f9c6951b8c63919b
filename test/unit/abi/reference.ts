// Plain TypeScript references the plugins are checked against, and a seeded generator of test data.

/** The conformance kits' seeded generator (mulberry32), so failures reproduce. */
export { seededRandom as rng } from '../../../sdk/abi/conformance/kit-types.js';

export function randomF32(n: number, next: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (next() * 2 - 1) * scale;
  return a;
}

export function sumRef(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x;
  return s;
}

/** sum_i w_i x_i / sum_i w_i in f64. */
export function fedavgRef(clients: number, dim: number, weights: Float32Array, updates: Float32Array): Float64Array {
  let total = 0;
  for (let i = 0; i < clients; i++) total += weights[i]!;
  const out = new Float64Array(dim);
  for (let i = 0; i < clients; i++) {
    const w = weights[i]! / total;
    for (let j = 0; j < dim; j++) out[j]! += w * updates[i * dim + j]!;
  }
  return out;
}

/** Largest |a_i - b_i| / max(1, |b_i|). */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!)));
  return m;
}
