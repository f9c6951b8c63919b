// NodeSpec: the inert, validated, frozen form of a node manifest. Nothing in it is live.

import type { PluginLimits } from '../plugin-spec.js';

/** A parsed `host:port`. `host` has no brackets (an IPv6 address is bare); `address` is the text as written. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly address: string;
}

export interface PeerSpec {
  readonly name: string;
  readonly address: Endpoint;
  /** The fingerprint the peer must prove (32 lower-case hex); the key is absent when the manifest gives none. */
  readonly fingerprint?: string;
}

export interface SlotSpec {
  /** The slot's key in the manifest's `slots` object. */
  readonly name: string;
  readonly capability: string;
  /** Absolute path of the plugin manifest (resolved against the node manifest's folder). */
  readonly plugin: string;
  /**
   * Node-side ceilings over the plugin manifest's limits (only the given fields; `{}` when none). Apply them with
   * `capLimits`: the smaller value wins.
   */
  readonly limits: Readonly<Partial<PluginLimits>>;
}

export interface BreakerPolicy {
  /** Failures within `windowMs` that open the breaker. */
  readonly failureThreshold: number;
  readonly windowMs: number;
  /** How long after a swap failures trigger a rollback to the previous plugin. */
  readonly observeMs: number;
}

/**
 * A public key whose plugin manifest signatures the node accepts: given inline in the node manifest or read from a
 * public-key file it names.
 */
export interface TrustedKey {
  /** The label from the manifest entry, else from the key file; null when neither gives one. */
  readonly name: string | null;
  /** One of SIGNATURE_ALGORITHM_NAMES, e.g. `ed25519+ml-dsa-65`. */
  readonly algorithm: string;
  /** Standard padded base64, exactly the algorithm's public key length. */
  readonly publicKey: string;
  /** Absolute path of the public-key file the key came from; null for an inline key. */
  readonly file: string | null;
}

export interface NodePolicies {
  /** Refuse unsigned plugins; when true, `trustedPluginKeys` is never empty. */
  readonly requireSignedPlugins: boolean;
  /**
   * Keys whose manifest signatures the node accepts. When not empty, every signed manifest must verify against one of
   * them, whether or not `requireSignedPlugins` is set.
   */
  readonly trustedPluginKeys: readonly TrustedKey[];
  /** When false, a plugin whose manifest asks for in-thread isolation is refused. */
  readonly allowInThread: boolean;
  readonly breaker: BreakerPolicy;
  /** How long a swapped-out instance may finish in-flight calls before it is closed. */
  readonly drainTimeoutMs: number;
  /** Run the capability's conformance self-test before a slot accepts a plugin. */
  readonly selfTest: boolean;
}

/** Which embedder the node's knowledge base uses: auto = the one it was built with, else MiniLM when installed, else lexical. */
export type KnowledgeEmbedder = 'auto' | 'minilm' | 'lexical';
export type KnowledgeIndex = 'hnsw' | 'exact';
export const KNOWLEDGE_EMBEDDERS: readonly KnowledgeEmbedder[] = Object.freeze(['auto', 'minilm', 'lexical'] as const);
export const KNOWLEDGE_INDEXES: readonly KnowledgeIndex[] = Object.freeze(['hnsw', 'exact'] as const);

/** The knowledge base a node holds (manifest `knowledge`); every path absolute (resolved against the manifest's folder). */
export interface KnowledgeSpec {
  /** The knowledge-base folder (created when new). */
  readonly dir: string;
  /** Models cache; null = the user's default cache ($X0T_MODELS_DIR or ~/.cache/x0tta6bl4/models). */
  readonly models: string | null;
  readonly embedder: KnowledgeEmbedder;
  readonly index: KnowledgeIndex;
  /** Files and folders ingested (incrementally) in the background each time the node starts; `[]` when none. */
  readonly ingest: readonly string[];
}

export const DEFAULT_KNOWLEDGE: Readonly<Pick<KnowledgeSpec, 'embedder' | 'index'>> = Object.freeze({ embedder: 'auto', index: 'hnsw' });

/** How the XDP program attaches: native (in the NIC driver) with generic fallback, native only, or generic only. */
export type DriverAttachMode = 'auto' | 'native' | 'generic';
export const DRIVER_ATTACH_MODES: readonly DriverAttachMode[] = Object.freeze(['auto', 'native', 'generic'] as const);

/** The packet driver a node runs (manifest `driver`). */
export interface DriverSpec {
  /** The network interface the XDP program attaches to (a Linux interface name, at most 15 bytes). */
  readonly interface: string;
  readonly mode: DriverAttachMode;
  /** Ring-buffer events per second the kernel program may send (the rest are counted as suppressed). */
  readonly eventsPerSecond: number;
  /** The bpffs folder under which the driver pins its program and maps; null = the driver's default. */
  readonly pinRoot: string | null;
  /** When true, a node that cannot run XDP fails to start instead of falling back to the user-space driver. */
  readonly required: boolean;
  /**
   * Absolute path of the file the node keeps its quarantine list in (resolved against the manifest's folder), so the
   * list survives a restart; null = the quarantine lives only as long as the driver.
   */
  readonly quarantineFile: string | null;
}

export const DEFAULT_DRIVER: Readonly<Pick<DriverSpec, 'mode' | 'eventsPerSecond' | 'required'>> = Object.freeze({
  mode: 'auto', eventsPerSecond: 1000, required: false,
});

