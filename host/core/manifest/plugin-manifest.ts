// Plugin manifest (schema version 1) → frozen PluginSpec. Pure: no I/O; relative paths are resolved against
// ctx.baseDir with node:path.

import { resolve } from 'node:path';
import {
  DEFAULT_LIMITS,
  type HostPermission,
  type Isolation,
  type PluginLimits,
  type PluginSignature,
  type PluginSpec,
} from '../plugin-spec.js';
import { isKnownCapability, KNOWN_CAPABILITIES } from './capabilities.js';
import type { ManifestContext } from './context.js';
import { deepFreeze } from './deep-freeze.js';
import { fromAjvErrors, manifestInvalid } from './invalid.js';
import { validatePluginManifest } from './validators.js';

/** The JSON shape of a plugin manifest, as accepted by manifests/schema/plugin-manifest.v1.json. */
export interface PluginManifestV1 {
  $schema?: string;
  schemaVersion: 1;
  name: string;
  version: string;
  description?: string;
  capability: string;
  abi: { min: number; max: number };
  wasm: { path: string; sha256: string };
  limits?: Partial<PluginLimits>;
  isolation?: Isolation;
  permissions?: { host?: HostPermission[] };
  config?: Record<string, string>;
  signature?: PluginSignature | null;
}

/**
 * An in-thread instance cannot be interrupted, so a call must not hold the event loop longer than this.
 * Manifests asking for `isolation: "in-thread"` must set `limits.callTimeoutMs` at most this high.
 */
export const MAX_IN_THREAD_TIMEOUT_MS = 25;

/**
 * Validates a parsed plugin manifest and returns its deeply frozen spec with every default filled and
 * `wasm.path` made absolute. Throws only ManifestInvalidError, whose `details.path` names the field.
 */
export function parsePluginManifest(json: unknown, ctx: ManifestContext): PluginSpec {
  const validate = validatePluginManifest();
  if (!validate(json)) throw fromAjvErrors(validate.errors, json, ctx);
  const m = json as PluginManifestV1;

  if (m.abi.min > m.abi.max) {
    throw manifestInvalid('abi.max', `must be >= abi.min (${m.abi.min}), got ${m.abi.max}`, ctx);
  }
  if (!isKnownCapability(m.capability)) {
    throw manifestInvalid(
      'capability',
      `unknown capability ${JSON.stringify(m.capability)} (known: ${KNOWN_CAPABILITIES.join(', ')})`,
      ctx,
    );
  }

  const limits: PluginLimits = {
    maxMemoryPages: m.limits?.maxMemoryPages ?? DEFAULT_LIMITS.maxMemoryPages,
    callTimeoutMs: m.limits?.callTimeoutMs ?? DEFAULT_LIMITS.callTimeoutMs,
    maxInputBytes: m.limits?.maxInputBytes ?? DEFAULT_LIMITS.maxInputBytes,
    maxOutputBytes: m.limits?.maxOutputBytes ?? DEFAULT_LIMITS.maxOutputBytes,
  };
  const isolation: Isolation = m.isolation ?? 'worker';
  if (isolation === 'in-thread' && limits.callTimeoutMs > MAX_IN_THREAD_TIMEOUT_MS) {
    const given = m.limits?.callTimeoutMs === undefined ? ' (the default)' : '';
    throw manifestInvalid(
      'limits.callTimeoutMs',
      `must be <= ${MAX_IN_THREAD_TIMEOUT_MS} with isolation "in-thread", which cannot be interrupted; ` +
        `got ${limits.callTimeoutMs}${given}`,
      ctx,
    );
  }

  const sig = m.signature ?? null;
  const spec: PluginSpec = {
    name: m.name,
    version: m.version,
    capability: m.capability,
    abi: { min: m.abi.min, max: m.abi.max },
    wasm: { path: resolve(ctx.baseDir, m.wasm.path), sha256: m.wasm.sha256 },
    limits,
    isolation,
    permissions: { host: [...(m.permissions?.host ?? [])] },
    // fromEntries defines own properties, so a key such as "__proto__" stays plain data.
    config: Object.fromEntries(Object.entries(m.config ?? {})),
    signature: sig === null ? null : { algorithm: sig.algorithm, publicKey: sig.publicKey, value: sig.value },
    description: m.description ?? '',
    manifestPath: ctx.manifestPath,
  };
  return deepFreeze(spec);
}
