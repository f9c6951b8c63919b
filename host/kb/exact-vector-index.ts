// The exact vector index: every live vector in one Float32Array, each query scanned against all of them. It is the
// ground truth the HNSW plugin's recall is measured against, the brute-force peer in `bench vector`, and a real
// choice for a small knowledge base (a few thousand chunks scan in well under a millisecond per query). Metrics,
// distances, replace/remove and filter semantics are the `vector-index` capability's (contract.json), and it saves
// to the same crash-safe file format (index-file.ts) with its own payload.
import { KbConfigError, KbIndexCorruptError } from '../errors/index.js';
import { readIndexFile, writeIndexFile } from './index-file.js';
import type { VectorHits, VectorIndex, VectorIndexInfo, VectorIndexParams, VectorSearchOptions } from './kb-types.js';

/** Σ a[ai+i]·b[bi+i] over `dim`, 8-way unrolled (independent partial sums let V8 overlap the multiplies). */
export function dotAt(a: Float32Array, ai: number, b: Float32Array, bi: number, dim: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  let i = 0;
  for (; i + 8 <= dim; i += 8) {
    s0 += a[ai + i]! * b[bi + i]!;
    s1 += a[ai + i + 1]! * b[bi + i + 1]!;
    s2 += a[ai + i + 2]! * b[bi + i + 2]!;
    s3 += a[ai + i + 3]! * b[bi + i + 3]!;
    s4 += a[ai + i + 4]! * b[bi + i + 4]!;
    s5 += a[ai + i + 5]! * b[bi + i + 5]!;
    s6 += a[ai + i + 6]! * b[bi + i + 6]!;
    s7 += a[ai + i + 7]! * b[bi + i + 7]!;
  }
  for (; i < dim; i++) s0 += a[ai + i]! * b[bi + i]!;
  return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
}

/** Σ (a[ai+i] − b[bi+i])² over `dim`, 8-way unrolled. */
export function squaredL2At(a: Float32Array, ai: number, b: Float32Array, bi: number, dim: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  let i = 0;
  for (; i + 8 <= dim; i += 8) {
    const d0 = a[ai + i]! - b[bi + i]!, d1 = a[ai + i + 1]! - b[bi + i + 1]!;
    const d2 = a[ai + i + 2]! - b[bi + i + 2]!, d3 = a[ai + i + 3]! - b[bi + i + 3]!;
    const d4 = a[ai + i + 4]! - b[bi + i + 4]!, d5 = a[ai + i + 5]! - b[bi + i + 5]!;
    const d6 = a[ai + i + 6]! - b[bi + i + 6]!, d7 = a[ai + i + 7]! - b[bi + i + 7]!;
    s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
    s4 += d4 * d4; s5 += d5 * d5; s6 += d6 * d6; s7 += d7 * d7;
  }
  for (; i < dim; i++) {
    const d = a[ai + i]! - b[bi + i]!;
    s0 += d * d;
  }
  return s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7;
}

const NO_SLOT = -1;

export class ExactVectorIndex implements VectorIndex {
  readonly kind = 'exact' as const;
  #params: VectorIndexParams;
  /** slot → vector (row-major, `capacity × dim`), slot → label; a free slot's label is meaningless. */
  #data: Float32Array;
  #slotLabel: Uint32Array;
  #live: Uint8Array;
  #slots = 0;
  readonly #slotOf = new Map<number, number>();
  readonly #free: number[] = [];
  #query: Float32Array;

  constructor(params: VectorIndexParams) {
    if (!Number.isSafeInteger(params.dim) || params.dim < 1) throw new KbConfigError(`vector index dim must be a positive integer, got ${params.dim}`);
    this.#params = params;
    const capacity = Math.max(16, params.capacity);
    this.#data = new Float32Array(capacity * params.dim);
    this.#slotLabel = new Uint32Array(capacity);
    this.#live = new Uint8Array(capacity);
    this.#query = new Float32Array(params.dim);
  }

  get params(): VectorIndexParams {
    return this.#params;
  }

