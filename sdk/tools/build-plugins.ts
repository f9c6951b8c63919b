// Builds every AssemblyScript plugin and writes its manifest.
//
//   plugins/<name>/index.ts                → wasm/<name>.wasm,               manifests/plugins/<name>.json
//   test/fixtures/plugins/<name>/index.ts  → test/fixtures/wasm/<name>.wasm, test/fixtures/manifests/<name>.json
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

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BuildFailedError } from '../abi/errors.js';
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
  build: {
    /** asconfig.json target (default "release"; "pdk" for plugins that bring their own abort handler). */
    target: string;
    /** Abort handler element relative to the plugin folder, e.g. "index/abort" (default: the SDK's). */
    abort: string | null;
    /** Fixtures that exist to be refused by the host may import what they like. */
    allowForbiddenImports: boolean;
  };
}

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
  for (const k of Object.keys(buildJson)) {
    need(['target', 'abort', 'allowForbiddenImports'].includes(k), `${where}.build.${k}`, 'unknown field');
  }
  const target = buildJson['target'] ?? 'release';
  need(typeof target === 'string' && /^[a-z][a-z0-9-]*$/.test(target), `${where}.build.target`, 'must be an asconfig target name');
  const abort = buildJson['abort'] ?? null;
  need(abort === null || (typeof abort === 'string' && /^[A-Za-z0-9_/-]+$/.test(abort)), `${where}.build.abort`,
    'must be an element path such as "index/abort"');
  const allow = buildJson['allowForbiddenImports'] ?? false;
  need(typeof allow === 'boolean', `${where}.build.allowForbiddenImports`, 'must be a boolean');

  return {
    name, version, capability, description, limits, abi, isolation, permissions: { host }, config,
    build: { target, abort, allowForbiddenImports: allow },
  };
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

interface Job {
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

function ascArgs(job: Job, outFile: string): string[] {
  const entry = `${job.set.src}/${job.dir}/index.ts`;
  const args = [entry, '--config', 'asconfig.json', '--target', job.source.build.target, '--outFile', outFile];
  if (job.source.build.abort !== null) args.push('--use', `abort=${job.set.src}/${job.dir}/${job.source.build.abort}`);
  return args;
}

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
      if (!statSync(abs).isDirectory() || !existsSync(join(abs, 'index.ts'))) continue;
      if (only.length > 0 && !only.includes(dir)) continue;
      const where = `${set.src}/${dir}/plugin.json`;
      need(existsSync(join(abs, 'plugin.json')), where, 'missing');
      const source = parsePluginSource(JSON.parse(readFileSync(join(abs, 'plugin.json'), 'utf8')) as unknown, where, dir, capabilities);
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
  need(existsSync(asc), asc, 'assemblyscript is not installed (npm ci)');
  const tmp = check ? mkdtempSync(join(tmpdir(), 'x0t-build-')) : null;
  const built: { name: string; wasm: string; sha256: string; bytes: number }[] = [];
  const differences: string[] = [];
  const failures: string[] = [];
  try {
    await pool(jobs, availableParallelism(), async (job) => {
      // In check mode the compiler writes to a temporary file (absolute path; it never ends up in the binary).
      const outFile = tmp === null ? job.outFile : join(tmp, `${job.set.out.replace(/\//g, '_')}_${job.dir}.wasm`);
      if (tmp === null) mkdirSync(join(root, job.set.out), { recursive: true });
      const r = await run(process.execPath, [asc, ...ascArgs(job, outFile)], root);
      if (r.code !== 0) {
        failures.push(`${job.set.src}/${job.dir}: asc failed (exit ${r.code})\n${r.output.trim()}`);
        return;
      }
      const bytes = readFileSync(tmp === null ? join(root, outFile) : outFile);
      // The same grant table the host checks at load, so a build never passes what the host would refuse.
      const allowed = allowedImportKeys(job.source.permissions.host);
      const forbidden = WebAssembly.Module.imports(new WebAssembly.Module(bytes))
        .filter((i) => i.kind !== 'function' || !allowed.has(`${i.module}\0${i.name}`))
        .map((i) => `${i.module}.${i.name}`);
      if (forbidden.length > 0 && !job.source.build.allowForbiddenImports) {
        failures.push(`${job.set.src}/${job.dir}: imports not permitted by its manifest: ${forbidden.join(', ')}`);
        return;
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
        if (!existsSync(committed) || !readFileSync(committed).equals(bytes)) differences.push(`${job.outFile} differs from a fresh build`);
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
