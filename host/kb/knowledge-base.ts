// The knowledge base: ingestion (markdown, text and incident files; four chunkers; de-duplication; incremental
// re-ingestion by content hash), retrieval (vector, BM25, hybrid by reciprocal-rank fusion; MMR; re-ranking when a
// re-ranker is present) and its folder on disk (kb-store.ts). It is assembled from the interfaces of kb-types.ts:
// any Embedder, any VectorIndex (HNSW plugin or exact scan), an optional Reranker.
import { createHash } from 'node:crypto';
import { access, readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, relative, resolve, sep } from 'node:path';
import { KbConfigError, KbIndexCorruptError, KbIngestError, X0tError } from '../errors/index.js';
import { type ChunkerSpec, chunkerSpec } from './chunkers/chunk.js';
import { chunkDocument } from './chunkers/chunk-document.js';
import { Bm25Index } from './bm25.js';
import { type IncidentMetadata, type IncidentRecord, type IncidentSeverity, incidentChunks, parseIncidentFile, parseIncidentRecord } from './incident-record.js';
import type { Embedder, Reranker, VectorHits, VectorIndex, VectorIndexInfo, VectorIndexParams } from './kb-types.js';
import { type ChunkKind, KbStore, type StoredChunk, type StoredDocument, type StoredEmbedder } from './kb-store.js';
import { MMR_DEFAULT_LAMBDA, maximalMarginalRelevance } from './mmr.js';
import { KB_HNSW_DEFAULTS } from './vector-index.js';
import { reciprocalRankFusion } from './rank-fusion.js';
import { normalizeForDedup } from './text-normalize.js';

const EMBED_BATCH = 64;
const INDEX_BATCH = 1024;
const MAX_K = 1000;

/** An embedder whose vectors depend on weights fitted to the corpus (the lexical embedder's IDF). The knowledge base
 *  fits them on its first ingest, stores them, and restores them on open. */
export interface CorpusWeightedEmbedder extends Embedder {
  readonly idf: Float32Array | null;
  setIdf(weights: Float32Array | null): void;
  fitIdf(corpus: readonly string[]): Promise<Float32Array>;
}

export function isCorpusWeighted(e: Embedder): e is CorpusWeightedEmbedder {
  const x = e as Partial<CorpusWeightedEmbedder>;
  return typeof x.fitIdf === 'function' && typeof x.setIdf === 'function';
}

export interface KnowledgeBaseOptions {
  readonly embedder: Embedder;
  readonly openIndex: (params: VectorIndexParams) => Promise<VectorIndex>;
  readonly reranker?: Reranker;
  /** When the stored vectors came from another embedder: false (default) refuses with KbConfigError, true re-embeds
   *  every chunk with the current one. */
  readonly reembed?: boolean;
}

export interface IngestOptions {
  readonly chunker?: ChunkerSpec['name'];
  readonly size?: number;
  readonly overlap?: number;
}

export interface IngestProgress {
  readonly phase: 'scan' | 'chunk' | 'embed' | 'index' | 'save';
  readonly done: number;
  readonly total: number;
  readonly file?: string;
}

export interface IngestFileError {
  readonly path: string;
  readonly code: string;
  readonly message: string;
}

export interface IngestReport {
  readonly filesAdded: number;
  readonly filesChanged: number;
  readonly filesUnchanged: number;
  readonly filesRemoved: number;
  readonly chunksAdded: number;
  readonly chunksRemoved: number;
  readonly duplicates: number;
  readonly errors: readonly IngestFileError[];
  readonly notices: readonly string[];
}

/** A chunk as search returns it: the stored chunk without the store's bookkeeping. */
export type KbChunk = Omit<StoredChunk, 'document'>;

export type SearchMode = 'vector' | 'bm25' | 'hybrid';

export interface SearchFilter {
  /** A source, or a folder prefix of sources (`runbooks` matches `runbooks/wifi.md`); several = any of them. */
  readonly source?: string | readonly string[];
  /** Every listed tag must be on the chunk (incident chunks carry tags; documents have none). */
  readonly tags?: readonly string[];
  /** Any of these severities (incident chunks only). */
  readonly severity?: IncidentSeverity | readonly IncidentSeverity[];
  readonly kind?: ChunkKind;
}

export interface SearchOptions {
  readonly k?: number;
  readonly mode?: SearchMode;
  /** true = MMR with λ 0.5; a number = MMR with that λ. */
  readonly mmr?: boolean | number;
  readonly rerank?: boolean;
  readonly filter?: SearchFilter;
  /** RRF weights of the two retrievers in hybrid mode (default 1 and 1). */
  readonly weights?: { readonly vector?: number; readonly bm25?: number };
  /** Candidates each retriever contributes before fusion, MMR and re-ranking (default max(5k, 50)). */
  readonly depth?: number;
}

export interface SearchRanks {
  readonly vector?: number;
  readonly bm25?: number;
  readonly rerank?: number;
}

