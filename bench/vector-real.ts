// Vector-search benchmark, part (b): all-MiniLM-L6-v2 embeddings of real text passages (bench/real-text.ts: prose
// from node_modules, the repository's docs and corpus, and the Python standard library's docstrings, cut by the
// knowledge base's sentence chunker at 300 characters). 20,000 passages are indexed and 1,000 other passages are
// the queries (--quick: 2,000 and 200). Embedding them is the slow part (~10–20 passages/s on onnxruntime-web here),
// so the vectors are cached under $X0T_BENCH_CACHE (default ~/.cache/x0tta6bl4/bench), keyed by the model's hash
// and the passages' digest: the first full run embeds for a while, later runs load the file.
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sentenceSpans } from '../host/kb/chunkers/sentence.js';
import { ModelUnavailableError } from '../host/errors/index.js';
import { TransformerEmbedder } from '../host/kb/transformer-embedder.js';
import type { BenchOptions } from './main.js';
import { collectRealPassages } from './real-text.js';
import { benchVectorSet } from './vector.js';

const PASSAGE_CHARS = 300;

function benchCacheDir(): string {
  const explicit = process.env['X0T_BENCH_CACHE'];
  if (explicit !== undefined && explicit !== '') return explicit;
  return join(process.env['XDG_CACHE_HOME'] || join(homedir(), '.cache'), 'x0tta6bl4', 'bench');
}

function splitPassages(paragraph: string): string[] {
  return sentenceSpans(paragraph, 0, paragraph.length, PASSAGE_CHARS, 0).map((s) => paragraph.slice(s.start, s.end));
}

const KEY_BYTES = 16;

function textKey(t: string): string {
  return createHash('sha256').update(t).digest('hex').slice(0, KEY_BYTES * 2);
}

/** The cache of one model: records of [16-byte SHA-256 prefix of the passage][dim × f32], appended as they are made,
 *  so a changed passage set re-embeds only the passages that are new. */
async function loadCache(file: string, dim: number): Promise<Map<string, Float32Array>> {
  const m = new Map<string, Float32Array>();
  let b: Buffer;
  try {
    b = await readFile(file);
  } catch {
    return m;
  }
  const rec = KEY_BYTES + dim * 4;
  for (let o = 0; o + rec <= b.byteLength; o += rec) {
    const v = new Float32Array(dim);
    new Uint8Array(v.buffer).set(b.subarray(o + KEY_BYTES, o + rec));
    m.set(b.subarray(o, o + KEY_BYTES).toString('hex'), v);
  }
  return m;
}

/** Embeddings of `texts` (count × dim), from the cache where the same model embedded the same passage before. */
async function embedCached(embedder: TransformerEmbedder, texts: readonly string[], log: (l: string) => void): Promise<Float32Array> {
  const dim = embedder.dim;
  const modelHash = embedder.info.manifest.files[embedder.info.manifest.onnx]!.sha256;
  const dir = benchCacheDir();
  const file = join(dir, `minilm-${modelHash.slice(0, 16)}.cache`);
  const cache = await loadCache(file, dim);
  const keys = texts.map(textKey);
  const missing = [...new Set(texts.filter((_, i) => !cache.has(keys[i]!)))];
  if (missing.length > 0) {
    log(`  embedding ${missing.length} passages (${texts.length - missing.length} cached in ${file})`);
    await mkdir(dir, { recursive: true });
    const t0 = performance.now();
    let lastLog = t0;
    const step = 256;
    for (let i = 0; i < missing.length; i += step) {
      const batch = missing.slice(i, i + step);
      const vecs = await embedder.embed(batch);
      const rec = Buffer.alloc(batch.length * (KEY_BYTES + dim * 4));
      batch.forEach((t, j) => {
        const o = j * (KEY_BYTES + dim * 4);
        Buffer.from(textKey(t), 'hex').copy(rec, o);
        Buffer.from(vecs.buffer, vecs.byteOffset + j * dim * 4, dim * 4).copy(rec, o + KEY_BYTES);
        cache.set(textKey(t), vecs.slice(j * dim, (j + 1) * dim));
      });
      await appendFile(file, rec);
      const now = performance.now();
      if (now - lastLog > 30_000 || i + step >= missing.length) {
        lastLog = now;
        const done = Math.min(missing.length, i + step);
        log(`  embedding: ${done}/${missing.length}, ${((done / (now - t0)) * 1000).toFixed(1)} passages/s`);
      }
    }
  } else {
    log(`  embeddings: all ${texts.length} cached in ${file}`);
  }
  const out = new Float32Array(texts.length * dim);
  keys.forEach((k, i) => out.set(cache.get(k)!, i * dim));
  return out;
}

export interface RealEmbeddings {
  readonly embedder: TransformerEmbedder;
  readonly vectors: Float32Array;
  readonly queries: Float32Array;
  readonly passages: number;
  readonly queryCount: number;
}

/** The indexed passages' and the query passages' embeddings (the caller closes the embedder); undefined with a
 *  message when the MiniLM model is not installed. */
export async function realEmbeddings(opts: BenchOptions): Promise<RealEmbeddings | string> {
  const n = opts.quick ? 2_000 : 20_000;
  const q = opts.quick ? 200 : 1_000;
  let embedder: TransformerEmbedder;
  try {
    embedder = await TransformerEmbedder.open();
  } catch (e) {
    if (!(e instanceof ModelUnavailableError)) throw e;
    return e.message;
  }
  try {
    const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..'); // dist/bench → repository root
    const passages = collectRealPassages(root, n + q, splitPassages);
    opts.log(`\n(b) ${passages.texts.length} real passages (${Object.entries(passages.bySource).map(([k, v]) => `${k} ${v}`).join(', ')} before sampling)`);
    if (passages.texts.length < n + q) opts.log(`  note: only ${passages.texts.length} distinct passages on this machine (wanted ${n + q})`);
    const count = Math.max(0, passages.texts.length - q);
    const vectors = await embedCached(embedder, passages.texts.slice(0, count), opts.log);
    const queries = await embedCached(embedder, passages.texts.slice(count), opts.log);
    return { embedder, vectors, queries, passages: count, queryCount: passages.texts.length - count };
  } catch (e) {
    await embedder.close();
    throw e;
  }
}

export async function realVectorBench(opts: BenchOptions): Promise<Record<string, unknown>> {
  const real = await realEmbeddings(opts);
  if (typeof real === 'string') {
    opts.log(`(b) real embeddings: skipped — ${real}`);
    return { real_skipped: real };
  }
  try {
    const r = await benchVectorSet('real', real.vectors, real.queries, { ...opts, dim: real.embedder.dim });
    return { real_passages: real.passages, real_queries: real.queryCount, ...r };
  } finally {
    await real.embedder.close();
  }
}
