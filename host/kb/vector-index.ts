// The knowledge base's vector index behind the `vector-index` capability: PluginVectorIndex speaks the capability's
// frames over any `(fn, bytes) => bytes` call (a Slot's), splitting adds and removes to stay under the plugin's input
// limit and streaming save/load through IndexChunk pieces into the crash-safe index file (index-file.ts).
//
// Losing the index. The index lives only in the plugin's memory; after a trap, a timeout or a hot swap the runtime
// starts a fresh instance with an empty memory. PluginVectorIndex keeps the live and deleted counts every mutating
// call returned; whenever a call fails, and on every info(), it asks the plugin for index_info and compares. An
// instance without an index (dim 0) or with other counts means the index is gone: the failing call throws
// KbIndexCorruptError with details.lost = true, `lost` becomes true, and every later call (except load and reset)
// throws the same until the owner reloads the saved file (load) or rebuilds (reset, then add everything again).
// A refusal that leaves the index as it was (badInput; `internal` when growth exceeds the memory limit) is rethrown
// as the plugin reported it (PluginReportedError, details.status -1 / -2) and the index stays usable.
// Searches may overlap; adds, removes, reset and load must not overlap each other (the counts would race).
import {
  decodeIndexChunk, decodeIndexInfo, decodeSearchResult, encodeIndexAdd, encodeIndexChunk, encodeIndexConfig,
  encodeLabelList, encodeSaveRequest, encodeSearchRequest, type IndexInfo,
} from '../../sdk/abi/generated/contract.js';
import { KbConfigError, KbIndexCorruptError, PluginReportedError } from '../errors/index.js';
import type { PluginLimits, PluginSpec } from '../core/plugin-spec.js';
import { builtinManifest } from '../runtime/builtin-manifest.js';
import { loadPluginSpec } from '../runtime/load-manifest.js';
import { Slot } from '../runtime/slot.js';
import { metricCode, metricName, readIndexFile, writeIndexFile } from './index-file.js';
import type { VectorHits, VectorIndex, VectorIndexInfo, VectorIndexParams, VectorSearchOptions } from './kb-types.js';

/** The knowledge base's HNSW parameters (issue 5): M 32, efConstruction 200, efSearch 256. */
export const KB_HNSW_DEFAULTS: Readonly<Omit<VectorIndexParams, 'dim'>> = Object.freeze({
  metric: 'cosine', m: 32, efConstruction: 200, efSearch: 256, capacity: 1024, seed: 100,
});

/** The built-in HNSW plugin's name (plugins/hnsw, manifests/plugins/hnsw.json). */
export const BUILTIN_HNSW = 'hnsw';

/** Path of the built-in HNSW plugin's manifest. */
export function builtinHnswManifest(): string {
  return builtinManifest(BUILTIN_HNSW);
}

export type IndexCall = (fn: string, input: Uint8Array) => Promise<Uint8Array>;

/** Per call at most this many vectors are added (an insert at efConstruction 200 costs a few ms). */
const MAX_ADD_BATCH = 1000;
/** Save and load pieces: under the plugin's limits and at most 4 MiB. */
const MAX_PIECE = 4 << 20;
/** Room for a frame's header and padding. */
const FRAME_SLACK = 64;
const NO_LABEL = 0xffffffff;
const BAD_INPUT = -1;
const EMPTY = new Uint8Array(0);

function lostError(reason: string, cause?: unknown): KbIndexCorruptError {
  return new KbIndexCorruptError(`the vector index was lost (${reason}): the plugin instance restarted empty after a trap, ` +
    'timeout or swap; load the saved index or rebuild it from the knowledge base', { lost: true, reason }, { cause });
}

export class PluginVectorIndex implements VectorIndex {
  readonly kind = 'hnsw' as const;
  readonly #call: IndexCall;
  readonly #limits: Pick<PluginLimits, 'maxInputBytes' | 'maxOutputBytes'>;
  readonly #onClose: () => Promise<void>;
  #params: VectorIndexParams;
  /** Live and deleted counts as of the last call that returned them; null before the first. */
  #expected: { count: number; deleted: number } | null = null;
  #lost = false;
  #closed = false;

  private constructor(call: IndexCall, params: VectorIndexParams, limits: Pick<PluginLimits, 'maxInputBytes' | 'maxOutputBytes'>,
    onClose: () => Promise<void>) {
    this.#call = call;
    this.#params = params;
    this.#limits = limits;
    this.#onClose = onClose;
  }

  /** An index over `call`, initialised empty with `params` (index_init). `onClose` runs on close (e.g. closes the slot). */
  static async create(call: IndexCall, params: VectorIndexParams, limits: Pick<PluginLimits, 'maxInputBytes' | 'maxOutputBytes'>,
    onClose: () => Promise<void> = async () => {}): Promise<PluginVectorIndex> {
    checkParams(params);
    const index = new PluginVectorIndex(call, params, limits, onClose);
    await index.reset();
    return index;
  }

  get params(): VectorIndexParams {
    return this.#params;
  }

