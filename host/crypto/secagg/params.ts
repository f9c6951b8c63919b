// The public parameters of one secure-aggregation round, fixed before round 0 and known to the server and every
// client: who may take part, the threshold, the vector length and the fixed-point encoding. `checkSecAggParams`
// normalises and validates them once at the boundary so the state machines can trust them.
import { SecAggError } from '../../errors/index.js';

/** Shamir shares use GF(2^8) x-coordinates 1..255, so a round has at most 255 participants. */
export const SECAGG_MAX_CLIENTS = 255;
export const SECAGG_MAX_ROUND_ID_BYTES = 64;
/** Largest quantised magnitude sum that stays inside int32 (the ring Z_2^32 read as two's complement). */
const INT32_MAX = 0x7fffffff;

export interface SecAggParams {
  /** Distinguishes this round from every other (HKDF salt, AEAD and signature context): 1..64 bytes, never reused. */
  readonly roundId: Uint8Array;
  /** The ids (u32, distinct) of everyone allowed to advertise keys in this round. */
  readonly clientIds: readonly number[];
  /** Shares needed to reconstruct a secret and the least number of clients that must survive every round. */
  readonly threshold: number;
  /** Length of every update vector. */
  readonly dim: number;
  /** Fixed-point scale: an update value x is sent as round(clip(x) · scale). */
  readonly scale: number;
  /** Clipping range: values are clipped to [-range, range] before quantisation. */
  readonly range: number;
}

/** Validated, frozen parameters with the client ids sorted ascending. */
export interface CheckedParams extends SecAggParams {
  readonly clientIds: readonly number[];
  /** Largest |quantised value| of one client: ceil(range · scale). */
  readonly maxQuantised: number;
}

function fail(message: string, field: string): never {
  throw new SecAggError(`secagg params: ${message}`, { reason: 'config', field });
}

/**
 * Checks the parameters, including the no-wrap bound: with |x| ≤ range, every quantised value has magnitude at most
 * q = ceil(range · scale), so the sum over all N clients has magnitude at most N · q, which must stay ≤ 2^31 − 1 for
 * the ring sum to decode as a signed 32-bit integer.
 */
export function checkSecAggParams(p: SecAggParams): CheckedParams {
  if (!(p.roundId instanceof Uint8Array) || p.roundId.length < 1 || p.roundId.length > SECAGG_MAX_ROUND_ID_BYTES) {
    fail(`roundId must be 1..${SECAGG_MAX_ROUND_ID_BYTES} bytes`, 'roundId');
  }
  const ids = [...p.clientIds].sort((a, b) => a - b);
  if (ids.length < 2 || ids.length > SECAGG_MAX_CLIENTS) fail(`clientIds must hold 2..${SECAGG_MAX_CLIENTS} ids`, 'clientIds');
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) fail(`client id ${id} is not a u32`, 'clientIds');
    if (i > 0 && ids[i - 1] === id) fail(`client id ${id} appears twice`, 'clientIds');
  }
  if (!Number.isInteger(p.threshold) || p.threshold < 2 || p.threshold > ids.length) {
    fail(`threshold must be an integer in 2..${ids.length}`, 'threshold');
  }
  if (!Number.isInteger(p.dim) || p.dim < 1 || p.dim > 0x3fffffff) fail('dim must be a positive integer', 'dim');
  if (!(Number.isFinite(p.scale) && p.scale > 0)) fail('scale must be a positive finite number', 'scale');
  if (!(Number.isFinite(p.range) && p.range > 0)) fail('range must be a positive finite number', 'range');
  const maxQuantised = Math.ceil(p.range * p.scale);
  if (ids.length * maxQuantised > INT32_MAX) {
    fail(`clients · ceil(range · scale) = ${ids.length * maxQuantised} exceeds 2^31 − 1: the ring sum could wrap`, 'scale');
  }
  return Object.freeze({
    roundId: new Uint8Array(p.roundId),
    clientIds: Object.freeze(ids),
    threshold: p.threshold,
    dim: p.dim,
    scale: p.scale,
    range: p.range,
    maxQuantised,
  });
}
