// The lexical embedder through a real slot (worker isolation, the embedder kit as self-test): vectors that match an
// independent TypeScript model of the documented features (tokens, parts, bigrams, signed hashing, sublinear tf, IDF,
// L2), determinism, similarity that follows shared words, IDF that lowers common words' influence, typed refusals,
// batching under the manifest's limits, and the Extism twins giving the same bytes under the stock @extism/extism host.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { createPlugin } from '@extism/extism';
import { KbConfigError, PluginReportedError, SelfTestFailedError } from '../../../host/errors/index.js';
import { idfFromFrequencies, LexicalEmbedder, lexicalEmbedderManifest } from '../../../host/kb/lexical-embedder.js';
import { loadPluginSpec } from '../../../host/runtime/load-manifest.js';
import { Slot } from '../../../host/runtime/slot.js';
import { runConformance } from '../../../sdk/abi/conformance/index.js';
import { decodeEmbeddingBatch, encodeTextBatch } from '../../../sdk/abi/generated/contract.js';
import { textBatchOf } from '../../../sdk/abi/text-batch.js';

const utf8 = new TextEncoder();
const MAX_PARTS = 32;

// ---- An independent model of the plugin's documented features (f64), for known-answer checks ----

const isWord = (c: number): boolean => c >= 0x80 || (c >= 48 && c <= 57) || ((c | 32) >= 97 && (c | 32) <= 122) || c === 95 || c === 45 || c === 46;
const isJoiner = (c: number): boolean => c === 95 || c === 45 || c === 46;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashWord(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const c0 of b) {
    const c = c0 >= 65 && c0 <= 90 ? c0 | 32 : c0;
    h = Math.imul(h ^ c, 0x01000193);
  }
  return fmix32(h >>> 0);
}

const rotl15 = (x: number): number => ((x << 15) | (x >>> 17)) >>> 0;
const hashPair = (a: number, b: number): number => fmix32((Math.imul(a, 0x9e3779b1) ^ rotl15(b) ^ 0x27d4eb2f) >>> 0);

/** Feature hashes of a text, in the order the plugin counts them. */
function features(text: string, maxTokens = 4096): number[] {
  const b = utf8.encode(text);
  const out: number[] = [];
  let p = 0;
  let tokens = 0;
  let prev: number | null = null;
  while (p < b.length && tokens < maxTokens) {
    while (p < b.length && !isWord(b[p]!)) p++;
    let s = p;
    while (p < b.length && isWord(b[p]!)) p++;
    let e = p;
    while (s < e && isJoiner(b[s]!)) s++;
    while (e > s && isJoiner(b[e - 1]!)) e--;
    if (s === e) continue;
    tokens++;
    const h = hashWord(b.subarray(s, e));
    out.push(h);
    if (prev !== null) out.push(hashPair(prev, h));
    prev = h;
    const word = b.subarray(s, e);
    if (word.some(isJoiner)) {
      const parts = [];
      let q = 0;
      for (let r = 0; r <= word.length; r++) {
        if (r === word.length || isJoiner(word[r]!)) {
          if (r > q) parts.push(hashWord(word.subarray(q, r)));
          q = r + 1;
        }
      }
      out.push(...parts.slice(0, MAX_PARTS));
    }
  }
  return out;
}

function referenceVector(text: string, dim: number, weights?: Float32Array): Float64Array {
  const tf = new Map<number, number>();
  for (const h of features(text)) tf.set(h, (tf.get(h) ?? 0) + 1);
  const v = new Float64Array(dim);
  for (const [h, n] of tf) {
    const bucket = Number((BigInt(h) * BigInt(dim)) >> 32n);
    v[bucket]! += (h & 1 ? -1 : 1) * (1 + Math.log(n));
  }
  if (weights) for (let i = 0; i < dim; i++) v[i]! *= weights[i]!;
  const norm = Math.hypot(...v);
  return norm === 0 ? v : v.map((x) => x / norm);
}

// ---- Helpers ----

