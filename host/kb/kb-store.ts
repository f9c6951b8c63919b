// The on-disk layout of a knowledge base folder. Every write is crash-safe: each file is written to a temporary
// name, fsynced and renamed into place, and the folder is fsynced. The data files carry a generation number in
// their names and `kb.json` (written last) names the generation in force, with each file's SHA-256, so a crash at
// any point leaves either the old or the new knowledge base, never a mixture:
//
//   kb.json                    manifest: format version, generation, embedder, documents, checksums, digest
//   chunks-<gen>.json          chunk texts and metadata (JSON: text, not numbers)
//   embeddings-<gen>.f32       "X0KE", version, dim, count, embedder id, labels u32[count], vectors f32[count·dim]
//   bm25-<gen>.bin             the BM25 index (Bm25Index.serialize)
//   weights-<gen>.f32          the embedder's corpus weights (IDF of the lexical embedder), when it has any
//   index.bin                  the vector index (VectorIndex.save), tagged with the content digest
//
// All numbers in binary files are little-endian.
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { IoError, KbConfigError, KbIndexCorruptError } from '../errors/index.js';
import { replaceFileWith } from '../io/durable-file.js';
import type { ChunkerSpec } from './chunkers/chunk.js';
import type { IncidentMetadata } from './incident-record.js';

export const KB_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'kb.json';
export const INDEX_FILE = 'index.bin';

export type ChunkKind = 'doc' | 'incident';

export interface StoredDocument {
  /** Identity: the file's absolute path, or `incident-record:<id>` for records added with addIncident. */
  readonly key: string;
  /** The chunk source: path relative to the ingested folder, or `incident:<id>`. */
  readonly source: string;
  readonly kind: ChunkKind;
  readonly size: number;
  readonly mtimeMs: number;
  readonly sha256: string;
  readonly chunkIds: readonly number[];
  /** Chunks of this document skipped because an identical (normalised) chunk was already stored. */
  readonly duplicates: number;
  /** The stored chunks those duplicates matched (when one goes, this document is re-chunked). */
  readonly duplicateOf: readonly number[];
  /** The chunker it was cut with (re-ingesting with another chunker re-chunks it). */
  readonly chunker: ChunkerSpec;
}

export interface StoredChunk {
  readonly id: number;
  readonly text: string;
  readonly source: string;
  readonly headingPath: readonly string[];
  readonly start: number;
  readonly end: number;
  readonly chunker: ChunkerSpec;
  readonly kind: ChunkKind;
  readonly incident?: IncidentMetadata;
  /** Key of the document it came from. */
  readonly document: string;
}

export interface StoredEmbedder {
  readonly id: string;
  readonly dim: number;
  readonly kind: 'transformer' | 'lexical';
  readonly normalized: boolean;
}

export interface KbManifest {
  readonly version: number;
  readonly generation: number;
  readonly embedder: StoredEmbedder;
  readonly nextChunkId: number;
  readonly documents: readonly StoredDocument[];
  readonly lastIngest: string | null;
  /** SHA-256 of the embeddings file: what the vector index was built from; the index file's tag. */
  readonly contentDigest: string;
  readonly files: Readonly<Record<'chunks' | 'embeddings' | 'bm25', { readonly name: string; readonly sha256: string }>>
    & { readonly weights?: { readonly name: string; readonly sha256: string } };
}

/** Everything a knowledge base holds, as written and as loaded. */
export interface KbSnapshot {
  readonly embedder: StoredEmbedder;
  readonly nextChunkId: number;
  readonly documents: readonly StoredDocument[];
  readonly lastIngest: string | null;
  readonly chunks: readonly StoredChunk[];
  /** Chunk ids of the rows of `vectors`. */
  readonly labels: Uint32Array;
  readonly vectors: Float32Array;
  readonly bm25: Uint8Array;
  readonly weights: Float32Array | null;
}

const EMB_MAGIC = 0x454b_3058; // "X0KE"
const EMB_VERSION = 1;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function ioError(what: string, path: string, e: unknown): IoError {
  return new IoError(`${what} ${path}: ${(e as Error).message}`, { path }, { cause: e });
}

/** Writes `bytes` to `path` crash-safely (host/io/durable-file.ts). */
export function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  return replaceFileWith(path, bytes, { what: 'knowledge-base file', createFolder: false });
}

