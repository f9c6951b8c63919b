// A KEM over X25519 for the classic (pre-quantum) session suite, shaped like RFC 9180's DHKEM so it fits the Kem
// interface that X-Wing and ML-KEM implement:
//
//   keygen      sk = seed (32, random when omitted); pk = X25519(sk, 9)
//   encaps      ek = randomness (32); enc = X25519(ek, 9); dh = X25519(ek, pk)
//   decaps      dh = X25519(sk, enc)
//   secret      ss = HKDF-SHA3-256(ikm = dh, salt = "x0t-x25519-kem-v1", info = enc ‖ pk, 32 bytes)
//
// Binding enc and pk into the secret (as DHKEM does) ties the secret to this encapsulation and this recipient.
// Encapsulating to a low-order public key (all-zero dh) is refused: the sender would share a secret everyone knows.
// Decapsulation never fails for a 32-byte ciphertext (a low-order enc gives the secret of dh = 0, which only an
// attacker who chose it learns — the same as if it had encapsulated honestly).
//
// Speed: on this Node/OpenSSL 3, importing a raw key through DER costs ~1 ms (private) / ~0.3 ms (public), a JWK
// public import ~15 µs and an X25519 itself ~80 µs. So fresh key pairs come from generateKeyPairSync (no import),
// peer public keys are imported as JWK, and the KeyObject of a secret key is kept: in a WeakMap for key pairs this
// class made (ephemeral keys), and in a small cache for the long-lived static key. Keys given as bytes (seeds, KATs)
// take the DER path of curve25519.ts.
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, type KeyObject } from 'node:crypto';
import { CryptoInputError } from '../errors/index.js';
import { checkLength } from './check-length.js';
import { concatBytes, x25519, x25519Public, X25519_BYTES } from './curve25519.js';
import type { Encapsulation, Kem, KemSizes, KeyPair } from './primitives.js';

export const X25519_KEM_SIZES: KemSizes = Object.freeze({
  publicKeyBytes: X25519_BYTES,
  secretKeyBytes: X25519_BYTES,
  ciphertextBytes: X25519_BYTES,
  sharedSecretBytes: 32,
  seedBytes: X25519_BYTES,
  randomnessBytes: X25519_BYTES,
});

const SALT = new TextEncoder().encode('x0t-x25519-kem-v1');

/** A private KeyObject from a JWK whose `x` was computed from `d` (so it is the true public key). */
function createPrivateKeyJwk(jwk: { kty: string; crv: string; d: string; x: string }): KeyObject {
  return createPrivateKey({ key: jwk, format: 'jwk' });
}

function secret(dh: Uint8Array, enc: Uint8Array, pk: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha3-256', dh, SALT, concatBytes(enc, pk), 32));
}

const b64url = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
const fromB64url = (s: string | undefined): Uint8Array => new Uint8Array(Buffer.from(s ?? '', 'base64url'));

interface Held {
  readonly key: KeyObject;
  readonly publicKey: Uint8Array;
}

/** A fresh key pair as KeyObject + raw bytes, without any import. */
function freshPair(): Held & { readonly secretKey: Uint8Array } {
  const { privateKey } = generateKeyPairSync('x25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return { key: privateKey, publicKey: fromB64url(jwk.x), secretKey: fromB64url(jwk.d) };
}

/** X25519 of a held secret and a raw public key; all zero for a low-order point (as curve25519.ts's x25519). */
function dhWith(key: KeyObject, publicKey: Uint8Array): Uint8Array {
  let peer: KeyObject;
  try {
    peer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64url(publicKey) }, format: 'jwk' });
  } catch {
    return new Uint8Array(X25519_BYTES);
  }
  try {
    return new Uint8Array(diffieHellman({ privateKey: key, publicKey: peer }));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_OSSL_FAILED_DURING_DERIVATION') return new Uint8Array(X25519_BYTES);
    throw e;
  }
}

const STATIC_CACHE_LIMIT = 64;

export class X25519Kem implements Kem {
  readonly algorithm = 'x25519';
  readonly sizes: KemSizes = X25519_KEM_SIZES;
  readonly #made = new WeakMap<Uint8Array, Held>();
  readonly #static = new Map<string, Held>();

  /** The KeyObject behind a secret key: made here, cached, or imported once through DER. */
  #held(secretKey: Uint8Array): Held {
    const made = this.#made.get(secretKey);
    if (made !== undefined) return made;
    const id = b64url(secretKey);
    let h = this.#static.get(id);
    if (h === undefined) {
      const publicKey = x25519Public(secretKey);
      const jwk = { kty: 'OKP', crv: 'X25519', d: id, x: b64url(publicKey) };
      h = { key: createPrivateKeyJwk(jwk), publicKey };
      if (this.#static.size >= STATIC_CACHE_LIMIT) this.#static.clear();
      this.#static.set(id, h);
    }
    return h;
  }

  async keygen(seed?: Uint8Array): Promise<KeyPair> {
    if (seed !== undefined) {
      checkLength(seed, this.sizes.seedBytes, 'seed', this.algorithm);
      const secretKey = seed.slice();
      return { publicKey: x25519Public(secretKey), secretKey };
    }
    const p = freshPair();
    this.#made.set(p.secretKey, p);
    return { publicKey: p.publicKey, secretKey: p.secretKey };
  }

  async encapsulate(publicKey: Uint8Array, randomness?: Uint8Array): Promise<Encapsulation> {
    checkLength(publicKey, this.sizes.publicKeyBytes, 'public key', this.algorithm);
    if (randomness !== undefined) checkLength(randomness, this.sizes.randomnessBytes, 'randomness', this.algorithm);
    let enc: Uint8Array;
    let dh: Uint8Array;
    if (randomness === undefined) {
      const e = freshPair();
      enc = e.publicKey;
      dh = dhWith(e.key, publicKey);
    } else {
      enc = x25519Public(randomness);
      dh = x25519(randomness, publicKey);
    }
    if (dh.every((b) => b === 0)) {
      throw new CryptoInputError(`${this.algorithm}: the public key is a low-order point`, { algorithm: this.algorithm, what: 'public key' });
    }
    return { ciphertext: enc, sharedSecret: secret(dh, enc, publicKey) };
  }

  async decapsulate(secretKey: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
    checkLength(secretKey, this.sizes.secretKeyBytes, 'secret key', this.algorithm);
    checkLength(ciphertext, this.sizes.ciphertextBytes, 'ciphertext', this.algorithm);
    const h = this.#held(secretKey);
    return secret(dhWith(h.key, ciphertext), ciphertext, h.publicKey);
  }
}