function row(m: Float32Array, dim: number, i: number): Float32Array {
  return m.subarray(i * dim, (i + 1) * dim);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

function textBatch(texts: readonly string[], weights = new Float32Array(0)): Uint8Array {
  return encodeTextBatch(textBatchOf(texts.map((t) => utf8.encode(t)), weights));
}

const RUNBOOK = [
  'The mesh node lost its uplink on wlan0 after the firmware update; reboot the radio and re-join the mesh.',
  'wlan0 uplink down: check the radio firmware, then rejoin the mesh network.',
  'Rotate the ML-KEM-768 session keys when a peer certificate expires.',
  'The aggregator slot trapped with X0T_PLUGIN_TRAP and restarted from a fresh instance.',
  'Disk usage above 90 percent on the log partition; prune old journal files.',
];

// ---- Tests ----

test('the shipped plugin in a slot: identity, shapes, unit vectors, and the documented features exactly', async () => {
  const e = await LexicalEmbedder.open();
  try {
    assert.equal(e.kind, 'lexical');
    assert.equal(e.id, 'lexical-hash-1024');
    assert.equal(e.dim, 1024);
    assert.equal(e.normalized, true);
    assert.equal(e.maxInputUnits, 4096);
    const texts = [...RUNBOOK, '', '  ...  --- ', 'Grüße aus Köln — Узел потерял связь', 'ВНИМАНИЕ wlan0.100 vs WLAN0.100'];
    const v = await e.embed(texts);
    assert.equal(v.length, texts.length * 1024);
    texts.forEach((t, i) => {
      const r = row(v, 1024, i);
      const ref = referenceVector(t, 1024);
      assert.ok(maxAbsDiff(r, ref) < 1e-6, `text ${i}: ${maxAbsDiff(r, ref)} from the reference`);
      const n = Math.sqrt(dot(r, r));
      if (t.trim().replace(/[.\-\s]/g, '') === '') assert.equal(n, 0, `text ${i} has no words: the zero vector`);
      else assert.ok(Math.abs(n - 1) < 1e-6, `text ${i}: norm ${n}`);
    });
    assert.deepEqual(await e.embed([]), new Float32Array(0));
  } finally {
    await e.close();
  }
});

test('tokens: ASCII case, punctuation and trimmed joiners do not matter; identifiers meet their parts', async () => {
  const e = await LexicalEmbedder.open();
  try {
    const v = await e.embed(['WLAN0 Uplink DOWN!', 'wlan0 uplink down', '...wlan0, uplink; (down).', 'X0T_PLUGIN_TRAP', 'plugin trap', 'disk usage high']);
    const r = (i: number): Float32Array => row(v, e.dim, i);
    assert.deepEqual(r(0), r(1));
    assert.deepEqual(r(2), r(1));
    assert.ok(dot(r(3), r(4)) > 0.4, `an identifier shares its parts with plain words: cosine ${dot(r(3), r(4))}`);
    assert.ok(Math.abs(dot(r(3), r(5))) < 0.1);
    // A word's first 32 parts count; a pathological word of a million parts is read without exhausting memory.
    const dotted = Array.from({ length: 40 }, (_, i) => `p${i}`).join('.');
    assert.ok(maxAbsDiff(await e.embed([dotted]), referenceVector(dotted, e.dim)) < 1e-6);
    const huge = Array.from({ length: 1_000_000 }, (_, i) => i.toString(36)).join('.');
    const [h] = [await e.embed([huge, 'after it'])];
    assert.ok(maxAbsDiff(h.subarray(0, e.dim), referenceVector(huge, e.dim)) < 1e-6);
    assert.ok(maxAbsDiff(h.subarray(e.dim), referenceVector('after it', e.dim)) < 1e-6);
    // Only the first maxInputUnits words are read.
    const words = Array.from({ length: 4096 }, (_, i) => `w${i % 997}`).join(' ');
    const [a, b] = [await e.embed([words]), await e.embed([`${words} extra tail words beyond the limit`])];
    assert.deepEqual(a, b);
  } finally {
    await e.close();
  }
});

test('deterministic; the same text has cosine 1; related texts are closer than unrelated ones', async () => {
  const e = await LexicalEmbedder.open();
  try {
    const a = await e.embed(RUNBOOK);
    const b = await e.embed([...RUNBOOK].reverse());
    for (let i = 0; i < RUNBOOK.length; i++) assert.deepEqual(row(a, e.dim, i), row(b, e.dim, RUNBOOK.length - 1 - i));
    const cos = (i: number, j: number): number => dot(row(a, e.dim, i), row(a, e.dim, j));
    assert.ok(Math.abs(cos(0, 0) - 1) < 1e-6);
    assert.ok(cos(0, 1) > 0.3, `two wlan0 uplink texts: ${cos(0, 1)}`);
    for (const j of [2, 3, 4]) assert.ok(cos(0, 1) > cos(0, j) + 0.2, `related ${cos(0, 1)} vs unrelated ${j}: ${cos(0, j)}`);
    const [q] = [await e.embed(['how do I rejoin the mesh after the wlan0 uplink went down'])];
    const scores = RUNBOOK.map((_, i) => dot(q, row(a, e.dim, i)));
    assert.deepEqual(scores.map((s, i) => [s, i]).sort((x, y) => y[0]! - x[0]!).slice(0, 2).map((x) => x[1]).sort(), [0, 1]);
  } finally {
    await e.close();
  }
});

test('IDF fitted on a corpus lowers the influence of words every document shares', async () => {
  const e = await LexicalEmbedder.open();
  try {
    const topics = ['reboot loop', 'certificate expired', 'disk full', 'clock drift', 'route flapping', 'fan failure',
      'memory leak', 'packet loss', 'battery low', 'antenna misaligned', 'dns timeout', 'key rotation'];
    const corpus = topics.map((t) => `status report of the mesh node: ${t}`);
    const x = 'status report of the mesh node: reboot loop detected';
    const y = 'status report of the mesh node: certificate expired';
    const z = 'reboot loop detected';
    const before = await e.embed([x, y, z]);
    const { df, n } = await e.documentFrequencies(corpus);
    assert.equal(n, corpus.length);
    assert.equal(df.length, e.dim);
    // A common word's buckets are in every document; a topic word's in one.
    const common = referenceVector('status', e.dim).findIndex((w) => w !== 0);
    const rare = referenceVector('flapping', e.dim).findIndex((w) => w !== 0);
    assert.equal(df[common], corpus.length);
    assert.equal(df[rare], 1);
    const idf = await e.fitIdf({ df, n });
    assert.deepEqual(idf, idfFromFrequencies(df, n));
    assert.ok(Math.abs(idf[common]! - 1) < 1e-6);
    assert.ok(Math.abs(idf[rare]! - (Math.log(13 / 2) + 1)) < 1e-6);
    assert.deepEqual(await e.fitIdf(corpus), idf);
    assert.deepEqual(e.idf, idf);
    const after = await e.embed([x, y, z]);
    const cos = (m: Float32Array, i: number, j: number): number => dot(row(m, e.dim, i), row(m, e.dim, j));
    assert.ok(cos(after, 0, 1) < cos(before, 0, 1) - 0.1, `shared boilerplate: ${cos(before, 0, 1)} → ${cos(after, 0, 1)}`);
    assert.ok(cos(after, 0, 2) > cos(before, 0, 2) + 0.1, `shared topic: ${cos(before, 0, 2)} → ${cos(after, 0, 2)}`);
    assert.ok(maxAbsDiff(row(after, e.dim, 0), referenceVector(x, e.dim, idf)) < 1e-6);
    // Stored and restored: another embedder given the weights gives the same bytes; cleared, the unweighted ones.
    const other = await LexicalEmbedder.open();
    try {
      other.setIdf(e.idf);
      assert.deepEqual(await other.embed([x, y, z]), after);
      other.setIdf(null);
      assert.equal(other.idf, null);
      assert.deepEqual(await other.embed([x, y, z]), before);
    } finally {
      await other.close();
    }
  } finally {
    await e.close();
  }
});

test('bad weights, dimensions and frames are refused with typed errors', async () => {
  const spec = await loadPluginSpec(lexicalEmbedderManifest());
  const slot = await Slot.open('embedder', 'embedder', spec);
  try {
    const e = await LexicalEmbedder.over((fn, input) => slot.call(fn, input), spec.limits);
    assert.throws(() => e.setIdf(new Float32Array(e.dim + 1)), KbConfigError);
    assert.throws(() => e.setIdf(new Float32Array(e.dim).fill(Number.NaN)), KbConfigError);
    assert.throws(() => e.setIdf(new Float32Array(e.dim).fill(-1)), KbConfigError);
    await assert.rejects(e.fitIdf({ df: new Uint32Array(3), n: 3 }), KbConfigError);
    assert.equal(e.idf, null, 'a refused weight vector leaves the embedder unweighted');
    // The plugin itself refuses what the adapter would never send.
    await assert.rejects(slot.call('embed', textBatch(['a b'], new Float32Array(e.dim - 1).fill(1))), PluginReportedError);
    await assert.rejects(slot.call('embed', textBatch(['a b'], new Float32Array(e.dim).fill(-1))), PluginReportedError);
    await assert.rejects(slot.call('embed', textBatch(['a b'], new Float32Array(e.dim).fill(Number.POSITIVE_INFINITY))), PluginReportedError);
    await assert.rejects(slot.call('embed', Uint8Array.of(1, 2, 3, 4)), PluginReportedError);
  } finally {
    await slot.close();
  }
  // A configured dimension outside [16, 65536] fails the slot's self-test; a valid one is used.
  await assert.rejects(LexicalEmbedder.open(undefined, { dim: 8 }), SelfTestFailedError);
  await assert.rejects(LexicalEmbedder.open(undefined, { dim: 1.5 }), KbConfigError);
  const small = await LexicalEmbedder.open(undefined, { dim: 384 });
  try {
    assert.equal(small.id, 'lexical-hash-384');
    const v = await small.embed([RUNBOOK[0]!]);
    assert.equal(v.length, 384);
    assert.ok(maxAbsDiff(v, referenceVector(RUNBOOK[0]!, 384)) < 1e-6);
  } finally {
    await small.close();
  }
});

test('batches stay under the manifest limits and give the same vectors as one call', async () => {
  const spec = await loadPluginSpec(lexicalEmbedderManifest());
  const slot = await Slot.open('embedder', 'embedder', spec);
  try {
    const call = (fn: string, input: Uint8Array): Promise<Uint8Array> => slot.call(fn, input);
    const texts = Array.from({ length: 300 }, (_, i) => `${RUNBOOK[i % RUNBOOK.length]} entry ${i}`);
    const whole = await (await LexicalEmbedder.over(call, spec.limits)).embed(texts);
    const sizes: number[] = [];
    const counting = async (fn: string, input: Uint8Array): Promise<Uint8Array> => { sizes.push(input.length); return call(fn, input); };
    const tight = await LexicalEmbedder.over(counting, { maxInputBytes: 4096, maxOutputBytes: 20 * 4096 + 16 });
    sizes.length = 0;
    assert.deepEqual(await tight.embed(texts), whole);
    assert.ok(sizes.length > 10, `${sizes.length} calls`);
    assert.ok(sizes.every((s) => s <= 4096), `largest frame ${Math.max(...sizes)}`);
    // A text longer than a whole frame is cut to fit, not refused.
    const long = 'word '.repeat(2000);
    const cut = await tight.embed([long]);
    assert.ok(Math.abs(Math.sqrt(dot(cut, cut)) - 1) < 1e-6);
  } finally {
    await slot.close();
  }
});

test('the embedder conformance kit passes quickly against the slot', async (t) => {
  const slot = await Slot.open('embedder', 'embedder', await loadPluginSpec(lexicalEmbedderManifest()));
  try {
    const report = await runConformance('embedder', (fn, input) => slot.call(fn, input));
    assert.equal(report.cases.length, 6);
    const total = report.cases.reduce((s, c) => s + c.ms, 0);
    t.diagnostic(`embedder kit: ${report.cases.map((c) => `${c.name} ${c.ms.toFixed(1)} ms`).join('; ')}; total ${total.toFixed(1)} ms`);
    assert.ok(total < 1000, `kit took ${total} ms`);
  } finally {
    await slot.close();
  }
});

test('the Extism twins under the stock @extism/extism host give the same bytes as the slot', async () => {
  const spec = await loadPluginSpec(lexicalEmbedderManifest());
  const slot = await Slot.open('embedder', 'embedder', spec);
  const plugin = await createPlugin({ wasm: [{ data: readFileSync(spec.wasm.path) }] }, { useWasi: false, config: { ...spec.config } });
  try {
    const viaExtism = async (fn: string, input: Uint8Array): Promise<Uint8Array> => {
      const out = await plugin.call(fn, input.slice());
      assert.ok(out !== null, `${fn} returned no output`);
      return out.bytes().slice();
    };
    const idf = Float32Array.from({ length: 1024 }, (_, i) => 1 + (i % 7) / 3);
    for (const input of [textBatch(RUNBOOK), textBatch(['', 'Köln ✓ Узел'], idf), textBatch([])]) {
      assert.deepEqual(await viaExtism('embed', input), await slot.call('embed', input));
    }
    assert.deepEqual(await viaExtism('embedder_info', new Uint8Array(0)), await slot.call('embedder_info', new Uint8Array(0)));
    const v = decodeEmbeddingBatch(await viaExtism('embed', textBatch(RUNBOOK)));
    assert.equal(v.count, RUNBOOK.length);
    await assert.rejects(plugin.call('embed', textBatch(['a'], new Float32Array(3))), /badInput: embed: 3 weights for dimension 1024/);
  } finally {
    await plugin.close();
    await slot.close();
  }
});
