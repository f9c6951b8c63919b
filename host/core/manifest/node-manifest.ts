// Node manifest (schema version 1) → frozen NodeSpec. Pure: no I/O; plugin manifest paths are resolved
// against ctx.baseDir with node:path but not read here.

import { resolve } from 'node:path';
import type { PluginLimits } from '../plugin-spec.js';
import { isKnownCapability, KNOWN_CAPABILITIES } from './capabilities.js';
import type { ManifestContext } from './context.js';
import { deepFreeze } from './deep-freeze.js';
import { parseEndpoint } from './endpoint.js';
import { childIndex, childKey } from './field-path.js';
import { fromAjvErrors, manifestInvalid } from './invalid.js';
import {
  DEFAULT_ADMIN_ADDRESS,
  DEFAULT_NODE_POLICIES,
  type NodeSpec,
  type PeerSpec,
  type SlotSpec,
} from './node-spec.js';
import { pickLimits } from './slot-limits.js';
import { validateNodeManifest } from './validators.js';

/** The JSON shape of a node manifest, as accepted by manifests/schema/node-manifest.v1.json. */
export interface NodeManifestV1 {
  $schema?: string;
  schemaVersion: 1;
  identity: { name: string; trustDomain: string };
  listen?: { admin?: string; mesh?: string[] };
  peers?: { name: string; address: string }[];
  slots: Record<string, { capability: string; plugin: string; limits?: Partial<PluginLimits> }>;
  policies?: {
    requireSignedPlugins?: boolean;
    allowInThread?: boolean;
    breaker?: { failureThreshold?: number; windowMs?: number; observeMs?: number };
    drainTimeoutMs?: number;
    selfTest?: boolean;
  };
}

/**
 * Validates a parsed node manifest and returns its deeply frozen spec with every default filled and slot
 * plugin paths made absolute. Throws only ManifestInvalidError, whose `details.path` names the field.
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
  const peers: PeerSpec[] = peersIn.map((peer) => ({ name: peer.name, address: parseEndpoint(peer.address) }));
  const spec: NodeSpec = {
    identity: { name: m.identity.name, trustDomain: m.identity.trustDomain },
    listen: {
      admin: parseEndpoint(m.listen?.admin ?? DEFAULT_ADMIN_ADDRESS),
      mesh: (m.listen?.mesh ?? []).map(parseEndpoint),
    },
    peers,
    slots,
    policies: {
      requireSignedPlugins: p.requireSignedPlugins ?? d.requireSignedPlugins,
      allowInThread: p.allowInThread ?? d.allowInThread,
      breaker: {
        failureThreshold: p.breaker?.failureThreshold ?? d.breaker.failureThreshold,
        windowMs: p.breaker?.windowMs ?? d.breaker.windowMs,
        observeMs: p.breaker?.observeMs ?? d.breaker.observeMs,
      },
      drainTimeoutMs: p.drainTimeoutMs ?? d.drainTimeoutMs,
      selfTest: p.selfTest ?? d.selfTest,
    },
    manifestPath: ctx.manifestPath,
  };
  return deepFreeze(spec);
}
