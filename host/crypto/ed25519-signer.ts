// Plain Ed25519 (RFC 8032, pure) as a SignatureScheme, over node:crypto through curve25519.ts: the classical
// scheme a node uses until (or instead of) ML-DSA-65, selected by configuration like the others. Ed25519 has no
// context string in its pure form, so callers that need domain separation put it in the message; a non-empty
// context is refused rather than silently ignored.
import { randomBytes } from 'node:crypto';
import { CryptoInputError } from '../errors/index.js';
import { checkLength } from './check-length.js';
import {
  ED25519_PUBLIC_KEY_BYTES, ED25519_SEED_BYTES, ED25519_SIGNATURE_BYTES, ed25519Public, ed25519Sign, ed25519Verify,
} from './curve25519.js';
import type { KeyPair, SignatureScheme, SignerSizes, SignOptions, VerifyOptions } from './primitives.js';

export const ED25519_SIZES: SignerSizes = Object.freeze({
  publicKeyBytes: ED25519_PUBLIC_KEY_BYTES,
  /** The RFC 8032 secret key is the 32-byte seed. */
  secretKeyBytes: ED25519_SEED_BYTES,
  signatureBytes: ED25519_SIGNATURE_BYTES,
  seedBytes: ED25519_SEED_BYTES,
  maxContextBytes: 0,
});

export class Ed25519Signer implements SignatureScheme {
  readonly algorithm = 'ed25519';
  readonly sizes: SignerSizes = ED25519_SIZES;

  #noContext(context: Uint8Array | undefined): void {
    if (context !== undefined && context.length > 0) {
      throw new CryptoInputError(`${this.algorithm}: pure Ed25519 takes no context (put domain separation in the message)`, {
        algorithm: this.algorithm, what: 'context', actual: context.length,
      });
    }
  }

  /** A fresh key pair, or the one of `seed` (the secret key is the seed itself). */
  async keygen(seed?: Uint8Array): Promise<KeyPair> {
    if (seed !== undefined) checkLength(seed, this.sizes.seedBytes, 'seed', this.algorithm);
    const secretKey = seed === undefined ? new Uint8Array(randomBytes(ED25519_SEED_BYTES)) : seed.slice();
    return { publicKey: ed25519Public(secretKey), secretKey };
  }

  /** Always deterministic (RFC 8032); `deterministic` changes nothing. */
  async sign(secretKey: Uint8Array, message: Uint8Array, opts: SignOptions = {}): Promise<Uint8Array> {
    checkLength(secretKey, this.sizes.secretKeyBytes, 'secret key', this.algorithm);
    this.#noContext(opts.context);
    return ed25519Sign(secretKey, message);
  }

  async verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, opts: VerifyOptions = {}): Promise<boolean> {
    checkLength(publicKey, this.sizes.publicKeyBytes, 'public key', this.algorithm);
    this.#noContext(opts.context);
    return ed25519Verify(publicKey, message, signature);
  }
}
