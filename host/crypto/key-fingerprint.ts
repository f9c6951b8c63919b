// The short name of a public key people compare and errors quote: the first 16 bytes of its SHA-256, in hex.
import { createHash } from 'node:crypto';

export const FINGERPRINT_BYTES = 16;

export function keyFingerprint(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest().subarray(0, FINGERPRINT_BYTES).toString('hex');
}
