// Where the plugins shipped with the node live. They are the trust root for everything signed: their manifests
// pin each module's SHA-256, and the node verifies other plugins' signatures with them.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (or install) root, seen from this file once compiled (dist/host/crypto/builtin-plugins.js). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export const BUILTIN = {
  kem: 'ml-kem-768',
  signer: 'ml-dsa-65',
} as const;

/** Path of a shipped plugin's manifest, e.g. builtinManifest('ml-kem-768'). */
export function builtinManifest(name: string): string {
  return resolve(ROOT, 'manifests', 'plugins', `${name}.json`);
}
