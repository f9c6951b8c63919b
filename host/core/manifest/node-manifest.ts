// Node manifest (schema version 1) → frozen NodeSpec. Pure: no I/O; plugin manifest paths are resolved
// against ctx.baseDir with node:path but not read here.

import { normalize, resolve } from 'node:path';
import type { PluginLimits } from '../plugin-spec.js';
import { isKnownCapability, KNOWN_CAPABILITIES } from './capabilities.js';
import type { ManifestContext } from './context.js';
import { deepFreeze } from './deep-freeze.js';
import { parseEndpoint } from './endpoint.js';
import { childIndex, childKey } from './field-path.js';
import { fromAjvErrors, manifestInvalid } from './invalid.js';
import {
  DEFAULT_ADMIN_ADDRESS,
  DEFAULT_DRIVER,
  DEFAULT_KNOWLEDGE,
  DEFAULT_MESH,
  DEFAULT_NODE_POLICIES,
  type IdentitySpec,
  type MeshSpec,
  type MeshSuite,
  type PinnedKeySpec,
  type DriverAttachMode,
  type DriverSpec,
  type KnowledgeEmbedder,
  type KnowledgeIndex,
  type KnowledgeSpec,
  type NodeSpec,
  type PeerSpec,
  type SlotSpec,
  type TrustedKey,
} from './node-spec.js';
import { checkSigningKeyLength, parsePublicKeyText } from './public-key-file.js';
import { pickLimits } from './slot-limits.js';
import { validateNodeManifest } from './validators.js';

/** The JSON shape of a node manifest, as accepted by manifests/schema/node-manifest.v1.json. */
export interface NodeManifestV1 {
  $schema?: string;
  schemaVersion: 1;
  identity: IdentityV1;
  listen?: { admin?: string; mesh?: string[]; adminMtls?: string };
  peers?: { name: string; address: string; fingerprint?: string }[];
  mesh?: MeshV1;
  slots: Record<string, { capability: string; plugin: string; limits?: Partial<PluginLimits> }>;
  policies?: {
    requireSignedPlugins?: boolean;
    trustedPluginKeys?: TrustedKeyEntryV1[];
    allowInThread?: boolean;
    breaker?: { failureThreshold?: number; windowMs?: number; observeMs?: number };
    drainTimeoutMs?: number;
    selfTest?: boolean;
  };
  knowledge?: KnowledgeV1;
  driver?: DriverV1;
}

/** The `identity` section: who the node is and how it gets its mesh identity (paths relative to the manifest's folder). */
export interface IdentityV1 {
  name: string;
  trustDomain: string;
  keyFile?: string;
  stateDir?: string;
  ca?: { dir: string; listen: string };
  join?: { server: string; token: string; bundleSha256: string };
}

/** The `mesh` section (every field optional). */
export interface MeshV1 {
  helloMs?: number;
  suite?: MeshSuite;
  mtu?: number;
  rekeyMs?: number;
  discovery?: { multicast?: boolean; interfaces?: string[]; intervalMs?: number };
  gateway?: { bandwidthKbps: number };
  batman?: { interface: string };
  trust?: { pinned: string[] };
}

/** The `driver` section: the interface the XDP program attaches to and how. */
export interface DriverV1 {
  interface: string;
  mode?: DriverAttachMode;
  eventsPerSecond?: number;
  /** An absolute path inside a bpffs mount. */
  pinRoot?: string;
  required?: boolean;
  /** Where the quarantine list is kept across restarts; relative to the manifest's folder. */
  quarantineFile?: string;
}

/** The `knowledge` section: paths relative to the manifest's folder. */
export interface KnowledgeV1 {
  dir: string;
  models?: string;
  embedder?: KnowledgeEmbedder;
  index?: KnowledgeIndex;
  ingest?: string[];
}

/** One `policies.trustedPluginKeys` item: a public-key file, or an inline key. */
export interface TrustedKeyEntryV1 {
  name?: string;
  file?: string;
  algorithm?: string;
  publicKey?: string;
}

/**
 * Absolute paths of the public-key files a node manifest names: trusted plugin keys and pinned mesh keys (best
 * effort on JSON not yet validated).
 */
