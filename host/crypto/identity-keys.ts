// A node's identity keys and the two files they live in.
//
// Secret key file (`x0t keys gen --out FILE`, written 0600, never printed by `x0t keys show`):
//   {
//     "kind": "x0t-node-key", "schemaVersion": 1, "name": "optional label", "created": "ISO 8601",
//     "signing": {"algorithm": "ed25519+ml-dsa-65", "publicKey": base64 (1984 B), "secretKey": base64 (4064 B)},
//     "kem":     {"algorithm": "x-wing", "publicKey": base64 (1216 B), "secretKey": base64 (32 B, the seed)}
//   }
//   `kem` is optional: a reader must accept a file without it. Keys of a new algorithm mean a new schemaVersion.
//
// Public-key file (`x0t keys show FILE --public-out PUB`; what a node's policies.trustedPluginKeys lists):
//   {"kind": "x0t-public-key", "schemaVersion": 1, "name": …, "signing": {algorithm, publicKey}, "kem": {…}}
//   (manifests/schema/public-key.v1.json; parsed by host/core/manifest/public-key-file.ts).
//
// Identity: fingerprint = first 16 bytes of SHA-256(signing public key), hex; id =
// `spiffe://<trust domain>/node/<fingerprint>`, which names the key itself (whoever claims the id proves it by
// signing with that key).
import { hkdfSync, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  parsePublicKeyFile, PUBLIC_KEY_KIND, signatureAlgorithm, type ManifestContext, type PublicKeyFileV1,
} from '../core/manifest/index.js';
import { manifestInvalid } from '../core/manifest/invalid.js';
import { CryptoInputError, IoError, ManifestInvalidError } from '../errors/index.js';
import { replaceFileWith } from '../io/durable-file.js';
import { fromBase64, sameBytes, toBase64 } from './base64.js';
import { checkLength } from './check-length.js';
import { ed25519Public, shake256, x25519Public } from './curve25519.js';
import { keyFingerprint } from './key-fingerprint.js';
import type { Kem, SignatureScheme } from './primitives.js';

export const NODE_KEY_KIND = 'x0t-node-key';
export const IDENTITY_SIGNING_ALGORITHM = 'ed25519+ml-dsa-65';
export const IDENTITY_KEM_ALGORITHM = 'x-wing';
/** The trust domain of the shipped node manifests, used for the id when no other is given. */
export const DEFAULT_TRUST_DOMAIN = 'local.x0tta6bl4.dev';
/** `x0t keys gen --seed`: a 32-byte master seed, from which each key's seed is derived with HKDF-SHA-256. */
export const MASTER_SEED_BYTES = 32;

type PairSizes = Readonly<Record<string, { readonly publicKeyBytes: number; readonly secretKeyBytes: number }>>;
/** The algorithms a key file may hold, with their key lengths (the layouts are at the top of this file). */
const SIGNING_SIZES: PairSizes = {
  [IDENTITY_SIGNING_ALGORITHM]: { publicKeyBytes: signatureAlgorithm(IDENTITY_SIGNING_ALGORITHM)!.publicKeyBytes, secretKeyBytes: 32 + 4032 },
};
const KEM_SIZES: PairSizes = { [IDENTITY_KEM_ALGORITHM]: { publicKeyBytes: 1184 + 32, secretKeyBytes: 32 } };

export interface PublicHalf {
  readonly algorithm: string;
  readonly publicKey: Uint8Array;
}

export interface KeyPairHalf extends PublicHalf {
  readonly secretKey: Uint8Array;
}

/** A key file of either kind, decoded. */
export type KeyFile =
  | {
    readonly kind: 'secret';
    readonly name: string | null;
    readonly created: string | null;
    readonly signing: KeyPairHalf;
    readonly kem: KeyPairHalf | null;
  }
  | { readonly kind: 'public'; readonly name: string | null; readonly signing: PublicHalf; readonly kem: PublicHalf | null };

export type NodeKeys = Extract<KeyFile, { kind: 'secret' }>;

export interface NodeKeyFileV1 {
  kind: typeof NODE_KEY_KIND;
  schemaVersion: 1;
  name?: string;
  created?: string;
  signing: { algorithm: string; publicKey: string; secretKey: string };
  kem?: { algorithm: string; publicKey: string; secretKey: string };
}

export interface GenerateOptions {
  /** The composite Ed25519 + ML-DSA-65 scheme. */
  readonly signer: SignatureScheme;
  /** X-Wing; without it the file has no `kem` key. */
  readonly kem?: Kem | null;
  /** 32 bytes: the same seed gives the same keys. Random when omitted. */
  readonly seed?: Uint8Array;
  readonly name?: string;
  readonly now?: Date;
}

function derive(seed: Uint8Array, label: string, length: number): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', seed, new Uint8Array(0), `x0t-node-key-v1 ${label}`, length));
}