  #grow(needed: number): void {
    const capacity = this.#slotLabel.length;
    if (needed <= capacity) return;
    const next = Math.max(needed, Math.ceil(capacity * 1.5));
    const data = new Float32Array(next * this.#params.dim);
    data.set(this.#data);
    const labels = new Uint32Array(next);
    labels.set(this.#slotLabel);
    const live = new Uint8Array(next);
    live.set(this.#live);
    this.#data = data;
    this.#slotLabel = labels;
    this.#live = live;
  }

  /** Copies `v[from .. from+dim)` into slot `slot`, normalised for cosine. */
  #store(slot: number, v: Float32Array, from: number): void {
    const dim = this.#params.dim;
    const at = slot * dim;
    this.#data.set(v.subarray(from, from + dim), at);
    if (this.#params.metric === 'cosine') normalizeInPlace(this.#data, at, dim);
  }

  async add(labels: Uint32Array, vectors: Float32Array): Promise<void> {
    const dim = this.#params.dim;
    if (vectors.length !== labels.length * dim) {
      throw new KbConfigError(`add: ${vectors.length} floats for ${labels.length} labels of dimension ${dim}`);
    }
    for (let i = 0; i < vectors.length; i++) {
      if (!Number.isFinite(vectors[i]!)) throw new KbConfigError(`add: vector ${Math.floor(i / dim)} has a non-finite value`);
    }
    for (const l of labels) if (l === 0xffffffff) throw new KbConfigError('add: label 0xFFFFFFFF is reserved');
    const fresh = new Set<number>();
    for (const l of labels) if (!this.#slotOf.has(l)) fresh.add(l);
    this.#grow(this.#slots + Math.max(0, fresh.size - this.#free.length));
    for (let i = 0; i < labels.length; i++) {
      const label = labels[i]!;
      let slot = this.#slotOf.get(label) ?? NO_SLOT;
      if (slot === NO_SLOT) {
        slot = this.#free.pop() ?? this.#slots++;
        this.#slotOf.set(label, slot);
        this.#slotLabel[slot] = label;
        this.#live[slot] = 1;
      }
      this.#store(slot, vectors, i * dim);
    }
  }

  async remove(labels: Uint32Array): Promise<void> {
    for (const l of labels) {
      const slot = this.#slotOf.get(l);
      if (slot === undefined) continue;
      this.#slotOf.delete(l);
      this.#live[slot] = 0;
      this.#free.push(slot);
    }
  }

  async search(query: Float32Array, k: number, options: VectorSearchOptions = {}): Promise<VectorHits> {
    return this.searchSync(query, k, options);
  }

  /** The search itself, synchronous (the benchmark times it without promise overhead). */
  searchSync(query: Float32Array, k: number, options: VectorSearchOptions = {}): VectorHits {
    const dim = this.#params.dim;
    if (query.length !== dim) throw new KbConfigError(`search: query has dimension ${query.length}, the index ${dim}`);
    if (!Number.isSafeInteger(k) || k < 1) throw new KbConfigError(`search: k must be a positive integer, got ${k}`);
    const q = this.#query;
    q.set(query);
    if (this.#params.metric === 'cosine') normalizeInPlace(q, 0, dim);
    const filter = options.filter;
    const l2 = this.#params.metric === 'l2';
    const data = this.#data;
    const live = this.#live;
    const slotLabel = this.#slotLabel;
    const cap = Math.min(k, this.#slotOf.size);
    const bestD = new Float64Array(cap).fill(Infinity);
    const bestL = new Uint32Array(cap);
    let found = 0;
    for (let s = 0; s < this.#slots; s++) {
      if (live[s] === 0) continue;
      const label = slotLabel[s]!;
      if (filter !== undefined) {
        const byte = label >>> 3;
        if (byte >= filter.length || ((filter[byte]! >> (label & 7)) & 1) === 0) continue;
      }
      const d = l2 ? squaredL2At(q, 0, data, s * dim, dim) : 1 - dotAt(q, 0, data, s * dim, dim);
      if (found === cap && !(d < bestD[cap - 1]!)) continue;
      let i = found < cap ? found++ : cap - 1;
      while (i > 0 && d < bestD[i - 1]!) {
        bestD[i] = bestD[i - 1]!;
        bestL[i] = bestL[i - 1]!;
        i--;
      }
      bestD[i] = d;
      bestL[i] = label;
    }
    return { labels: bestL.slice(0, found), distances: Float32Array.from(bestD.subarray(0, found)) };
  }

  async info(): Promise<VectorIndexInfo> {
    const live = this.#slotOf.size;
    return {
      ...this.#params,
      capacity: this.#slotLabel.length,
      count: live,
      deleted: 0,
      memoryBytes: this.#data.byteLength + this.#slotLabel.byteLength + this.#live.byteLength,
    };
  }

  /** Payload: u32 count, u32 dim, labels u32[count], vectors f32[count × dim] (live entries, slot order). */
  #payload(): Uint8Array {
    const dim = this.#params.dim;
    const count = this.#slotOf.size;
    const out = new Uint8Array(8 + count * 4 + count * dim * 4);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, count, true);
    dv.setUint32(4, dim, true);
    const labels = new Uint32Array(count);
    const vectors = new Float32Array(count * dim);
    let n = 0;
    for (let s = 0; s < this.#slots; s++) {
      if (this.#live[s] === 0) continue;
      labels[n] = this.#slotLabel[s]!;
      vectors.set(this.#data.subarray(s * dim, (s + 1) * dim), n * dim);
      n++;
    }
    out.set(new Uint8Array(labels.buffer), 8);
    out.set(new Uint8Array(vectors.buffer), 8 + count * 4);
    return out;
  }

  async save(path: string, tag: string): Promise<void> {
    const info = await this.info();
    await writeIndexFile(path, { kind: 'exact', tag, params: { ...this.#params, capacity: info.capacity } }, [this.#payload()]);
  }

  async load(path: string): Promise<{ tag: string }> {
    const file = await readIndexFile(path);
    const corrupt = (reason: string): KbIndexCorruptError =>
      new KbIndexCorruptError(`index file ${path} is unusable: ${reason}; rebuild the index from the knowledge base`, { path, reason });
    if (file.kind !== 'exact') throw corrupt(`it holds a ${file.kind} index, not an exact one`);
    const p = file.payload;
    if (p.length < 8) throw corrupt('payload shorter than its header');
    const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
    const count = dv.getUint32(0, true);
    const dim = dv.getUint32(4, true);
    if (dim !== file.params.dim || dim < 1) throw corrupt(`payload dimension ${dim} differs from the header's ${file.params.dim}`);
    if (p.length !== 8 + count * 4 * (1 + dim)) throw corrupt('payload length does not match its count');
    // Copies (the payload is not 4-byte aligned in general; `new Uint8Array(view)` copies, Buffer#slice would not).
    const labels = new Uint32Array(new Uint8Array(p.subarray(8, 8 + count * 4)).buffer);
    const vectors = new Float32Array(new Uint8Array(p.subarray(8 + count * 4)).buffer);
    if (new Set(labels).size !== count) throw corrupt('a label appears twice');
    const fresh = new ExactVectorIndex({ ...file.params, capacity: Math.max(file.params.capacity, count) });
    try {
      await fresh.add(labels, vectors);
    } catch (e) {
      throw corrupt(`its vectors are invalid (${(e as Error).message})`);
    }
    this.#params = fresh.#params;
    this.#query = fresh.#query;
    this.#data = fresh.#data;
    this.#slotLabel = fresh.#slotLabel;
    this.#live = fresh.#live;
    this.#slots = fresh.#slots;
    this.#slotOf.clear();
    for (const [l, s] of fresh.#slotOf) this.#slotOf.set(l, s);
    this.#free.length = 0;
    return { tag: file.tag };
  }

  async close(): Promise<void> {}
}

function normalizeInPlace(v: Float32Array, at: number, dim: number): void {
  const norm = Math.sqrt(dotAt(v, at, v, at, dim));
  const scale = norm > 0 ? 1 / norm : 0;
  for (let i = 0; i < dim; i++) v[at + i]! *= scale;
}
