// Composite Ed25519 + ML-DSA-65 signatures ('ed25519+ml-dsa-65'): valid only when both halves verify, so a forger
// must break Ed25519 and ML-DSA-65. The signing procedure is that of draft-ietf-lamps-pq-composite-sigs (-19) for
// id-MLDSA65-Ed25519-SHA512; only the byte layout differs (Ed25519 first, expanded ML-DSA secret key):
//
//   M'          = Prefix ‖ Label ‖ len(ctx) (1 byte) ‖ ctx ‖ SHA-512(M)
//                 Prefix = "CompositeAlgorithmSignatures2025", Label = "COMPSIG-MLDSA65-Ed25519-SHA512" (ASCII)
//   Ed25519 sig = Ed25519.Sign(edSeed, M')                       (pure Ed25519, RFC 8032)
//   ML-DSA sig  = ML-DSA-65.Sign(mldsaSk, M', context = Label)   (FIPS 204 external ML-DSA.Sign with ctx)
//
//   public key  = Ed25519 pk (32)   ‖ ML-DSA-65 pk (1952)  = 1984 bytes
//   secret key  = Ed25519 seed (32) ‖ ML-DSA-65 sk (4032)  = 4064 bytes
//   signature   = Ed25519 sig (64)  ‖ ML-DSA-65 sig (3309) = 3373 bytes
//   keygen seed = Ed25519 seed (32) ‖ ML-DSA-65 ξ (32)     = 64 bytes
//
// The draft's own encodings are ML-DSA first (mldsaPK ‖ tradPK, mldsaSig ‖ tradSig) and an ML-DSA *seed* in the
// secret key; swapping the two halves of a draft public key or signature gives ours (see docs/PQC.md).
import { randomBytes } from 'node:crypto';
import { CryptoInputError } from '../errors/index.js';
import { checkLength } from './check-length.js';
import {
  concatBytes, ED25519_PUBLIC_KEY_BYTES, ED25519_SEED_BYTES, ED25519_SIGNATURE_BYTES, ed25519Public, ed25519Sign,
  ed25519Verify, sha512,
} from './curve25519.js';
import type { KeyPair, SignatureScheme, SignerSizes, SignOptions, VerifyOptions } from './primitives.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
/** draft-ietf-lamps-pq-composite-sigs §2.2 Prefix. */
export const COMPOSITE_PREFIX: Uint8Array = ascii('CompositeAlgorithmSignatures2025');
/** The draft's Label for id-MLDSA65-Ed25519-SHA512; also the FIPS 204 context of the ML-DSA half. */
export const COMPOSITE_LABEL: Uint8Array = ascii('COMPSIG-MLDSA65-Ed25519-SHA512');
/** len(ctx) is one byte. */
const MAX_CONTEXT = 255;

/** ML-DSA-65 sizes (FIPS 204) the construction is defined over. */
const MLDSA65 = { publicKeyBytes: 1952, secretKeyBytes: 4032, signatureBytes: 3309, seedBytes: 32 } as const;

export const COMPOSITE_SIZES: SignerSizes = Object.freeze({
  publicKeyBytes: ED25519_PUBLIC_KEY_BYTES + MLDSA65.publicKeyBytes,
  secretKeyBytes: ED25519_SEED_BYTES + MLDSA65.secretKeyBytes,
  signatureBytes: ED25519_SIGNATURE_BYTES + MLDSA65.signatureBytes,
  seedBytes: ED25519_SEED_BYTES + MLDSA65.seedBytes,
  maxContextBytes: MAX_CONTEXT,
});

/** The message representative M' both halves sign. */
export function compositeMessage(message: Uint8Array, context: Uint8Array): Uint8Array {
  return concatBytes(COMPOSITE_PREFIX, COMPOSITE_LABEL, Uint8Array.of(context.length), context, sha512(message));
}

export class CompositeSigner implements SignatureScheme {
  readonly algorithm = 'ed25519+ml-dsa-65';
  readonly sizes: SignerSizes = COMPOSITE_SIZES;
  readonly #mldsa: SignatureScheme;

