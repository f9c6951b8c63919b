// x0t plugin ls [--dir manifests/plugins]
// One row per plugin manifest in the folder: name, version, capability, isolation, and whether the wasm file's
// SHA-256 matches the one the manifest pins. A manifest that does not parse is listed with its error code.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { asX0tError, IoError } from '../errors/index.js';
import { loadPluginSpec } from '../runtime/load-manifest.js';
import { printJson, printLine, table, withJson } from './output.js';

export interface PluginRow {
  manifest: string;
  name: string | null;
  version: string | null;
  capability: string | null;
  isolation: string | null;
  wasm: string | null;
  /** `ok`, `mismatch`, `missing` (the wasm file cannot be read), or null when the manifest itself is invalid. */
  hash: 'ok' | 'mismatch' | 'missing' | null;
  error: { code: string; message: string } | null;
}

export async function listPlugins(dir: string): Promise<PluginRow[]> {
  const folder = resolve(dir);
  let names: string[];
  try {
    names = (await readdir(folder)).filter((n) => n.endsWith('.json')).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? null;
    throw new IoError(`cannot list ${folder}: ${code ?? (e as Error).message}`, { path: folder, code }, { cause: e });
  }
  const rows: PluginRow[] = [];
  for (const n of names) {
    const file = join(folder, n);
    try {
      const spec = await loadPluginSpec(file);
      let hash: PluginRow['hash'];
      try {
        const bytes = await readFile(spec.wasm.path);
        hash = createHash('sha256').update(bytes).digest('hex') === spec.wasm.sha256 ? 'ok' : 'mismatch';
      } catch {
        hash = 'missing';
      }
      rows.push({
        manifest: file, name: spec.name, version: spec.version, capability: spec.capability, isolation: spec.isolation,
        wasm: spec.wasm.path, hash, error: null,
      });
    } catch (e) {
      const err = asX0tError(e);
      rows.push({
        manifest: file, name: null, version: null, capability: null, isolation: null, wasm: null, hash: null,
        error: { code: err.code, message: err.message },
      });
    }
  }
  return rows;
}

export function registerPluginLs(plugin: Command): void {
  withJson(
    plugin
      .command('ls')
      .description('list the plugin manifests in a folder and check their wasm hashes')
      .option('--dir <dir>', 'folder of plugin manifests', 'manifests/plugins'),
  ).action(async (opts: { dir: string; json?: boolean }) => {
    const rows = await listPlugins(opts.dir);
    if (opts.json) {
      printJson({ dir: resolve(opts.dir), plugins: rows });
      return;
    }
    if (rows.length === 0) {
      printLine(`no plugin manifests in ${opts.dir}`);
      return;
    }
    const hashText = { ok: 'OK', mismatch: 'MISMATCH', missing: 'MISSING' } as const;
    printLine(table(
      ['NAME', 'VERSION', 'CAPABILITY', 'ISOLATION', 'HASH', 'MANIFEST'],
      rows.map((r) => r.error
        ? ['-', '-', '-', '-', r.error.code, `${relative(process.cwd(), r.manifest)}: ${r.error.message}`]
        : [r.name!, r.version!, r.capability!, r.isolation!, hashText[r.hash!], relative(process.cwd(), r.manifest)]),
    ));
  });
}
