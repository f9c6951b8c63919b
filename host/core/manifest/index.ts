// Manifests → frozen specs. Pure: nothing here reads files (see host/runtime/load-manifest.ts).

export type { ManifestContext } from './context.js';
export { parsePluginManifest, MAX_IN_THREAD_TIMEOUT_MS, type PluginManifestV1 } from './plugin-manifest.js';
export { parseNodeManifest, type NodeManifestV1 } from './node-manifest.js';
export {
  DEFAULT_ADMIN_ADDRESS,
  DEFAULT_NODE_POLICIES,
  type BreakerPolicy,
  type Endpoint,
  type NodePolicies,
  type NodeSpec,
  type PeerSpec,
  type SlotSpec,
} from './node-spec.js';
export { capLimits, pickLimits } from './slot-limits.js';
export { KNOWN_CAPABILITIES, isKnownCapability } from './capabilities.js';
export { deepFreeze, isDeepFrozen } from './deep-freeze.js';
export { PLUGIN_MANIFEST_SCHEMA, NODE_MANIFEST_SCHEMA } from './validators.js';
