// Where the plugins shipped with the node live: manifests/plugins/<name>.json under the repository (or install)
// root. One locator for every layer that opens a built-in plugin (crypto, federated learning, knowledge base).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository (or install) root, seen from this file once compiled (dist/host/runtime/builtin-manifest.js). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Path of a shipped plugin's manifest, e.g. builtinManifest('ml-kem-768'). */
export function builtinManifest(name: string): string {
  return resolve(ROOT, 'manifests', 'plugins', `${name}.json`);
}