  /** `mldsa` must be ML-DSA-65 (checked by its sizes): usually PqcSuite's `signer`, the sandboxed plugin. */
  constructor(mldsa: SignatureScheme) {
    for (const [k, v] of Object.entries(MLDSA65) as [keyof typeof MLDSA65, number][]) {
      if (mldsa.sizes[k] !== v) {
        throw new CryptoInputError(`${this.algorithm} needs ML-DSA-65, but ${mldsa.algorithm} has ${k} = ${mldsa.sizes[k]} (expected ${v})`, {
          algorithm: this.algorithm, what: `ml-dsa ${k}`, expected: v, actual: mldsa.sizes[k],
        });
      }
    }
    if (mldsa.sizes.maxContextBytes < COMPOSITE_LABEL.length) {
      throw new CryptoInputError(`${this.algorithm}: ${mldsa.algorithm} must accept a ${COMPOSITE_LABEL.length}-byte context`, {
        algorithm: this.algorithm, what: 'ml-dsa maxContextBytes', actual: mldsa.sizes.maxContextBytes,
      });
    }
    this.#mldsa = mldsa;
  }

  #context(context: Uint8Array | undefined): Uint8Array {
    const ctx = context ?? new Uint8Array(0);
    if (!(ctx instanceof Uint8Array) || ctx.length > MAX_CONTEXT) {
      throw new CryptoInputError(`${this.algorithm}: context must be at most ${MAX_CONTEXT} bytes`, {
        algorithm: this.algorithm, what: 'context', actual: ctx instanceof Uint8Array ? ctx.length : null,
      });
    }
    return ctx;
  }

  /** A fresh key pair (both halves independent and random), or the one derived from `seed` = Ed25519 seed ‖ ξ. */
  async keygen(seed?: Uint8Array): Promise<KeyPair> {
    if (seed !== undefined) checkLength(seed, this.sizes.seedBytes, 'seed', this.algorithm);
    const s = seed ?? new Uint8Array(randomBytes(this.sizes.seedBytes));
    const edSeed = s.slice(0, ED25519_SEED_BYTES);
    const ml = await this.#mldsa.keygen(s.slice(ED25519_SEED_BYTES));
    return {
      publicKey: concatBytes(ed25519Public(edSeed), ml.publicKey),
      secretKey: concatBytes(edSeed, ml.secretKey),
    };
  }

  /** Ed25519 is always deterministic; `deterministic` selects deterministic or hedged ML-DSA. */
  async sign(secretKey: Uint8Array, message: Uint8Array, opts: SignOptions = {}): Promise<Uint8Array> {
    checkLength(secretKey, this.sizes.secretKeyBytes, 'secret key', this.algorithm);
    const m = compositeMessage(message, this.#context(opts.context));
    const edSig = ed25519Sign(secretKey.subarray(0, ED25519_SEED_BYTES), m);
    const mlSig = await this.#mldsa.sign(secretKey.slice(ED25519_SEED_BYTES), m, {
      context: COMPOSITE_LABEL, deterministic: opts.deterministic === true,
    });
    return concatBytes(edSig, mlSig);
  }

  /** True only if both halves verify; false for a signature of the wrong length. */
  async verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, opts: VerifyOptions = {}): Promise<boolean> {
    checkLength(publicKey, this.sizes.publicKeyBytes, 'public key', this.algorithm);
    const m = compositeMessage(message, this.#context(opts.context));
    if (!(signature instanceof Uint8Array) || signature.length !== this.sizes.signatureBytes) return false;
    // Both halves are always checked, so the time taken does not tell which one failed.
    const edOk = ed25519Verify(publicKey.subarray(0, ED25519_PUBLIC_KEY_BYTES), m, signature.subarray(0, ED25519_SIGNATURE_BYTES));
    const mlOk = await this.#mldsa.verify(publicKey.slice(ED25519_PUBLIC_KEY_BYTES), m, signature.slice(ED25519_SIGNATURE_BYTES), {
      context: COMPOSITE_LABEL,
    });
    return edOk && mlOk;
  }
}
