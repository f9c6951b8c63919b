// The fragment body (outer frame kind 2): one piece of an outer frame too big for the path's UDP payload.
// Layout: msgId u32 | index u16 | count u16 | chunk (the rest, ≥ 1 byte). The chunks of indexes 0..count-1,
// concatenated, are one complete outer frame. Limits on count and size are the reassembler's (reassembly.ts).
import type { ByteReader } from './byte-reader.js';
import type { ByteWriter } from './byte-writer.js';

export interface Fragment {
  readonly msgId: number;
  readonly index: number;
  readonly count: number;
  readonly chunk: Uint8Array;
}

/** Bytes a fragment adds in front of its chunk, after the 4-byte outer header. */
export const FRAGMENT_HEADER_BYTES = 8;

function check(f: { index: number; count: number; chunkBytes: number }, fail: (reason: string, message: string) => Error): void {
  if (f.count < 1) throw fail('range', 'fragment count must be at least 1');
  if (f.index >= f.count) throw fail('range', `fragment index ${f.index} not below count ${f.count}`);
  if (f.chunkBytes === 0) throw fail('range', 'empty fragment chunk');
}

export function writeFragment(w: ByteWriter, f: Fragment): void {
  w.u32(f.msgId, 'msgId').u16(f.index, 'index').u16(f.count, 'count');
  check({ index: f.index, count: f.count, chunkBytes: f.chunk.byteLength }, (r, m) => w.fail(r, m));
  w.bytes(f.chunk);
}

export function readFragment(r: ByteReader): Fragment {
  const msgId = r.u32('msgId');
  const index = r.u16('index');
  const count = r.u16('count');
  const chunk = r.rest();
  check({ index, count, chunkBytes: chunk.byteLength }, (reason, m) => r.fail(reason, m));
  return { msgId, index, count, chunk };
}
