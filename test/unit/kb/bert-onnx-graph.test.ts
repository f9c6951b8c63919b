// The BERT graph builder against a plain TypeScript forward pass of the same tiny random BERT (2 layers, hidden 8,
// 2 heads): sentence head (mean pooling + L2 norm) and cross-encoder head (pooler + classifier), on a padded
// batch, run by onnxruntime-web. The full-size check against sentence-transformers is the MiniLM integration test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelUnavailableError } from '../../../host/errors/index.js';
import { buildBertOnnx, parseBertConfig, type BertConfig } from '../../../host/kb/bert-onnx-graph.js';
import { OnnxSession } from '../../../host/kb/onnx-session.js';
import { Safetensors } from '../../../host/kb/safetensors.js';
import { seededUniform } from '../../support/seeded-uniform.js';

const CONFIG = parseBertConfig({
  hidden_size: 8, num_attention_heads: 2, num_hidden_layers: 2, intermediate_size: 16, layer_norm_eps: 1e-12,
  max_position_embeddings: 16, vocab_size: 20, type_vocab_size: 2, hidden_act: 'gelu', num_labels: 1,
});

/** Deterministic weights, scaled like a trained model's small values. */
const rng = seededUniform;

type Weights = Map<string, { shape: number[]; data: Float32Array }>;

function randomWeights(c: BertConfig, prefix: string, seed: number): Weights {
  const r = rng(seed);
  const w: Weights = new Map();
  const add = (name: string, shape: number[], around = 0, scale = 0.5): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    w.set(name, { shape, data: Float32Array.from({ length: n }, () => around + (r() * 2 - 1) * scale) });
  };
  const H = c.hidden_size, F = c.intermediate_size;
  add(`${prefix}embeddings.word_embeddings.weight`, [c.vocab_size, H]);
  add(`${prefix}embeddings.position_embeddings.weight`, [c.max_position_embeddings, H]);
  add(`${prefix}embeddings.token_type_embeddings.weight`, [c.type_vocab_size, H]);
  const ln = (n: string): void => { add(`${n}.weight`, [H], 1, 0.2); add(`${n}.bias`, [H], 0, 0.1); };
  const lin = (n: string, o: number, i: number): void => { add(`${n}.weight`, [o, i]); add(`${n}.bias`, [o], 0, 0.1); };
  ln(`${prefix}embeddings.LayerNorm`);
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `${prefix}encoder.layer.${l}`;
    for (const q of ['query', 'key', 'value']) lin(`${p}.attention.self.${q}`, H, H);
    lin(`${p}.attention.output.dense`, H, H);
    ln(`${p}.attention.output.LayerNorm`);
    lin(`${p}.intermediate.dense`, F, H);
    lin(`${p}.output.dense`, H, F);
    ln(`${p}.output.LayerNorm`);
  }
  lin(`${prefix}pooler.dense`, H, H);
  lin('classifier', c.num_labels ?? 1, H);
  return w;
}

function toSafetensors(w: Weights): Safetensors {
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, t] of w) {
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + t.data.byteLength] };
    off += t.data.byteLength;
  }
  // An I64 tensor as real checkpoints have (position_ids): present, never read.
  header['embeddings.position_ids'] = { dtype: 'I64', shape: [1], data_offsets: [off, off + 8] };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + off + 8);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  let at = 8 + json.length;
  for (const t of w.values()) {
    bytes.set(new Uint8Array(t.data.buffer), at);
    at += t.data.byteLength;
  }
  return Safetensors.parse(bytes);
}

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), enough for a 1e-4 comparison.
function erf(x: number): number {
  const s = Math.sign(x), a = Math.abs(x), t = 1 / (1 + 0.3275911 * a);
  const y = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

/** Plain forward pass of one unpadded sequence → final hidden states [seq][H]. */
function forward(c: BertConfig, w: Weights, prefix: string, ids: number[], types: number[]): number[][] {
  const g = (n: string): Float32Array => w.get(n)!.data;
  const H = c.hidden_size, heads = c.num_attention_heads, d = H / heads;
  const layerNorm = (x: number[], n: string): number[] => {
    const mean = x.reduce((a, b) => a + b, 0) / H;
    const v = x.reduce((a, b) => a + (b - mean) ** 2, 0) / H;
    return x.map((xi, i) => ((xi - mean) / Math.sqrt(v + c.layer_norm_eps)) * g(`${n}.weight`)[i]! + g(`${n}.bias`)[i]!);
  };
  const linear = (x: number[], n: string): number[] => {
    const W = g(`${n}.weight`), b = g(`${n}.bias`), out = b.length;
    return Array.from({ length: out }, (_, o) => x.reduce((a, xi, i) => a + xi * W[o * x.length + i]!, b[o]!));
  };
  let h = ids.map((id, t) => Array.from({ length: H }, (_, i) =>
    g(`${prefix}embeddings.word_embeddings.weight`)[id * H + i]! + g(`${prefix}embeddings.position_embeddings.weight`)[t * H + i]!
    + g(`${prefix}embeddings.token_type_embeddings.weight`)[types[t]! * H + i]!));
  h = h.map((x) => layerNorm(x, `${prefix}embeddings.LayerNorm`));
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `${prefix}encoder.layer.${l}`;
    const q = h.map((x) => linear(x, `${p}.attention.self.query`));
    const k = h.map((x) => linear(x, `${p}.attention.self.key`));
    const v = h.map((x) => linear(x, `${p}.attention.self.value`));
    const ctx = h.map((_, i) => {
      const out = new Array<number>(H).fill(0);
      for (let hd = 0; hd < heads; hd++) {
        const s = k.map((kj) => { let a = 0; for (let e = 0; e < d; e++) a += q[i]![hd * d + e]! * kj[hd * d + e]!; return a / Math.sqrt(d); });
        const m = Math.max(...s), ex = s.map((x) => Math.exp(x - m)), z = ex.reduce((a, b) => a + b, 0);
        ex.forEach((pj, j) => { for (let e = 0; e < d; e++) out[hd * d + e]! += (pj / z) * v[j]![hd * d + e]!; });
      }
      return out;
    });
    h = h.map((x, i) => layerNorm(linear(ctx[i]!, `${p}.attention.output.dense`).map((y, j) => y + x[j]!), `${p}.attention.output.LayerNorm`));
    h = h.map((x) => {
      const f = linear(x, `${p}.intermediate.dense`).map((y) => 0.5 * y * (1 + erf(y / Math.SQRT2)));
      return layerNorm(linear(f, `${p}.output.dense`).map((y, j) => y + x[j]!), `${p}.output.LayerNorm`);
    });
  }
  return h;
}