export interface SearchHit {
  readonly chunk: KbChunk;
  /** Mode-dependent: cosine similarity (vector), BM25 score (bm25), RRF score (hybrid), re-ranker score (rerank). */
  readonly score: number;
  readonly ranks: SearchRanks;
}

export interface SearchResult {
  readonly hits: readonly SearchHit[];
  /** Things the caller should know, e.g. that re-ranking was asked for but no re-ranker model is present. */
  readonly notices: readonly string[];
}

export interface KbStats {
  readonly documents: number;
  readonly chunks: number;
  readonly duplicatesSkipped: number;
  readonly embedder: { readonly id: string; readonly kind: Embedder['kind']; readonly dim: number };
  readonly index: { readonly kind: VectorIndex['kind']; readonly info: VectorIndexInfo };
  readonly reranker: string | null;
  readonly bytesOnDisk: number;
  readonly lastIngest: string | null;
}

const SUPPORTED = ['.md', '.markdown', '.txt', '.incident.json', '.jsonl'] as const;

function fileKind(path: string): 'markdown' | 'text' | 'incidents' | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.incident.json') || lower.endsWith('.jsonl')) return 'incidents';
  const ext = extname(lower);
  if (ext === '.md' || ext === '.markdown') return 'markdown';
  if (ext === '.txt') return 'text';
  return undefined;
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Text of a file, or KbIngestError when it is binary (a NUL byte, or not UTF-8). */
export function decodeDocument(path: string, bytes: Uint8Array): string {
  if (bytes.subarray(0, 8192).includes(0)) throw new KbIngestError(`${path}: binary file (NUL byte), not ingested`, { file: path });
  try {
    return utf8.decode(bytes).replace(/^\uFEFF/, '');
  } catch (e) {
    throw new KbIngestError(`${path}: not UTF-8 text, not ingested`, { file: path }, { cause: e });
  }
}

/** The text embedded and indexed for a chunk: documents get their heading path as a first line (later chunks of a
 *  section otherwise lose what the section is about); incident chunks already start with their title. */
export function retrievalText(c: Pick<StoredChunk, 'kind' | 'headingPath' | 'text'>): string {
  return c.kind === 'doc' && c.headingPath.length > 0 ? `${c.headingPath.join(' > ')}\n${c.text}` : c.text;
}

interface PendingChunk extends Omit<StoredChunk, 'id'> {}

interface PlannedDocument {
  readonly doc: Omit<StoredDocument, 'chunkIds' | 'duplicates' | 'duplicateOf'>;
  readonly chunks: readonly PendingChunk[];
  readonly status: 'added' | 'changed';
}

/** The vector-index plugin lost its memory (KbIndexCorruptError with details.lost, see vector-index.ts). */
function isLostIndex(e: unknown): boolean {
  return e instanceof KbIndexCorruptError && e.details['lost'] === true;
}

function sameSpec(a: ChunkerSpec | undefined, b: ChunkerSpec): boolean {
  return a !== undefined && a.name === b.name && a.size === b.size && a.overlap === b.overlap;
}

function fileError(path: string, e: unknown): IngestFileError {
  if (e instanceof X0tError) return { path, code: e.code, message: e.message };
  return { path, code: 'X0T_KB_INGEST', message: `cannot read: ${(e as Error).message}` };
}

function publicChunk(c: StoredChunk): KbChunk {
  return {
    id: c.id, text: c.text, source: c.source, headingPath: c.headingPath, start: c.start, end: c.end, kind: c.kind,
    chunker: c.chunker, ...(c.incident ? { incident: c.incident } : {}),
  };
}

export class KnowledgeBase {
  readonly dir: string;
  /** What happened while opening (index rebuilt, re-embedded, …), for the caller to show. */
  readonly notices: string[] = [];
  readonly #store: KbStore;
  readonly #embedder: Embedder;
  readonly #reranker: Reranker | undefined;
  readonly #openIndex: (params: VectorIndexParams) => Promise<VectorIndex>;
  #index!: VectorIndex;
  #docs = new Map<string, StoredDocument>();
  #chunks = new Map<number, StoredChunk>();
  #vectors = new Map<number, Float32Array>();
  /** normalised-text hash → chunk id, for de-duplication */
  #byText = new Map<string, number>();
  #bm25 = new Bm25Index();
  #nextId = 0;
  #lastIngest: string | null = null;
  #closed = false;

  private constructor(dir: string, store: KbStore, opts: KnowledgeBaseOptions) {
    this.dir = dir;
    this.#store = store;
    this.#embedder = opts.embedder;
    this.#reranker = opts.reranker;
    this.#openIndex = opts.openIndex;
  }

  /** Runs public operations one at a time: an ingest and a search must not see each other's half-applied state. */
  #queue: Promise<unknown> = Promise.resolve();
  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  get embedder(): Embedder {
    return this.#embedder;
  }

