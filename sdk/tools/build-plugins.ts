// Builds every plugin (AssemblyScript, C or C++) and writes its manifest.
//
//   plugins/<name>/index.ts                → wasm/<name>.wasm,               manifests/plugins/<name>.json
//   test/fixtures/plugins/<name>/index.ts  → test/fixtures/wasm/<name>.wasm, test/fixtures/manifests/<name>.json
//   plugins/<name>/*.c (plugin.json "build": {"language": "c", ...})  → the same outputs, built with clang
//   plugins/<name>/*.cpp, *.c ("build": {"language": "c++", ...})    → the same outputs, built with clang++
//
//   node dist/sdk/tools/build-plugins.js            build everything
//   node dist/sdk/tools/build-plugins.js a b        build only plugins named a and b
//   node dist/sdk/tools/build-plugins.js --check    build into a temporary folder; exit 1 if any
//                                                   committed wasm or manifest differs (reproducibility)
//
// Each plugin folder has a plugin.json with name, version, capability, description and limits
// (optionally permissions, config, isolation, abi, and `build` options); the build fills in the
// wasm path and SHA-256. Compiler options come from asconfig.json at the repository root; the
// compiler runs with the repository root as its working directory and relative paths only, so the
// output does not depend on where the checkout lives. The build also refuses a module whose
// imports its manifest does not permit (fixtures that exist to be refused set
// `build.allowForbiddenImports`).
//
// A C plugin's plugin.json says `"build": {"language": "c", ...}` with
//   sources     extra .c files, relative to the repository root; `*` in the last path segment is a glob
//               (the plugin folder's own *.c files and the SDK's sdk/c/x0t.c are always compiled);
//   include     extra include folders, relative to the repository root (the plugin folder and sdk/c come first);
//   cflags      compiler flags for every source, e.g. ["-O3", "-flto", "-msimd128"] (default ["-O3"]);
//   ldflags     linker flags (e.g. ["-Wl,--lto-O3"] for LTO at -O3; wasm-ld's default is -O2);
//   stackBytes  the shadow stack (wasm-ld's default of 64 KiB is too small for some code; default 131072).
// A C++ plugin ("language": "c++") takes the same fields; its own *.cpp files are compiled too, `sources` may name
// .cpp files, and
//   cxxflags      flags for C++ sources only, after cflags (e.g. ["-fno-rtti"]); C++ is compiled as -std=c++17;
//   systemInclude include folders whose headers are someone else's code (-isystem: their warnings are not ours,
//                 e.g. a header-only library compiled from node_modules, never copied into the repository);
//   forceInclude  headers included before every C++ source (-include), e.g. stand-ins for what the wasm32 C++
//                 library lacks.
// C++ is compiled and linked by clang++ (`$X0T_CLANGXX`, else `clang++`) against libc++/libc++abi for wasm32
// (Debian: libc++-14-dev-wasm32, libc++abi-14-dev-wasm32; built without threads or an exception runtime, so a plugin
// that throws must define what a throw does, e.g. sdk/c/hnsw/cxa-throw.cpp). C plugins' arguments are unchanged.
// Each source is compiled by clang for wasm32-wasi, then the objects are linked as a reactor without WASI
// (-nostartfiles, no entry, stack first, stripped, no debug info), with relative paths from the repository root,
// so the same clang gives the same bytes anywhere. The module must export exactly the fast path and Extism twins
// of its capability (sdk/c/x0t.h X0T_EXPORT) and its memory; its imports are checked against its permissions
// like any other plugin's. clang, lld, wasi-libc and the wasm32 compiler-rt builtins come from apt (findCToolchain
// names the packages when one is missing); `$X0T_CLANG` picks another clang.

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BuildFailedError } from '../abi/errors.js';
import { FAST_PATH_CALL_PREFIX, FAST_PATH_CORE_EXPORTS } from '../abi/generated/contract.js';
import { HOST_PERMISSIONS, type HostPermission, type PluginLimits } from '../../host/core/plugin-spec.js';
import { allowedImportKeys } from '../../host/runtime/host-permissions.js';

export interface PluginSource {
  name: string;
  version: string;
  capability: string;
  description: string;
  limits: PluginLimits;
  abi: { min: number; max: number };
  isolation: 'worker' | 'in-thread';
  permissions: { host: HostPermission[] };
  config: Record<string, string>;
  build: AssemblyScriptBuild | CBuild;
}

export interface AssemblyScriptBuild {
  language: 'assemblyscript';
  /** asconfig.json target (default "release"; "pdk" for plugins that bring their own abort handler). */
  target: string;
  /** Abort handler element relative to the plugin folder, e.g. "index/abort" (default: the SDK's). */
  abort: string | null;
  /** Fixtures that exist to be refused by the host may import what they like. */
  allowForbiddenImports: boolean;
}

