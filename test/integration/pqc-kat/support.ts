// Helpers for the ML-KEM-768 / ML-DSA-65 interop tests: a seeded deterministic byte source (so every failure names a
// seed that reproduces it), byte comparison that reports the first difference instead of dumping kilobytes, and the
// FIPS 203/204 encodings the malformed-input cases edit.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CryptoInputError } from '../../../host/errors/index.js';

/** Master seed of every random value in these tests; set PQC_KAT_SEED to replay a reported failure. */
export const MASTER_SEED = process.env.PQC_KAT_SEED ?? 'x0tta6bl4-pqc-kat-v1';

/** How many random seeds each known-answer case runs (the issue asks for at least 1,000). */
export const SEEDS = Number(process.env.PQC_KAT_SEEDS ?? 1000);

/**
 * Deterministic bytes for (label, index): SHAKE256(master ‖ '/' ‖ label ‖ '/' ‖ index). Plain Uint8Array, never a
 * Buffer (liboqs-js refuses Buffers).
 */
export function drbg(label: string, index: number, length: number): Uint8Array {
  const out = createHash('shake256', { outputLength: length }).update(`${MASTER_SEED}/${label}/${index}`).digest();
  return new Uint8Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.length));
}

/** A deterministic integer in [lo, hi] for (label, index). */
export function drbgInt(label: string, index: number, lo: number, hi: number): number {
  const b = drbg(label, index, 4);
  const x = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  return lo + (x % (hi - lo + 1));
}

export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');

/** Text that replays case `label` number `index`: the env var, the index and the seed bytes in hex. */
export function replay(label: string, index: number, seed?: Uint8Array): string {
  return `PQC_KAT_SEED=${MASTER_SEED} case=${label} i=${index}${seed === undefined ? '' : ` seed=${hex(seed)}`}`;
}

/** Asserts equal bytes; on a mismatch names `what`, the lengths, the first differing offset and `where`. */
export function sameBytes(actual: Uint8Array, expected: Uint8Array, what: string, where: string): void {
  if (actual.length === expected.length) {
    let i = 0;
    while (i < actual.length && actual[i] === expected[i]) i++;
    if (i === actual.length) return;
    assert.fail(`${what} differs at byte ${i} of ${actual.length} (ours ${hex(actual.subarray(i, i + 8))}…, ` +
      `peer ${hex(expected.subarray(i, i + 8))}…); replay: ${where}`);
  }
  assert.fail(`${what}: ${actual.length} bytes, peer ${expected.length}; replay: ${where}`);
}

export function differentBytes(a: Uint8Array, b: Uint8Array, what: string, where: string): void {
  assert.ok(a.length !== b.length || a.some((x, i) => x !== b[i]), `${what} should differ; replay: ${where}`);
}

/** Asserts the promise rejects with CryptoInputError (code X0T_CRYPTO_INPUT); returns the error. */
export async function rejectsInput(p: Promise<unknown>, what: string): Promise<CryptoInputError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err !== undefined, `${what}: expected CryptoInputError, but the call succeeded`);
  assert.ok(err instanceof CryptoInputError, `${what}: expected CryptoInputError, got ${String((err as Error)?.name)}: ${String((err as Error)?.message)}`);
  assert.equal(err.code, 'X0T_CRYPTO_INPUT');
  return err;
}

/** Runs `f` and returns what it threw (or undefined); for peers whose refusals are plain errors. */
export function thrown(f: () => unknown): unknown {
  try {
    f();
    return undefined;
  } catch (e) {
    return e;
  }
}

export function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = new Uint8Array(bytes); // a copy, and never a Buffer (Buffer#slice is a view)
  out[bit >> 3]! ^= 1 << (bit & 7);
  return out;
}

// ---- FIPS 203 (ML-KEM-768) layouts ----
export const KEM = {
  K: 3,
  Q: 3329,
  PK: 1184,
  SK: 2400,
  CT: 1088,
  SS: 32,
  SEED: 64,
  M: 32,
  /** dk = dk_PKE (384k) ‖ ek (384k + 32) ‖ H(ek) (32) ‖ z (32). */
  SK_EK_OFFSET: 1152,
  SK_H_OFFSET: 2336,
  SK_Z_OFFSET: 2368,
} as const;

