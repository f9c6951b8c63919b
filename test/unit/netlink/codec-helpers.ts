// Shared by the netlink codec tests: hex literals for hand-written vectors, and the "only CodecError" check.
import assert from 'node:assert/strict';
import { CodecError } from '../../../host/errors/index.js';

/** Bytes from a hex string; whitespace and `|` separators (marking fields) are ignored. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]/g, '');
  assert.equal(clean.length % 2, 0, 'odd hex length');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** Runs a decoder; it may succeed or throw, but nothing except CodecError may escape. */
export function onlyCodecError(decode: () => unknown): void {
  try {
    decode();
  } catch (e) {
    assert.ok(e instanceof CodecError, `expected CodecError, got ${String(e)}`);
  }
}

/** Variants of valid bytes that a decoder must survive: truncations and single-byte corruptions. */
export function damaged(bytes: Uint8Array, cut: number, at: number, value: number): Uint8Array[] {
  const truncated = bytes.slice(0, cut % (bytes.byteLength + 1));
  const flipped = bytes.slice();
  if (flipped.byteLength > 0) flipped[at % flipped.byteLength] = value;
  return [truncated, flipped];
}