/** A new set of node keys: a signing key pair, and a KEM key pair when `kem` is given. */
export async function generateNodeKeys(opts: GenerateOptions): Promise<NodeKeys> {
  if (opts.signer.algorithm !== IDENTITY_SIGNING_ALGORITHM) {
    throw new CryptoInputError(`node keys sign with ${IDENTITY_SIGNING_ALGORITHM}, not ${opts.signer.algorithm}`, {
      algorithm: opts.signer.algorithm, what: 'signer',
    });
  }
  if (opts.seed !== undefined) checkLength(opts.seed, MASTER_SEED_BYTES, 'seed', 'node key');
  const seed = opts.seed ?? new Uint8Array(randomBytes(MASTER_SEED_BYTES));
  const signing = await opts.signer.keygen(derive(seed, 'signing', opts.signer.sizes.seedBytes));
  const kem = opts.kem ? await opts.kem.keygen(derive(seed, 'kem', opts.kem.sizes.seedBytes)) : null;
  return {
    kind: 'secret',
    name: opts.name ?? null,
    created: (opts.now ?? new Date()).toISOString(),
    signing: { algorithm: opts.signer.algorithm, ...signing },
    kem: kem && opts.kem ? { algorithm: opts.kem.algorithm, ...kem } : null,
  };
}

export function fingerprintOf(keys: KeyFile): string {
  return keyFingerprint(keys.signing.publicKey);
}

/** The id a node holding these keys has in `trustDomain`. */
export function nodeIdOf(keys: KeyFile, trustDomain = DEFAULT_TRUST_DOMAIN): string {
  return `spiffe://${trustDomain}/node/${fingerprintOf(keys)}`;
}

/** The secret key file's JSON. */
export function nodeKeyFileJson(keys: NodeKeys): NodeKeyFileV1 {
  const half = (h: KeyPairHalf) => ({ algorithm: h.algorithm, publicKey: toBase64(h.publicKey), secretKey: toBase64(h.secretKey) });
  return {
    kind: NODE_KEY_KIND,
    schemaVersion: 1,
    ...(keys.name === null ? {} : { name: keys.name }),
    ...(keys.created === null ? {} : { created: keys.created }),
    signing: half(keys.signing),
    ...(keys.kem === null ? {} : { kem: half(keys.kem) }),
  };
}

/** The public-key file's JSON: what operators list in policies.trustedPluginKeys. */
export function publicKeyFileJson(keys: KeyFile): PublicKeyFileV1 {
  const half = (h: PublicHalf) => ({ algorithm: h.algorithm, publicKey: toBase64(h.publicKey) });
  return {
    kind: PUBLIC_KEY_KIND,
    schemaVersion: 1,
    ...(keys.name === null ? {} : { name: keys.name }),
    signing: half(keys.signing),
    ...(keys.kem === null ? {} : { kem: half(keys.kem) }),
  };
}

export function keyFileText(json: NodeKeyFileV1 | PublicKeyFileV1): string {
  return `${JSON.stringify(json, null, 2)}\n`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[], at: string, ctx: ManifestContext): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) {
      throw manifestInvalid(at === '' ? k : `${at}.${k}`, `is not a known field (allowed: ${allowed.join(', ')})`, ctx);
    }
  }
}

function bytesField(obj: Record<string, unknown>, field: string, length: number, at: string, ctx: ManifestContext): Uint8Array {
  const bytes = fromBase64(obj[field]);
  if (bytes === null || bytes.length !== length) {
    const got = bytes === null ? (obj[field] === undefined ? 'nothing' : 'text that is not base64') : `${bytes.length} bytes`;
    throw manifestInvalid(`${at}.${field}`, `must be ${length} bytes in base64, got ${got}`, ctx);
  }
  return bytes;
}

/** Refuses a key file whose secret key does not belong to its public key (checks that need no plugin). */
function checkPairs(signing: KeyPairHalf, kem: KeyPairHalf | null, ctx: ManifestContext): void {
  const where = ctx.manifestPath === null ? '' : ` (in ${ctx.manifestPath})`;
  const pk = signing.publicKey;
  const sk = signing.secretKey;
  const mlPk = pk.subarray(32);
  const mlSk = sk.subarray(32);
  // Ed25519 pk = A(seed); ML-DSA sk = rho ‖ K ‖ tr ‖ … with pk = rho ‖ t1 and tr = SHAKE256(pk, 64) (FIPS 204).
  const signingOk = sameBytes(ed25519Public(sk.subarray(0, 32)), pk.subarray(0, 32)) &&
    sameBytes(mlSk.subarray(0, 32), mlPk.subarray(0, 32)) &&
    sameBytes(mlSk.subarray(64, 128), shake256(mlPk, 64));
  if (!signingOk) {
    throw new CryptoInputError(`signing: the secret key does not belong to the public key${where}`, {
      what: 'signing', file: ctx.manifestPath,
    });
  }
  // X-Wing: the X25519 half of the public key is X25519(SHAKE256(seed, 96)[64:96], 9).
  if (kem !== null && !sameBytes(x25519Public(shake256(kem.secretKey, 96).subarray(64, 96)), kem.publicKey.subarray(1184))) {
    throw new CryptoInputError(`kem: the secret key does not belong to the public key${where}`, { what: 'kem', file: ctx.manifestPath });
  }
}

