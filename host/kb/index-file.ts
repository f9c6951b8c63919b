// The file a saved vector index lives in, written crash-safely: the bytes go to `<path>.tmp-<pid>`, which is fsynced,
// renamed over `<path>` and the folder fsynced, so after a crash the path holds either the previous complete file or
// the new one, never a mixture. Reading checks everything before the payload is used: a torn, truncated or
// bit-flipped file is a KbIndexCorruptError saying what is wrong, and the caller rebuilds from the knowledge base.
//
// Layout (little-endian):
//   0    "X0TVIDX\0"                        magic
//   8    u32 version (1)
//   12   u32 kind (1 = hnsw plugin image, 2 = exact index)
//   16   u32 dim, metric (0 l2, 1 ip, 2 cosine), m, efConstruction, efSearch, capacity, seed
//   44   u32 tag bytes
//   48   u64 payload bytes
//   56   SHA-256 of the payload
//   88   SHA-256 of bytes 0..88 and the tag (so a flipped parameter or tag byte is caught too)
//   120  tag (UTF-8), then the payload
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { KbIndexCorruptError } from '../errors/index.js';
import { removeStaleTemps, replaceFile } from '../io/durable-file.js';
import type { VectorIndexParams, VectorMetric } from './kb-types.js';

export const INDEX_FILE_MAGIC = 'X0TVIDX\0';
export const INDEX_FILE_VERSION = 1;
const HEADER_BYTES = 120;
const MAX_TAG_BYTES = 4096;

export type IndexFileKind = 'hnsw' | 'exact';
const KIND_CODES: Readonly<Record<IndexFileKind, number>> = { hnsw: 1, exact: 2 };
const METRIC_CODES: Readonly<Record<VectorMetric, number>> = { l2: 0, ip: 1, cosine: 2 };

export interface IndexFileMeta {
  readonly kind: IndexFileKind;
  readonly params: VectorIndexParams;
  /** The caller's stamp (e.g. the knowledge base's content digest), returned by load. */
  readonly tag: string;
}

export interface IndexFile extends IndexFileMeta {
  readonly payload: Uint8Array;
}

export function metricCode(metric: VectorMetric): number {
  return METRIC_CODES[metric];
}

export function metricName(code: number): VectorMetric | null {
  const found = (Object.keys(METRIC_CODES) as VectorMetric[]).find((m) => METRIC_CODES[m] === code);
  return found ?? null;
}

function header(meta: IndexFileMeta, tag: Buffer, payloadBytes: number, payloadHash: Buffer): Buffer {
  const h = Buffer.alloc(HEADER_BYTES);
  h.write(INDEX_FILE_MAGIC, 0, 'latin1');
  h.writeUInt32LE(INDEX_FILE_VERSION, 8);
  h.writeUInt32LE(KIND_CODES[meta.kind], 12);
  const p = meta.params;
  [p.dim, METRIC_CODES[p.metric], p.m, p.efConstruction, p.efSearch, p.capacity, p.seed].forEach((v, i) => h.writeUInt32LE(v >>> 0, 16 + 4 * i));
  h.writeUInt32LE(tag.length, 44);
  h.writeBigUInt64LE(BigInt(payloadBytes), 48);
  payloadHash.copy(h, 56);
  createHash('sha256').update(h.subarray(0, 88)).update(tag).digest().copy(h, 88);
  return h;
}

/**
 * Writes the index file at `path` from payload pieces (e.g. the plugin's save chunks, streamed without holding the
 * whole image twice): temp file, fsync, rename, fsync of the folder.
 */
export async function writeIndexFile(path: string, meta: IndexFileMeta, pieces: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
  const tag = Buffer.from(meta.tag, 'utf8');
  if (tag.length > MAX_TAG_BYTES) throw new RangeError(`index file tag is ${tag.length} bytes; at most ${MAX_TAG_BYTES}`);
  await removeStaleTemps(path);
  await replaceFile(path, async (fh) => {
    // The header is written last, once the payload's length and hash are known.
    await fh.write(Buffer.alloc(HEADER_BYTES), 0, HEADER_BYTES, 0);
    await fh.write(tag, 0, tag.length, HEADER_BYTES);
    let at = HEADER_BYTES + tag.length;
    const hash = createHash('sha256');
    for await (const piece of pieces) {
      hash.update(piece);
      let done = 0;
      while (done < piece.length) {
        const { bytesWritten } = await fh.write(piece, done, piece.length - done, at);
        done += bytesWritten;
        at += bytesWritten;
      }
    }
    const payloadBytes = at - HEADER_BYTES - tag.length;
    await fh.write(header(meta, tag, payloadBytes, hash.digest()), 0, HEADER_BYTES, 0);
  }, { what: 'index file', createFolder: false });
}

function corrupt(path: string, reason: string): KbIndexCorruptError {
  return new KbIndexCorruptError(`index file ${path} is unusable: ${reason}; rebuild the index from the knowledge base`, { path, reason });
}

/** Reads and checks an index file; throws KbIndexCorruptError for anything torn, truncated or altered. */
export async function readIndexFile(path: string): Promise<IndexFile> {
  const fh = await open(path, 'r');
  let bytes: Buffer;
  try {
    bytes = await fh.readFile();
  } finally {
    await fh.close();
  }
  if (bytes.length < HEADER_BYTES) throw corrupt(path, `${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header`);
  if (bytes.toString('latin1', 0, 8) !== INDEX_FILE_MAGIC) throw corrupt(path, 'not an index file (bad magic)');
  const version = bytes.readUInt32LE(8);
  if (version !== INDEX_FILE_VERSION) throw corrupt(path, `unsupported version ${version}`);
  const tagBytes = bytes.readUInt32LE(44);
  if (tagBytes > MAX_TAG_BYTES || HEADER_BYTES + tagBytes > bytes.length) throw corrupt(path, 'truncated, or a damaged header (tag length)');
  const tag = bytes.subarray(HEADER_BYTES, HEADER_BYTES + tagBytes);
  const headerHash = createHash('sha256').update(bytes.subarray(0, 88)).update(tag).digest();
  if (!headerHash.equals(bytes.subarray(88, 120))) throw corrupt(path, 'header checksum mismatch (a damaged header)');
  const payloadBytes = bytes.readBigUInt64LE(48);
  const actual = BigInt(bytes.length - HEADER_BYTES - tagBytes);
  if (payloadBytes !== actual) {
    throw corrupt(path, `payload is ${actual} bytes, the header says ${payloadBytes} (${actual < payloadBytes ? 'truncated' : 'trailing bytes'})`);
  }
  const payload = bytes.subarray(HEADER_BYTES + tagBytes);
  if (!createHash('sha256').update(payload).digest().equals(bytes.subarray(56, 88))) throw corrupt(path, 'payload checksum mismatch');
  const kindCode = bytes.readUInt32LE(12);
  const kind = (Object.keys(KIND_CODES) as IndexFileKind[]).find((k) => KIND_CODES[k] === kindCode);
  if (kind === undefined) throw corrupt(path, `unknown index kind ${kindCode}`);
  const metric = metricName(bytes.readUInt32LE(20));
  if (metric === null) throw corrupt(path, `unknown metric ${bytes.readUInt32LE(20)}`);
  const u32 = (at: number): number => bytes.readUInt32LE(at);
  const params: VectorIndexParams = {
    dim: u32(16), metric, m: u32(24), efConstruction: u32(28), efSearch: u32(32), capacity: u32(36), seed: u32(40),
  };
  return { kind, params, tag: tag.toString('utf8'), payload };
}