  /** True once the plugin lost the index (see the file comment); load() or reset() clears it. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Discards the index and starts an empty one with the current parameters. */
  async reset(): Promise<void> {
    const p = this.#params;
    const info = decodeIndexInfo(await this.#raw('index_init', encodeIndexConfig({
      dim: p.dim, metric: metricCode(p.metric), m: p.m, efConstruction: p.efConstruction, efSearch: p.efSearch,
      capacity: p.capacity, seed: p.seed,
    }), true));
    this.#observe(info);
    this.#lost = false;
  }

  #observe(info: IndexInfo): void {
    this.#expected = { count: info.count, deleted: info.deleted };
  }

  /** Whether the plugin still holds the index this object built. */
  async #stillThere(): Promise<boolean> {
    try {
      const info = decodeIndexInfo(await this.#call('index_info', EMPTY));
      const e = this.#expected;
      return info.dim === this.#params.dim && e !== null && info.count === e.count && info.deleted === e.deleted;
    } catch {
      return false;
    }
  }

  /** One plugin call; a failure is checked for a lost index (then reported as such). */
  async #raw(fn: string, input: Uint8Array, evenIfLost = false): Promise<Uint8Array> {
    if (this.#closed) throw new KbConfigError('the vector index is closed');
    if (this.#lost && !evenIfLost) throw lostError('detected earlier');
    try {
      return await this.#call(fn, input);
    } catch (e) {
      if (fn !== 'index_init' && fn !== 'index_load' && !(await this.#stillThere())) {
        this.#lost = true;
        throw lostError(`${fn} failed: ${(e as Error).message}`, e);
      }
      throw e;
    }
  }

  async add(labels: Uint32Array, vectors: Float32Array): Promise<void> {
    const dim = this.#params.dim;
    if (vectors.length !== labels.length * dim) {
      throw new KbConfigError(`add: ${vectors.length} floats for ${labels.length} labels of dimension ${dim}`);
    }
    const perCall = Math.max(1, Math.min(MAX_ADD_BATCH, Math.floor((this.#limits.maxInputBytes - FRAME_SLACK) / (4 + 4 * dim))));
    for (let at = 0; at < labels.length; at += perCall) {
      const n = Math.min(perCall, labels.length - at);
      const frame = encodeIndexAdd({
        count: n, dim, labels: labels.slice(at, at + n), vectors: vectors.slice(at * dim, (at + n) * dim),
      });
      this.#observe(decodeIndexInfo(await this.#raw('index_add', frame)));
    }
  }

  async remove(labels: Uint32Array): Promise<void> {
    const perCall = Math.max(1, Math.floor((this.#limits.maxInputBytes - FRAME_SLACK) / 4));
    for (let at = 0; at < labels.length; at += perCall) {
      const part = labels.slice(at, at + perCall);
      this.#observe(decodeIndexInfo(await this.#raw('index_remove', encodeLabelList({ count: part.length, labels: part }))));
    }
  }

  async search(query: Float32Array, k: number, options: VectorSearchOptions = {}): Promise<VectorHits> {
    const [hits] = await this.searchMany(query, k, options);
    return hits!;
  }

  /** Several queries (row-major `n × dim`) in as few calls as the plugin's limits allow; one VectorHits per query. */
  async searchMany(queries: Float32Array, k: number, options: VectorSearchOptions = {}): Promise<VectorHits[]> {
    const dim = this.#params.dim;
    if (queries.length % dim !== 0 || queries.length === 0) {
      throw new KbConfigError(`search: ${queries.length} floats is not a whole number of ${dim}-dimensional queries`);
    }
    if (!Number.isSafeInteger(k) || k < 1) throw new KbConfigError(`search: k must be a positive integer, got ${k}`);
    const filter = options.filter === undefined ? EMPTY : Uint8Array.from(options.filter);
    const ef = options.ef ?? 0;
    const total = queries.length / dim;
    const byInput = Math.floor((this.#limits.maxInputBytes - FRAME_SLACK - filter.length) / (4 * dim));
    const byOutput = Math.floor((this.#limits.maxOutputBytes - FRAME_SLACK) / (8 * k));
    const perCall = Math.max(1, Math.min(byInput, byOutput));
    const out: VectorHits[] = [];
    for (let at = 0; at < total; at += perCall) {
      const n = Math.min(perCall, total - at);
      const vectors = n === total ? Float32Array.from(queries) : queries.slice(at * dim, (at + n) * dim);
      const r = decodeSearchResult(await this.#raw('index_search', encodeSearchRequest({
        queries: n, dim, k, ef, filterBytes: filter.length, vectors, filter,
      })));
      for (let q = 0; q < n; q++) {
        const labels = r.labels.subarray(q * k, (q + 1) * k);
        let hits = labels.indexOf(NO_LABEL);
        if (hits < 0) hits = k;
        out.push({ labels: labels.slice(0, hits), distances: r.distances.slice(q * k, q * k + hits) });
      }
    }
    return out;
  }

  async info(): Promise<VectorIndexInfo> {
    const info = decodeIndexInfo(await this.#raw('index_info', EMPTY));
    const e = this.#expected;
    if (!this.#lost && (info.dim !== this.#params.dim || e === null || info.count !== e.count || info.deleted !== e.deleted)) {
      this.#lost = true;
      throw lostError(`index_info reports dim ${info.dim}, count ${info.count}, deleted ${info.deleted}; expected dim ${this.#params.dim}, ` +
        `count ${e?.count}, deleted ${e?.deleted}`);
    }
    if (this.#lost) throw lostError('detected earlier');
    return {
      ...this.#params, capacity: info.capacity, count: info.count, deleted: info.deleted, memoryBytes: info.memoryBytes,
    };
  }

  async save(path: string, tag: string): Promise<void> {
    const piece = Math.min(MAX_PIECE, this.#limits.maxOutputBytes - FRAME_SLACK);
    const info = await this.info();
    const pieces = async function* (self: PluginVectorIndex): AsyncGenerator<Uint8Array> {
      let at = 0;
      let total = -1;
      while (total < 0 || at < total) {
        const c = decodeIndexChunk(await self.#raw('index_save', encodeSaveRequest({ offset: at, maxBytes: piece })));
        if (c.offset !== at || (total >= 0 && c.totalBytes !== total) || (c.len === 0 && c.totalBytes > at)) {
          throw new KbIndexCorruptError(`index_save returned piece ${c.offset}+${c.len} of ${c.totalBytes}, asked for offset ${at}`, { offset: at });
        }
        total = c.totalBytes;
        at += c.len;
        yield c.data.slice();
      }
    };
    await writeIndexFile(path, { kind: 'hnsw', tag, params: { ...this.#params, capacity: info.capacity } }, pieces(this));
  }

  async load(path: string): Promise<{ tag: string }> {
    const file = await readIndexFile(path);
    if (file.kind !== 'hnsw') {
      throw new KbIndexCorruptError(`index file ${path} holds a ${file.kind} index, not an HNSW one`, { path, reason: 'kind' });
    }
    const piece = Math.min(MAX_PIECE, this.#limits.maxInputBytes - FRAME_SLACK);
    const image = file.payload;
    if (image.length === 0) throw new KbIndexCorruptError(`index file ${path} has an empty payload`, { path, reason: 'empty' });
    let info: IndexInfo | null = null;
    try {
      for (let at = 0; at < image.length; at += piece) {
        const data = image.slice(at, Math.min(image.length, at + piece));
        info = decodeIndexInfo(await this.#raw('index_load', encodeIndexChunk({ totalBytes: image.length, offset: at, len: data.length, data }), true));
      }
    } catch (e) {
      if (e instanceof PluginReportedError && e.details['status'] === BAD_INPUT) {
        throw new KbIndexCorruptError(`index file ${path} passed its checksum but the plugin refused the image: ${e.message}`,
          { path, reason: 'refused' }, { cause: e });
      }
      // The previous index is kept by the plugin unless the instance itself was lost.
      if (!this.#lost && !(await this.#stillThere())) this.#lost = true;
      throw e;
    }
    const metric = metricName(info!.metric);
    if (metric === null || info!.dim !== file.params.dim) {
      throw new KbIndexCorruptError(`index file ${path}: the loaded index reports metric ${info!.metric}, dim ${info!.dim}`, { path });
    }
    this.#params = {
      dim: info!.dim, metric, m: info!.m, efConstruction: info!.efConstruction, efSearch: info!.efSearch,
      capacity: info!.capacity, seed: file.params.seed,
    };
    this.#observe(info!);
    this.#lost = false;
    return { tag: file.tag };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#onClose();
  }
}

function checkParams(p: VectorIndexParams): void {
  const positive = (v: number): boolean => Number.isSafeInteger(v) && v > 0 && v <= 0xffffffff;
  const u32 = (v: number): boolean => Number.isSafeInteger(v) && v >= 0 && v <= 0xffffffff;
  if (!positive(p.dim) || !positive(p.m) || !positive(p.efConstruction) || !positive(p.efSearch) || !u32(p.capacity) || !u32(p.seed)) {
    throw new KbConfigError(`vector index parameters must be positive 32-bit integers (capacity and seed may be 0): ${JSON.stringify(p)}`);
  }
}

/**
 * Opens the HNSW plugin (the built-in one unless `manifest` names another manifest or gives a spec) in a slot of its
 * own and starts an empty index with `params`. close() closes the slot.
 */
export async function openHnswIndex(params: VectorIndexParams, manifest: string | PluginSpec = builtinHnswManifest()): Promise<PluginVectorIndex> {
  const spec = typeof manifest === 'string' ? await loadPluginSpec(manifest) : manifest;
  const slot = await Slot.open('vector-index', 'vector-index', spec);
  try {
    return await PluginVectorIndex.create((fn, input) => slot.call(fn, input), params, spec.limits, () => slot.close());
  } catch (e) {
    await slot.close();
    throw e;
  }
}
