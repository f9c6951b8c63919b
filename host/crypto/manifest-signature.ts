// Plugin manifest signatures: what is signed, how a signature is made, and how a node checks one.
//
//   signed bytes  UTF-8 of the canonical JSON of the manifest without its `signature` and `$schema` members:
//                 object members sorted by key (UTF-16 code units), no whitespace, strings and numbers as
//                 ECMAScript JSON.stringify writes them (the same text RFC 8785 JCS gives for manifest values)
//   context       ASCII "x0t-plugin-manifest-v1", the signature scheme's context string (FIPS 204 ctx; for the
//                 composite it goes into M' and ML-DSA signs under the composite label)
//   block         "signature": {"algorithm": "ed25519+ml-dsa-65", "publicKey": base64, "value": base64}
//
// The manifest pins the wasm's SHA-256, so a signature over the manifest covers the module. `$schema` is an editor
// hint and is left out so that moving a manifest (and its relative `$schema`) does not break its signature.
import type { TrustedKey } from '../core/manifest/index.js';
import { SIGNATURE_ALGORITHM_NAMES, signatureAlgorithm } from '../core/manifest/index.js';
import type { PluginSignature, PluginSpec } from '../core/plugin-spec.js';
import { CryptoInputError, SignatureError } from '../errors/index.js';
import type { VerifiedSigner } from '../runtime/manifest-verifier.js';
import { fromBase64, sameBytes, toBase64 } from './base64.js';
import { keyFingerprint } from './key-fingerprint.js';
import type { SignatureScheme } from './primitives.js';

export const MANIFEST_SIGNATURE_CONTEXT = 'x0t-plugin-manifest-v1';
const CONTEXT_BYTES = new TextEncoder().encode(MANIFEST_SIGNATURE_CONTEXT);

/** Members of a manifest the signature does not cover. */
export const UNSIGNED_MEMBERS: readonly string[] = Object.freeze(['signature', '$schema']);

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Canonical JSON of a JSON value (see the top of this file); CryptoInputError for anything JSON cannot hold. */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new CryptoInputError(`canonical JSON has no form for ${value}`, { what: 'manifest' });
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      // Array.prototype.sort without a comparator orders by UTF-16 code units, as RFC 8785 does.
      const keys = Object.keys(value).sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
    }
    default:
      throw new CryptoInputError(`canonical JSON has no form for a ${typeof value}`, { what: 'manifest' });
  }
}

/** The bytes a plugin manifest's signature covers (the parsed manifest JSON, signature block or not). */
export function signedManifestBytes(document: unknown): Uint8Array {
  if (!isPlainObject(document)) throw new CryptoInputError('a plugin manifest must be a JSON object', { what: 'manifest' });
  const covered = Object.fromEntries(Object.entries(document).filter(([k]) => !UNSIGNED_MEMBERS.includes(k)));
  return new TextEncoder().encode(canonicalJson(covered));
}

/** The signature block for `document`, made with `scheme` and the key pair (publicKey goes into the block). */
export async function signManifest(
  scheme: SignatureScheme,
  key: { readonly publicKey: Uint8Array; readonly secretKey: Uint8Array },
  document: unknown,
): Promise<PluginSignature> {
  const value = await scheme.sign(key.secretKey, signedManifestBytes(document), { context: CONTEXT_BYTES });
  return { algorithm: scheme.algorithm, publicKey: toBase64(key.publicKey), value: toBase64(value) };
}

/**
 * `document` with its signature block set to `signature` (replacing one in place, else added last). Other members
 * keep their order, so the written manifest diffs as one changed block.
 */
export function withSignature(document: object, signature: PluginSignature): Record<string, unknown> {
  const block = { algorithm: signature.algorithm, publicKey: signature.publicKey, value: signature.value };
  const entries = Object.entries(document).map(([k, v]): [string, unknown] => [k, k === 'signature' ? block : v]);
  if (!Object.hasOwn(document, 'signature')) entries.push(['signature', block]);
  return Object.fromEntries(entries);
}

/** Resolves the scheme that verifies one algorithm (opening the ML-DSA-65 plugin the first time it is needed). */
export type SchemeFor = (algorithm: string) => Promise<SignatureScheme>;

function describeKeys(trusted: readonly TrustedKey[]): string {
  return trusted
    .map((k) => {
      const pk = fromBase64(k.publicKey);
      const fp = pk === null ? '?' : keyFingerprint(pk);
      return k.name === null ? fp : `${fp} (${k.name})`;
    })
    .join(', ');
}

/**
 * Checks the signature block of `document` (the manifest JSON `spec` was parsed from): the algorithm must be known,
 * the key one of `trusted`, the signature valid over the signed bytes. Rejects with SignatureError otherwise (the
 * key is looked up before anything is verified, so an untrusted signer costs no cryptography).
 */
export async function verifyManifestSignature(
  document: unknown,
  spec: Pick<PluginSpec, 'name' | 'manifestPath'>,
  trusted: readonly TrustedKey[],
  schemeFor: SchemeFor,
): Promise<VerifiedSigner> {
  const where = `the manifest of ${spec.name}${spec.manifestPath === null ? '' : ` (${spec.manifestPath})`}`;
  const base = { plugin: spec.name, manifest: spec.manifestPath };
  const sig = isPlainObject(document) ? document['signature'] : undefined;
  if (!isPlainObject(sig)) throw new SignatureError(`${where} is not signed`, { ...base, reason: 'unsigned' });
  const algorithm = sig['algorithm'];
  const sizes = typeof algorithm === 'string' ? signatureAlgorithm(algorithm) : null;
  if (typeof algorithm !== 'string' || sizes === null) {
    throw new SignatureError(
      `${where} is signed with ${JSON.stringify(algorithm)}, which this node cannot verify (known: ${SIGNATURE_ALGORITHM_NAMES.join(', ')})`,
      { ...base, reason: 'unknown-algorithm', algorithm: String(algorithm) },
    );
  }
  const publicKey = fromBase64(sig['publicKey']);
  if (publicKey === null || publicKey.length !== sizes.publicKeyBytes) {
    throw new SignatureError(`${where}: signature.publicKey is not a ${algorithm} public key (${sizes.publicKeyBytes} bytes, base64)`, {
      ...base, reason: 'malformed', field: 'signature.publicKey',
    });
  }
  const fingerprint = keyFingerprint(publicKey);
  const key = trusted.find((k) => k.algorithm === algorithm && sameBytes(fromBase64(k.publicKey) ?? new Uint8Array(0), publicKey));
  if (key === undefined) {
    throw new SignatureError(
      `${where} is signed by ${algorithm} key ${fingerprint}, which this node does not trust (trusted: ${describeKeys(trusted) || 'none'})`,
      { ...base, reason: 'untrusted-key', algorithm, fingerprint },
    );
  }
  const value = fromBase64(sig['value']);
  if (value === null) {
    throw new SignatureError(`${where}: signature.value is not base64`, { ...base, reason: 'malformed', field: 'signature.value' });
  }
  const scheme = await schemeFor(algorithm);
  const ok = await scheme.verify(publicKey, signedManifestBytes(document), value, { context: CONTEXT_BYTES });
  if (!ok) {
    throw new SignatureError(
      `${where} does not match its signature by trusted key ${fingerprint}: it was changed after signing, or the signature is damaged`,
      { ...base, reason: 'invalid', algorithm, fingerprint },
    );
  }
  return { algorithm, fingerprint, keyName: key.name };
}
