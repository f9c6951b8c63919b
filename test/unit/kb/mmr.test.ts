// Maximal marginal relevance: λ = 1 is plain relevance order, λ = 0 picks the least redundant, and at λ = 0.5 a
// near-duplicate of the best hit loses to a different, slightly less relevant one (worked by hand).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KbConfigError } from '../../../host/errors/index.js';
import { cosine, maximalMarginalRelevance, MMR_DEFAULT_LAMBDA } from '../../../host/kb/mmr.js';

const unit = (deg: number): [number, number] => [Math.cos((deg * Math.PI) / 180), Math.sin((deg * Math.PI) / 180)];

describe('maximalMarginalRelevance', () => {
  const q = Float32Array.from(unit(0));
  // a at 10°, b at 12° (a near-duplicate of a), c at −30°.
  const cands = Float32Array.from([...unit(10), ...unit(12), ...unit(-30)]);

  test('λ = 1: relevance order', () => {
    assert.deepEqual(maximalMarginalRelevance(q, cands, 2, 3, 1), [0, 1, 2]);
  });

  test('λ = 0.5 (default): the near-duplicate b is demoted below c', () => {
    assert.equal(MMR_DEFAULT_LAMBDA, 0.5);
    // After a: b scores 0.5·cos12° − 0.5·cos2° ≈ −0.0115, c scores 0.5·cos30° − 0.5·cos40° ≈ 0.0500.
    assert.deepEqual(maximalMarginalRelevance(q, cands, 2, 3), [0, 2, 1]);
    assert.deepEqual(maximalMarginalRelevance(q, cands, 2, 2), [0, 2]);
  });

  test('λ = 0: after the first pick, the candidate least similar to those picked', () => {
    // First pick: all scores 0 before anything is selected → ties go to the first row.
    assert.deepEqual(maximalMarginalRelevance(q, cands, 2, 3, 0), [0, 2, 1]);
  });

  test('a given relevance replaces cosine to the query', () => {
    // Relevance says c is best, then b, then a; λ = 1 follows it exactly.
    assert.deepEqual(maximalMarginalRelevance(q, cands, 2, 3, 1, Float64Array.of(0, 0.5, 1)), [2, 1, 0]);
    // λ = 0.5: after c, a and b are equally relevant-ish; b (0.6) vs a (0.55) minus half their similarity to c.
    // b: 0.5·0.6 − 0.5·cos42° ≈ −0.0716; a: 0.5·0.55 − 0.5·cos40° ≈ −0.1080 → b first.
    assert.deepEqual(maximalMarginalRelevance(q, cands, 2, 3, 0.5, Float64Array.of(0.55, 0.6, 1)), [2, 1, 0]);
    assert.throws(() => maximalMarginalRelevance(q, cands, 2, 3, 0.5, Float64Array.of(1)), KbConfigError);
  });

  test('k larger than the candidates, zero vectors, and bad inputs', () => {
    assert.deepEqual(maximalMarginalRelevance(q, cands, 2, 10, 0.7).length, 3);
    assert.equal(cosine(new Float32Array(2), 0, q, 0, 2), 0);
    assert.throws(() => maximalMarginalRelevance(q, cands, 2, 3, 1.5), KbConfigError);
    assert.throws(() => maximalMarginalRelevance(q, cands.subarray(0, 5), 2, 3), KbConfigError);
  });
});