export interface CBuild {
  language: 'c' | 'c++';
  /** Extra .c (and for C++ .cpp) files (or `*` globs in the last segment), relative to the repository root. */
  sources: string[];
  /** Extra include folders, relative to the repository root. */
  include: string[];
  /** C++ only: include folders of third-party headers (-isystem), relative to the repository root. */
  systemInclude?: string[];
  /** C++ only: headers included before every C++ source (-include), relative to the repository root. */
  forceInclude?: string[];
  cflags: string[];
  /** C++ only: flags for C++ sources (after cflags). */
  cxxflags?: string[];
  ldflags: string[];
  /** Shadow stack size in bytes (a multiple of 16). */
  stackBytes: number;
  allowForbiddenImports: boolean;
}

/** The SDK's C side, compiled into every C plugin. */
export const C_SDK_DIR = 'sdk/c';
export const C_SDK_SOURCES: readonly string[] = ['sdk/c/x0t.c'];
const DEFAULT_C_STACK_BYTES = 131072;

export interface BuildSet {
  /** Folder holding one folder per plugin. */
  readonly src: string;
  /** Folder the .wasm files go to. */
  readonly out: string;
  /** Folder the manifests go to. */
  readonly manifests: string;
  /** `wasm.path` prefix as seen from the manifest folder. */
  readonly wasmFromManifest: string;
  /** `$schema` (an editor hint) as seen from the manifest folder. */
  readonly schemaFromManifest: string;
}

export const BUILD_SETS: readonly BuildSet[] = [
  {
    src: 'plugins', out: 'wasm', manifests: 'manifests/plugins',
    wasmFromManifest: '../../wasm', schemaFromManifest: '../schema/plugin-manifest.v1.json',
  },
  {
    src: 'test/fixtures/plugins', out: 'test/fixtures/wasm', manifests: 'test/fixtures/manifests',
    wasmFromManifest: '../wasm', schemaFromManifest: '../../../manifests/schema/plugin-manifest.v1.json',
  },
];

/** Build failures are the registry's BuildFailedError, so `x0t plugin build` exits with its code. */
const BuildError = BuildFailedError;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function need(cond: boolean, where: string, message: string): asserts cond {
  if (!cond) throw new BuildError(`${where}: ${message}`);
}

function positiveInt(v: unknown, where: string): number {
  need(typeof v === 'number' && Number.isSafeInteger(v) && v > 0, where, 'must be a positive integer');
  return v;
}

