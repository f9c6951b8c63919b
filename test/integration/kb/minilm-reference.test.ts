// all-MiniLM-L6-v2 on onnxruntime-web against sentence-transformers: every sentence of
// test/vectors/minilm-reference.json (generated once by scripts/minilm-reference.py from the same PyPI package)
// must embed with cosine ≥ 0.99 to the reference vector in test/vectors/minilm-reference.f32. Needs the model in
// the models cache: skipped (naming `npm run setup:models`) when absent, a failure in CI (CI=true), where .ci/run
// installs it first.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ModelUnavailableError } from '../../../host/errors/index.js';
import { TransformerEmbedder } from '../../../host/kb/transformer-embedder.js';

const dir = join(process.cwd(), 'test', 'vectors');
const ref = JSON.parse(readFileSync(join(dir, 'minilm-reference.json'), 'utf8')) as { texts: string[]; dim: number; count: number };
const raw = readFileSync(join(dir, 'minilm-reference.f32'));
const refVectors = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));

async function openOrSkip(t: { skip(msg: string): void }): Promise<TransformerEmbedder | null> {
  try {
    return await TransformerEmbedder.open(undefined, { numThreads: 1 });
  } catch (e) {
    if (!(e instanceof ModelUnavailableError) || process.env['CI'] === 'true') throw e;
    t.skip(`MiniLM model not installed (run \`npm run setup:models\`): ${e.message}`);
    return null;
  }
}

const dot = (a: Float32Array, ai: number, b: Float32Array, bi: number, dim: number): number => {
  let s = 0;
  for (let j = 0; j < dim; j++) s += a[ai * dim + j]! * b[bi * dim + j]!;
  return s;
};

test('embeddings agree with sentence-transformers (cosine ≥ 0.99 on every reference sentence)', async (t) => {
  const embedder = await openOrSkip(t);
  if (embedder === null) return;
  try {
    assert.equal(embedder.id, 'all-MiniLM-L6-v2');
    assert.equal(embedder.dim, 384);
    assert.equal(embedder.kind, 'transformer');
    assert.equal(embedder.normalized, true);
    assert.ok(ref.count >= 60 && ref.texts.length === ref.count && refVectors.length === ref.count * ref.dim);
    const vectors = await embedder.embed(ref.texts);
    assert.equal(vectors.length, ref.count * 384);
    let min = Infinity, sum = 0, worst = -1;
    for (let i = 0; i < ref.count; i++) {
      // Both sides are unit vectors, so the dot product is the cosine; check the norm too.
      assert.ok(Math.abs(dot(vectors, i, vectors, i, 384) - 1) < 1e-4, `vector ${i} is not unit length`);
      const cos = dot(vectors, i, refVectors, i, 384) / Math.sqrt(dot(refVectors, i, refVectors, i, 384));
      if (cos < min) { min = cos; worst = i; }
      sum += cos;
    }
    t.diagnostic(`cosine to sentence-transformers over ${ref.count} sentences: min ${min.toFixed(7)} (text ${worst}), mean ${(sum / ref.count).toFixed(7)}`);
    assert.ok(min >= 0.99, `text ${worst} ${JSON.stringify(ref.texts[worst]?.slice(0, 60))}: cosine ${min}`);
  } finally {
    await embedder.close();
  }
});

test('batching and padding do not change a text\'s embedding; empty input gives no rows', async (t) => {
  const embedder = await openOrSkip(t);
  if (embedder === null) return;
  try {
    const texts = [ref.texts[26]!, 'ok', ref.texts[0]!, 'hello world'];
    const together = await embedder.embed(texts);
    for (let i = 0; i < texts.length; i++) {
      const alone = await embedder.embed([texts[i]!]);
      assert.ok(dot(together, i, alone, 0, 384) > 0.99999, `text ${i} changed when batched`);
    }
    assert.equal((await embedder.embed([])).length, 0);
    // Inference runs in a worker: the event loop keeps turning while long texts are embedded.
    let ticks = 0, maxGap = 0, last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 5);
    const t0 = performance.now();
    await embedder.embed(new Array<string>(16).fill(ref.texts[26]!));
    const took = performance.now() - t0;
    clearInterval(timer);
    t.diagnostic(`event loop during a 16 × 256-token embed (${took.toFixed(0)} ms): ${ticks} ticks, largest gap ${maxGap.toFixed(1)} ms`);
    // Relative, not a wall-clock budget: the loop must keep turning through the embed, whatever the machine's speed.
    assert.ok(ticks > 10 && maxGap < took / 2, `event loop stalled: ${ticks} ticks, gap ${maxGap} ms of ${took} ms`);
    // Duplicates in one call get identical rows.
    const dup = await embedder.embed(['mesh', 'mesh']);
    assert.ok(dot(dup, 0, dup, 1, 384) > 0.999999);
  } finally {
    await embedder.close();
  }
});
