// Reciprocal-rank fusion: scores are Σ w/(k + rank) worked out by hand, ranks are reported per list, duplicates
// keep their best rank, weights shift the order, ties are deterministic, and bad parameters are refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { KbConfigError } from '../../../host/errors/index.js';
import { reciprocalRankFusion, RRF_K } from '../../../host/kb/rank-fusion.js';

const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-15;

describe('reciprocalRankFusion', () => {
  test('scores and ranks by hand, k = 60', () => {
    assert.equal(RRF_K, 60);
    const fused = reciprocalRankFusion([{ ids: [10, 20, 30] }, { ids: [30, 40] }]);
    const byId = new Map(fused.map((f) => [f.id, f]));
    assert.ok(close(byId.get(30)!.score, 1 / 63 + 1 / 61));
    assert.ok(close(byId.get(10)!.score, 1 / 61));
    assert.ok(close(byId.get(40)!.score, 1 / 62));
    assert.ok(close(byId.get(20)!.score, 1 / 62));
    assert.deepEqual(byId.get(30)!.ranks, [3, 1]);
    assert.deepEqual(byId.get(40)!.ranks, [undefined, 2]);
    // 30 (in both) first; 10 next; 20 and 40 tie on score and best rank (2): smaller id first.
    assert.deepEqual(fused.map((f) => f.id), [30, 10, 20, 40]);
  });

  test('weights and a different k', () => {
    const fused = reciprocalRankFusion([{ ids: [1, 2], weight: 1 }, { ids: [2, 1], weight: 3 }], 0);
    assert.deepEqual(fused.map((f) => f.id), [2, 1]);
    assert.ok(close(fused[0]!.score, 1 / 2 + 3 / 1));
    assert.ok(close(fused[1]!.score, 1 / 1 + 3 / 2));
  });

  test('an id repeated within one list counts once, at its best rank', () => {
    const fused = reciprocalRankFusion([{ ids: [5, 6, 5] }]);
    assert.ok(close(fused.find((f) => f.id === 5)!.score, 1 / 61));
    assert.deepEqual(fused.find((f) => f.id === 5)!.ranks, [1]);
  });

  test('a single list keeps its order; empty input gives nothing', () => {
    fc.assert(fc.property(fc.uniqueArray(fc.nat(1000), { maxLength: 50 }), (ids) => {
      assert.deepEqual(reciprocalRankFusion([{ ids }]).map((f) => f.id), ids);
    }));
    assert.deepEqual(reciprocalRankFusion([]), []);
  });

  test('bad k or weight is KbConfigError', () => {
    assert.throws(() => reciprocalRankFusion([{ ids: [1] }], -1), KbConfigError);
    assert.throws(() => reciprocalRankFusion([{ ids: [1] }], Number.POSITIVE_INFINITY), KbConfigError);
    assert.throws(() => reciprocalRankFusion([{ ids: [1], weight: Number.NaN }]), KbConfigError);
  });
});