/** Parses and checks a plugin.json (`folder` is the plugin's folder name, which must equal `name`). */
export function parsePluginSource(json: unknown, where: string, folder: string, capabilities: readonly string[]): PluginSource {
  need(isRecord(json), where, 'must be an object');
  const known = new Set(['name', 'version', 'capability', 'description', 'limits', 'abi', 'isolation', 'permissions', 'config', 'build']);
  for (const k of Object.keys(json)) need(known.has(k), `${where}.${k}`, 'unknown field');
  const { name, version, capability, description } = json;
  need(typeof name === 'string' && name === folder, `${where}.name`, `must equal the folder name "${folder}"`);
  need(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(name), `${where}.name`, 'must be kebab-case');
  need(typeof version === 'string' && /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(version), `${where}.version`, 'must be a semantic version');
  need(typeof capability === 'string' && capabilities.includes(capability), `${where}.capability`,
    `must be one of ${capabilities.join(', ')}`);
  need(typeof description === 'string' && description.trim() !== '', `${where}.description`, 'must be a non-empty string');
  const l = json['limits'];
  need(isRecord(l), `${where}.limits`, 'must be an object');
  const limits: PluginLimits = {
    maxMemoryPages: positiveInt(l['maxMemoryPages'], `${where}.limits.maxMemoryPages`),
    callTimeoutMs: positiveInt(l['callTimeoutMs'], `${where}.limits.callTimeoutMs`),
    maxInputBytes: positiveInt(l['maxInputBytes'], `${where}.limits.maxInputBytes`),
    maxOutputBytes: positiveInt(l['maxOutputBytes'], `${where}.limits.maxOutputBytes`),
  };
  need(limits.maxMemoryPages <= 65536, `${where}.limits.maxMemoryPages`, 'must be at most 65536');
  for (const k of Object.keys(l)) need(Object.hasOwn(limits, k), `${where}.limits.${k}`, 'unknown field');

  const abiJson = json['abi'] ?? { min: 1, max: 1 };
  need(isRecord(abiJson), `${where}.abi`, 'must be an object');
  const abi = { min: positiveInt(abiJson['min'], `${where}.abi.min`), max: positiveInt(abiJson['max'], `${where}.abi.max`) };
  need(abi.min <= abi.max, `${where}.abi`, 'min must not exceed max');

  const isolation = json['isolation'] ?? 'worker';
  need(isolation === 'worker' || isolation === 'in-thread', `${where}.isolation`, 'must be "worker" or "in-thread"');

  const permJson = json['permissions'] ?? { host: [] };
  need(isRecord(permJson) && Array.isArray(permJson['host']), `${where}.permissions.host`, 'must be an array');
  const host: HostPermission[] = [];
  for (const p of permJson['host'] as unknown[]) {
    need(typeof p === 'string' && (HOST_PERMISSIONS as readonly string[]).includes(p), `${where}.permissions.host`,
      `unknown permission ${String(p)}`);
    need(!host.includes(p as HostPermission), `${where}.permissions.host`, `duplicate permission ${p}`);
    host.push(p as HostPermission);
  }

  const configJson = json['config'] ?? {};
  need(isRecord(configJson), `${where}.config`, 'must be an object of strings');
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(configJson)) {
    need(typeof v === 'string', `${where}.config.${k}`, 'must be a string');
    config[k] = v;
  }

  const buildJson = json['build'] ?? {};
  need(isRecord(buildJson), `${where}.build`, 'must be an object');
  const language = buildJson['language'] ?? 'assemblyscript';
  need(language === 'assemblyscript' || language === 'c' || language === 'c++', `${where}.build.language`,
    'must be "assemblyscript" or "c" or "c++"');
  const fields = language === 'c'
    ? ['language', 'sources', 'include', 'cflags', 'ldflags', 'stackBytes', 'allowForbiddenImports']
    : language === 'c++'
      ? ['language', 'sources', 'include', 'systemInclude', 'forceInclude', 'cflags', 'cxxflags', 'ldflags', 'stackBytes',
        'allowForbiddenImports']
      : ['language', 'target', 'abort', 'allowForbiddenImports'];
  for (const k of Object.keys(buildJson)) {
    need(fields.includes(k), `${where}.build.${k}`, `unknown field for language ${language}`);
  }
  const allow = buildJson['allowForbiddenImports'] ?? false;
  need(typeof allow === 'boolean', `${where}.build.allowForbiddenImports`, 'must be a boolean');
  let build: AssemblyScriptBuild | CBuild;
  if (language === 'c' || language === 'c++') {
    build = {
      language,
      sources: repoPaths(buildJson['sources'] ?? [], `${where}.build.sources`, language === 'c++' ? 'c++' : 'c'),
      include: repoPaths(buildJson['include'] ?? [], `${where}.build.include`, null),
      cflags: clangFlags(buildJson['cflags'] ?? ['-O3'], `${where}.build.cflags`),
      ldflags: clangFlags(buildJson['ldflags'] ?? [], `${where}.build.ldflags`),
      stackBytes: positiveInt(buildJson['stackBytes'] ?? DEFAULT_C_STACK_BYTES, `${where}.build.stackBytes`),
      allowForbiddenImports: allow,
    };
    if (language === 'c++') {
      build.systemInclude = repoPaths(buildJson['systemInclude'] ?? [], `${where}.build.systemInclude`, null);
      build.forceInclude = repoPaths(buildJson['forceInclude'] ?? [], `${where}.build.forceInclude`, null);
      build.cxxflags = clangFlags(buildJson['cxxflags'] ?? [], `${where}.build.cxxflags`);
    }
    for (const [i, f] of build.ldflags.entries()) {
      need(!/^-O/.test(f) && f !== '-flto', `${where}.build.ldflags[${i}]`,
        'optimisation belongs in cflags (objects built with -flto are linked with LTO; its level is -Wl,--lto-O<n>)');
    }
    need(build.stackBytes % 16 === 0 && build.stackBytes <= 64 * 1024 * 1024, `${where}.build.stackBytes`,
      'must be a multiple of 16, at most 64 MiB');
  } else {
    const target = buildJson['target'] ?? 'release';
    need(typeof target === 'string' && /^[a-z][a-z0-9-]*$/.test(target), `${where}.build.target`, 'must be an asconfig target name');
    const abort = buildJson['abort'] ?? null;
    need(abort === null || (typeof abort === 'string' && /^[A-Za-z0-9_/-]+$/.test(abort)), `${where}.build.abort`,
      'must be an element path such as "index/abort"');
    build = { language, target, abort, allowForbiddenImports: allow };
  }

  return { name, version, capability, description, limits, abi, isolation, permissions: { host }, config, build };
}

