// Fixed-point encoding of float updates into the ring Z_2^32 (u32 arithmetic wraps mod 2^32) and back. Clipping to
// [-range, range] plus the bound checked in params.ts (N · ceil(range · scale) < 2^31) guarantees that the sum of all
// quantised inputs, read back as int32, is the true integer sum: masking adds and removes values mod 2^32, which is
// invisible once the masks cancel.
import { SecAggError } from '../../errors/index.js';
import type { CheckedParams } from './params.js';

/** round(clip(x, ±range) · scale) as two's-complement u32 words. Rejects NaN (it has no place in a sum). */
export function quantiseUpdate(x: Float32Array, p: CheckedParams): Uint32Array {
  if (!(x instanceof Float32Array) || x.length !== p.dim) {
    throw new SecAggError(`secagg: update must be a Float32Array of length ${p.dim}`, { reason: 'input', dim: p.dim });
  }
  const out = new Uint32Array(x.length);
  const { range, scale } = p;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (Number.isNaN(v)) throw new SecAggError('secagg: update holds NaN', { reason: 'input', index: i });
    const clipped = v > range ? range : v < -range ? -range : v;
    out[i] = Math.round(clipped * scale); // a negative integer stores as its u32 two's complement
  }
  return out;
}

/** The ring sum read as signed integers, then divided by the scale: Σ x_i up to quantisation error. */
export function dequantiseSum(ringSum: Uint32Array, p: CheckedParams): Float32Array {
  const signed = new Int32Array(ringSum.buffer, ringSum.byteOffset, ringSum.length);
  const out = new Float32Array(ringSum.length);
  for (let i = 0; i < signed.length; i++) out[i] = signed[i]! / p.scale;
  return out;
}
