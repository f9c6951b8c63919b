// L2 clipping of model updates, the step that bounds each client's influence (its sensitivity) before noise is
// added. Norms are accumulated in f64 so that a million float32 coordinates do not lose the small ones.
//
// Rounding: scaling by C/‖v‖ and storing back to float32 rounds every coordinate by at most 2^-24 relative, which
// could leave the stored norm a hair above C. The factor is therefore shrunk by 2^-22 (C·(1 − 2^-22)·(1 + 2^-24) < C),
// so the clipped vector's norm is ≤ C after rounding: the privacy analysis relies on that bound, not on "about C".
// Pure: no I/O.
import { FlConfigError, FlUpdateInvalidError } from '../../errors/index.js';

/** ‖v‖₂, accumulated in f64. */
export function l2Norm(v: Float32Array): number {
  return Math.sqrt(sumOfSquares(v));
}

function sumOfSquares(v: Float32Array): number {
  // Four accumulators: shorter dependency chains (faster) and a little less rounding error.
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  const n = v.length;
  const n4 = n - (n % 4);
  let i = 0;
  for (; i < n4; i += 4) {
    const a = v[i]!, b = v[i + 1]!, c = v[i + 2]!, d = v[i + 3]!;
    s0 += a * a; s1 += b * b; s2 += c * c; s3 += d * d;
  }
  for (; i < n; i++) { const a = v[i]!; s0 += a * a; }
  return (s0 + s1) + (s2 + s3);
}

export interface ClipResult {
  /** The factor every coordinate was multiplied by: 1 when the norm was already ≤ C. */
  readonly factor: number;
  /** The L2 norm before clipping. */
  readonly norm: number;
  /** Whether the vector was scaled down. */
  readonly clipped: boolean;
}

/** Shrink applied to C/‖v‖ so that float32 rounding cannot push the clipped norm above C (see the header). */
const ROUNDING_MARGIN = 1 - 2 ** -22;

export function checkClipNorm(clipNorm: number, field = 'clipNorm'): void {
  if (typeof clipNorm !== 'number' || !Number.isFinite(clipNorm) || !(clipNorm > 0)) {
    throw new FlConfigError(`${field} must be a finite number > 0 (got ${String(clipNorm)})`, { field, value: clipNorm });
  }
}

function clipFactor(norm: number, clipNorm: number): number {
  if (!Number.isFinite(norm)) {
    throw new FlUpdateInvalidError(`update has a non-finite L2 norm (${norm}): a NaN or infinite coordinate`, { norm: String(norm) });
  }
  return norm > clipNorm ? (clipNorm / norm) * ROUNDING_MARGIN : 1;
}

/**
 * Scales `v` in place so that ‖v‖₂ ≤ clipNorm; a vector already inside the ball is left untouched (bit for bit).
 * Throws FlUpdateInvalidError on a NaN/±∞ coordinate, FlConfigError on a bad clipNorm.
 */
export function clipToNorm(v: Float32Array, clipNorm: number): ClipResult {
  checkClipNorm(clipNorm);
  const norm = l2Norm(v);
  const factor = clipFactor(norm, clipNorm);
  if (factor !== 1) for (let i = 0; i < v.length; i++) v[i]! *= factor;
  return { factor, norm, clipped: factor !== 1 };
}

/**
 * Flat clipping of an update held as several vectors (e.g. one per layer): the joint norm of their concatenation
 * is bounded by clipNorm, and every part is scaled by the same factor (McMahan et al. 2018 call this flat clipping,
 * as opposed to per-layer clipping).
 */
export function clipAllToNorm(parts: readonly Float32Array[], clipNorm: number): ClipResult {
  checkClipNorm(clipNorm);
  let ss = 0;
  for (const p of parts) ss += sumOfSquares(p);
  const norm = Math.sqrt(ss);
  const factor = clipFactor(norm, clipNorm);
  if (factor !== 1) for (const p of parts) for (let i = 0; i < p.length; i++) p[i]! *= factor;
  return { factor, norm, clipped: factor !== 1 };
}