function f32Bytes(v: Float32Array): Uint8Array {
  if (!LITTLE_ENDIAN) throw new KbConfigError('the knowledge base store needs a little-endian host');
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

export function encodeEmbeddings(embedderId: string, dim: number, labels: Uint32Array, vectors: Float32Array): Uint8Array {
  if (vectors.length !== labels.length * dim) throw new KbConfigError(`embeddings: ${vectors.length} values for ${labels.length} × ${dim}`);
  const id = new TextEncoder().encode(embedderId);
  const head = 20 + id.length;
  const pad = (4 - (head % 4)) % 4;
  const out = new Uint8Array(head + pad + 4 * labels.length + 4 * vectors.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, EMB_MAGIC, true);
  dv.setUint32(4, EMB_VERSION, true);
  dv.setUint32(8, dim, true);
  dv.setUint32(12, labels.length, true);
  dv.setUint32(16, id.length, true);
  out.set(id, 20);
  let o = head + pad;
  for (let i = 0; i < labels.length; i++, o += 4) dv.setUint32(o, labels[i]!, true);
  out.set(f32Bytes(vectors), o);
  return out;
}

export function decodeEmbeddings(bytes: Uint8Array): { embedderId: string; dim: number; labels: Uint32Array; vectors: Float32Array } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.byteLength < 20 || dv.getUint32(0, true) !== EMB_MAGIC) throw new KbIndexCorruptError('embeddings file has a bad header');
  const version = dv.getUint32(4, true);
  if (version !== EMB_VERSION) throw new KbIndexCorruptError(`embeddings file version ${version} is not supported`);
  const dim = dv.getUint32(8, true);
  const count = dv.getUint32(12, true);
  const idLen = dv.getUint32(16, true);
  const head = 20 + idLen;
  const pad = (4 - (head % 4)) % 4;
  const expected = head + pad + 4 * count + 4 * count * dim;
  if (expected !== bytes.byteLength) throw new KbIndexCorruptError(`embeddings file is ${bytes.byteLength} bytes, expected ${expected}`);
  const embedderId = new TextDecoder().decode(bytes.subarray(20, head));
  const labels = new Uint32Array(count);
  let o = head + pad;
  for (let i = 0; i < count; i++, o += 4) labels[i] = dv.getUint32(o, true);
  // Copy into an aligned buffer (the file buffer's offset need not be a multiple of 4).
  const vectors = new Float32Array(count * dim);
  new Uint8Array(vectors.buffer).set(bytes.subarray(o, o + 4 * count * dim));
  return { embedderId, dim, labels, vectors };
}

function checkManifest(v: unknown, path: string): KbManifest {
  const m = v as Partial<KbManifest> | null;
  if (typeof m !== 'object' || m === null) throw new KbIndexCorruptError(`${path} is not a JSON object`);
  if (m.version !== KB_FORMAT_VERSION) {
    throw new KbConfigError(`${path} has format version ${String(m.version)}; this node reads version ${KB_FORMAT_VERSION}`, { path, version: m.version });
  }
  if (!Number.isInteger(m.generation) || typeof m.embedder?.id !== 'string' || !Array.isArray(m.documents)
    || typeof m.contentDigest !== 'string' || typeof m.files?.chunks?.name !== 'string') {
    throw new KbIndexCorruptError(`${path} lacks required fields`, { path });
  }
  return m as KbManifest;
}

/** A knowledge base folder. `manifest` is undefined for a new (empty) folder. */
export class KbStore {
  private constructor(readonly dir: string, public manifest: KbManifest | undefined) {}