/**
 * Relative, normalised paths inside the repository; `sources` names the language of source files (`*` allowed in
 * their last segment), null for folders and headers.
 */
function repoPaths(v: unknown, where: string, sourcesOf: 'c' | 'c++' | null): string[] {
  const sources = sourcesOf !== null;
  need(Array.isArray(v), where, 'must be an array of paths relative to the repository root');
  return v.map((p: unknown, i) => {
    need(typeof p === 'string' && p !== '', `${where}[${i}]`, 'must be a non-empty string');
    const segments = p.split('/');
    need(!p.startsWith('/') && !p.includes('\\') && segments.every((x) => x !== '' && x !== '.' && x !== '..'), `${where}[${i}]`,
      'must be a relative path inside the repository (no "..", "." or empty segments, forward slashes)');
    need(segments.slice(0, -1).every((x) => !x.includes('*')) && (sources || !p.includes('*')), `${where}[${i}]`,
      sources ? '"*" is allowed in the last path segment only' : 'must not contain "*"');
    need(sourcesOf !== 'c' || p.endsWith('.c'), `${where}[${i}]`, 'must name .c files');
    need(sourcesOf !== 'c++' || p.endsWith('.c') || p.endsWith('.cpp'), `${where}[${i}]`, 'must name .c or .cpp files');
    return p;
  });
}

/** Compiler or linker flags. Output, debug-info and target flags are the build's own, so the result stays reproducible. */
function clangFlags(v: unknown, where: string): string[] {
  need(Array.isArray(v), where, 'must be an array of flags');
  return v.map((f: unknown, i) => {
    need(typeof f === 'string' && /^--?[A-Za-z]/.test(f), `${where}[${i}]`, 'must be a flag starting with "-"');
    const own = f === '-o' || f === '-c' || f === '-E' || f === '-S' || f === '-target' || f.startsWith('--target') ||
      (f.startsWith('-g') && f !== '-g0') || f.startsWith('-ffile-prefix-map') || f.startsWith('-fdebug-prefix-map') ||
      f.startsWith('-fmacro-prefix-map') || f === '-nostartfiles' || f.startsWith('--sysroot') || f.startsWith('-isysroot');
    need(!own, `${where}[${i}]`, `${f} is set by the build itself`);
    return f;
  });
}

/** The manifest for a built plugin, fields in schema order. */
export function manifestFor(p: PluginSource, wasmPath: string, sha256: string, schema: string): Record<string, unknown> {
  return {
    $schema: schema,
    schemaVersion: 1,
    name: p.name,
    version: p.version,
    description: p.description,
    capability: p.capability,
    abi: { min: p.abi.min, max: p.abi.max },
    wasm: { path: wasmPath, sha256 },
    limits: {
      maxMemoryPages: p.limits.maxMemoryPages,
      callTimeoutMs: p.limits.callTimeoutMs,
      maxInputBytes: p.limits.maxInputBytes,
      maxOutputBytes: p.limits.maxOutputBytes,
    },
    isolation: p.isolation,
    permissions: { host: [...p.permissions.host] },
    config: { ...p.config },
  };
}

/**
 * The manifest text to write. A `signature` in the existing manifest is kept only if everything
 * else is unchanged (it would not verify otherwise).
 */
export function manifestText(fresh: Record<string, unknown>, existing: string | null): string {
  const text = `${JSON.stringify(fresh, null, 2)}\n`;
  if (existing === null) return text;
  let old: unknown;
  try {
    old = JSON.parse(existing);
  } catch {
    return text;
  }
  if (!isRecord(old) || old['signature'] === undefined) return text;
  const { signature, ...rest } = old;
  if (JSON.stringify(rest) !== JSON.stringify(fresh)) return text;
  return `${JSON.stringify({ ...fresh, signature }, null, 2)}\n`;
}

export interface Job {
  readonly set: BuildSet;
  readonly dir: string;
  readonly source: PluginSource;
  readonly outFile: string;
}

function run(cmd: string, args: readonly string[], cwd: string): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    child.on('error', (e) => resolveRun({ code: -1, output: output + String(e) }));
    child.on('close', (code) => resolveRun({ code: code ?? -1, output }));
  });
}

async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, items.length)) }, worker));
}

function ascArgs(job: Job, build: AssemblyScriptBuild, outFile: string): string[] {
  const entry = `${job.set.src}/${job.dir}/index.ts`;
  const args = [entry, '--config', 'asconfig.json', '--target', build.target, '--outFile', outFile];
  if (build.abort !== null) args.push('--use', `abort=${job.set.src}/${job.dir}/${build.abort}`);
  return args;
}

// ---------------------------------------------------------------------------------------------------------------
// C plugins