export function trustedKeyFiles(json: unknown, baseDir: string): string[] {
  const usable = (file: unknown): file is string => typeof file === 'string' && file !== '' && !file.includes('\0');
  const keys = (json as { policies?: { trustedPluginKeys?: unknown } } | null)?.policies?.trustedPluginKeys;
  const plugin = Array.isArray(keys) ? keys.flatMap((k: unknown) => {
    const file = (k as { file?: unknown } | null)?.file;
    return usable(file) ? [resolve(baseDir, file)] : [];
  }) : [];
  const pinned = (json as { mesh?: { trust?: { pinned?: unknown } } } | null)?.mesh?.trust?.pinned;
  const mesh = Array.isArray(pinned) ? pinned.filter(usable).map((f) => resolve(baseDir, f)) : [];
  return [...new Set([...plugin, ...mesh])];
}

function trustedKey(entry: TrustedKeyEntryV1, at: string, ctx: ManifestContext): TrustedKey {
  const inline = entry.algorithm !== undefined || entry.publicKey !== undefined;
  if (entry.file !== undefined) {
    if (inline) throw manifestInvalid(at, 'gives both file and algorithm/publicKey; give one or the other', ctx);
    const file = resolve(ctx.baseDir, entry.file);
    const text = ctx.files?.get(file);
    if (text === undefined) throw manifestInvalid(childKey(at, 'file'), `names ${file}, which was not read`, ctx);
    let key;
    try {
      key = parsePublicKeyText(text, { manifestPath: file, baseDir: ctx.baseDir });
    } catch (e) {
      throw manifestInvalid(childKey(at, 'file'), `is not a usable public-key file: ${(e as Error).message}`, ctx);
    }
    return { name: entry.name ?? key.name, algorithm: key.signing.algorithm, publicKey: key.signing.publicKey, file };
  }
  if (entry.algorithm === undefined) throw manifestInvalid(childKey(at, 'algorithm'), 'is required (or give file)', ctx);
  if (entry.publicKey === undefined) throw manifestInvalid(childKey(at, 'publicKey'), 'is required (or give file)', ctx);
  checkSigningKeyLength(entry.algorithm, entry.publicKey, childKey(at, 'publicKey'), ctx);
  return { name: entry.name ?? null, algorithm: entry.algorithm, publicKey: entry.publicKey, file: null };
}

function trustedKeys(entries: readonly TrustedKeyEntryV1[], required: boolean, ctx: ManifestContext): TrustedKey[] {
  const base = 'policies.trustedPluginKeys';
  const seen = new Map<string, number>();
  const keys = entries.map((entry, i) => {
    const at = childIndex(base, i);
    const key = trustedKey(entry, at, ctx);
    const id = `${key.algorithm} ${key.publicKey}`;
    const first = seen.get(id);
    if (first !== undefined) throw manifestInvalid(at, `is the same key as ${childIndex(base, first)}`, ctx);
    seen.set(id, i);
    return key;
  });
  if (required && keys.length === 0) {
    throw manifestInvalid(base, 'must list at least one key when policies.requireSignedPlugins is true (no plugin could load)', ctx);
  }
  return keys;
}

function knowledge(k: KnowledgeV1, ctx: ManifestContext): KnowledgeSpec {
  const dir = resolve(ctx.baseDir, k.dir);
  const seen = new Map<string, number>();
  const ingest = (k.ingest ?? []).map((p, i) => {
    const abs = resolve(ctx.baseDir, p);
    const at = childIndex(childKey('knowledge', 'ingest'), i);
    const first = seen.get(abs);
    if (first !== undefined) throw manifestInvalid(at, `names the same path as knowledge.ingest[${first}] (${abs})`, ctx);
    // Ingesting the knowledge base's own folder would feed its state files back into it.
    if (abs === dir) throw manifestInvalid(at, `is the knowledge-base folder itself (${abs})`, ctx);
    seen.set(abs, i);
    return abs;
  });
  return {
    dir,
    models: k.models === undefined ? null : resolve(ctx.baseDir, k.models),
    embedder: k.embedder ?? DEFAULT_KNOWLEDGE.embedder,
    index: k.index ?? DEFAULT_KNOWLEDGE.index,
    ingest,
  };
}

