// The mask generator: a 32-byte seed expanded into u32 words by the AES-256-CTR keystream (node:crypto) with a zero
// counter block. Each seed is used for exactly one mask vector (seeds are fresh per round and per pair), so the
// fixed IV never repeats a (key, counter) pair across different masks.
import { createCipheriv } from 'node:crypto';
import { endianness } from 'node:os';
import { SecAggError } from '../../errors/index.js';

export const SECAGG_SEED_BYTES = 32;
const ZERO_IV = Buffer.alloc(16);
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** `dim` pseudo-random u32 words, read little-endian from the keystream of AES-256-CTR(seed). */
export function expandMask(seed: Uint8Array, dim: number): Uint32Array {
  if (seed.length !== SECAGG_SEED_BYTES) {
    throw new SecAggError(`secagg: mask seed must be ${SECAGG_SEED_BYTES} bytes`, { reason: 'protocol' });
  }
  const cipher = createCipheriv('aes-256-ctr', seed, ZERO_IV);
  const stream = Buffer.concat([cipher.update(Buffer.alloc(dim * 4)), cipher.final()]);
  return wordsLE(stream, dim);
}

/** u32 little-endian words of `bytes` (exactly 4·dim long), copied into an aligned array. */
export function wordsLE(bytes: Uint8Array, dim: number): Uint32Array {
  const out = new Uint32Array(dim);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(bytes.subarray(0, dim * 4));
  } else {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, dim * 4);
    for (let i = 0; i < dim; i++) out[i] = dv.getUint32(i * 4, true);
  }
  return out;
}

/** acc += sign · mask, mod 2^32 (typed-array stores wrap). */
export function addMask(acc: Uint32Array, mask: Uint32Array, sign: 1 | -1): void {
  if (sign === 1) for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + mask[i]!;
  else for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! - mask[i]!;
}