/** What the C toolchain needs besides clang itself; named in the error when something is missing. */
function aptPackages(major: string): string {
  return `clang lld wasi-libc libclang-rt-${major}-dev-wasm32`;
}

export interface CToolchain {
  readonly clang: string;
  /** The C++ driver (the same clang's clang++); checked only when a C++ plugin is built. */
  readonly clangxx: string;
  /** First line of `clang --version`, e.g. "Debian clang version 14.0.6". */
  readonly version: string;
}

/** The Debian packages of libc++ and libc++abi for wasm32, which C++ plugins link against. */
function aptCxxPackages(major: string): string {
  return `libc++-${major}-dev-wasm32 libc++abi-${major}-dev-wasm32`;
}

/**
 * Finds clang (`$X0T_CLANG`, else `clang` on PATH) and checks that it can build wasm32-wasi reactors: wasm-ld (lld),
 * wasi-libc and the wasm32 compiler-rt builtins. Throws BuildFailedError naming the Debian packages to install.
 */
export async function findCToolchain(root: string, cxx = false): Promise<CToolchain> {
  const clang = process.env['X0T_CLANG'] ?? 'clang';
  const clangxx = process.env['X0T_CLANGXX'] ?? 'clang++';
  const v = await run(clang, ['--version'], root);
  if (v.code !== 0) {
    throw new BuildError(`C plugins need clang for wasm32-wasi, and "${clang} --version" failed (${v.output.trim() || `exit ${v.code}`}). ` +
      `On Debian/Ubuntu: apt-get install ${aptPackages('14')}`);
  }
  const version = v.output.split('\n')[0]!.trim();
  const major = /clang version (\d+)/.exec(version)?.[1] ?? '14';
  const ask = async (args: string[]): Promise<string> => (await run(clang, ['--target=wasm32-wasi', ...args], root)).output.trim();
  const missing: string[] = [];
  const ld = await ask(['-print-prog-name=wasm-ld']);
  if (!ld.startsWith('/') || !existsSync(ld)) {
    const onPath = await run('wasm-ld', ['--version'], root);
    if (onPath.code !== 0) missing.push('wasm-ld (package lld)');
  }
  const libc = await ask(['-print-file-name=libc.a']);
  if (!libc.startsWith('/') || !existsSync(libc)) missing.push('wasi-libc (package wasi-libc)');
  const builtins = await ask(['-print-libgcc-file-name']);
  if (!builtins.startsWith('/') || !existsSync(builtins)) missing.push(`compiler-rt builtins for wasm32 (package libclang-rt-${major}-dev-wasm32)`);
  if (missing.length > 0) {
    throw new BuildError(`C plugins need clang for wasm32-wasi; ${version} lacks ${missing.join(', ')}. ` +
      `On Debian/Ubuntu: apt-get install ${aptPackages(major)}`);
  }
  if (cxx) {
    const vxx = await run(clangxx, ['--version'], root);
    const askxx = async (args: string[]): Promise<string> => (await run(clangxx, ['--target=wasm32-wasi', ...args], root)).output.trim();
    const libcxx = vxx.code === 0 ? await askxx(['-print-file-name=libc++.a']) : '';
    const libcxxabi = vxx.code === 0 ? await askxx(['-print-file-name=libc++abi.a']) : '';
    if (vxx.code !== 0 || vxx.output.split('\n')[0]!.trim() !== version || !libcxx.startsWith('/') || !existsSync(libcxx) ||
      !libcxxabi.startsWith('/') || !existsSync(libcxxabi)) {
      throw new BuildError(`C++ plugins need ${clangxx} (the same version as ${clang}: ${version}) with libc++ and libc++abi ` +
        `for wasm32. On Debian/Ubuntu: apt-get install ${aptPackages(major)} ${aptCxxPackages(major)}`);
    }
  }
  return { clang, clangxx, version };
}

/** Expands one `sources` entry (a file, or `*` in its last segment) to sorted repository-relative paths. */
function expandSource(root: string, pattern: string, where: string): string[] {
  const slash = pattern.lastIndexOf('/');
  const dir = slash < 0 ? '' : pattern.slice(0, slash);
  const leaf = pattern.slice(slash + 1);
  if (!leaf.includes('*')) {
    need(existsSync(join(root, pattern)) && statSync(join(root, pattern)).isFile(), where, `${pattern} does not exist`);
    return [pattern];
  }
  const dirAbs = join(root, dir);
  need(existsSync(dirAbs) && statSync(dirAbs).isDirectory(), where, `${dir} is not a folder`);
  const re = new RegExp(`^${leaf.split('*').map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*')}$`);
  const found = readdirSync(dirAbs).filter((f) => re.test(f) && statSync(join(dirAbs, f)).isFile()).sort();
  need(found.length > 0, where, `${pattern} matches no file`);
  return found.map((f) => (dir === '' ? f : `${dir}/${f}`));
}

