// An Okapi BM25 inverted index (k1 = 1.2, b = 0.75) over documents identified by u32 ids, with incremental add and
// remove, top-k search restricted by an optional predicate, and a versioned little-endian binary serialisation
// (stored with the knowledge base). Scores use the non-negative idf ln(1 + (N - df + 0.5) / (df + 0.5)).
import { KbConfigError, KbIndexCorruptError } from '../errors/index.js';
import { analyze } from './text-normalize.js';

export interface Bm25Params {
  readonly k1: number;
  readonly b: number;
}

export const BM25_DEFAULTS: Bm25Params = Object.freeze({ k1: 1.2, b: 0.75 });

export interface Bm25Hit {
  readonly id: number;
  readonly score: number;
}

const MAGIC = 0x3532_4d42; // "BM25" little-endian
const FORMAT_VERSION = 1;

export class Bm25Index {
  readonly params: Bm25Params;
  /** term → (doc id → term frequency) */
  private readonly postings = new Map<string, Map<number, number>>();
  /** doc id → its distinct terms with frequencies (for removal) and length */
  private readonly docs = new Map<number, { readonly length: number; readonly terms: readonly string[] }>();
  private totalLength = 0;

  constructor(params: Partial<Bm25Params> = {}) {
    const k1 = params.k1 ?? BM25_DEFAULTS.k1;
    const b = params.b ?? BM25_DEFAULTS.b;
    if (!(k1 >= 0) || !(b >= 0 && b <= 1)) throw new KbConfigError(`BM25 needs k1 >= 0 and b in [0, 1], got k1 ${k1}, b ${b}`, { path: 'bm25' });
    this.params = Object.freeze({ k1, b });
  }

  get size(): number {
    return this.docs.size;
  }

  get termCount(): number {
    return this.postings.size;
  }

  has(id: number): boolean {
    return this.docs.has(id);
  }

  /** Adds (or replaces) a document from its text. */
  add(id: number, text: string): void {
    this.addTerms(id, analyze(text));
  }