/** This node is the mesh CA (manifest `identity.ca`). */
export interface MeshCaSpec {
  /** Absolute folder of the CA key and certificate. */
  readonly dir: string;
  /** The identity server (attest, renew, bundle), HTTPS. */
  readonly listen: Endpoint;
}

/** This node joins a mesh with a join token (manifest `identity.join`). */
export interface MeshJoinSpec {
  /** `https://host:port` of the CA node's identity server (no trailing slash). */
  readonly server: string;
  readonly token: string;
  /** SHA-256 of the CA's trust bundle the node pins, 64 lower-case hex. */
  readonly bundleSha256: string;
}

/**
 * Who the node is. The mesh keys are optional (absent when the manifest does not give them): without them a node
 * runs no mesh identity of its own choosing (see host/node/mesh/mesh-identity.ts for what happens then).
 */
export interface IdentitySpec {
  readonly name: string;
  readonly trustDomain: string;
  /** Absolute path of the node's secret key file. */
  readonly keyFile?: string;
  /** Absolute folder of the node's mesh state (key, SVID, bundle). */
  readonly stateDir?: string;
  readonly ca?: MeshCaSpec;
  readonly join?: MeshJoinSpec;
}

export type MeshSuite = 'hybrid' | 'classic';
export const MESH_SUITES: readonly MeshSuite[] = Object.freeze(['hybrid', 'classic'] as const);

/** A public-key file listed in `mesh.trust.pinned`, as read at load. */
export interface PinnedKeySpec {
  /** Absolute path of the file. */
  readonly file: string;
  readonly name: string | null;
  /** The composite signing key (base64); its fingerprint is the node's mesh address. */
  readonly signing: { readonly algorithm: string; readonly publicKey: string };
  /** The node's KEM key (base64); null when the file has none (such a node cannot be a session peer). */
  readonly kem: { readonly algorithm: string; readonly publicKey: string } | null;
}

/** The mesh settings (manifest `mesh`), every default filled. */
export interface MeshSpec {
  /** Originator message and probe interval, ms. */
  readonly helloMs: number;
  readonly suite: MeshSuite;
  readonly mtu: number;
  /** Rekey interval, ms (≤ 120,000). */
  readonly rekeyMs: number;
  readonly discovery: {
    readonly multicast: boolean;
    /** Interfaces beacons go out on; `[]` = none named (static peers only, unless multicast picks all). */
    readonly interfaces: readonly string[];
    readonly intervalMs: number;
  };
  /** Gateway announcement; null when the node is no gateway. */
  readonly gateway: { readonly bandwidthKbps: number } | null;
  /** The batman-adv mesh interface whose tables the node reads where the kernel has batman-adv; null: none. */
  readonly batman: { readonly interface: string } | null;
  /** Pinned-key trust; null when the node trusts SVIDs from a mesh CA (identity.ca or identity.join). */
  readonly trust: { readonly pinned: readonly PinnedKeySpec[] } | null;
}

export const DEFAULT_MESH: MeshSpec = Object.freeze({
  helloMs: 1000,
  suite: 'hybrid',
  mtu: 1280,
  rekeyMs: 120_000,
  discovery: Object.freeze({ multicast: false, interfaces: Object.freeze([]) as readonly string[], intervalMs: 5000 }),
  gateway: null,
  batman: null,
  trust: null,
});

export interface NodeSpec {
  readonly identity: IdentitySpec;
  readonly listen: {
    readonly admin: Endpoint;
    readonly mesh: readonly Endpoint[];
    /** The mutual-TLS admin listener (on the node's SVID); the key is absent when the manifest gives none. */
    readonly adminMtls?: Endpoint;
  };
  readonly peers: readonly PeerSpec[];
  /** Keyed by slot name; each value's `name` repeats its key. */
  readonly slots: Readonly<Record<string, SlotSpec>>;
  readonly policies: NodePolicies;
  /** The node's knowledge base; the key is absent when the manifest has no `knowledge` section. */
  readonly knowledge?: KnowledgeSpec;
  /**
   * The packet driver; the key is absent when the manifest has no `driver` section (the node then runs the
   * user-space driver).
   */
  readonly driver?: DriverSpec;
  /**
   * The mesh settings; the key is absent when the manifest has no `mesh` section (meshSpecOf gives the defaults
   * then). The mesh runs when listen.mesh is not empty.
   */
  readonly mesh?: MeshSpec;
  /** Absolute path of the manifest this spec came from; null when it did not come from a file. */
  readonly manifestPath: string | null;
}

export const DEFAULT_ADMIN_ADDRESS = '127.0.0.1:9470';

export const DEFAULT_NODE_POLICIES: NodePolicies = Object.freeze({
  requireSignedPlugins: false,
  trustedPluginKeys: Object.freeze([]) as readonly TrustedKey[],
  allowInThread: true,
  breaker: Object.freeze({ failureThreshold: 5, windowMs: 10_000, observeMs: 30_000 }),
  drainTimeoutMs: 5_000,
  selfTest: true,
});

/** The node's mesh settings with every default filled (DEFAULT_MESH when the manifest has no `mesh` section). */
export function meshSpecOf(spec: Pick<NodeSpec, 'mesh'>): MeshSpec {
  return spec.mesh ?? DEFAULT_MESH;
}