/** Sets coefficient `k` (0 … 256·K−1) of t̂ in an ML-KEM encapsulation key (ByteEncode12) to `value` (< 4096). */
export function setEkCoefficient(ek: Uint8Array, k: number, value: number): Uint8Array {
  const out = new Uint8Array(ek);
  const off = 3 * (k >> 1);
  if ((k & 1) === 0) {
    out[off] = value & 0xff;
    out[off + 1] = (out[off + 1]! & 0xf0) | (value >> 8);
  } else {
    out[off + 1] = (out[off + 1]! & 0x0f) | ((value & 0x0f) << 4);
    out[off + 2] = value >> 4;
  }
  return out;
}

export function getEkCoefficient(ek: Uint8Array, k: number): number {
  const off = 3 * (k >> 1);
  return (k & 1) === 0 ? ek[off]! | ((ek[off + 1]! & 0x0f) << 8) : (ek[off + 1]! >> 4) | (ek[off + 2]! << 4);
}

/** The implicit-rejection secret of FIPS 203 ML-KEM.Decaps_internal: K̄ = J(z ‖ c) = SHAKE256(z ‖ c, 32 bytes). */
export function implicitRejection(secretKey: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const z = secretKey.subarray(KEM.SK_Z_OFFSET, KEM.SK_Z_OFFSET + 32);
  return new Uint8Array(createHash('shake256', { outputLength: 32 }).update(z).update(ciphertext).digest());
}

// ---- FIPS 204 (ML-DSA-65) layouts ----
export const DSA = {
  PK: 1952,
  SK: 4032,
  SIG: 3309,
  SEED: 32,
  MAX_CONTEXT: 255,
  L: 5,
  K: 6,
  OMEGA: 55,
  GAMMA1: 1 << 19,
  BETA: 196, // τ·η = 49·4
  /** σ = c̃ (λ/4 = 48) ‖ z (L polynomials, 20 bits per coefficient = 640 bytes each) ‖ h (ω + k = 61). */
  Z_OFFSET: 48,
  H_OFFSET: 48 + 5 * 640,
} as const;

/**
 * Sets the packed value of z coefficient `k` (0 … 256·L−1) to `packed` (< 2^20); the decoded coefficient is
 * γ1 − packed (FIPS 204 BitUnpack(·, γ1 − 1, γ1)).
 */
export function setZPacked(sig: Uint8Array, k: number, packed: number): Uint8Array {
  const out = new Uint8Array(sig);
  // 20 bits per coefficient: two coefficients per 5 bytes.
  const off = DSA.Z_OFFSET + 5 * (k >> 1);
  if ((k & 1) === 0) {
    out[off] = packed & 0xff;
    out[off + 1] = (packed >> 8) & 0xff;
    out[off + 2] = (out[off + 2]! & 0xf0) | (packed >> 16);
  } else {
    out[off + 2] = (out[off + 2]! & 0x0f) | ((packed & 0x0f) << 4);
    out[off + 3] = (packed >> 4) & 0xff;
    out[off + 4] = packed >> 12;
  }
  return out;
}

export function getZPacked(sig: Uint8Array, k: number): number {
  const off = DSA.Z_OFFSET + 5 * (k >> 1);
  return (k & 1) === 0
    ? sig[off]! | (sig[off + 1]! << 8) | ((sig[off + 2]! & 0x0f) << 16)
    : (sig[off + 2]! >> 4) | (sig[off + 3]! << 4) | (sig[off + 4]! << 12);
}

/** The hint section: ω index bytes, then k cumulative counts. */
export function hintCounts(sig: Uint8Array): number[] {
  return Array.from(sig.subarray(DSA.H_OFFSET + DSA.OMEGA, DSA.H_OFFSET + DSA.OMEGA + DSA.K));
}
