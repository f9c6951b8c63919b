// Byzantine clients for the robustness experiments. All are omniscient, as in the papers they come from: they see
// the honest clients' updates of the round before answering, and all of them send the same vector.
//   alie      "A Little Is Enough" (Baruch, Baruch & Goldberg, NeurIPS'19): μ − z·σ per coordinate, with z from the
//             number of clients and Byzantine clients, chosen so the vector stays inside the spread that
//             coordinate-wise and distance-based rules accept. z as in Karimireddy, He & Jaggi's code for the
//             experiment we reproduce: s = ⌊n/2 + 1⌋ − f, z = Φ⁻¹((n − f − s) / (n − f)).
//   ipm       inner-product manipulation (Xie, Koyejo & Gupta, UAI'19): −ε·μ, ε = 0.1 by default, so the aggregate's
//             inner product with the true mean turns negative when the rule lets it through.
//   signflip  each Byzantine client sends −1 × its own honest update (it trains on its own data).
//   none      Byzantine clients behave honestly.
import { UsageError } from '../errors/index.js';
import { normalQuantile } from './normal-quantile.js';

export const ATTACKS = ['none', 'alie', 'ipm', 'signflip'] as const;
export type AttackName = (typeof ATTACKS)[number];

export function parseAttack(name: string): AttackName {
  if (!(ATTACKS as readonly string[]).includes(name)) throw new UsageError(`unknown attack '${name}' (known: ${ATTACKS.join(', ')})`, { attack: name });
  return name as AttackName;
}

/** ALIE's z for n clients of which f are Byzantine. */
export function alieZ(n: number, f: number): number {
  const s = Math.floor(n / 2 + 1) - f;
  return normalQuantile((n - f - s) / (n - f));
}

/** Coordinate-wise mean and (population) standard deviation of the honest updates, in f64. */
export function honestMoments(honest: readonly Float32Array[]): { mean: Float64Array; std: Float64Array } {
  const dim = honest[0]?.length ?? 0;
  const mean = new Float64Array(dim);
  const std = new Float64Array(dim);
  const k = honest.length;
  if (k === 0) return { mean, std };
  for (const u of honest) for (let i = 0; i < dim; i++) mean[i]! += u[i]!;
  for (let i = 0; i < dim; i++) mean[i]! /= k;
  for (const u of honest) {
    for (let i = 0; i < dim; i++) {
      const d = u[i]! - mean[i]!;
      std[i]! += d * d;
    }
  }
  for (let i = 0; i < dim; i++) std[i] = Math.sqrt(std[i]! / k);
  return { mean, std };
}

export interface AttackContext {
  /** All clients of the round, Byzantine included. */
  readonly clients: number;
  readonly byzantine: number;
  /** IPM's ε. */
  readonly epsilon?: number;
}

/** The vector every Byzantine client sends for `alie` and `ipm`, from the honest updates of the round. */
export function colludingUpdate(attack: 'alie' | 'ipm', honest: readonly Float32Array[], ctx: AttackContext): Float32Array {
  if (honest.length === 0) throw new UsageError('an omniscient attack needs at least one honest update', { attack });
  const { mean, std } = honestMoments(honest);
  const out = new Float32Array(mean.length);
  if (attack === 'alie') {
    const z = alieZ(ctx.clients, ctx.byzantine);
    for (let i = 0; i < out.length; i++) out[i] = mean[i]! - z * std[i]!;
  } else {
    const eps = ctx.epsilon ?? 0.1;
    for (let i = 0; i < out.length; i++) out[i] = -eps * mean[i]!;
  }
  return out;
}

/** signflip: the negation of the client's own honest update. */
export function signFlipped(own: Float32Array): Float32Array {
  const out = new Float32Array(own.length);
  for (let i = 0; i < own.length; i++) out[i] = -own[i]!;
  return out;
}
