// Shared helpers for the robust aggregator tests: plugin specs with a given config, slots, calls, random rounds.
import type { PluginSpec } from '../../../host/core/plugin-spec.js';
import { Slot, DEFAULT_SLOT_OPTIONS } from '../../../host/runtime/slot.js';
import { decodeF32Vector, encodeAggregateRequest } from '../../../sdk/abi/generated/contract.js';
import { seededRandom } from '../../../sdk/abi/conformance/kit-types.js';
import { productSpec, type SpecChanges } from '../../support/fixtures.js';
import type { Round } from '../../support/fl-reference/coordinate.js';

export const ROBUST = ['median', 'trimmed-mean', 'geomed', 'cclip'] as const;
export type Robust = (typeof ROBUST)[number];

/** The product spec of `name` with its config replaced by `config` (when given). */
export async function specWith(name: string, config?: Record<string, string>, changes: SpecChanges = {}): Promise<PluginSpec> {
  const spec = await productSpec(name, changes);
  return config === undefined ? spec : Object.freeze({ ...spec, config: Object.freeze({ ...config }) });
}

/** A slot serving `name` (self-test on unless the config is meant to be refused). */
export async function openSlot(name: string, config?: Record<string, string>, selfTest = true, changes: SpecChanges = {}): Promise<Slot> {
  return Slot.open(name, 'aggregator', await specWith(name, config, changes), { ...DEFAULT_SLOT_OPTIONS, selfTest });
}

export async function aggregate(slot: Slot, r: Round): Promise<Float32Array> {
  const out = decodeF32Vector(await slot.call('aggregate', encodeAggregateRequest(r)));
  if (out.len !== r.dim) throw new Error(`aggregate of dim ${r.dim} returned ${out.len} values`);
  return out.values;
}

/** A round from rows given as arrays (weights default to 1). */
export function round(rows: readonly (readonly number[])[], weights?: readonly number[]): Round {
  const clients = rows.length;
  const dim = rows[0]!.length;
  return { clients, dim, weights: Float32Array.from(weights ?? rows.map(() => 1)), updates: Float32Array.from(rows.flat()) };
}

/** Random round: updates uniform in [-1, 1), weights integers 1..10. */
export function randomRound(clients: number, dim: number, seed: number): Round {
  const rnd = seededRandom(seed);
  return {
    clients, dim,
    weights: Float32Array.from({ length: clients }, () => 1 + Math.floor(rnd() * 10)),
    updates: Float32Array.from({ length: clients * dim }, () => rnd() * 2 - 1),
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export function norm(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}
