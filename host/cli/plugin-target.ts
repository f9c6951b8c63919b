// `<manifest.json | plugin.wasm>` → a PluginSpec, for the commands that take either. A bare .wasm gets an ad-hoc
// spec (no host functions beyond the Extism kernel); a manifest is read as it is, with any limit flags laid over
// its limits and the result validated again by the same parser.
import { open, readFile } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { parsePluginManifest } from '../core/manifest/index.js';
import type { PluginLimits, PluginSpec } from '../core/plugin-spec.js';
import { IoError } from '../errors/index.js';
import { adHocSpec, loadPluginSpec } from '../runtime/load-manifest.js';

export interface TargetOverrides {
  readonly limits?: Partial<PluginLimits>;
  readonly capability?: string;
}

export interface ResolvedTarget {
  readonly spec: PluginSpec;
  /** True for a bare .wasm (ad-hoc spec, hash taken from the file itself). */
  readonly adHoc: boolean;
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** `.wasm` → module, `.json` → manifest; anything else is told apart by the wasm magic number. */
async function isWasmFile(file: string): Promise<boolean> {
  const ext = extname(file).toLowerCase();
  if (ext === '.wasm') return true;
  if (ext === '.json') return false;
  let fh;
  try {
    fh = await open(file, 'r');
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return bytesRead === 4 && WASM_MAGIC.every((b, i) => head[i] === b);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? null;
    throw new IoError(`cannot read ${file}: ${code ?? (e as Error).message}`, { path: file, code }, { cause: e });
  } finally {
    await fh?.close();
  }
}

function definedLimits(limits: Partial<PluginLimits> | undefined): Partial<PluginLimits> {
  return Object.fromEntries(Object.entries(limits ?? {}).filter(([, v]) => v !== undefined)) as Partial<PluginLimits>;
}

export async function resolveTarget(target: string, overrides: TargetOverrides = {}): Promise<ResolvedTarget> {
  const file = resolve(target);
  const limits = definedLimits(overrides.limits);
  if (await isWasmFile(file)) {
    const spec = adHocSpec(file, {
      ...limits,
      ...(overrides.capability === undefined ? {} : { capability: overrides.capability }),
    });
    return { spec, adHoc: true };
  }
  const spec = await loadPluginSpec(file);
  const changed = Object.keys(limits).length > 0 || (overrides.capability !== undefined && overrides.capability !== spec.capability);
  if (!changed) return { spec, adHoc: false };
  // The manifest parsed as written; parse it again with the flags applied so they meet the same checks.
  const raw = JSON.parse((await readFile(file, 'utf8')).replace(/^\uFEFF/, '')) as Record<string, unknown>;
  const merged = {
    ...raw,
    ...(overrides.capability === undefined ? {} : { capability: overrides.capability }),
    limits: { ...(raw['limits'] as object | undefined), ...limits },
  };
  return { spec: parsePluginManifest(merged, { manifestPath: file, baseDir: dirname(file) }), adHoc: false };
}

/** The four limit flags shared by `plugin call` (and anything else that runs a plugin). */
export function limitsFromOptions(o: {
  timeoutMs?: number; maxMemoryPages?: number; maxOutputBytes?: number; maxInputBytes?: number;
}): Partial<PluginLimits> {
  return definedLimits({
    callTimeoutMs: o.timeoutMs,
    maxMemoryPages: o.maxMemoryPages,
    maxOutputBytes: o.maxOutputBytes,
    maxInputBytes: o.maxInputBytes,
  } as Partial<PluginLimits>);
}
