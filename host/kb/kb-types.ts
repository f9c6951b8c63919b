// The interfaces the knowledge base is assembled from. Each has one real implementation behind it: the
// `vector-index` plugin (HNSW in WebAssembly), the MiniLM embedder on onnxruntime-web or the lexical `embedder`
// plugin, and the cross-encoder re-ranker. The knowledge base only sees these shapes, so tests and the CLI wire
// the same code whichever embedder is present.

/** Distance the index ranks by. Cosine normalises vectors and queries; inner product does not. */
export type VectorMetric = 'l2' | 'ip' | 'cosine';

/** Turns texts into vectors; row-major `count × dim`, in the order given. */
export interface Embedder {
  /** Stable name of the model and its parameters, e.g. `all-MiniLM-L6-v2` or `lexical-hash-384`; stored with
   *  the knowledge base, whose vectors are only comparable with the same id. */
  readonly id: string;
  readonly dim: number;
  /** `transformer`: a neural sentence encoder; `lexical`: the hashing-trick fallback used when no model is present. */
  readonly kind: 'transformer' | 'lexical';
  /** True when every vector is L2-normalised (cosine = inner product). */
  readonly normalized: boolean;
  embed(texts: readonly string[]): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Scores (query, passage) pairs jointly; higher = more relevant. */
export interface Reranker {
  readonly id: string;
  score(query: string, passages: readonly string[]): Promise<Float32Array>;
  close(): Promise<void>;
}

/** Nearest labels of one query, nearest first. */
export interface VectorHits {
  readonly labels: Uint32Array;
  readonly distances: Float32Array;
}

/** Parameters of an index (HNSW defaults of the knowledge base: M 32, efConstruction 200, efSearch 256). */
export interface VectorIndexParams {
  readonly dim: number;
  readonly metric: VectorMetric;
  readonly m: number;
  readonly efConstruction: number;
  readonly efSearch: number;
  /** Initial capacity; the index grows on demand. */
  readonly capacity: number;
  readonly seed: number;
}

export interface VectorIndexInfo extends VectorIndexParams {
  readonly count: number;
  readonly deleted: number;
  readonly memoryBytes: number;
}

export interface VectorSearchOptions {
  /** Beam width; default the index's efSearch. */
  readonly ef?: number;
  /** Labels that may be returned: bit `l % 8` of byte `l >> 3`; absent = all. */
  readonly filter?: Uint8Array;
}

/** A labelled vector index: the `vector-index` plugin behind a slot, or the exact in-process scan. */
export interface VectorIndex {
  readonly kind: 'hnsw' | 'exact';
  /** Inserts or replaces; `vectors` is `labels.length × dim` row-major. */
  add(labels: Uint32Array, vectors: Float32Array): Promise<void>;
  remove(labels: Uint32Array): Promise<void>;
  search(query: Float32Array, k: number, options?: VectorSearchOptions): Promise<VectorHits>;
  info(): Promise<VectorIndexInfo>;
  /** Writes the index to `path` crash-safely (temp file, fsync, rename); `tag` (e.g. the KB's content digest) is
   *  stored with it and returned by load, so a stale file is recognised. */
  save(path: string, tag: string): Promise<void>;
  /** Replaces the index with the file's; throws KbIndexCorruptError for a torn or corrupted file (the index is
   *  left as it was) and returns the stored tag. */
  load(path: string): Promise<{ tag: string }>;
  close(): Promise<void>;
}
