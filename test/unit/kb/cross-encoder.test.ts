// The cross-encoder re-ranker on a tiny random BertForSequenceClassification (test/fixtures/models/
// tiny-cross-encoder, written by scripts/cross-encoder-fixture.py) against the logits Hugging Face transformers
// computed for the same (query, passage) pairs, including an empty and a truncated passage.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ModelUnavailableError } from '../../../host/errors/index.js';
import { CrossEncoderReranker } from '../../../host/kb/cross-encoder.js';

const dir = join(process.cwd(), 'test', 'fixtures', 'models', 'tiny-cross-encoder');
const ref = JSON.parse(readFileSync(join(dir, 'scores.json'), 'utf8')) as {
  query: string; passages: string[]; maxLength: number; ids: number[][]; logits: number[];
};

test('scores equal transformers\' logits for every pair, in the order given', async () => {
  const reranker = await CrossEncoderReranker.fromCheckpoint(dir, { maxLength: ref.maxLength, maxBatch: 4 });
  try {
    assert.equal(reranker.id, 'tiny-cross-encoder');
    ref.passages.forEach((p, i) => assert.deepEqual(Array.from(reranker.tokenizer.encodePair(ref.query, p).ids), ref.ids[i], `pair ${i} ids`));
    const scores = await reranker.score(ref.query, ref.passages);
    assert.equal(scores.length, ref.passages.length);
    ref.logits.forEach((l, i) => assert.ok(Math.abs(scores[i]! - l) < 1e-4, `pair ${i}: ${scores[i]} vs ${l}`));
    // Scoring one passage alone gives the same logit as inside a padded batch.
    const alone = await reranker.score(ref.query, [ref.passages[2]!]);
    assert.ok(Math.abs(alone[0]! - ref.logits[2]!) < 1e-4);
    assert.equal((await reranker.score(ref.query, [])).length, 0);
  } finally {
    await reranker.close();
  }
});

test('a folder without a model is ModelUnavailableError naming the missing file', async () => {
  const empty = await mkdtemp(join(tmpdir(), 'x0t-no-reranker-'));
  try {
    await assert.rejects(CrossEncoderReranker.fromCheckpoint(empty),
      (e: unknown) => e instanceof ModelUnavailableError && e.details['file'] === 'config.json' && /without re-ranking/.test(e.message));
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
});