function parseSecretKeyFile(json: Record<string, unknown>, ctx: ManifestContext): NodeKeys {
  onlyKeys(json, ['$schema', 'kind', 'schemaVersion', 'name', 'created', 'signing', 'kem'], '', ctx);
  if (json['schemaVersion'] !== 1) throw manifestInvalid('schemaVersion', 'must be 1', ctx);
  for (const field of ['name', 'created'] as const) {
    const v = json[field];
    if (v !== undefined && (typeof v !== 'string' || v === '' || v.length > 128)) {
      throw manifestInvalid(field, 'must be a string of 1 to 128 characters', ctx);
    }
  }
  const half = (field: 'signing' | 'kem', sizes: PairSizes): KeyPairHalf => {
    const h = json[field];
    if (!isRecord(h)) throw manifestInvalid(field, 'must be an object {algorithm, publicKey, secretKey}', ctx);
    onlyKeys(h, ['algorithm', 'publicKey', 'secretKey'], field, ctx);
    const algorithm = h['algorithm'];
    if (typeof algorithm !== 'string' || !Object.hasOwn(sizes, algorithm)) {
      throw manifestInvalid(`${field}.algorithm`, `must be one of ${Object.keys(sizes).map((s) => JSON.stringify(s)).join(', ')}`, ctx);
    }
    const size = sizes[algorithm]!;
    return {
      algorithm,
      publicKey: bytesField(h, 'publicKey', size.publicKeyBytes, field, ctx),
      secretKey: bytesField(h, 'secretKey', size.secretKeyBytes, field, ctx),
    };
  };
  const signing = half('signing', SIGNING_SIZES);
  const kem = json['kem'] === undefined ? null : half('kem', KEM_SIZES);
  checkPairs(signing, kem, ctx);
  return {
    kind: 'secret',
    name: (json['name'] as string | undefined) ?? null,
    created: (json['created'] as string | undefined) ?? null,
    signing,
    kem,
  };
}

/** Decodes a key file of either kind; ManifestInvalidError naming the field, CryptoInputError for a mismatched pair. */
export function parseKeyFile(text: string, file: string | null): KeyFile {
  const ctx: ManifestContext = { manifestPath: file, baseDir: file === null ? process.cwd() : dirname(file) };
  let json: unknown;
  try {
    json = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    throw manifestInvalid('', `is not valid JSON: ${(e as Error).message}`, ctx);
  }
  if (isRecord(json) && json['kind'] === NODE_KEY_KIND) return parseSecretKeyFile(json, ctx);
  if (!isRecord(json) || json['kind'] !== PUBLIC_KEY_KIND) {
    throw manifestInvalid('kind', `must be ${JSON.stringify(NODE_KEY_KIND)} or ${JSON.stringify(PUBLIC_KEY_KIND)}`, ctx);
  }
  const pub = parsePublicKeyFile(json, ctx);
  const decode = (h: { algorithm: string; publicKey: string }): PublicHalf => ({ algorithm: h.algorithm, publicKey: fromBase64(h.publicKey)! });
  return { kind: 'public', name: pub.name, signing: decode(pub.signing), kem: pub.kem === null ? null : decode(pub.kem) };
}

export async function readKeyFile(path: string): Promise<KeyFile> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? null;
    throw new IoError(`cannot read key file ${file}: ${code ?? (e as Error).message}`, { path: file, code }, { cause: e });
  }
  return parseKeyFile(text, file);
}

/** Reads a key file that must hold the secret keys: ManifestInvalidError (at `kind`) for a public-key file. */
export async function readNodeKeys(path: string): Promise<NodeKeys> {
  const keys = await readKeyFile(path);
  if (keys.kind !== 'secret') {
    throw new ManifestInvalidError(`${resolve(path)} is a public-key file; signing needs the secret key file (x0t keys gen)`, {
      path: 'kind', file: resolve(path),
    });
  }
  return keys;
}

/**
 * Writes a key file: a secret one with mode 0600. Refuses to replace an existing file unless `force`; a replaced
 * file is swapped in by rename, so a reader never sees half a key.
 */
export async function writeKeyFile(path: string, text: string, opts: { secret: boolean; force?: boolean }): Promise<void> {
  const file = resolve(path);
  const mode = opts.secret ? 0o600 : 0o644;
  if (opts.force === true) {
    await replaceFileWith(file, text, { mode, what: 'key file' });
    return;
  }
  try {
    const handle = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
    try {
      await handle.chmod(mode); // the umask may have taken bits off a public file; a secret one stays 0600
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? null;
    const hint = code === 'EEXIST' ? ' (it exists; --force replaces it)' : '';
    throw new IoError(`cannot write key file ${file}: ${code ?? (e as Error).message}${hint}`, { path: file, code }, { cause: e });
  }
}
