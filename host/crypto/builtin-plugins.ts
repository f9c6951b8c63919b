// Where the plugins shipped with the node live. They are the trust root for everything signed: their manifests
// pin each module's SHA-256, and the node verifies other plugins' signatures with them.
import { builtinManifest } from '../runtime/builtin-manifest.js';

export { builtinManifest };

export const BUILTIN = {
  kem: 'ml-kem-768',
  signer: 'ml-dsa-65',
} as const;