const SEQS = [[1, 5, 7, 3, 9, 2], [1, 4, 2]]; // the second is padded to 6 in the batch

function batchFeeds(seqs: number[][], withTypes: boolean) {
  const S = Math.max(...seqs.map((s) => s.length));
  const ids = new Int32Array(seqs.length * S), mask = new Float32Array(seqs.length * S), types = new Int32Array(seqs.length * S);
  seqs.forEach((s, r) => s.forEach((id, t) => {
    ids[r * S + t] = id; mask[r * S + t] = 1; types[r * S + t] = t >= 3 ? 1 : 0;
  }));
  const dims = [seqs.length, S];
  return [
    { name: 'input_ids', type: 'int32' as const, dims, data: ids },
    { name: 'attention_mask', type: 'float32' as const, dims, data: mask },
    ...(withTypes ? [{ name: 'token_type_ids', type: 'int32' as const, dims, data: types }] : []),
  ];
}

test('sentence head: mean-pooled, L2-normalised embeddings equal a plain forward pass', async () => {
  const w = randomWeights(CONFIG, '', 7);
  const session = await OnnxSession.create(buildBertOnnx(CONFIG, toSafetensors(w), { head: 'sentence' }), {}, 'tiny-bert');
  try {
    const res = await session.run(batchFeeds(SEQS, false), 'sentence_embedding');
    assert.deepEqual(res.dims, [2, 8]);
    SEQS.forEach((ids, r) => {
      const h = forward(CONFIG, w, '', ids, ids.map(() => 0));
      const mean = Array.from({ length: 8 }, (_, i) => h.reduce((a, x) => a + x[i]!, 0) / h.length);
      const norm = Math.hypot(...mean);
      mean.forEach((m, i) => assert.ok(Math.abs(res.data[r * 8 + i]! - m / norm) < 1e-4, `row ${r} dim ${i}: ${res.data[r * 8 + i]} vs ${m / norm}`));
    });
  } finally {
    await session.close();
  }
});

test('cross-encoder head (bert.-prefixed checkpoint): pooler + classifier logits equal a plain forward pass', async () => {
  const w = randomWeights(CONFIG, 'bert.', 11);
  const session = await OnnxSession.create(buildBertOnnx(CONFIG, toSafetensors(w), { head: 'cross-encoder' }), {}, 'tiny-cross');
  try {
    assert.deepEqual(session.inputNames, ['input_ids', 'attention_mask', 'token_type_ids']);
    const res = await session.run(batchFeeds(SEQS, true), 'logits');
    assert.deepEqual(res.dims, [2, 1]);
    SEQS.forEach((ids, r) => {
      const h = forward(CONFIG, w, 'bert.', ids, ids.map((_, t) => (t >= 3 ? 1 : 0)));
      const Wp = w.get('bert.pooler.dense.weight')!.data, bp = w.get('bert.pooler.dense.bias')!.data;
      const pooled = Array.from({ length: 8 }, (_, o) => Math.tanh(h[0]!.reduce((a, x, i) => a + x * Wp[o * 8 + i]!, bp[o]!)));
      const Wc = w.get('classifier.weight')!.data, bc = w.get('classifier.bias')!.data;
      const logit = pooled.reduce((a, x, i) => a + x * Wc[i]!, bc[0]!);
      assert.ok(Math.abs(res.data[r]! - logit) < 1e-4, `row ${r}: ${res.data[r]} vs ${logit}`);
    });
  } finally {
    await session.close();
  }
});

test('refuses configs and checkpoints it cannot build', () => {
  assert.throws(() => parseBertConfig({ ...CONFIG, hidden_act: 'relu' }), ModelUnavailableError);
  assert.throws(() => parseBertConfig({ ...CONFIG, hidden_size: 9 }), ModelUnavailableError);
  assert.throws(() => parseBertConfig({ ...CONFIG, vocab_size: undefined }), ModelUnavailableError);
  const w = randomWeights(CONFIG, '', 3);
  const wrong = parseBertConfig({ ...CONFIG, intermediate_size: 12 });
  assert.throws(() => buildBertOnnx(wrong, toSafetensors(w), { head: 'sentence' }),
    (e: unknown) => e instanceof ModelUnavailableError && /intermediate\.dense\.weight has shape/.test(e.message));
  const noEmb = new Map([...w].filter(([k]) => !k.startsWith('embeddings.word')));
  assert.throws(() => buildBertOnnx(CONFIG, toSafetensors(noEmb), { head: 'sentence' }), ModelUnavailableError);
});
