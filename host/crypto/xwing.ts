// X-Wing (draft-connolly-cfrg-xwing-kem-10, as @noble/post-quantum 0.7.1 `ml_kem768_x25519` implements it): a
// hybrid KEM over ML-KEM-768 (the `kem` plugin, reached through the Kem interface) and X25519 (node:crypto). Only
// composition lives here:
//
//   secret key  sk (32 bytes, the root seed; everything else is re-derived from it)
//   expand(sk)  e = SHAKE256(sk, 96 bytes); (pk_M, sk_M) = ML-KEM-768.KeyGen(d = e[0:32], z = e[32:64]);
//               sk_X = e[64:96]; pk_X = X25519(sk_X, 9)
//   public key  pk_M (1184) ‖ pk_X (32)                                   = 1216 bytes
//   encaps      eseed = m (32, ML-KEM's message) ‖ ek_X (32); ct_X = X25519(ek_X, 9); ss_X = X25519(ek_X, pk_X);
//               (ct_M, ss_M) = ML-KEM-768.Encaps(pk_M, m)
//   ciphertext  ct_M (1088) ‖ ct_X (32)                                   = 1120 bytes
//   combiner    ss = SHA3-256(ss_M ‖ ss_X ‖ ct_X ‖ pk_X ‖ "\.//^\")      = 32 bytes
//
// A low-order X25519 point is not refused: X25519 then yields 32 zero bytes (RFC 7748) and the combiner proceeds, as
// the draft specifies, so decapsulation never fails for a well-formed ciphertext (noble 0.7.1 throws instead).
import { randomBytes } from 'node:crypto';
import { CryptoInputError } from '../errors/index.js';
import { checkLength } from './check-length.js';
import { concatBytes, sha3_256, shake256, x25519, x25519Public, X25519_BYTES } from './curve25519.js';
import type { Encapsulation, Kem, KemSizes, KeyPair } from './primitives.js';

/** The 6-byte X-Wing label `\.//^\` (hex 5c2e2f2f5e5c). */
export const XWING_LABEL: Uint8Array = Uint8Array.of(0x5c, 0x2e, 0x2f, 0x2f, 0x5e, 0x5c);

/** ML-KEM-768 sizes (FIPS 203) the construction is defined over. */
const MLKEM768: KemSizes = {
  publicKeyBytes: 1184, secretKeyBytes: 2400, ciphertextBytes: 1088, sharedSecretBytes: 32, seedBytes: 64, randomnessBytes: 32,
};

export const XWING_SIZES: KemSizes = Object.freeze({
  publicKeyBytes: MLKEM768.publicKeyBytes + X25519_BYTES,
  secretKeyBytes: 32,
  ciphertextBytes: MLKEM768.ciphertextBytes + X25519_BYTES,
  sharedSecretBytes: 32,
  seedBytes: 32,
  randomnessBytes: MLKEM768.randomnessBytes + X25519_BYTES,
});

interface Expanded {
  readonly skM: Uint8Array;
  readonly pkM: Uint8Array;
  readonly skX: Uint8Array;
  readonly pkX: Uint8Array;
}

export class XWing implements Kem {
  readonly algorithm = 'x-wing';
  readonly sizes: KemSizes = XWING_SIZES;
  readonly #mlkem: Kem;

  /** `mlkem` must be ML-KEM-768 (checked by its sizes): usually PqcSuite's `kem`, the sandboxed plugin. */
  constructor(mlkem: Kem) {
    for (const [k, v] of Object.entries(MLKEM768) as [keyof KemSizes, number][]) {
      if (mlkem.sizes[k] !== v) {
        throw new CryptoInputError(`x-wing needs ML-KEM-768, but ${mlkem.algorithm} has ${k} = ${mlkem.sizes[k]} (expected ${v})`, {
          algorithm: 'x-wing', what: `ml-kem ${k}`, expected: v, actual: mlkem.sizes[k],
        });
      }
    }
    this.#mlkem = mlkem;
  }

  async #expand(secretKey: Uint8Array): Promise<Expanded> {
    const e = shake256(secretKey, 96);
    const { publicKey: pkM, secretKey: skM } = await this.#mlkem.keygen(e.slice(0, 64));
    const skX = e.slice(64, 96);
    return { skM, pkM, skX, pkX: x25519Public(skX) };
  }

  /** The key pair of `seed` (32 bytes; random when omitted). The secret key is the seed itself. */
  async keygen(seed?: Uint8Array): Promise<KeyPair> {
    if (seed !== undefined) checkLength(seed, this.sizes.seedBytes, 'seed', this.algorithm);
    const sk = new Uint8Array(seed ?? randomBytes(this.sizes.seedBytes));
    const { pkM, pkX } = await this.#expand(sk);
    return { publicKey: concatBytes(pkM, pkX), secretKey: sk };
  }

  /** The public key belonging to a 32-byte secret key. */
  async publicKeyOf(secretKey: Uint8Array): Promise<Uint8Array> {
    checkLength(secretKey, this.sizes.secretKeyBytes, 'secret key', this.algorithm);
    const { pkM, pkX } = await this.#expand(secretKey);
    return concatBytes(pkM, pkX);
  }

  /** `randomness` (64 bytes) = ML-KEM message m ‖ X25519 ephemeral secret, for known-answer tests. */
  async encapsulate(publicKey: Uint8Array, randomness?: Uint8Array): Promise<Encapsulation> {
    checkLength(publicKey, this.sizes.publicKeyBytes, 'public key', this.algorithm);
    if (randomness !== undefined) checkLength(randomness, this.sizes.randomnessBytes, 'randomness', this.algorithm);
    const r = randomness ?? new Uint8Array(randomBytes(this.sizes.randomnessBytes));
    const pkM = publicKey.subarray(0, MLKEM768.publicKeyBytes);
    const pkX = publicKey.subarray(MLKEM768.publicKeyBytes);
    const ekX = r.subarray(32, 64);
    const ctX = x25519Public(ekX);
    const ssX = x25519(ekX, pkX);
    const { ciphertext: ctM, sharedSecret: ssM } = await this.#mlkem.encapsulate(pkM, r.slice(0, 32));
    return { ciphertext: concatBytes(ctM, ctX), sharedSecret: sha3_256(ssM, ssX, ctX, pkX, XWING_LABEL) };
  }

  async decapsulate(secretKey: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
    checkLength(secretKey, this.sizes.secretKeyBytes, 'secret key', this.algorithm);
    checkLength(ciphertext, this.sizes.ciphertextBytes, 'ciphertext', this.algorithm);
    const ctM = ciphertext.slice(0, MLKEM768.ciphertextBytes);
    const ctX = ciphertext.subarray(MLKEM768.ciphertextBytes);
    const { skM, skX, pkX } = await this.#expand(secretKey);
    const ssM = await this.#mlkem.decapsulate(skM, ctM);
    const ssX = x25519(skX, ctX);
    return sha3_256(ssM, ssX, ctX, pkX, XWING_LABEL);
  }
}
