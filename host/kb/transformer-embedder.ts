// all-MiniLM-L6-v2 as an Embedder: WordPiece tokenisation in TypeScript, then the ONNX graph (mean pooling and L2
// normalisation included) on onnxruntime-web in a worker thread. Texts are sorted by token count and cut into
// batches padded to their own longest text, so short texts are not padded to the longest of the whole call; all
// batches are queued at once so the worker runs them back to back.

import type { Embedder } from './kb-types.js';
import { ModelRuntimeError, ModelUnavailableError } from '../errors/index.js';
import { MINILM_MODEL_NAME, openModelInfo, type ModelInfo } from './model-cache.js';
import { OnnxSession } from './onnx-session.js';
import { WordPieceTokenizer } from './wordpiece-tokenizer.js';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';

/** Texts tokenised between yields to the event loop (~2–5 ms of work). */
const TOKENIZE_SLICE = 256;

export interface TransformerEmbedderOptions {
  /** Models cache to look in when no folder is given (default `$X0T_MODELS_DIR` or ~/.cache/x0tta6bl4/models). */
  readonly modelsDir?: string;
  /** onnxruntime-web wasm threads; default min(2, available cores): 2 threads embed ~1.8× faster than 1. */
  readonly numThreads?: number;
  /** Texts per forward pass; default 32. */
  readonly maxBatch?: number;
  /** Cap on batch × padded length per forward pass; default 4096 tokens (bounds the attention tensors: 16 × 256
   *  tokens need ~50 MB of scores per layer). */
  readonly maxBatchTokens?: number;
  /** Hash the model files at open (default true, ~0.3 s for MiniLM). */
  readonly verifyHashes?: boolean;
}

export class TransformerEmbedder implements Embedder {
  readonly id: string;
  readonly dim: number;
  readonly kind = 'transformer' as const;
  readonly normalized = true;
  /** Tokens per text including [CLS]/[SEP]; longer texts are truncated (256 for MiniLM). Chunkers can size chunks
   *  with `tokenizer.encode(text).length`. */
  readonly maxTokens: number;
  /** Milliseconds spent verifying the folder and loading the graph into onnxruntime-web. */
  readonly loadMs: number;

  private constructor(
    readonly info: ModelInfo,
    readonly tokenizer: WordPieceTokenizer,
    private readonly session: OnnxSession,
    private readonly maxBatch: number,
    private readonly maxBatchTokens: number,
    loadMs: number,
  ) {
    this.id = info.manifest.name;
    this.dim = info.manifest.dim;
    this.maxTokens = info.manifest.maxTokens;
    this.loadMs = loadMs;
  }

  /**
   * Opens the model in `modelDir`, or all-MiniLM-L6-v2 in the models cache. Throws ModelUnavailableError (saying
   * what is missing and that `npm run setup:models` installs it) or ModelRuntimeError (the graph did not load).
   */
  static async open(modelDir?: string, options: TransformerEmbedderOptions = {}): Promise<TransformerEmbedder> {
    const t0 = performance.now();
    const info = await openModelInfo(MINILM_MODEL_NAME, {
      ...(modelDir !== undefined ? { dir: modelDir } : {}),
      ...(options.modelsDir !== undefined ? { modelsDir: options.modelsDir } : {}),
      verifyHashes: options.verifyHashes ?? true,
    });
    if (info.manifest.task !== 'sentence-embedding' || !info.manifest.normalized) {
      throw new ModelUnavailableError(`${info.dir} holds a ${info.manifest.task} model, not a normalised sentence embedder`,
        { dir: info.dir });
    }
    const tokenizer = WordPieceTokenizer.fromVocabText(await readFile(info.vocabPath, 'utf8'), {
      maxLength: info.manifest.maxTokens, lowercase: info.manifest.lowercase,
    });
    const maxBatch = options.maxBatch ?? 32;
    const maxBatchTokens = options.maxBatchTokens ?? 4096;
    if (!Number.isSafeInteger(maxBatch) || maxBatch < 1 || !Number.isSafeInteger(maxBatchTokens) || maxBatchTokens < info.manifest.maxTokens) {
      throw new RangeError(`maxBatch ${maxBatch} must be ≥ 1 and maxBatchTokens ${maxBatchTokens} ≥ ${info.manifest.maxTokens}`);
    }
    const numThreads = options.numThreads ?? Math.min(2, availableParallelism());
    const session = await OnnxSession.create(info.onnxPath, { numThreads }, info.manifest.name);
    return new TransformerEmbedder(info, tokenizer, session, maxBatch, maxBatchTokens, performance.now() - t0);
  }

  /** Row-major `texts.length × dim`, L2-normalised, in the order given. */
  async embed(texts: readonly string[]): Promise<Float32Array> {
    const dim = this.dim;
    const out = new Float32Array(texts.length * dim);
    if (texts.length === 0) return out;
    // Tokenise in slices, yielding between them, so a large ingestion does not hold the event loop for seconds.
    const encoded: Int32Array[] = new Array<Int32Array>(texts.length);
    for (let k = 0; k < texts.length; k++) {
      encoded[k] = this.tokenizer.encode(texts[k]!);
      if ((k + 1) % TOKENIZE_SLICE === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    const order = Array.from(texts.keys()).sort((a, b) => encoded[a]!.length - encoded[b]!.length);
    const runs: Promise<void>[] = [];
    let i = 0;
    while (i < order.length) {
      // The batch's padded length is its last (longest) member's; grow while the token budget allows.
      let j = i + 1;
      while (j < order.length && j - i < this.maxBatch && (j - i + 1) * encoded[order[j]!]!.length <= this.maxBatchTokens) j++;
      const members = order.slice(i, j);
      const seq = encoded[members[members.length - 1]!]!.length;
      const ids = new Int32Array(members.length * seq).fill(this.tokenizer.padId);
      const mask = new Float32Array(members.length * seq);
      members.forEach((m, r) => {
        const e = encoded[m]!;
        ids.set(e, r * seq);
        mask.fill(1, r * seq, r * seq + e.length);
      });
      runs.push(this.session.run([
        { name: 'input_ids', type: 'int32', dims: [members.length, seq], data: ids },
        { name: 'attention_mask', type: 'float32', dims: [members.length, seq], data: mask },
      ], this.info.manifest.output).then((res) => {
        if (res.data.length !== members.length * dim) {
          throw new ModelRuntimeError(`${this.id} returned ${res.data.length} values for ${members.length} × ${dim}`, { model: this.id });
        }
        members.forEach((m, r) => out.set(res.data.subarray(r * dim, (r + 1) * dim), m * dim));
      }));
      i = j;
    }
    await Promise.all(runs);
    return out;
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}
