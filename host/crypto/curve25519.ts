// X25519, Ed25519, SHAKE256 and SHA3-256 on raw bytes, all from node:crypto (OpenSSL): no curve or hash arithmetic
// is written here. Raw 32-byte keys become KeyObjects through the fixed RFC 8410 DER prefixes (PKCS#8 for secret
// keys, SubjectPublicKeyInfo for public keys), and public keys come back out as the last 32 bytes of the SPKI.
import { createHash, createPrivateKey, createPublicKey, diffieHellman, sign, verify, type KeyObject } from 'node:crypto';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
/** PKCS#8 PrivateKeyInfo { v0, id-X25519 (1.3.101.110), OCTET STRING { OCTET STRING (32) } }. */
const X25519_PKCS8 = hex('302e020100300506032b656e04220420');
/** SubjectPublicKeyInfo { id-X25519, BIT STRING (32) }. */
const X25519_SPKI = hex('302a300506032b656e032100');
/** The same two for id-Ed25519 (1.3.101.112). */
const ED25519_PKCS8 = hex('302e020100300506032b657004220420');
const ED25519_SPKI = hex('302a300506032b6570032100');

export const X25519_BYTES = 32;
export const ED25519_SEED_BYTES = 32;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;

// Parsing DER into a KeyObject costs more than an Ed25519 signature itself, and a node signs and verifies with the
// same few long-term keys over and over (every FL update, every session): the Ed25519 KeyObjects are kept in a small
// cache keyed by the DER bytes. X25519 keys are mostly ephemeral, so they are not cached.
const KEY_CACHE_LIMIT = 512;
const keyCache = new Map<string, KeyObject>();

function cached(der: Buffer, make: () => KeyObject): KeyObject {
  const id = der.toString('base64');
  let key = keyCache.get(id);
  if (key === undefined) {
    key = make();
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    keyCache.set(id, key);
  }
  return key;
}

function privateKey(prefix: Buffer, raw: Uint8Array): KeyObject {
  const der = Buffer.concat([prefix, raw]);
  const make = (): KeyObject => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return prefix === ED25519_PKCS8 ? cached(der, make) : make();
}

function publicKey(prefix: Buffer, raw: Uint8Array): KeyObject {
  const der = Buffer.concat([prefix, raw]);
  const make = (): KeyObject => createPublicKey({ key: der, format: 'der', type: 'spki' });
  return prefix === ED25519_SPKI ? cached(der, make) : make();
}

function rawPublic(key: KeyObject): Uint8Array {
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - 32));
}

/** X25519(sk, 9): the public key (or X-Wing ciphertext half) of a 32-byte scalar string. */
export function x25519Public(secretKey: Uint8Array): Uint8Array {
  return rawPublic(privateKey(X25519_PKCS8, secretKey));
}

/**
 * X25519(sk, u) as RFC 7748 §5 defines it, including for the low-order u that make it all zero: OpenSSL refuses
 * to return that output (ERR_OSSL_FAILED_DURING_DERIVATION, its only failure once both keys are well-formed), so
 * the function returns the 32 zero bytes the formula yields. Callers that must refuse such peers check for zero.
 */
export function x25519(secretKey: Uint8Array, u: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(diffieHellman({ privateKey: privateKey(X25519_PKCS8, secretKey), publicKey: publicKey(X25519_SPKI, u) }));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_OSSL_FAILED_DURING_DERIVATION') return new Uint8Array(X25519_BYTES);
    throw e;
  }
}

/** The Ed25519 public key of a 32-byte RFC 8032 secret seed. */
export function ed25519Public(seed: Uint8Array): Uint8Array {
  return rawPublic(privateKey(ED25519_PKCS8, seed));
}

/** Pure Ed25519 (RFC 8032 §5.1.6): deterministic, 64 bytes. */
export function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, privateKey(ED25519_PKCS8, seed)));
}

/** Pure Ed25519 verification; false for a bad signature and for a 32-byte string that is not a curve point. */
export function ed25519Verify(publicKey32: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
  let key: KeyObject;
  try {
    key = publicKey(ED25519_SPKI, publicKey32);
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
