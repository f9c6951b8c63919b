// The node's long-lived mesh keys (composite signing key + X-Wing KEM key; the fingerprint of the signing key is the
// node's mesh address): read from identity.keyFile, or from <stateDir>/node.key.json; created there (0600) when
// missing; without either, made fresh at every start (a new mesh address each time).
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { IdentitySpec } from '../../core/manifest/index.js';
import {
  generateNodeKeys, keyFileText, nodeKeyFileJson, readNodeKeys, writeKeyFile, type NodeKeys,
} from '../../crypto/identity-keys.js';
import type { Kem, SignatureScheme } from '../../crypto/primitives.js';
import { IdentityError, IoError } from '../../errors/index.js';

export interface LoadedKeys {
  readonly keys: NodeKeys & { readonly kem: NonNullable<NodeKeys['kem']> };
  /** The file the keys live in; null for keys made for this run only. */
  readonly file: string | null;
  readonly created: boolean;
}

export function keyFileOf(identity: IdentitySpec): string | null {
  if (identity.keyFile !== undefined) return identity.keyFile;
  if (identity.stateDir !== undefined) return join(identity.stateDir, 'node.key.json');
  return null;
}

export async function loadMeshKeys(identity: IdentitySpec, crypto: { kem: Kem; signer: SignatureScheme }): Promise<LoadedKeys> {
  const file = keyFileOf(identity);
  let keys: NodeKeys | null = null;
  let created = false;
  if (file !== null) {
    try {
      keys = await readNodeKeys(file);
    } catch (e) {
      if (!(e instanceof IoError && e.details['code'] === 'ENOENT')) throw e;
    }
  }
  if (keys === null) {
    keys = await generateNodeKeys({ signer: crypto.signer, kem: crypto.kem, name: identity.name });
    created = true;
    if (file !== null) {
      await mkdir(dirname(file), { recursive: true, mode: 0o700 });
      await writeKeyFile(file, keyFileText(nodeKeyFileJson(keys)), { secret: true });
    }
  }
  if (keys.kem === null) {
    throw new IdentityError(`the node key ${file ?? ''} has no KEM key, which a mesh session needs; make a new one with x0t keys gen`, {
      reason: 'no-kem-key', path: file,
    });
  }
  if (keys.kem.algorithm !== crypto.kem.algorithm || keys.signing.algorithm !== crypto.signer.algorithm) {
    throw new IdentityError(`the node key holds ${keys.signing.algorithm} + ${keys.kem.algorithm}, the mesh uses ${crypto.signer.algorithm} + ${crypto.kem.algorithm}`, {
      reason: 'key-algorithm', path: file,
    });
  }
  return { keys: keys as LoadedKeys['keys'], file, created };
}