  static async open(dir: string, opts: KnowledgeBaseOptions): Promise<KnowledgeBase> {
    const root = resolve(dir);
    const store = await KbStore.open(root);
    const kb = new KnowledgeBase(root, store, opts);
    const snap = await store.load();
    const emb = opts.embedder;
    let reembed = false;
    if (snap) {
      const same = snap.embedder.id === emb.id && snap.embedder.dim === emb.dim;
      if (!same && !opts.reembed) {
        throw new KbConfigError(
          `knowledge base ${root} was embedded with ${snap.embedder.id} (dim ${snap.embedder.dim}); the current embedder is ${emb.id} (dim ${emb.dim}): re-embedding is needed (open it with the re-embed option, or use another folder)`,
          { dir: root, stored: snap.embedder.id, current: emb.id },
        );
      }
      reembed = !same;
      kb.#nextId = snap.nextChunkId;
      kb.#lastIngest = snap.lastIngest;
      for (const d of snap.documents) kb.#docs.set(d.key, d);
      for (const c of snap.chunks) {
        kb.#chunks.set(c.id, c);
        kb.#byText.set(sha256(normalizeForDedup(c.text)), c.id);
      }
      if (!reembed) {
        snap.labels.forEach((id, i) => kb.#vectors.set(id, snap.vectors.subarray(i * emb.dim, (i + 1) * emb.dim)));
        if (isCorpusWeighted(emb)) emb.setIdf(snap.weights);
      }
      if (snap.bm25Damaged !== undefined) {
        kb.notices.push(`BM25 state was damaged (${snap.bm25Damaged}); rebuilt from the stored chunks`);
        for (const c of kb.#chunks.values()) kb.#bm25.add(c.id, retrievalText(c));
      } else {
        try {
          kb.#bm25 = Bm25Index.deserialize(snap.bm25);
        } catch (e) {
          if (!(e instanceof KbIndexCorruptError)) throw e;
          kb.notices.push(`BM25 state was unreadable (${e.message}); rebuilt from the stored chunks`);
          for (const c of kb.#chunks.values()) kb.#bm25.add(c.id, retrievalText(c));
        }
      }
    }
    kb.#index = await opts.openIndex(kb.#indexParams());
    try {
      if (reembed) {
        kb.notices.push(`stored vectors came from ${snap!.embedder.id}; re-embedding ${kb.#chunks.size} chunks with ${emb.id}`);
        await kb.#reembedAll(undefined);
        await kb.#commit();
      } else if (snap) {
        await kb.#loadOrRebuildIndex();
      }
    } catch (e) {
      await kb.#index.close();
      throw e;
    }
    return kb;
  }

  #indexParams(): VectorIndexParams {
    // Cosine whatever the embedder: identical to inner product for normalised vectors, and right for the others.
    return {
      ...KB_HNSW_DEFAULTS, dim: this.#embedder.dim, metric: 'cosine',
      capacity: Math.max(KB_HNSW_DEFAULTS.capacity, Math.ceil(this.#chunks.size * 1.25)),
    };
  }

  /** Loads index.bin; rebuilds from the stored embeddings when it is missing, corrupt or stale. */
  async #loadOrRebuildIndex(): Promise<void> {
    const path = this.#store.indexPath;
    const digest = this.#store.manifest!.contentDigest;
    let why: string | undefined;
    try {
      await access(path);
      const { tag } = await this.#index.load(path);
      if (tag !== digest) why = 'its tag does not match the stored embeddings (stale)';
      else {
        const info = await this.#index.info();
        if (info.count !== this.#vectors.size) why = `it holds ${info.count} vectors, the knowledge base ${this.#vectors.size}`;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') why = 'it is missing';
      else if (e instanceof KbIndexCorruptError) why = `it is corrupt (${e.message})`;
      else throw e;
    }
    if (why !== undefined) {
      this.notices.push(`vector index file ${path}: ${why}; rebuilt from ${this.#vectors.size} stored embeddings`);
      await this.#rebuildIndex();
      await this.#index.save(path, digest);
    }
  }

  /** Re-creates the index and adds every stored vector (also used when the index restarted empty). */
  async #rebuildIndex(): Promise<void> {
    await this.#index.close();
    this.#index = await this.#openIndex(this.#indexParams());
    const ids = [...this.#vectors.keys()].sort((a, b) => a - b);
    for (let i = 0; i < ids.length; i += INDEX_BATCH) {
      const batch = ids.slice(i, i + INDEX_BATCH);
      const flat = new Float32Array(batch.length * this.#embedder.dim);
      batch.forEach((id, j) => flat.set(this.#vectors.get(id)!, j * this.#embedder.dim));
      await this.#index.add(Uint32Array.from(batch), flat);
    }
  }

  /** Checks that the index still holds what the knowledge base stored (a plugin restarted after a trap, a timeout or
   *  a hot swap comes back empty and says so with KbIndexCorruptError details.lost) and rebuilds it otherwise.
   *  `expected` is the count it should hold. Returns a notice when it rebuilt. */
  async #ensureIndex(expected = this.#vectors.size): Promise<string | undefined> {
    let why: string;
    try {
      const info = await this.#index.info();
      if (info.count === expected) return undefined;
      why = `it held ${info.count} vectors instead of ${expected}`;
    } catch (e) {
      if (!isLostIndex(e)) throw e;
      why = 'the plugin instance restarted empty';
      // The saved file holds the committed state: loading it (~0.5 s for 20k vectors) beats rebuilding (~30 s).
      if (await this.#reloadSaved(expected)) return `vector index: ${why}; reloaded from ${this.#store.indexPath}`;
    }
    await this.#rebuildIndex();
    return `vector index: ${why}; rebuilt from ${this.#vectors.size} stored embeddings`;
  }

  /** Loads index.bin when it is the committed state's (its tag) and holds `expected` vectors; false otherwise. */
  async #reloadSaved(expected: number): Promise<boolean> {
    const digest = this.#store.manifest?.contentDigest;
    if (digest === undefined) return false;
    try {
      const { tag } = await this.#index.load(this.#store.indexPath);
      return tag === digest && (await this.#index.info()).count === expected;
    } catch (e) {
      if (e instanceof X0tError || (e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }

  async #embedTexts(texts: readonly string[], onProgress?: (done: number, total: number) => void): Promise<Float32Array> {
    const dim = this.#embedder.dim;
    const out = new Float32Array(texts.length * dim);
    for (let i = 0; i < texts.length; i += EMBED_BATCH) {
      const batch = texts.slice(i, i + EMBED_BATCH);
      const v = await this.#embedder.embed(batch);
      if (v.length !== batch.length * dim) {
        throw new KbConfigError(`embedder ${this.#embedder.id} returned ${v.length} values for ${batch.length} texts of dim ${dim}`);
      }
      out.set(v, i * dim);
      onProgress?.(Math.min(i + EMBED_BATCH, texts.length), texts.length);
    }
    return out;
  }

  /** Embeds every stored chunk again (after an embedder change, or to refit corpus weights) and rebuilds the index. */
  async #reembedAll(onProgress: ((p: IngestProgress) => void) | undefined): Promise<void> {
    const ids = [...this.#chunks.keys()].sort((a, b) => a - b);
    const texts = ids.map((id) => retrievalText(this.#chunks.get(id)!));
    const emb = this.#embedder;
    if (isCorpusWeighted(emb)) await emb.fitIdf(texts);
    const v = await this.#embedTexts(texts, (done, total) => onProgress?.({ phase: 'embed', done, total }));
    this.#vectors = new Map(ids.map((id, i) => [id, v.subarray(i * emb.dim, (i + 1) * emb.dim)]));
    await this.#rebuildIndex();
  }

  /** Refits corpus weights (lexical IDF) on the current chunks and re-embeds everything. */
  reembed(onProgress?: (p: IngestProgress) => void): Promise<void> {
    return this.#serial(() => this.#reembedNow(onProgress));
  }

  async #reembedNow(onProgress?: (p: IngestProgress) => void): Promise<void> {
    this.#checkOpen();
    await this.#reembedAll(onProgress);
    await this.#commit();
  }

  async #commit(): Promise<void> {
    const ids = [...this.#vectors.keys()].sort((a, b) => a - b);
    const dim = this.#embedder.dim;
    const vectors = new Float32Array(ids.length * dim);
    ids.forEach((id, i) => vectors.set(this.#vectors.get(id)!, i * dim));
    const emb = this.#embedder;
    const stored: StoredEmbedder = { id: emb.id, dim, kind: emb.kind, normalized: emb.normalized };
    const manifest = await this.#store.commit({
      embedder: stored, nextChunkId: this.#nextId, documents: [...this.#docs.values()], lastIngest: this.#lastIngest,
      chunks: [...this.#chunks.values()].sort((a, b) => a.id - b.id), labels: Uint32Array.from(ids), vectors,
      bm25: this.#bm25.serialize(), weights: isCorpusWeighted(emb) ? emb.idf : null,
    });
    await this.#index.save(this.#store.indexPath, manifest.contentDigest);
  }

  #checkOpen(): void {
    if (this.#closed) throw new KbConfigError(`knowledge base ${this.dir} is closed`);
  }

  /** Files under the given paths, with the folder each source path is relative to. */
  async #scan(paths: readonly string[], errors: IngestFileError[]): Promise<{ files: { abs: string; source: string }[]; roots: string[]; gone: string[] }> {
    const files: { abs: string; source: string }[] = [];
    const roots: string[] = [];
    const gone: string[] = [];
    const walk = async (dir: string, root: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        errors.push({ path: dir, code: 'X0T_KB_INGEST', message: `cannot read folder: ${(e as Error).message}` });
        return;
      }
      for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const p = resolve(dir, e.name);
        if (e.name.startsWith('.') || e.name === 'node_modules' || p === this.dir) continue;
        if (e.isDirectory()) await walk(p, root);
        else if (e.isFile() && fileKind(p) !== undefined) files.push({ abs: p, source: relative(root, p).split(sep).join('/') });
      }
    };
    for (const raw of paths) {
      const p = resolve(raw);
      let st;
      try {
        st = await stat(p);
      } catch (e) {
        if (this.#docs.has(p)) gone.push(p);
        else errors.push({ path: raw, code: 'X0T_KB_INGEST', message: `cannot read: ${(e as Error).message}` });
        continue;
      }
      if (st.isDirectory()) {
        roots.push(p);
        await walk(p, p);
      } else if (fileKind(p) === undefined) {
        errors.push({ path: raw, code: 'X0T_KB_INGEST', message: `unsupported file type (supported: ${SUPPORTED.join(', ')})` });
      } else {
        files.push({ abs: p, source: basename(p) });
      }
    }
    return { files, roots, gone };
  }

  /** Reads and chunks one file; 'unchanged' when its content, source and chunker are what is stored (and not forced). */
  async #planFile(abs: string, source: string, spec: ChunkerSpec, force: boolean): Promise<PlannedDocument | 'unchanged'> {
    const st = await stat(abs);
    const bytes = await readFile(abs);
    const hash = sha256(bytes);
    const old = this.#docs.get(abs);
    if (!force && old && old.sha256 === hash && old.source === source && sameSpec(old.chunker, spec)) return 'unchanged';
    const text = decodeDocument(source, bytes);
    const kind = fileKind(abs)!;
    const doc = { key: abs, source, kind: kind === 'incidents' ? 'incident' as const : 'doc' as const, size: st.size, mtimeMs: st.mtimeMs, sha256: hash, chunker: spec };
    const chunks: PendingChunk[] = kind === 'incidents'
      ? parseIncidentFile(source, text).flatMap((r) => incidentChunks(r, spec)).map((c) => ({ ...c, kind: 'incident' as const, document: abs }))
      : chunkDocument(source, text, kind, spec).map((c) => ({ ...c, kind: 'doc' as const, document: abs }));
    return { doc, chunks, status: old ? 'changed' : 'added' };
  }

  /**
   * Ingests files and folders (recursively): new and changed files are chunked, embedded and indexed; unchanged
   * ones (same SHA-256) are skipped; files that were ingested from a given folder and are gone are removed. A file
   * that cannot be read or parsed is reported in `errors` and nothing is stored from it (an earlier version of it
   * stays); the others go on.
   */
  ingest(paths: readonly string[], options: IngestOptions = {}, onProgress?: (p: IngestProgress) => void): Promise<IngestReport> {
    return this.#serial(() => this.#ingestNow(paths, options, onProgress));
  }

  async #ingestNow(paths: readonly string[], options: IngestOptions = {}, onProgress?: (p: IngestProgress) => void): Promise<IngestReport> {
    this.#checkOpen();
    const spec = chunkerSpec({
      ...(options.chunker !== undefined ? { name: options.chunker } : {}),
      ...(options.size !== undefined ? { size: options.size } : {}),
      ...(options.overlap !== undefined ? { overlap: options.overlap } : {}),
    });
    const errors: IngestFileError[] = [];
    const notices: string[] = [];
    const { files, roots, gone } = await this.#scan(paths, errors);
    const planned: PlannedDocument[] = [];
    const seen = new Set<string>();
    let unchanged = 0;
    let n = 0;
    for (const f of files) {
      onProgress?.({ phase: 'scan', done: ++n, total: files.length, file: f.source });
      if (seen.has(f.abs)) continue;
      seen.add(f.abs);
      try {
        const plan = await this.#planFile(f.abs, f.source, spec, false);
        if (plan === 'unchanged') unchanged++;
        else planned.push(plan);
      } catch (e) {
        errors.push(fileError(f.source, e));
      }
    }
    for (const d of this.#docs.values()) {
      if (d.kind === 'incident' && d.key.startsWith('incident-record:')) continue;
      if (!seen.has(d.key) && roots.some((r) => d.key.startsWith(r + sep))) gone.push(d.key);
    }
    // A document whose chunks were skipped as duplicates of chunks now being removed must be re-chunked, or its
    // content would vanish with the original's.
    const touched = new Set([...gone, ...planned.map((p) => p.doc.key)]);
    const removing = new Set([...touched].flatMap((k) => this.#docs.get(k)?.chunkIds ?? []));
    for (let grew = true; grew;) {
      grew = false;
      for (const d of this.#docs.values()) {
        if (touched.has(d.key) || d.key.startsWith('incident-record:') || !(d.duplicateOf ?? []).some((id) => removing.has(id))) continue;
        touched.add(d.key);
        try {
          const plan = await this.#planFile(d.key, d.source, spec, true);
          if (plan === 'unchanged') continue;
          planned.push(plan);
          for (const id of d.chunkIds) removing.add(id);
          notices.push(`${d.source}: re-chunked because chunks it shared with a changed or removed document went away`);
          grew = true;
        } catch (e) {
          errors.push(fileError(d.source, e));
        }
      }
    }
    const result = await this.#apply(planned, [...new Set(gone)], onProgress);
    return {
      filesAdded: planned.filter((p) => p.status === 'added').length,
      filesChanged: planned.filter((p) => p.status === 'changed').length,
      filesUnchanged: unchanged,
      filesRemoved: result.removedDocs,
      chunksAdded: result.added,
      chunksRemoved: result.removed,
      duplicates: result.duplicates,
      errors,
      notices: [...notices, ...result.notices],
    };
  }

  /** Adds (or replaces, by id) one of the node's own incident records. */
  addIncident(record: IncidentRecord, options: IngestOptions = {}): Promise<IngestReport> {
    return this.#serial(() => this.#addIncidentNow(record, options));
  }

  async #addIncidentNow(record: IncidentRecord, options: IngestOptions = {}): Promise<IngestReport> {
    this.#checkOpen();
    const r = parseIncidentRecord(record, { file: `incident:${String((record as { id?: unknown }).id)}` });
    const spec = chunkerSpec({ size: options.size, overlap: options.overlap });
    const key = `incident-record:${r.id}`;
    const hash = sha256(JSON.stringify(r));
    const old = this.#docs.get(key);
    if (old?.sha256 === hash) {
      return { filesAdded: 0, filesChanged: 0, filesUnchanged: 1, filesRemoved: 0, chunksAdded: 0, chunksRemoved: 0, duplicates: 0, errors: [], notices: [] };
    }
    const chunks = incidentChunks(r, spec).map((c) => ({ ...c, kind: 'incident' as const, document: key }));
    const doc = { key, source: `incident:${r.id}`, kind: 'incident' as const, size: hash.length, mtimeMs: Date.parse(r.closed ?? r.opened), sha256: hash, chunker: spec };
    const result = await this.#apply([{ doc, chunks, status: old ? 'changed' : 'added' }], [], undefined);
    return {
      filesAdded: old ? 0 : 1, filesChanged: old ? 1 : 0, filesUnchanged: 0, filesRemoved: 0, chunksAdded: result.added,
      chunksRemoved: result.removed, duplicates: result.duplicates, errors: [], notices: result.notices,
    };
  }

  /** Removes the chunks of changed and gone documents, adds the new chunks (de-duplicated), embeds, indexes, commits. */
  async #apply(planned: readonly PlannedDocument[], gone: readonly string[],
    onProgress: ((p: IngestProgress) => void) | undefined): Promise<{ added: number; removed: number; duplicates: number; removedDocs: number; notices: string[] }> {
    const notices: string[] = [];
    if (planned.length === 0 && gone.length === 0) return { added: 0, removed: 0, duplicates: 0, removedDocs: 0, notices };
    const removeIds: number[] = [];
    let removedDocs = 0;
    for (const key of [...gone, ...planned.filter((p) => p.status === 'changed').map((p) => p.doc.key)]) {
      const d = this.#docs.get(key);
      if (!d) continue;
      removeIds.push(...d.chunkIds);
      this.#docs.delete(key);
      if (gone.includes(key)) removedDocs++;
    }
    for (const id of removeIds) {
      const c = this.#chunks.get(id);
      if (!c) continue;
      const h = sha256(normalizeForDedup(c.text));
      if (this.#byText.get(h) === id) this.#byText.delete(h);
      this.#chunks.delete(id);
      this.#vectors.delete(id);
      this.#bm25.remove(id);
    }
    // New chunks, de-duplicated against what stays and against each other.
    const fresh: StoredChunk[] = [];
    let duplicates = 0;
    for (let i = 0; i < planned.length; i++) {
      const p = planned[i]!;
      onProgress?.({ phase: 'chunk', done: i + 1, total: planned.length, file: p.doc.source });
      const ids: number[] = [];
      const duplicateOf: number[] = [];
      for (const c of p.chunks) {
        const h = sha256(normalizeForDedup(c.text));
        const existing = this.#byText.get(h);
        if (existing !== undefined) { duplicateOf.push(existing); continue; }
        if (this.#nextId > 0xffff_fffe) throw new KbConfigError('the knowledge base ran out of u32 chunk ids; rebuild it');
        const stored: StoredChunk = { ...c, id: this.#nextId++ };
        this.#byText.set(h, stored.id);
        fresh.push(stored);
        ids.push(stored.id);
      }
      duplicates += duplicateOf.length;
      this.#docs.set(p.doc.key, { ...p.doc, chunkIds: ids, duplicates: duplicateOf.length, duplicateOf });
    }
    for (const c of fresh) this.#chunks.set(c.id, c);
    const emb = this.#embedder;
    const freshTexts = fresh.map(retrievalText);
    if (isCorpusWeighted(emb) && emb.idf === null) {
      // First ingest with a corpus-weighted embedder: fit on everything, then embed everything with the weights.
      notices.push(`fitted ${emb.id} corpus weights (IDF) on ${this.#chunks.size} chunks`);
      await this.#reembedAll(onProgress);
    } else {
      const v = await this.#embedTexts(freshTexts, (done, total) => onProgress?.({ phase: 'embed', done, total }));
      fresh.forEach((c, i) => this.#vectors.set(c.id, v.subarray(i * emb.dim, (i + 1) * emb.dim)));
      onProgress?.({ phase: 'index', done: 0, total: fresh.length });
      // The vectors map already holds the new state: a lost index is rebuilt from it instead of taking the delta.
      const rebuilt = await this.#ensureIndex(this.#vectors.size - fresh.length + removeIds.length);
      if (rebuilt) notices.push(rebuilt);
      else {
        try {
          if (removeIds.length > 0) await this.#index.remove(Uint32Array.from(removeIds));
          for (let i = 0; i < fresh.length; i += INDEX_BATCH) {
            const batch = fresh.slice(i, i + INDEX_BATCH);
            await this.#index.add(Uint32Array.from(batch, (c) => c.id), v.subarray(i * emb.dim, (i + batch.length) * emb.dim));
            onProgress?.({ phase: 'index', done: Math.min(i + INDEX_BATCH, fresh.length), total: fresh.length });
          }
        } catch (e) {
          if (!isLostIndex(e)) throw e;
          await this.#rebuildIndex();
          notices.push(`vector index: the plugin instance restarted empty during the update; rebuilt from ${this.#vectors.size} stored embeddings`);
        }
      }
    }
    for (const c of fresh) this.#bm25.add(c.id, retrievalText(c));
    this.#lastIngest = new Date().toISOString();
    onProgress?.({ phase: 'save', done: 0, total: 1 });
    await this.#commit();
    onProgress?.({ phase: 'save', done: 1, total: 1 });
    return { added: fresh.length, removed: removeIds.length, duplicates, removedDocs, notices };
  }

  #allowed(filter: SearchFilter | undefined): Set<number> | undefined {
    if (!filter) return undefined;
    const sources = filter.source === undefined ? undefined : typeof filter.source === 'string' ? [filter.source] : filter.source;
    const severities = filter.severity === undefined ? undefined : typeof filter.severity === 'string' ? [filter.severity] : filter.severity;
    const out = new Set<number>();
    for (const c of this.#chunks.values()) {
      if (filter.kind && c.kind !== filter.kind) continue;
      if (sources && !sources.some((s) => c.source === s || c.source.startsWith(s.endsWith('/') ? s : s + '/'))) continue;
      if (filter.tags && filter.tags.length > 0 && !filter.tags.every((t) => c.incident?.tags.includes(t))) continue;
      if (severities && !(c.incident && severities.includes(c.incident.severity))) continue;
      out.add(c.id);
    }
    return out;
  }

  search(query: string, options: SearchOptions = {}): Promise<SearchResult> {
    return this.#serial(() => this.#searchNow(query, options));
  }

  async #searchNow(query: string, options: SearchOptions = {}): Promise<SearchResult> {
    this.#checkOpen();
    const k = options.k ?? 5;
    const mode = options.mode ?? 'hybrid';
    if (!Number.isInteger(k) || k < 1 || k > MAX_K) throw new KbConfigError(`k must be an integer in [1, ${MAX_K}], got ${k}`, { path: 'k' });
    if (!['vector', 'bm25', 'hybrid'].includes(mode)) throw new KbConfigError(`unknown search mode "${mode}"`, { path: 'mode' });
    const lambda = options.mmr === undefined || options.mmr === false ? undefined : options.mmr === true ? MMR_DEFAULT_LAMBDA : options.mmr;
    if (lambda !== undefined && !(lambda >= 0 && lambda <= 1)) throw new KbConfigError(`MMR λ must be in [0, 1], got ${lambda}`, { path: 'mmr' });
    const depth = options.depth ?? (mode === 'hybrid' || lambda !== undefined || options.rerank ? Math.max(5 * k, 50) : k);
    if (!Number.isInteger(depth) || depth < k) throw new KbConfigError(`depth must be an integer >= k, got ${depth}`, { path: 'depth' });
    const notices: string[] = [];
    const allowed = this.#allowed(options.filter);
    if (allowed?.size === 0 || this.#chunks.size === 0 || query.trim().length === 0) return { hits: [], notices };

    let queryVector: Float32Array | undefined;
    const embedQuery = async (): Promise<Float32Array> => (queryVector ??= await this.#embedder.embed([query]));
    let vectorHits: { id: number; score: number }[] = [];
    let bm25Hits: { id: number; score: number }[] = [];
    if (mode !== 'bm25') {
      const rebuilt = await this.#ensureIndex();
      if (rebuilt) notices.push(rebuilt);
      let filter: Uint8Array | undefined;
      if (allowed) {
        filter = new Uint8Array((this.#nextId >> 3) + 1);
        for (const id of allowed) filter[id >> 3]! |= 1 << (id & 7);
      }
      const q = await embedQuery();
      const searchIndex = (): Promise<VectorHits> => this.#index.search(q, Math.min(depth, this.#vectors.size), filter ? { filter } : {});
      let r: VectorHits;
      try {
        r = await searchIndex();
      } catch (e) {
        if (!isLostIndex(e)) throw e;
        await this.#rebuildIndex();
        notices.push(`vector index: the plugin instance restarted empty; rebuilt from ${this.#vectors.size} stored embeddings`);
        r = await searchIndex();
      }
      // ip and cosine distances are 1 − similarity in the index.
      vectorHits = Array.from(r.labels, (id, i) => ({ id, score: 1 - r.distances[i]! }));
    }
    if (mode !== 'vector') {
      bm25Hits = this.#bm25.search(query, depth, allowed ? (id) => allowed.has(id) : undefined);
    }
    type Cand = { id: number; score: number; ranks: { vector?: number; bm25?: number; rerank?: number } };
    let cands: Cand[];
    if (mode === 'vector') cands = vectorHits.map((h, i) => ({ ...h, ranks: { vector: i + 1 } }));
    else if (mode === 'bm25') cands = bm25Hits.map((h, i) => ({ ...h, ranks: { bm25: i + 1 } }));
    else {
      cands = reciprocalRankFusion([
        { ids: vectorHits.map((h) => h.id), weight: options.weights?.vector ?? 1 },
        { ids: bm25Hits.map((h) => h.id), weight: options.weights?.bm25 ?? 1 },
      ]).map((f) => ({
        id: f.id, score: f.score,
        ranks: { ...(f.ranks[0] !== undefined ? { vector: f.ranks[0] } : {}), ...(f.ranks[1] !== undefined ? { bm25: f.ranks[1] } : {}) },
      }));
    }
    cands = cands.filter((c) => this.#chunks.has(c.id)).slice(0, depth);

    if (options.rerank) {
      if (!this.#reranker) {
        notices.push('re-ranking was asked for but no re-ranker model is present; results are in retrieval order');
      } else {
        const passages = cands.map((c) => retrievalText(this.#chunks.get(c.id)!));
        const s = await this.#reranker.score(query, passages);
        cands = cands.map((c, i) => ({ ...c, score: s[i]! })).sort((a, b) => b.score - a.score)
          .map((c, i) => ({ ...c, ranks: { ...c.ranks, rerank: i + 1 } }));
      }
    }
    if (lambda !== undefined && cands.length > 1) {
      const dim = this.#embedder.dim;
      const m = new Float32Array(cands.length * dim);
      cands.forEach((c, i) => m.set(this.#vectors.get(c.id)!, i * dim));
      // Relevance = the candidates' own scores scaled to [0, 1] (fused, BM25, cosine or re-ranker), so MMR trades
      // diversity against the ranking the caller asked for rather than against embedding similarity alone.
      const scores = cands.map((c) => c.score);
      const hi = Math.max(...scores);
      const lo = Math.min(...scores);
      const relevance = Float64Array.from(scores, (x) => (hi > lo ? (x - lo) / (hi - lo) : 1));
      const order = maximalMarginalRelevance(await embedQuery(), m, dim, k, lambda, relevance);
      cands = order.map((i) => cands[i]!);
    }
    return {
      hits: cands.slice(0, k).map((c) => ({ chunk: publicChunk(this.#chunks.get(c.id)!), score: c.score, ranks: c.ranks })),
      notices,
    };
  }

  /** The stored chunk with this id (undefined when absent). */
  chunk(id: number): KbChunk | undefined {
    const c = this.#chunks.get(id);
    return c ? publicChunk(c) : undefined;
  }

  /** Every stored document: key, source, hash, chunk ids. */
  documents(): readonly StoredDocument[] {
    return [...this.#docs.values()];
  }

  stats(): Promise<KbStats> {
    return this.#serial(() => this.#statsNow());
  }

  async #statsNow(): Promise<KbStats> {
    this.#checkOpen();
    const info = await this.#index.info();
    return {
      documents: this.#docs.size,
      chunks: this.#chunks.size,
      duplicatesSkipped: [...this.#docs.values()].reduce((n, d) => n + d.duplicates, 0),
      embedder: { id: this.#embedder.id, kind: this.#embedder.kind, dim: this.#embedder.dim },
      index: { kind: this.#index.kind, info },
      reranker: this.#reranker?.id ?? null,
      bytesOnDisk: await this.#store.bytesOnDisk(),
      lastIngest: this.#lastIngest,
    };
  }

  /** Closes the index (the embedder and re-ranker belong to the caller). */
  close(): Promise<void> {
    return this.#serial(async () => {
      if (this.#closed) return;
      this.#closed = true;
      await this.#index.close();
    });
  }
}