/** Whether a source is compiled as C++. */
function isCxxSource(source: string): boolean {
  return source.endsWith('.cpp');
}

/** The repository-relative sources of a C (C++) plugin: its own *.c (and *.cpp), the SDK's, then build.sources. */
export function cSources(root: string, job: Job, build: CBuild): string[] {
  const folder = `${job.set.src}/${job.dir}`;
  const where = `${folder}/plugin.json`;
  const own = readdirSync(join(root, folder)).filter((f) => f.endsWith('.c') || (build.language === 'c++' && isCxxSource(f)))
    .sort().map((f) => `${folder}/${f}`);
  const sources: string[] = [];
  for (const src of [...own, ...C_SDK_SOURCES, ...build.sources.flatMap((p) => expandSource(root, p, `${where} build.sources`))]) {
    if (!sources.includes(src)) sources.push(src);
  }
  for (const inc of [...build.include, ...(build.systemInclude ?? [])]) {
    need(existsSync(join(root, inc)) && statSync(join(root, inc)).isDirectory(), `${where} build.include`, `${inc} is not a folder`);
  }
  for (const h of build.forceInclude ?? []) {
    need(existsSync(join(root, h)) && statSync(join(root, h)).isFile(), `${where} build.forceInclude`, `${h} is not a file`);
  }
  return sources;
}

/** clang (clang++ for .cpp) arguments compiling one source of a C/C++ plugin to an object (run from the repository root). */
export function compileArgs(root: string, job: Job, build: CBuild, source: string, objectFile: string): string[] {
  const cxx = isCxxSource(source);
  return [
    '--target=wasm32-wasi', cxx ? '-std=c++17' : '-std=c11', '-g0', `-ffile-prefix-map=${root}=.`, '-Wall', '-Wextra', '-Werror',
    ...build.cflags, ...(cxx ? build.cxxflags ?? [] : []),
    `-I${job.set.src}/${job.dir}`, `-I${C_SDK_DIR}`, ...build.include.map((d) => `-I${d}`),
    ...(build.systemInclude ?? []).flatMap((d) => ['-isystem', d]),
    ...(cxx ? (build.forceInclude ?? []).flatMap((h) => ['-include', h]) : []),
    '-c', source, '-o', objectFile,
  ];
}

/**
 * clang arguments linking a C plugin's objects (run from the folder holding them, named by index). Compiling and
 * linking are separate runs because clang 14 pipes any optimised link through whatever `wasm-opt` is on PATH
 * (binaryen's, in npm scripts), which would make the output depend on PATH; a link without -O never does.
 */
export function linkArgs(build: CBuild, objectFiles: readonly string[], outFile: string): string[] {
  return [
    '--target=wasm32-wasi',
    // A reactor without WASI: no crt1/_start, no entry, only what the sources export (sdk/c/x0t.h X0T_EXPORT).
    '-nostartfiles', '-Wl,--no-entry',
    // The stack below the data, so an overflow traps instead of overwriting it.
    '-Wl,--stack-first', `-Wl,-z,stack-size=${build.stackBytes}`,
    // No names, producers or debug sections: smaller, and nothing that could differ between machines.
    '-Wl,--strip-all',
    ...build.ldflags,
    ...objectFiles, '-o', outFile,
  ];
}

/** Compiles and links a C plugin into `outFile`. */
async function buildC(root: string, job: Job, build: CBuild, toolchain: CToolchain, outFile: string): Promise<{ code: number; output: string }> {
  const sources = cSources(root, job, build);
  const objDir = mkdtempSync(join(tmpdir(), `x0t-c-${job.dir}-`));
  try {
    const objects = sources.map((_, i) => `${i}.o`);
    let failed: { code: number; output: string } | null = null;
    await pool(sources.map((src, i) => ({ src, obj: objects[i]! })), availableParallelism(), async ({ src, obj }) => {
      if (failed !== null) return;
      const r = await run(isCxxSource(src) ? toolchain.clangxx : toolchain.clang, compileArgs(root, job, build, src, join(objDir, obj)), root);
      if (r.code !== 0) failed = { code: r.code, output: `${src}:\n${r.output}` };
    });
    if (failed !== null) return failed;
    // clang++ links libc++ and libc++abi for wasm32; C plugins link with clang as before.
    const driver = build.language === 'c++' ? toolchain.clangxx : toolchain.clang;
    return await run(driver, linkArgs(build, objects, resolve(root, outFile)), objDir);
  } finally {
    rmSync(objDir, { recursive: true, force: true });
  }
}

