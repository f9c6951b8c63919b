// X25519, Ed25519, SHAKE256 and SHA3-256 on raw bytes, all from node:crypto (OpenSSL): no curve or hash arithmetic
// is written here. Raw 32-byte keys become KeyObjects as JWK (RFC 8037 OKP keys), and public keys come back out of
// a KeyObject's JWK export.
//
// Why JWK and not the fixed RFC 8410 DER prefixes: on Node 20 + OpenSSL 3 a PKCS#8 DER import runs OpenSSL's
// decoder chain and costs ~700 µs here, a JWK import of the same key ~70 µs (public keys: ~130 µs against ~15 µs),
// and X-Wing and the session handshake import several keys per operation. A private OKP JWK must carry `x`, but
// OpenSSL derives the public half from `d` alone (EVP_PKEY_new_raw_private_key): the placeholder `x` below is never
// used, which test/unit/crypto-hybrid/curve25519-import.test.ts checks against the DER import for both curves.
import { createHash, createPrivateKey, createPublicKey, diffieHellman, sign, verify, type KeyObject } from 'node:crypto';

export const X25519_BYTES = 32;
export const ED25519_SEED_BYTES = 32;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

type Curve = 'X25519' | 'Ed25519';
const PLACEHOLDER_X = Buffer.alloc(32).toString('base64url');

// A node signs and verifies with the same few long-term Ed25519 keys over and over (every FL update, every session):
// their KeyObjects are kept in a small cache keyed by the raw bytes. X25519 keys are mostly ephemeral: not cached.
const KEY_CACHE_LIMIT = 512;
const keyCache = new Map<string, KeyObject>();

function cached(id: string, make: () => KeyObject): KeyObject {
  let key = keyCache.get(id);
  if (key === undefined) {
    key = make();
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

function raw32(bytes: Uint8Array, what: string): string {
  // JWK would accept other lengths for some curves; the raw forms here are exactly 32 bytes.
  if (bytes.length !== 32) throw new RangeError(`${what} must be 32 bytes, got ${bytes.length}`);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

function privateKey(crv: Curve, raw: Uint8Array): KeyObject {
  const d = raw32(raw, `${crv} secret key`);
  const make = (): KeyObject => createPrivateKey({ key: { kty: 'OKP', crv, d, x: PLACEHOLDER_X }, format: 'jwk' });
  return crv === 'Ed25519' ? cached(`s${d}`, make) : make();
}

function publicKey(crv: Curve, raw: Uint8Array): KeyObject {
  const x = raw32(raw, `${crv} public key`);
  const make = (): KeyObject => createPublicKey({ key: { kty: 'OKP', crv, x }, format: 'jwk' });
  return crv === 'Ed25519' ? cached(`p${x}`, make) : make();
}

function rawPublic(key: KeyObject): Uint8Array {
  return new Uint8Array(Buffer.from(key.export({ format: 'jwk' }).x!, 'base64url'));
}

/** X25519(sk, 9): the public key (or X-Wing ciphertext half) of a 32-byte scalar string. */
export function x25519Public(secretKey: Uint8Array): Uint8Array {
  return rawPublic(privateKey('X25519', secretKey));
}

/**
 * X25519(sk, u) as RFC 7748 §5 defines it, including for the low-order u that make it all zero: OpenSSL refuses
 * to return that output (ERR_OSSL_FAILED_DURING_DERIVATION, its only failure once both keys are well-formed), so
 * the function returns the 32 zero bytes the formula yields. Callers that must refuse such peers check for zero.
 */
export function x25519(secretKey: Uint8Array, u: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(diffieHellman({ privateKey: privateKey('X25519', secretKey), publicKey: publicKey('X25519', u) }));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_OSSL_FAILED_DURING_DERIVATION') return new Uint8Array(X25519_BYTES);
    throw e;
  }
}

/** The Ed25519 public key of a 32-byte RFC 8032 secret seed. */
export function ed25519Public(seed: Uint8Array): Uint8Array {
  return rawPublic(privateKey('Ed25519', seed));
}

/** Pure Ed25519 (RFC 8032 §5.1.6): deterministic, 64 bytes. */
export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, privateKey('Ed25519', seed)));
}

/** Pure Ed25519 verification; false for a bad signature and for a 32-byte string that is not a curve point. */
export function ed25519Verify(publicKey32: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  let key: KeyObject;
  try {
    key = publicKey('Ed25519', publicKey32);
  } catch {
    return false;
  }
  try {
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
}

export function shake256(data: Uint8Array, outputBytes: number): Uint8Array {
  return new Uint8Array(createHash('shake256', { outputLength: outputBytes }).update(data).digest());
}

export function sha3_256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha3-256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function sha512(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha512').update(data).digest());
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
