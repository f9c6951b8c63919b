// Reads manifest files and hands them to the pure parsers in host/core/manifest. The only manifest code that
// does I/O. Each loader comes in an async and a sync form; both throw only IoError or ManifestInvalidError.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { IoError, ManifestInvalidError } from '../errors/index.js';
import type { Isolation, PluginLimits, PluginSpec } from '../core/plugin-spec.js';
import {
  deepFreeze,
  parseNodeManifest,
  parsePluginManifest,
  pickLimits,
  trustedKeyFiles,
  type ManifestContext,
  type NodeSpec,
  type PluginManifestV1,
} from '../core/manifest/index.js';
import contract from '../../sdk/abi/contract.json' with { type: 'json' };

function ioError(what: string, file: string, e: unknown): IoError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const reason = code ?? (e instanceof Error ? e.message : String(e));
  return new IoError(`cannot read ${what} ${file}: ${reason}`, { path: file, code: code ?? null }, { cause: e });
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new ManifestInvalidError(`${file} is not valid JSON: ${reason}`, { path: '', file }, { cause: e });
  }
}

function contextFor(file: string): ManifestContext {
  return { manifestPath: file, baseDir: dirname(file) };
}

async function readText(what: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw ioError(what, file, e);
  }
}

function readTextSync(what: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw ioError(what, file, e);
  }
}

/** Reads and parses a plugin manifest; `wasm.path` in the result is absolute. The wasm file is not read. */
export async function loadPluginSpec(path: string): Promise<PluginSpec> {
  return (await loadPluginManifest(path)).spec;
}

/** A plugin manifest as read: its spec and the JSON document it was parsed from (one read of the file). */
export interface LoadedPluginManifest {
  readonly spec: PluginSpec;
  /** The parsed JSON, deeply frozen; what a manifest signature covers (see ManifestVerifier). */
  readonly document: unknown;
}

/** Like loadPluginSpec, and keeps the parsed JSON, from the same read, for signature verification. */
export async function loadPluginManifest(path: string): Promise<LoadedPluginManifest> {
  const file = resolve(path);
  const document = deepFreeze(parseJson(await readText('plugin manifest', file), file));
  return { spec: parsePluginManifest(document, contextFor(file)), document };
}

export function loadPluginSpecSync(path: string): PluginSpec {
  const file = resolve(path);
  return parsePluginManifest(parseJson(readTextSync('plugin manifest', file), file), contextFor(file));
}

/**
 * Reads and parses a node manifest, and the trusted public-key files it names; slot plugin paths in the result are
 * absolute. Plugin manifests are not read.
 */
export async function loadNodeSpec(path: string): Promise<NodeSpec> {
  const file = resolve(path);
  const json = parseJson(await readText('node manifest', file), file);
  const files = new Map<string, string>();
  for (const key of trustedKeyFiles(json, dirname(file))) files.set(key, await readText('trusted public-key file', key));
  return parseNodeManifest(json, { ...contextFor(file), files });
}

export function loadNodeSpecSync(path: string): NodeSpec {
  const file = resolve(path);
  const json = parseJson(readTextSync('node manifest', file), file);
  const files = new Map<string, string>();
  for (const key of trustedKeyFiles(json, dirname(file))) files.set(key, readTextSync('trusted public-key file', key));
  return parseNodeManifest(json, { ...contextFor(file), files });
}

export type AdHocOverrides = Partial<PluginLimits> & {
  capability?: string;
  name?: string;
  isolation?: Isolation;
};

/** A slug made from a file name: `My_Plugin.v2.wasm` → `my-plugin-v2`. */
function slugFromFile(file: string): string {
  const stem = basename(file).replace(/\.wasm$/i, '');
  const slug = stem
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return slug === '' ? 'plugin' : slug;
}

/**
 * A spec for running a bare .wasm without a manifest: its SHA-256 is taken from the file as it is now, it gets
 * no host permissions, capability `selftest` and the file's name unless overridden, and `manifestPath` null.
 * The overrides go through the same checks as a manifest (ManifestInvalidError names e.g. `limits.callTimeoutMs`).
 * Reads the file synchronously (IoError when it cannot).
 */
export function adHocSpec(wasmPath: string, overrides: AdHocOverrides = {}): PluginSpec {
  const file = resolve(wasmPath);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw ioError('wasm module', file, e);
  }
  const manifest: PluginManifestV1 = {
    schemaVersion: 1,
    name: overrides.name ?? slugFromFile(file),
    version: '0.0.0',
    capability: overrides.capability ?? 'selftest',
    abi: { min: contract.abiVersion, max: contract.abiVersion },
    wasm: { path: basename(file), sha256: createHash('sha256').update(bytes).digest('hex') },
    limits: pickLimits(overrides),
    permissions: { host: [] },
    ...(overrides.isolation === undefined ? {} : { isolation: overrides.isolation }),
  };
  return parsePluginManifest(manifest, { manifestPath: null, baseDir: dirname(file) });
}
