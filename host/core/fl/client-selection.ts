// Which eligible clients take part in a round: a seeded, deterministic sample without replacement. The same
// (eligible set, selection, seed, round) always gives the same clients, whatever order the clients joined in, so
// any node can re-derive (and audit) another coordinator's choice. Not cryptographic randomness: the seed is
// configuration, and a client cannot influence it.
import { seededRandom } from '../../../sdk/abi/conformance/kit-types.js';

/** A fraction of the eligible clients (rounded up, at least one when any is eligible) or a fixed count. */
export type Selection =
  | { readonly kind: 'fraction'; readonly fraction: number }
  | { readonly kind: 'count'; readonly count: number }
  /** Exactly these clients (those of them that are joined): a sample drawn outside the core, e.g. Poisson sampling
   *  from secret randomness for differential privacy, which a seeded, auditable selection cannot provide. */
  | { readonly kind: 'explicit'; readonly clients: readonly string[] };

/** How many clients a selection takes out of `eligible` (never more than there are). */
export function selectionSize(selection: Selection, eligible: number): number {
  if (eligible <= 0) return 0;
  if (selection.kind === 'explicit') return Math.min(eligible, new Set(selection.clients).size);
  const want = selection.kind === 'count'
    ? Math.floor(selection.count)
    : Math.max(1, Math.ceil(selection.fraction * eligible - 1e-9));
  return Math.max(0, Math.min(eligible, want));
}

/** splitmix32-style mixing of the coordinator's seed and the round id into the round's seed. */
export function roundSeed(seed: number, roundId: number): number {
  let z = (seed ^ Math.imul(roundId >>> 0, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** mulberry32: a small, fast, well-mixed 32-bit generator yielding floats in [0, 1) — the one the conformance kits
 *  use, so selection, kits and the in-process network share one definition. */
export const mulberry32: (seed: number) => () => number = seededRandom;

/**
 * A sample without replacement of `selectionSize(selection, eligible.length)` ids, by a partial Fisher-Yates
 * shuffle of the eligible ids in sorted order, driven by `roundSeed(seed, roundId)`. The result is sorted.
 */
export function selectClients(eligible: Iterable<string>, selection: Selection, seed: number, roundId: number): string[] {
  if (selection.kind === 'explicit') {
    const chosen = new Set(selection.clients);
    return [...new Set(eligible)].filter((id) => chosen.has(id)).sort();
  }
  const pool = [...new Set(eligible)].sort();
  const k = selectionSize(selection, pool.length);
  const next = mulberry32(roundSeed(seed, roundId));
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(next() * (pool.length - i));
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
  }
  return pool.slice(0, k).sort();
}
