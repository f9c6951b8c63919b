// The signature algorithms a node can trust for plugin manifests, with their sizes, and the base64 text form keys
// and signatures take in JSON. Pure: the cryptography itself lives in host/crypto.

export interface SignatureAlgorithmSizes {
  readonly publicKeyBytes: number;
  readonly signatureBytes: number;
}

/**
 * `ed25519+ml-dsa-65`: the composite a node identity key signs with (Ed25519 ‖ ML-DSA-65; both must verify).
 * `ml-dsa-65`: FIPS 204 ML-DSA-65 alone.
 */
export const SIGNATURE_ALGORITHMS: Readonly<Record<string, SignatureAlgorithmSizes>> = Object.freeze({
  'ed25519+ml-dsa-65': Object.freeze({ publicKeyBytes: 32 + 1952, signatureBytes: 64 + 3309 }),
  'ml-dsa-65': Object.freeze({ publicKeyBytes: 1952, signatureBytes: 3309 }),
});

export const SIGNATURE_ALGORITHM_NAMES: readonly string[] = Object.freeze(Object.keys(SIGNATURE_ALGORITHMS));

export function signatureAlgorithm(name: string): SignatureAlgorithmSizes | null {
  return Object.hasOwn(SIGNATURE_ALGORITHMS, name) ? SIGNATURE_ALGORITHMS[name]! : null;
}

/** Standard base64 with padding (RFC 4648 §4), the only form keys and signatures take in JSON. */
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The number of bytes a padded base64 text decodes to, or null when it is not padded base64. */
export function base64DecodedLength(text: string): number | null {
  if (!BASE64.test(text)) return null;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - pad;
}