  addTerms(id: number, terms: readonly string[]): void {
    if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) throw new KbConfigError(`BM25 document id must be a u32, got ${id}`, { path: 'id' });
    if (this.docs.has(id)) this.remove(id);
    const tf = new Map<string, number>();
    for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
    for (const [t, n] of tf) {
      let p = this.postings.get(t);
      if (!p) { p = new Map(); this.postings.set(t, p); }
      p.set(id, n);
    }
    this.docs.set(id, { length: terms.length, terms: [...tf.keys()] });
    this.totalLength += terms.length;
  }

  /** Removes a document; unknown ids are ignored. Returns whether it was present. */
  remove(id: number): boolean {
    const d = this.docs.get(id);
    if (!d) return false;
    for (const t of d.terms) {
      const p = this.postings.get(t);
      if (!p) continue;
      p.delete(id);
      if (p.size === 0) this.postings.delete(t);
    }
    this.docs.delete(id);
    this.totalLength -= d.length;
    return true;
  }

  idf(term: string): number {
    const df = this.postings.get(term)?.size ?? 0;
    const n = this.docs.size;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** Top `k` documents by BM25 score for the query text (only documents with score > 0, i.e. sharing a term), best
   *  first; ties broken by smaller id so results are deterministic. */
  search(query: string, k: number, allow?: (id: number) => boolean): Bm25Hit[] {
    return this.searchTerms(analyze(query), k, allow);
  }

  searchTerms(queryTerms: readonly string[], k: number, allow?: (id: number) => boolean): Bm25Hit[] {
    if (k <= 0 || this.docs.size === 0) return [];
    const { k1, b } = this.params;
    const avgdl = this.totalLength / this.docs.size || 1;
    const scores = new Map<number, number>();
    // A term repeated in the query counts once per occurrence (as in the classic formulation with qtf = 1 each).
    for (const t of queryTerms) {
      const p = this.postings.get(t);
      if (!p) continue;
      const idf = this.idf(t);
      for (const [id, f] of p) {
        if (allow && !allow(id)) continue;
        const dl = this.docs.get(id)!.length;
        const s = idf * (f * (k1 + 1)) / (f + k1 * (1 - b + b * dl / avgdl));
        scores.set(id, (scores.get(id) ?? 0) + s);
      }
    }
    return [...scores].map(([id, score]) => ({ id, score }))
      .sort((x, y) => y.score - x.score || x.id - y.id)
      .slice(0, k);
  }

  /** Versioned binary form: header, then per document (id, length, term count, term indexes, frequencies) over a
   *  term table. Little-endian throughout. */
  serialize(): Uint8Array {
    const terms = [...this.postings.keys()].sort();
    const termIndex = new Map(terms.map((t, i) => [t, i]));
    const enc = new TextEncoder();
    const termBytes = terms.map((t) => enc.encode(t));
    const ids = [...this.docs.keys()].sort((a, b) => a - b);
    let bytes = 4 * 6 + termBytes.reduce((n, t) => n + 4 + t.length, 0);
    for (const id of ids) bytes += 12 + 8 * this.docs.get(id)!.terms.length;
    const out = new Uint8Array(bytes);
    const dv = new DataView(out.buffer);
    let o = 0;
    const u32 = (v: number): void => { dv.setUint32(o, v, true); o += 4; };
    u32(MAGIC); u32(FORMAT_VERSION);
    dv.setFloat32(o, this.params.k1, true); o += 4;
    dv.setFloat32(o, this.params.b, true); o += 4;
    u32(terms.length); u32(ids.length);
    for (const t of termBytes) { u32(t.length); out.set(t, o); o += t.length; }
    for (const id of ids) {
      const d = this.docs.get(id)!;
      u32(id); u32(d.length); u32(d.terms.length);
      for (const t of d.terms) u32(termIndex.get(t)!);
      for (const t of d.terms) u32(this.postings.get(t)!.get(id)!);
    }
    return out;
  }

  static deserialize(bytes: Uint8Array): Bm25Index {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let o = 0;
    const need = (n: number): void => {
      if (o + n > bytes.byteLength) throw new KbIndexCorruptError('BM25 state is truncated', { offset: o });
    };
    const u32 = (): number => { need(4); const v = dv.getUint32(o, true); o += 4; return v; };
    if (u32() !== MAGIC) throw new KbIndexCorruptError('BM25 state has a bad magic number');
    const version = u32();
    if (version !== FORMAT_VERSION) throw new KbIndexCorruptError(`BM25 state version ${version} is not supported`, { version });
    need(8);
    const k1 = Math.fround(dv.getFloat32(o, true));
    const b = Math.fround(dv.getFloat32(o + 4, true));
    o += 8;
    const index = new Bm25Index({ k1: Number(k1.toPrecision(6)), b: Number(b.toPrecision(6)) });
    const nTerms = u32();
    const nDocs = u32();
    const dec = new TextDecoder('utf-8', { fatal: true });
    const terms: string[] = [];
    for (let i = 0; i < nTerms; i++) {
      const len = u32(); need(len);
      terms.push(dec.decode(bytes.subarray(o, o + len))); o += len;
    }
    for (let i = 0; i < nDocs; i++) {
      const id = u32(); const length = u32(); const n = u32();
      need(8 * n);
      const docTerms: string[] = [];
      const tf = new Map<string, number>();
      for (let j = 0; j < n; j++) {
        const t = terms[u32()];
        if (t === undefined) throw new KbIndexCorruptError('BM25 state names a term out of range');
        docTerms.push(t);
      }
      for (const t of docTerms) tf.set(t, u32());
      for (const [t, f] of tf) {
        let p = index.postings.get(t);
        if (!p) { p = new Map(); index.postings.set(t, p); }
        p.set(id, f);
      }
      index.docs.set(id, { length, terms: docTerms });
      index.totalLength += length;
    }
    if (o !== bytes.byteLength) throw new KbIndexCorruptError('BM25 state has trailing bytes', { offset: o });
    return index;
  }
}
