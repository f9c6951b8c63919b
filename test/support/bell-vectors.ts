// Seeded test vectors without cluster structure (the hardest case for HNSW): each coordinate is a sum of three
// uniforms, a bell-shaped value around 0, so the directions are close to uniform on the sphere.
import { seededUniform } from './seeded-uniform.js';

/** `n` vectors of dimension `dim`, row-major; scaled to unit length when `unit` is set. */
export function bellVectors(n: number, dim: number, seed: number, unit = true): Float32Array {
  const r = seededUniform(seed);
  const v = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      const x = r() + r() + r() - 1.5;
      v[i * dim + j] = x;
      norm += x * x;
    }
    if (unit) for (let j = 0; j < dim; j++) v[i * dim + j]! /= Math.sqrt(norm);
  }
  return v;
}
