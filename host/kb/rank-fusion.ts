// Reciprocal-rank fusion (Cormack, Clarke & Büttcher 2009): score(d) = Σ_i w_i / (k + rank_i(d)), ranks from 1.
// Only ranks matter, so lists with incomparable scores (BM25, cosine) combine without calibration.
import { KbConfigError } from '../errors/index.js';

export const RRF_K = 60;

export interface RankedList {
  /** Ids best first; an id appearing twice keeps its first (best) rank. */
  readonly ids: readonly number[];
  readonly weight?: number;
}

export interface FusedHit {
  readonly id: number;
  readonly score: number;
  /** 1-based rank of the id in each input list, `undefined` where absent; same order as the inputs. */
  readonly ranks: readonly (number | undefined)[];
}

export function reciprocalRankFusion(lists: readonly RankedList[], k = RRF_K): FusedHit[] {
  if (!(k >= 0) || !Number.isFinite(k)) throw new KbConfigError(`RRF k must be a finite number >= 0, got ${k}`, { path: 'k' });
  const acc = new Map<number, { score: number; ranks: (number | undefined)[] }>();
  lists.forEach((list, li) => {
    const w = list.weight ?? 1;
    if (!(w >= 0) || !Number.isFinite(w)) throw new KbConfigError(`RRF weight must be a finite number >= 0, got ${w}`, { path: `lists[${li}].weight` });
    list.ids.forEach((id, i) => {
      let e = acc.get(id);
      if (!e) { e = { score: 0, ranks: new Array<number | undefined>(lists.length).fill(undefined) }; acc.set(id, e); }
      if (e.ranks[li] !== undefined) return;
      e.ranks[li] = i + 1;
      e.score += w / (k + i + 1);
    });
  });
  // Ties: the better best-rank first, then the smaller id, so fusion is deterministic.
  const best = (r: readonly (number | undefined)[]): number => Math.min(...r.map((x) => x ?? Infinity));
  return [...acc].map(([id, e]) => ({ id, score: e.score, ranks: e.ranks }))
    .sort((a, b) => b.score - a.score || best(a.ranks) - best(b.ranks) || a.id - b.id);
}
