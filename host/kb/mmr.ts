// Maximal marginal relevance (Carbonell & Goldstein 1998): pick, one at a time, the candidate maximising
// λ·sim(query, d) − (1 − λ)·max_{s ∈ selected} sim(d, s), with cosine similarity. λ = 1 is pure relevance,
// λ = 0 pure diversity.
import { KbConfigError } from '../errors/index.js';

export const MMR_DEFAULT_LAMBDA = 0.5;

export function cosine(a: Float32Array, ao: number, b: Float32Array, bo: number, dim: number): number {
  let dot = 0; let na = 0; let nb = 0;
  for (let i = 0; i < dim; i++) {
    const x = a[ao + i]!; const y = b[bo + i]!;
    dot += x * y; na += x * x; nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * Orders (a prefix of) the candidates by MMR. `candidates` is `n × dim` row-major; returns up to `k` row indexes
 * in selection order. Ties go to the earlier row (the caller's relevance order). `relevance`, when given (one value
 * per candidate, best 1, worst 0), replaces cosine(query, d) as the relevance term: a hybrid or re-ranked list knows
 * more about relevance than the embedding alone.
 */
export function maximalMarginalRelevance(query: Float32Array, candidates: Float32Array, dim: number, k: number,
  lambda = MMR_DEFAULT_LAMBDA, relevanceOverride?: Float64Array): number[] {
  if (!(lambda >= 0 && lambda <= 1)) throw new KbConfigError(`MMR λ must be in [0, 1], got ${lambda}`, { path: 'mmr' });
  if (query.length !== dim || candidates.length % dim !== 0) {
    throw new KbConfigError(`MMR vectors do not match dim ${dim}`, { path: 'dim', query: query.length, candidates: candidates.length });
  }
  const n = candidates.length / dim;
  if (relevanceOverride !== undefined && relevanceOverride.length !== n) {
    throw new KbConfigError(`MMR relevance has ${relevanceOverride.length} values for ${n} candidates`, { path: 'relevance' });
  }
  const relevance = relevanceOverride ?? new Float64Array(n);
  if (relevanceOverride === undefined) for (let i = 0; i < n; i++) relevance[i] = cosine(query, 0, candidates, i * dim, dim);
  const maxSim = new Float64Array(n).fill(-Infinity);
  const taken = new Uint8Array(n);
  const order: number[] = [];
  while (order.length < Math.min(k, n)) {
    let best = -1; let bestScore = -Infinity;
    for (let i = 0; i < n; i++) {
      if (taken[i]) continue;
      const redundancy = order.length === 0 ? 0 : maxSim[i]!;
      const s = lambda * relevance[i]! - (1 - lambda) * redundancy;
      if (s > bestScore) { bestScore = s; best = i; }
    }
    taken[best] = 1;
    order.push(best);
    for (let i = 0; i < n; i++) {
      if (!taken[i]) maxSim[i] = Math.max(maxSim[i]!, cosine(candidates, i * dim, candidates, best * dim, dim));
    }
  }
  return order;
}
