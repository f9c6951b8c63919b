// Public-key file (schema version 1) → frozen PublicKeySpec. Pure: the caller reads the file. The file is the public
// half of a node identity key (written by `x0t keys show KEY --public-out FILE`); a node manifest lists such files
// in policies.trustedPluginKeys.

import type { ManifestContext } from './context.js';
import { deepFreeze } from './deep-freeze.js';
import { fromAjvErrors, manifestInvalid } from './invalid.js';
import { base64DecodedLength, signatureAlgorithm } from './signature-algorithms.js';
import { validatePublicKeyFile } from './validators.js';

export const PUBLIC_KEY_KIND = 'x0t-public-key';

/** The JSON shape of a public-key file, as accepted by manifests/schema/public-key.v1.json. */
export interface PublicKeyFileV1 {
  $schema?: string;
  kind: typeof PUBLIC_KEY_KIND;
  schemaVersion: 1;
  name?: string;
  signing: { algorithm: string; publicKey: string };
  kem?: { algorithm: string; publicKey: string };
}

export interface PublicKeySpec {
  readonly name: string | null;
  /** Signs for the node (plugin manifests, later its identity); algorithm one of SIGNATURE_ALGORITHM_NAMES. */
  readonly signing: { readonly algorithm: string; readonly publicKey: string };
  /** The node's static KEM key, when it has one. */
  readonly kem: { readonly algorithm: string; readonly publicKey: string } | null;
}

/** Throws a ManifestInvalidError at `field` unless `publicKey` is exactly `algorithm`'s public key length. */
export function checkSigningKeyLength(algorithm: string, publicKey: string, field: string, ctx: ManifestContext): void {
  const want = signatureAlgorithm(algorithm)?.publicKeyBytes;
  const got = base64DecodedLength(publicKey);
  if (want !== undefined && got !== want) {
    throw manifestInvalid(field, `must be a ${algorithm} public key of ${want} bytes, got ${got ?? 'text that is not base64'} bytes`, ctx);
  }
}

/** Validates a parsed public-key file. Throws only ManifestInvalidError, whose `details.path` names the field. */
export function parsePublicKeyFile(json: unknown, ctx: ManifestContext): PublicKeySpec {
  // The secret key file is the likeliest wrong file to be given here: say so rather than list unknown fields.
  if (json !== null && typeof json === 'object' && (json as { kind?: unknown }).kind === 'x0t-node-key') {
    throw manifestInvalid('kind', 'is a secret node key file; give its public form (x0t keys show KEY --public-out FILE)', ctx);
  }
  const validate = validatePublicKeyFile();
  if (!validate(json)) throw fromAjvErrors(validate.errors, json, ctx);
  const f = json as PublicKeyFileV1;
  checkSigningKeyLength(f.signing.algorithm, f.signing.publicKey, 'signing.publicKey', ctx);
  return deepFreeze({
    name: f.name ?? null,
    signing: { algorithm: f.signing.algorithm, publicKey: f.signing.publicKey },
    kem: f.kem === undefined ? null : { algorithm: f.kem.algorithm, publicKey: f.kem.publicKey },
  });
}

/** Parses the text of a public-key file (a leading BOM is ignored); ManifestInvalidError when it is not JSON. */
export function parsePublicKeyText(text: string, ctx: ManifestContext): PublicKeySpec {
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw manifestInvalid('', `is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, ctx);
  }
  return parsePublicKeyFile(json, ctx);
}
