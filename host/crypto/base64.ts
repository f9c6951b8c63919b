// Keys and signatures in JSON files are standard padded base64 (RFC 4648 §4). Decoding is strict: Node's decoder
// skips characters it does not know and ignores stray bits, so two different texts could mean the same bytes.
import { BASE64 } from '../core/manifest/index.js';

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** The bytes of a canonical padded base64 text, or null for anything else. */
export function fromBase64(text: unknown): Uint8Array | null {
  if (typeof text !== 'string' || !BASE64.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? new Uint8Array(bytes) : null;
}

/** Byte equality of two public values (not constant-time: nothing secret is compared with it). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
