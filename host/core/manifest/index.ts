// Manifests → frozen specs. Pure: nothing here reads files (see host/runtime/load-manifest.ts).

export type { ManifestContext } from './context.js';
export { parsePluginManifest, MAX_IN_THREAD_TIMEOUT_MS, type PluginManifestV1 } from './plugin-manifest.js';
export {
  parseNodeManifest, trustedKeyFiles, type DriverV1, type IdentityV1, type KnowledgeV1, type MeshV1, type NodeManifestV1, type TrustedKeyEntryV1,
} from './node-manifest.js';
export {
  parsePublicKeyFile,
  parsePublicKeyText,
  PUBLIC_KEY_KIND,
  type PublicKeyFileV1,
  type PublicKeySpec,
} from './public-key-file.js';
export {
  base64DecodedLength,
  BASE64,
  SIGNATURE_ALGORITHM_NAMES,
  SIGNATURE_ALGORITHMS,
  signatureAlgorithm,
  type SignatureAlgorithmSizes,
} from './signature-algorithms.js';
export {
  DEFAULT_ADMIN_ADDRESS,
  DEFAULT_DRIVER,
  DEFAULT_KNOWLEDGE,
  DEFAULT_MESH,
  DEFAULT_NODE_POLICIES,
  DRIVER_ATTACH_MODES,
  MESH_SUITES,
  meshSpecOf,
  type IdentitySpec,
  type MeshCaSpec,
  type MeshJoinSpec,
  type MeshSpec,
  type MeshSuite,
  type PinnedKeySpec,
  KNOWLEDGE_EMBEDDERS,
  KNOWLEDGE_INDEXES,
  type KnowledgeSpec,
  type DriverAttachMode,
  type DriverSpec,
  type BreakerPolicy,
  type Endpoint,
  type NodePolicies,
  type NodeSpec,
  type PeerSpec,
  type SlotSpec,
  type TrustedKey,
} from './node-spec.js';
export { capLimits, pickLimits } from './slot-limits.js';
export { KNOWN_CAPABILITIES, isKnownCapability } from './capabilities.js';
export { deepFreeze, isDeepFrozen } from './deep-freeze.js';
export { PLUGIN_MANIFEST_SCHEMA, NODE_MANIFEST_SCHEMA, PUBLIC_KEY_SCHEMA } from './validators.js';
