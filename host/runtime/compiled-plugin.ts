// Spec → CompiledPlugin: read the wasm, check its pinned hash, cap its memory, compile, and refuse any import the
// manifest does not grant. A CompiledPlugin is inert (no instance, nothing to close) and can be instantiated many
// times, in this thread or in a worker (a WebAssembly.Module crosses to workers without recompiling).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { PluginSpec } from '../core/plugin-spec.js';
import { ABI_VERSION, FAST_PATH_CALL_PREFIX, FAST_PATH_CORE_EXPORTS } from '../../sdk/abi/generated/contract.js';
import {
  AbiIncompatibleError, HashMismatchError, ImportNotPermittedError, IoError, ModuleInvalidError,
} from '../errors/index.js';
import { allowedImportKeys } from './host-permissions.js';
import { limitModuleMemory } from './wasm-memory-limit.js';
import { METER_IMPORT_MODULE, METER_IMPORT_NAME, meterModule } from './wasm-meter.js';

export const FAST_PREFIX = FAST_PATH_CALL_PREFIX;
const NOT_CALLABLE = new Set(['_start', '_initialize', 'hs_init', '__wasm_call_ctors']);

export interface CompiledPlugin {
  readonly spec: PluginSpec;
  readonly module: WebAssembly.Module;
  readonly sha256: string;
  /** The module exports the x0t fast path (docs/PLUGIN-ABI.md). */
  readonly fastPath: boolean;
  /** Names the host can call: fast-path functions and Extism-style `() -> i32` exports. */
  readonly functions: readonly string[];
  readonly sizeBytes: number;
  /**
   * The module counts loop iterations and function entries and asks the host's clock every few thousand, so an
   * in-thread call can be stopped at its deadline (V8 cannot interrupt code on the thread that must do the stopping).
   */
  readonly metered: boolean;
  /** The module's memory is shared (a SharedArrayBuffer): the variant a worker runs staged input on. */
  readonly sharedMemory: boolean;
}

export interface CompileOptions {
  /** Declare the module's memory shared (worker-isolated staged input, staged-input.ts). */
  readonly sharedMemory?: boolean;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export async function readPluginBytes(spec: PluginSpec): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(spec.wasm.path));
  } catch (e) {
    throw new IoError(`cannot read plugin ${spec.name}: ${spec.wasm.path}`, { path: spec.wasm.path }, { cause: e });
  }
}

/** Checks and compiles; `bytes` may be given when the caller already has them. */
export async function compilePlugin(spec: PluginSpec, bytes?: Uint8Array, opts: CompileOptions = {}): Promise<CompiledPlugin> {
  if (ABI_VERSION < spec.abi.min || ABI_VERSION > spec.abi.max) {
    throw new AbiIncompatibleError(
      `plugin ${spec.name}@${spec.version} supports ABI ${spec.abi.min}..${spec.abi.max}; this host speaks ${ABI_VERSION}`,
      { plugin: spec.name, abi: spec.abi, host: ABI_VERSION },
    );
  }
  const raw = bytes ?? (await readPluginBytes(spec));
  const sha256 = sha256Hex(raw);
  if (sha256 !== spec.wasm.sha256) {
    throw new HashMismatchError(`plugin ${spec.name}: wasm SHA-256 ${sha256} does not match the manifest's ${spec.wasm.sha256}`, {
      plugin: spec.name, expected: spec.wasm.sha256, actual: sha256, path: spec.wasm.path,
    });
  }
  const sharedMemory = opts.sharedMemory === true;
  const limited = limitModuleMemory(raw, spec.limits.maxMemoryPages, sharedMemory);
  const metered = spec.isolation === 'in-thread';
  const code = metered ? meterModule(limited.bytes) : (limited.bytes as Uint8Array<ArrayBuffer>);
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(code);
  } catch (e) {
    throw new ModuleInvalidError(`plugin ${spec.name}: ${(e as Error).message}`, { plugin: spec.name }, { cause: e });
  }
  checkImports(spec, module, metered);
  const exports = WebAssembly.Module.exports(module);
  const exported = new Map(exports.map((e) => [e.name, e.kind]));
  if (exported.get('memory') !== 'memory') {
    throw new ModuleInvalidError(`plugin ${spec.name} does not export its memory as "memory"`, { plugin: spec.name });
  }
  const fastPath = FAST_PATH_CORE_EXPORTS.every((n) => exported.get(n) === 'function');
  const functions = new Set<string>();
  for (const e of exports) {
    if (e.kind !== 'function' || NOT_CALLABLE.has(e.name)) continue;
    if (e.name.startsWith(FAST_PREFIX)) {
      if (fastPath) functions.add(e.name.slice(FAST_PREFIX.length));
    } else if (!e.name.startsWith('x0t_')) {
      functions.add(e.name);
    }
  }
  return Object.freeze({
    spec, module, sha256, fastPath, functions: [...functions].sort(), sizeBytes: raw.length, metered, sharedMemory,
  });
}

function checkImports(spec: PluginSpec, module: WebAssembly.Module, metered: boolean): void {
  const allowed = allowedImportKeys(spec.permissions.host);
  if (metered) allowed.add(`${METER_IMPORT_MODULE}\0${METER_IMPORT_NAME}`);
  const refused = WebAssembly.Module.imports(module)
    .filter((i) => i.kind !== 'function' || !allowed.has(`${i.module}\0${i.name}`))
    .map((i) => `${i.module}.${i.name} (${i.kind})`);
  if (refused.length > 0) {
    throw new ImportNotPermittedError(
      `plugin ${spec.name} imports what its manifest does not grant: ${refused.join(', ')}`,
      { plugin: spec.name, imports: refused, granted: spec.permissions.host },
    );
  }
}
