// How the plugin host checks plugin manifest signatures without depending on the cryptography: the node injects an
// implementation (host/crypto/trusted-manifest-verifier.ts, over the shipped ML-DSA-65 plugin). host/crypto imports
// host/runtime, never the reverse.
import type { TrustedKey } from '../core/manifest/index.js';
import type { PluginSpec } from '../core/plugin-spec.js';

/** Who signed a manifest that verified. */
export interface VerifiedSigner {
  readonly algorithm: string;
  /** Short fingerprint of the signer's public key (hex). */
  readonly fingerprint: string;
  /** The trusted key's label, when it has one. */
  readonly keyName: string | null;
}

export interface ManifestVerifier {
  /**
   * Resolves when `spec.signature` is by one of `trusted` and verifies over `document`, the plugin manifest JSON the
   * spec was parsed from (the signature covers the document, not the spec). Rejects with SignatureError for an
   * untrusted key, an unknown algorithm, a malformed block or a signature that does not verify; with another
   * X0tError only when the verifier itself cannot run.
   */
  verify(document: unknown, spec: PluginSpec, trusted: readonly TrustedKey[]): Promise<VerifiedSigner>;
}