/** Export names a module of `capability` must have (fast path, Extism twins, memory). */
function requiredExports(root: string, capability: string): Set<string> {
  const contract = JSON.parse(readFileSync(join(root, 'sdk/abi/contract.json'), 'utf8')) as {
    capabilities: Record<string, { functions: Record<string, unknown> }>;
  };
  const fns = Object.keys(contract.capabilities[capability]?.functions ?? {});
  return new Set(['memory', ...FAST_PATH_CORE_EXPORTS, ...fns.map((f) => FAST_PATH_CALL_PREFIX + f), ...fns]);
}

// ---------------------------------------------------------------------------------------------------------------

export interface BuildOptions {
  readonly root: string;
  readonly only: readonly string[];
  readonly check: boolean;
  readonly log: (line: string) => void;
}

export interface BuildReport {
  readonly built: readonly { name: string; wasm: string; sha256: string; bytes: number }[];
  readonly differences: readonly string[];
}

export function discover(root: string, only: readonly string[]): Job[] {
  const contract = JSON.parse(readFileSync(join(root, 'sdk/abi/contract.json'), 'utf8')) as { capabilities?: unknown };
  need(isRecord(contract.capabilities), 'sdk/abi/contract.json', 'has no capabilities');
  const capabilities = Object.keys(contract.capabilities);
  const jobs: Job[] = [];
  const seen = new Set<string>();
  for (const set of BUILD_SETS) {
    const srcAbs = join(root, set.src);
    if (!existsSync(srcAbs)) continue;
    for (const dir of readdirSync(srcAbs).sort()) {
      const abs = join(srcAbs, dir);
      if (!statSync(abs).isDirectory()) continue;
      // A plugin is a folder with an index.ts (AssemblyScript) or a plugin.json (any language); others are skipped
      // (e.g. shared sources).
      const hasIndex = existsSync(join(abs, 'index.ts'));
      const hasJson = existsSync(join(abs, 'plugin.json'));
      if (!hasIndex && !hasJson) continue;
      if (only.length > 0 && !only.includes(dir)) continue;
      const where = `${set.src}/${dir}/plugin.json`;
      need(hasJson, where, 'missing');
      const source = parsePluginSource(JSON.parse(readFileSync(join(abs, 'plugin.json'), 'utf8')) as unknown, where, dir, capabilities);
      if (source.build.language === 'assemblyscript') need(hasIndex, `${set.src}/${dir}/index.ts`, 'missing (an AssemblyScript plugin\'s entry file)');
      else if (source.build.language === 'c') need(readdirSync(abs).some((f) => f.endsWith('.c')) || source.build.sources.length > 0, where, 'a C plugin needs .c sources');
      else need(readdirSync(abs).some((f) => f.endsWith('.c') || isCxxSource(f)) || source.build.sources.length > 0, where, 'a C++ plugin needs .cpp or .c sources');
      const key = `${set.out}/${dir}`;
      need(!seen.has(key), where, 'duplicate plugin');
      seen.add(key);
      jobs.push({ set, dir, source, outFile: `${set.out}/${dir}.wasm` });
    }
  }
  for (const name of only) need(jobs.some((j) => j.dir === name), name, 'no such plugin');
  return jobs;
}

