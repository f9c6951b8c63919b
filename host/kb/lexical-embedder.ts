// The lexical embedder: the `lexical-embedder` plugin (hashed unigrams and bigrams, signed buckets, sublinear tf,
// L2-normalised) behind the knowledge base's Embedder interface. It is what the node uses when no transformer model
// is present, and it says so: kind 'lexical', id `lexical-hash-<dim>`.
//
// IDF lives here, not in the plugin: the plugin is stateless (a restarted or hot-swapped instance starts empty) and
// takes an optional per-bucket weight vector with every batch. The knowledge base fits the weights on its corpus
// (fitIdf), stores them (idf) and restores them after a restart (setIdf); vectors are only comparable under the same
// weights, so a knowledge base re-embeds when it refits.
import { KbConfigError, MalformedOutputError } from '../errors/index.js';
import type { PluginLimits, PluginSpec } from '../core/plugin-spec.js';
import { builtinManifest } from '../runtime/builtin-manifest.js';
import { loadPluginSpec } from '../runtime/load-manifest.js';
import { Slot } from '../runtime/slot.js';
import { EmbedderClient } from '../../sdk/abi/generated/clients.js';
import { byteLengthEmbeddingBatch, byteLengthTextBatch } from '../../sdk/abi/generated/contract.js';
import { textBatchOf } from '../../sdk/abi/text-batch.js';
import type { Embedder } from './kb-types.js';

export type PluginCall = (fn: string, input: Uint8Array) => Promise<Uint8Array>;

export const LEXICAL_EMBEDDER_PLUGIN = 'lexical-embedder';


/** Path of the shipped plugin's manifest (manifests/plugins/lexical-embedder.json). */
export function lexicalEmbedderManifest(): string {
  return builtinManifest(LEXICAL_EMBEDDER_PLUGIN);
}

export interface LexicalEmbedderOptions {
  /** Output dimension (the plugin's config `dim`); absent: the manifest's (1024 for the shipped plugin). */
  readonly dim?: number;
}

/** Document frequencies over a corpus: df[b] = number of texts whose vector is non-zero in bucket b. */
export interface DocumentFrequencies {
  readonly df: Uint32Array;
  readonly n: number;
}

/** idf[b] = ln((n + 1) / (df[b] + 1)) + 1: smoothed, always ≥ 1 for df ≤ n, so no bucket is ever switched off. */
export function idfFromFrequencies(df: Uint32Array, n: number): Float32Array {
  if (!(Number.isInteger(n) && n >= 0)) throw new KbConfigError(`document count must be a non-negative integer, got ${n}`, { n });
  return Float32Array.from(df, (d) => Math.log((n + 1) / (d + 1)) + 1);
}

const encoder = new TextEncoder();
const NO_WEIGHTS = new Float32Array(0);

export class LexicalEmbedder implements Embedder {
  readonly kind = 'lexical' as const;
  readonly normalized = true;
  readonly id: string;
  readonly dim: number;
  /** Words the plugin reads per text; the rest of a longer text is ignored. */
  readonly maxInputUnits: number;
  readonly #client: EmbedderClient;
  readonly #limits: Pick<PluginLimits, 'maxInputBytes' | 'maxOutputBytes'>;
  readonly #close: () => Promise<void>;
  #idf: Float32Array | null = null;

  private constructor(client: EmbedderClient, dim: number, maxInputUnits: number, limits: Pick<PluginLimits, 'maxInputBytes' | 'maxOutputBytes'>, close: () => Promise<void>) {
    this.#client = client;
    this.dim = dim;
    this.maxInputUnits = maxInputUnits;
    this.id = `lexical-hash-${dim}`;
    this.#limits = limits;
    this.#close = close;
  }

  /** Opens the plugin (default: the shipped one) in a slot of its own; the embedder kit runs as its self-test. */
  static async open(manifest = lexicalEmbedderManifest(), options: LexicalEmbedderOptions = {}): Promise<LexicalEmbedder> {
    let spec: PluginSpec = await loadPluginSpec(manifest);
    if (options.dim !== undefined) {
      if (!(Number.isInteger(options.dim) && options.dim >= 1)) throw new KbConfigError(`embedder dim must be a positive integer, got ${options.dim}`, { dim: options.dim });
      spec = Object.freeze({ ...spec, config: Object.freeze({ ...spec.config, dim: String(options.dim) }) });
    }
    const slot = await Slot.open('embedder', 'embedder', spec);
    try {
      return await LexicalEmbedder.over((fn, input) => slot.call(fn, input), spec.limits, () => slot.close());
    } catch (e) {
      await slot.close();
      throw e;
    }
  }

