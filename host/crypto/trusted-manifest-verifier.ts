// The ManifestVerifier a node injects into its PluginHost: verifyManifestSignature over the shipped ML-DSA-65 plugin,
// opened the first time a signature by a trusted key has to be checked and kept until close().
import type { TrustedKey } from '../core/manifest/index.js';
import type { PluginSpec } from '../core/plugin-spec.js';
import { SignatureError } from '../errors/index.js';
import type { ManifestVerifier, VerifiedSigner } from '../runtime/manifest-verifier.js';
import { verifyManifestSignature } from './manifest-signature.js';
import type { SignatureScheme } from './primitives.js';
import { SigningSchemes, type SigningSchemesOptions } from './signing-schemes.js';

export class TrustedManifestVerifier implements ManifestVerifier {
  readonly #opts: SigningSchemesOptions;
  #schemes: Promise<SigningSchemes> | null = null;
  #closed = false;

  constructor(opts: SigningSchemesOptions = {}) {
    this.#opts = opts;
  }

  /** Whether the ML-DSA-65 plugin has been opened (it is only when a trusted signature had to be checked). */
  get opened(): boolean {
    return this.#schemes !== null;
  }

  verify(document: unknown, spec: PluginSpec, trusted: readonly TrustedKey[]): Promise<VerifiedSigner> {
    return verifyManifestSignature(document, spec, trusted, (algorithm) => this.#scheme(algorithm));
  }

  async #scheme(algorithm: string): Promise<SignatureScheme> {
    if (this.#closed) throw new SignatureError('the manifest verifier is closed', { algorithm });
    if (this.#schemes === null) {
      const opening = SigningSchemes.open(this.#opts);
      this.#schemes = opening;
      // A failed open (e.g. the plugin file missing) is retried by the next verification.
      opening.catch(() => {
        if (this.#schemes === opening) this.#schemes = null;
      });
    }
    const scheme = (await this.#schemes).scheme(algorithm);
    if (scheme === null) throw new SignatureError(`no verifier for ${algorithm}`, { algorithm });
    return scheme;
  }

  /** Closes the ML-DSA-65 plugin if it was opened; later verifications fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const schemes = this.#schemes;
    this.#schemes = null;
    if (schemes !== null) await (await schemes.catch(() => null))?.close();
  }
}