export async function build(opts: BuildOptions): Promise<BuildReport> {
  const { root, check, log } = opts;
  const jobs = discover(root, opts.only);
  const asc = join(root, 'node_modules/assemblyscript/bin/asc.js');
  if (jobs.some((j) => j.source.build.language === 'assemblyscript')) need(existsSync(asc), asc, 'assemblyscript is not installed (npm ci)');
  const native = jobs.filter((j) => j.source.build.language !== 'assemblyscript');
  const toolchain = native.length > 0 ? await findCToolchain(root, native.some((j) => j.source.build.language === 'c++')) : null;
  const tmp = check ? mkdtempSync(join(tmpdir(), 'x0t-build-')) : null;
  const built: { name: string; wasm: string; sha256: string; bytes: number }[] = [];
  const differences: string[] = [];
  const failures: string[] = [];
  try {
    await pool(jobs, availableParallelism(), async (job) => {
      // In check mode the compiler writes to a temporary file (absolute path; it never ends up in the binary).
      const outFile = tmp === null ? job.outFile : join(tmp, `${job.set.out.replace(/\//g, '_')}_${job.dir}.wasm`);
      if (tmp === null) mkdirSync(join(root, job.set.out), { recursive: true });
      const b = job.source.build;
      let r: { code: number; output: string };
      if (b.language !== 'assemblyscript') {
        try {
          r = await buildC(root, job, b, toolchain!, outFile);
        } catch (e) {
          failures.push((e as Error).message);
          return;
        }
      } else {
        r = await run(process.execPath, [asc, ...ascArgs(job, b, outFile)], root);
      }
      if (r.code !== 0) {
        const tool = b.language !== 'assemblyscript' ? `clang (${toolchain!.version})` : 'asc';
        failures.push(`${job.set.src}/${job.dir}: ${tool} failed (exit ${r.code})\n${r.output.trim()}`);
        return;
      }
      const bytes = readFileSync(tmp === null ? join(root, outFile) : outFile);
      const module = new WebAssembly.Module(bytes);
      // The same grant table the host checks at load, so a build never passes what the host would refuse.
      const allowed = allowedImportKeys(job.source.permissions.host);
      const forbidden = WebAssembly.Module.imports(module)
        .filter((i) => i.kind !== 'function' || !allowed.has(`${i.module}\0${i.name}`))
        .map((i) => `${i.module}.${i.name}`);
      if (forbidden.length > 0 && !b.allowForbiddenImports) {
        failures.push(`${job.set.src}/${job.dir}: imports not permitted by its manifest: ${forbidden.join(', ')}`);
        return;
      }
      if (b.language !== 'assemblyscript') {
        // Exactly the ABI's exports: a missing function is a broken plugin, anything more is exposed internals.
        const required = requiredExports(root, job.source.capability);
        const exported = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
        const missing = [...required].filter((n) => !exported.has(n));
        const extra = [...exported].filter((n) => !required.has(n));
        if (missing.length > 0 || extra.length > 0) {
          failures.push(`${job.set.src}/${job.dir}: exports must be the ${job.source.capability} ABI exactly` +
            `${missing.length > 0 ? `; missing ${missing.join(', ')} (X0T_EXPORT in sdk/c/x0t.h)` : ''}` +
            `${extra.length > 0 ? `; unexpected ${extra.join(', ')}` : ''}`);
          return;
        }
      }
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const manifestRel = `${job.set.manifests}/${job.dir}.json`;
      const manifestAbs = join(root, manifestRel);
      const existing = existsSync(manifestAbs) ? readFileSync(manifestAbs, 'utf8') : null;
      const text = manifestText(manifestFor(job.source, `${job.set.wasmFromManifest}/${job.dir}.wasm`, sha256, job.set.schemaFromManifest), existing);
      if (tmp === null) {
        if (existing !== text) {
          mkdirSync(dirname(manifestAbs), { recursive: true });
          writeFileSync(manifestAbs, text);
        }
      } else {
        const committed = join(root, job.outFile);
        const by = b.language !== 'assemblyscript' ? ` (built with ${toolchain!.version})` : '';
        if (!existsSync(committed) || !readFileSync(committed).equals(bytes)) differences.push(`${job.outFile} differs from a fresh build${by}`);
        if (existing !== text) differences.push(`${manifestRel} is not what the build writes`);
      }
      built.push({ name: `${job.set.src}/${job.dir}`, wasm: job.outFile, sha256, bytes: bytes.length });
      log(`${job.outFile}  ${bytes.length} bytes  sha256 ${sha256}`);
    });
  } finally {
    if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
  }
  if (failures.length > 0) throw new BuildError(failures.sort().join('\n'));
  built.sort((a, b) => (a.wasm < b.wasm ? -1 : a.wasm > b.wasm ? 1 : 0));
  return { built, differences: differences.sort() };
}

/** The repository root, seen from this file once compiled (dist/sdk/tools/build-plugins.js). */
function repositoryRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
}

/**
 * Builds the named plugins (product plugins and fixtures; all when `names` is empty) and writes
 * their manifests. Used by `x0t plugin build`. Throws on any compile or import-permission failure.
 */
export async function buildPlugins(names: readonly string[] = []): Promise<BuildReport> {
  return build({ root: repositoryRoot(), only: names, check: false, log: () => {} });
}

async function main(argv: readonly string[]): Promise<number> {
  const root = repositoryRoot();
  const check = argv.includes('--check');
  const only = argv.filter((a) => !a.startsWith('--'));
  try {
    const report = await build({ root, only, check, log: (l) => process.stdout.write(`${l}\n`) });
    if (check) {
      for (const d of report.differences) process.stderr.write(`build-plugins: ${d}\n`);
      if (report.differences.length > 0) return 1;
      process.stdout.write(`build-plugins: ${report.built.length} modules rebuilt byte-for-byte identical\n`);
    } else {
      process.stdout.write(`build-plugins: built ${report.built.length} modules\n`);
    }
    return 0;
  } catch (e) {
    process.stderr.write(`build-plugins: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