function driver(d: DriverV1, ctx: ManifestContext): DriverSpec {
  // The schema checks every field (interface name rules, absolute pinRoot); only defaults and paths are filled here.
  return {
    interface: d.interface,
    mode: d.mode ?? DEFAULT_DRIVER.mode,
    eventsPerSecond: d.eventsPerSecond ?? DEFAULT_DRIVER.eventsPerSecond,
    pinRoot: d.pinRoot === undefined ? null : normalize(d.pinRoot),
    required: d.required ?? DEFAULT_DRIVER.required,
    quarantineFile: d.quarantineFile === undefined ? null : resolve(ctx.baseDir, d.quarantineFile),
  };
}

function identity(m: IdentityV1, ctx: ManifestContext): IdentitySpec {
  // Two ways to get an SVID cannot both hold: the node is the CA, or it joins one.
  if (m.ca !== undefined && m.join !== undefined) {
    throw manifestInvalid('identity.join', 'cannot be given together with identity.ca (a node is the mesh CA or joins one, not both)', ctx);
  }
  return {
    name: m.name,
    trustDomain: m.trustDomain,
    ...(m.keyFile !== undefined ? { keyFile: resolve(ctx.baseDir, m.keyFile) } : {}),
    ...(m.stateDir !== undefined ? { stateDir: resolve(ctx.baseDir, m.stateDir) } : {}),
    ...(m.ca !== undefined ? { ca: { dir: resolve(ctx.baseDir, m.ca.dir), listen: parseEndpoint(m.ca.listen) } } : {}),
    ...(m.join !== undefined ? { join: { server: m.join.server.replace(/\/$/, ''), token: m.join.token, bundleSha256: m.join.bundleSha256 } } : {}),
  };
}

function pinnedKey(file: string, at: string, ctx: ManifestContext): PinnedKeySpec {
  const abs = resolve(ctx.baseDir, file);
  const text = ctx.files?.get(abs);
  if (text === undefined) throw manifestInvalid(at, `names ${abs}, which was not read`, ctx);
  let key;
  try {
    key = parsePublicKeyText(text, { manifestPath: abs, baseDir: ctx.baseDir });
  } catch (e) {
    throw manifestInvalid(at, `is not a usable public-key file: ${(e as Error).message}`, ctx);
  }
  return { file: abs, name: key.name, signing: key.signing, kem: key.kem };
}

function mesh(m: MeshV1, id: IdentityV1, ctx: ManifestContext): MeshSpec {
  const d = DEFAULT_MESH;
  if (m.trust !== undefined && (id.ca !== undefined || id.join !== undefined)) {
    throw manifestInvalid('mesh.trust', `cannot be given together with identity.${id.ca !== undefined ? 'ca' : 'join'} (pinned keys are the alternative to SVIDs from a mesh CA)`, ctx);
  }
  const seen = new Map<string, number>();
  const pinned = (m.trust?.pinned ?? []).map((f, i) => {
    const at = childIndex('mesh.trust.pinned', i);
    const key = pinnedKey(f, at, ctx);
    const first = seen.get(key.signing.publicKey);
    if (first !== undefined) throw manifestInvalid(at, `is the same key as mesh.trust.pinned[${first}]`, ctx);
    seen.set(key.signing.publicKey, i);
    return key;
  });
  return {
    helloMs: m.helloMs ?? d.helloMs,
    suite: m.suite ?? d.suite,
    mtu: m.mtu ?? d.mtu,
    rekeyMs: m.rekeyMs ?? d.rekeyMs,
    discovery: {
      multicast: m.discovery?.multicast ?? d.discovery.multicast,
      interfaces: m.discovery?.interfaces ?? d.discovery.interfaces,
      intervalMs: m.discovery?.intervalMs ?? d.discovery.intervalMs,
    },
    gateway: m.gateway === undefined ? null : { bandwidthKbps: m.gateway.bandwidthKbps },
    batman: m.batman === undefined ? null : { interface: m.batman.interface },
    trust: m.trust === undefined ? null : { pinned },
  };
}