  /** An embedder over any `embedder` plugin call (a slot's or an instance's) whose manifest limits are `limits`. */
  static async over(call: PluginCall, limits: Pick<PluginLimits, 'maxInputBytes' | 'maxOutputBytes'>, close: () => Promise<void> = async () => {}): Promise<LexicalEmbedder> {
    const client = new EmbedderClient(call);
    const info = await client.embedderInfo(new Uint8Array(0));
    if (info.normalized !== 1) throw new KbConfigError('the lexical embedder plugin must return L2-normalised vectors', { normalized: info.normalized });
    if (byteLengthEmbeddingBatch(1, info.dim) > limits.maxOutputBytes) {
      throw new KbConfigError(`one vector of dimension ${info.dim} exceeds the plugin's maxOutputBytes ${limits.maxOutputBytes}`, { dim: info.dim });
    }
    return new LexicalEmbedder(client, info.dim, info.maxInputUnits, limits, close);
  }

  /** The IDF weights applied to every embedding (a copy), or null when none are set. */
  get idf(): Float32Array | null {
    return this.#idf === null ? null : this.#idf.slice();
  }

  /** Sets (a copy of) the per-bucket weights, or clears them with null; throws KbConfigError unless dim finite values ≥ 0. */
  setIdf(weights: Float32Array | null): void {
    if (weights === null) {
      this.#idf = null;
      return;
    }
    if (weights.length !== this.dim) {
      throw new KbConfigError(`IDF weights have length ${weights.length}, the embedder's dimension is ${this.dim}`, { length: weights.length, dim: this.dim });
    }
    const bad = weights.findIndex((w) => !(Number.isFinite(w) && w >= 0));
    if (bad >= 0) throw new KbConfigError(`IDF weight ${bad} is ${weights[bad]}, not a finite value ≥ 0`, { index: bad });
    this.#idf = weights.slice();
  }

  /** Counts, per bucket, the texts whose unweighted vector is non-zero there. */
  async documentFrequencies(texts: readonly string[]): Promise<DocumentFrequencies> {
    const df = new Uint32Array(this.dim);
    const d = this.dim;
    // Batch by batch, so a large corpus never holds all its vectors at once.
    await this.#eachBatch(texts, NO_WEIGHTS, (vectors) => {
      for (let i = 0; i < vectors.length; i++) if (vectors[i] !== 0) df[i % d]!++;
    });
    return { df, n: texts.length };
  }

  /** Fits IDF weights on a corpus (its texts, or their document frequencies), sets and returns them. */
  async fitIdf(corpus: readonly string[] | DocumentFrequencies): Promise<Float32Array> {
    const { df, n } = Array.isArray(corpus) ? await this.documentFrequencies(corpus as readonly string[]) : (corpus as DocumentFrequencies);
    if (df.length !== this.dim) throw new KbConfigError(`document frequencies have length ${df.length}, the embedder's dimension is ${this.dim}`, { length: df.length, dim: this.dim });
    const idf = idfFromFrequencies(df, n);
    this.setIdf(idf);
    return idf.slice();
  }

  /** Row-major texts.length × dim unit vectors (zero rows for texts without words), weighted by the IDF if set. */
  async embed(texts: readonly string[]): Promise<Float32Array> {
    const out = new Float32Array(texts.length * this.dim);
    await this.#eachBatch(texts, this.#idf ?? NO_WEIGHTS, (vectors, first) => out.set(vectors, first * this.dim));
    return out;
  }

  close(): Promise<void> {
    return this.#close();
  }

  /** Embeds `texts` in frames that fit the limits, handing each batch's rows (and its first text's index) to `use`. */
  async #eachBatch(texts: readonly string[], weights: Float32Array, use: (vectors: Float32Array, first: number) => void): Promise<void> {
    let row = 0;
    for (const batch of this.#batches(texts, weights.length)) {
      const r = await this.#client.embed(textBatchOf(batch, weights));
      if (r.count !== batch.length || r.dim !== this.dim) {
        throw new MalformedOutputError(`the embedder returned ${r.count} × ${r.dim} for ${batch.length} texts of dimension ${this.dim}`, { count: r.count, dim: r.dim });
      }
      use(r.vectors, row);
      row += batch.length;
    }
  }

  /** Splits texts into batches whose frames fit the plugin's input and output limits; a text too long for any frame
   *  is cut to fit (the plugin reads only its first maxInputUnits words anyway). */
  *#batches(texts: readonly string[], weightsLen: number): Generator<Uint8Array[]> {
    const { maxInputBytes, maxOutputBytes } = this.#limits;
    let batch: Uint8Array[] = [];
    let bytes = 0;
    const fits = (count: number, len: number): boolean =>
      byteLengthTextBatch(count, len, weightsLen) <= maxInputBytes && byteLengthEmbeddingBatch(count, this.dim) <= maxOutputBytes;
    for (const text of texts) {
      let t = encoder.encode(text);
      if (!fits(1, t.length)) {
        const room = maxInputBytes - byteLengthTextBatch(1, 0, weightsLen) - 8;
        if (room <= 0) throw new KbConfigError(`the plugin's maxInputBytes ${maxInputBytes} cannot hold one text with ${weightsLen} weights`, { maxInputBytes });
        t = t.subarray(0, room);
      }
      if (batch.length > 0 && !fits(batch.length + 1, bytes + t.length)) {
        yield batch;
        batch = [];
        bytes = 0;
      }
      batch.push(t);
      bytes += t.length;
    }
    if (batch.length > 0) yield batch;
  }
}
