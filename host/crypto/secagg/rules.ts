// Checks shared by the client and the server: round ids, and the Shamir x-coordinate of each client of U1 (its rank
// in the ascending roster, plus one), which both sides must derive identically.
import { SecAggError } from '../../errors/index.js';
import type { CheckedParams } from './params.js';

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export function checkRoundId(expected: Uint8Array, got: Uint8Array): void {
  if (!sameBytes(expected, got)) throw new SecAggError('secagg: message belongs to another round', { reason: 'protocol' });
}

/** id → x (1..255) for a roster that must be strictly ascending, drawn from the round's clients, with ≥ t members. */
export function shareXs(ids: readonly number[], p: CheckedParams): Map<number, number> {
  const xs = new Map<number, number>();
  let prev = -1;
  for (const id of ids) {
    if (id <= prev || !p.clientIds.includes(id)) {
      throw new SecAggError(`secagg: roster is not an ascending list of the round's clients (at ${id})`, { reason: 'protocol', client: id });
    }
    prev = id;
    xs.set(id, xs.size + 1);
  }
  if (xs.size < p.threshold) {
    throw new SecAggError(`secagg: ${xs.size} clients advertised keys, ${p.threshold} needed`, { reason: 'threshold', have: xs.size, need: p.threshold });
  }
  return xs;
}