/**
 * Validates a parsed node manifest and returns its deeply frozen spec with every default filled and slot
 * plugin paths made absolute. Trusted public-key files must be in `ctx.files` (loadNodeSpec reads them).
 * Throws only ManifestInvalidError, whose `details.path` names the field.
 */
export function parseNodeManifest(json: unknown, ctx: ManifestContext): NodeSpec {
  const validate = validateNodeManifest();
  if (!validate(json)) throw fromAjvErrors(validate.errors, json, ctx);
  const m = json as NodeManifestV1;

  const peersIn = m.peers ?? [];
  const seen = new Map<string, number>();
  peersIn.forEach((p, i) => {
    const path = childKey(childIndex('peers', i), 'name');
    const first = seen.get(p.name);
    if (first !== undefined) throw manifestInvalid(path, `duplicates peers[${first}].name ${JSON.stringify(p.name)}`, ctx);
    seen.set(p.name, i);
  });

  const slots: Record<string, SlotSpec> = {};
  for (const [name, s] of Object.entries(m.slots)) {
    if (!isKnownCapability(s.capability)) {
      throw manifestInvalid(
        childKey(childKey('slots', name), 'capability'),
        `unknown capability ${JSON.stringify(s.capability)} (known: ${KNOWN_CAPABILITIES.join(', ')})`,
        ctx,
      );
    }
    const limits = pickLimits(s.limits);
    // Slot names are slugs (checked by the schema), so plain assignment cannot touch a prototype.
    slots[name] = { name, capability: s.capability, plugin: resolve(ctx.baseDir, s.plugin), limits };
  }

  const p = m.policies ?? {};
  const d = DEFAULT_NODE_POLICIES;
  const requireSignedPlugins = p.requireSignedPlugins ?? d.requireSignedPlugins;
  const trustedPluginKeys = trustedKeys(p.trustedPluginKeys ?? [], requireSignedPlugins, ctx);
  const peers: PeerSpec[] = peersIn.map((peer) => ({
    name: peer.name, address: parseEndpoint(peer.address), ...(peer.fingerprint !== undefined ? { fingerprint: peer.fingerprint } : {}),
  }));
  // The mTLS admin listener serves on the node's SVID, which only a CA or a join gives.
  if (m.listen?.adminMtls !== undefined && m.identity.ca === undefined && m.identity.join === undefined) {
    throw manifestInvalid('listen.adminMtls', 'needs an SVID: give identity.ca or identity.join', ctx);
  }
  const spec: NodeSpec = {
    identity: identity(m.identity, ctx),
    listen: {
      admin: parseEndpoint(m.listen?.admin ?? DEFAULT_ADMIN_ADDRESS),
      mesh: (m.listen?.mesh ?? []).map(parseEndpoint),
      ...(m.listen?.adminMtls !== undefined ? { adminMtls: parseEndpoint(m.listen.adminMtls) } : {}),
    },
    peers,
    slots,
    policies: {
      requireSignedPlugins,
      trustedPluginKeys,
      allowInThread: p.allowInThread ?? d.allowInThread,
      breaker: {
        failureThreshold: p.breaker?.failureThreshold ?? d.breaker.failureThreshold,
        windowMs: p.breaker?.windowMs ?? d.breaker.windowMs,
        observeMs: p.breaker?.observeMs ?? d.breaker.observeMs,
      },
      drainTimeoutMs: p.drainTimeoutMs ?? d.drainTimeoutMs,
      selfTest: p.selfTest ?? d.selfTest,
    },
    ...(m.knowledge !== undefined ? { knowledge: knowledge(m.knowledge, ctx) } : {}),
    ...(m.driver !== undefined ? { driver: driver(m.driver, ctx) } : {}),
    ...(m.mesh !== undefined ? { mesh: mesh(m.mesh, m.identity, ctx) } : {}),
    manifestPath: ctx.manifestPath,
  };
  return deepFreeze(spec);
}