  static async open(dir: string): Promise<KbStore> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      throw ioError('cannot create knowledge base folder', dir, e);
    }
    const path = join(dir, MANIFEST_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new KbStore(dir, undefined);
      throw ioError('cannot read', path, e);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new KbIndexCorruptError(`${path} is not valid JSON: ${(e as Error).message}`, { path }, { cause: e });
    }
    return new KbStore(dir, checkManifest(parsed, path));
  }

  get indexPath(): string {
    return join(this.dir, INDEX_FILE);
  }

  private async readChecked(entry: { name: string; sha256: string }): Promise<Uint8Array> {
    const path = join(this.dir, entry.name);
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new KbIndexCorruptError(`knowledge base file ${path} is missing or unreadable: ${(e as Error).message}`, { path }, { cause: e });
    }
    if (sha256(bytes) !== entry.sha256) throw new KbIndexCorruptError(`knowledge base file ${path} fails its checksum`, { path });
    return bytes;
  }

  /** Reads and verifies the generation named by kb.json; undefined for a new folder. A damaged BM25 file is not
   *  fatal (it is rebuilt from the chunks): `bm25` is then empty and `bm25Damaged` says why. */
  async load(): Promise<(KbSnapshot & { readonly bm25Damaged?: string }) | undefined> {
    const m = this.manifest;
    if (!m) return undefined;
    const chunksBytes = await this.readChecked(m.files.chunks);
    let chunks: StoredChunk[];
    try {
      chunks = JSON.parse(new TextDecoder().decode(chunksBytes)) as StoredChunk[];
    } catch (e) {
      throw new KbIndexCorruptError(`chunks file of ${this.dir} is not valid JSON`, { dir: this.dir }, { cause: e });
    }
    const emb = decodeEmbeddings(await this.readChecked(m.files.embeddings));
    if (emb.embedderId !== m.embedder.id || emb.dim !== m.embedder.dim) {
      throw new KbIndexCorruptError(`embeddings file says ${emb.embedderId}/${emb.dim}, kb.json says ${m.embedder.id}/${m.embedder.dim}`);
    }
    let bm25: Uint8Array = new Uint8Array(0);
    let bm25Damaged: string | undefined;
    try {
      bm25 = await this.readChecked(m.files.bm25);
    } catch (e) {
      bm25Damaged = (e as Error).message;
    }
    let weights: Float32Array | null = null;
    if (m.files.weights) {
      const w = await this.readChecked(m.files.weights);
      weights = new Float32Array(w.byteLength / 4);
      new Uint8Array(weights.buffer).set(w);
    }
    return {
      embedder: m.embedder, nextChunkId: m.nextChunkId, documents: m.documents, lastIngest: m.lastIngest,
      chunks, labels: emb.labels, vectors: emb.vectors, bm25, weights, ...(bm25Damaged ? { bm25Damaged } : {}),
    };
  }

  /** Writes a new generation and then kb.json naming it; removes the files of older generations afterwards. */
  async commit(s: KbSnapshot): Promise<KbManifest> {
    const generation = (this.manifest?.generation ?? 0) + 1;
    const write = async (name: string, bytes: Uint8Array): Promise<{ name: string; sha256: string }> => {
      await writeFileAtomic(join(this.dir, name), bytes);
      return { name, sha256: sha256(bytes) };
    };
    const embBytes = encodeEmbeddings(s.embedder.id, s.embedder.dim, s.labels, s.vectors);
    const files = {
      chunks: await write(`chunks-${generation}.json`, new TextEncoder().encode(JSON.stringify(s.chunks))),
      embeddings: await write(`embeddings-${generation}.f32`, embBytes),
      bm25: await write(`bm25-${generation}.bin`, s.bm25),
      ...(s.weights ? { weights: await write(`weights-${generation}.f32`, new Uint8Array(f32Bytes(s.weights))) } : {}),
    };
    const manifest: KbManifest = {
      version: KB_FORMAT_VERSION, generation, embedder: s.embedder, nextChunkId: s.nextChunkId, documents: s.documents,
      lastIngest: s.lastIngest, contentDigest: sha256(embBytes), files,
    };
    await writeFileAtomic(join(this.dir, MANIFEST_FILE), new TextEncoder().encode(JSON.stringify(manifest, null, 1)));
    this.manifest = manifest;
    await this.removeOtherGenerations(generation);
    return manifest;
  }

  private async removeOtherGenerations(keep: number): Promise<void> {
    const re = /^(?:chunks|embeddings|bm25|weights)-(\d+)\.(?:json|f32|bin)$/;
    for (const name of await readdir(this.dir)) {
      const m = re.exec(name);
      if ((m && Number(m[1]) !== keep) || /\.tmp-\d+$/.test(name)) await rm(join(this.dir, name), { force: true });
    }
  }

  /** Bytes of the files in the folder (the current generation, the index and kb.json). */
  async bytesOnDisk(): Promise<number> {
    let total = 0;
    for (const name of await readdir(this.dir)) {
      try {
        const st = await stat(join(this.dir, name));
        if (st.isFile()) total += st.size;
      } catch { /* removed meanwhile */ }
    }
    return total;
  }
}
