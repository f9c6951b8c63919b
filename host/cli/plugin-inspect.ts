// x0t plugin inspect <manifest.json | plugin.wasm>
// Shows the spec, the module's exports and imports (each marked granted or not), its size and hash status, and
// whether the host would load it (the same checks a slot makes, without running it). Exits 0 whenever it could
// produce the report — a plugin the host would refuse is reported, not an error; a missing file or a manifest that
// does not parse is.
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { HOST_PERMISSIONS, type PluginSpec } from '../core/plugin-spec.js';
import { asX0tError, IoError } from '../errors/index.js';
import { compilePlugin, FAST_PREFIX, readPluginBytes } from '../runtime/compiled-plugin.js';
import { EXTISM_MODULE, KERNEL_CORE_IMPORTS, PERMISSION_IMPORTS } from '../runtime/host-permissions.js';
import { printJson, printLine, withJson } from './output.js';
import { resolveTarget } from './plugin-target.js';

interface ImportReport {
  module: string;
  name: string;
  kind: string;
  /** `kernel`, a permission name, or null when nothing grants it. */
  grantedBy: string | null;
  /** A permission that would grant it, when the manifest does not. */
  needs: string | null;
}

export interface InspectReport {
  target: string;
  adHoc: boolean;
  spec: PluginSpec;
  wasm: { path: string; sizeBytes: number; sha256: string; hash: 'ok' | 'mismatch' | 'ad-hoc' };
  module: {
    valid: boolean;
    error: { code: string; message: string } | null;
    fastPath: boolean;
    abiExport: boolean;
    functions: string[];
    exports: { name: string; kind: string }[];
    imports: ImportReport[];
    memory: { exported: boolean };
  };
  load: { ok: true } | { ok: false; error: { code: string; message: string } };
}

function permissionFor(module: string, name: string, granted: readonly string[]): { grantedBy: string | null; needs: string | null } {
  if (module === EXTISM_MODULE && KERNEL_CORE_IMPORTS.includes(name)) return { grantedBy: 'kernel', needs: null };
  for (const p of HOST_PERMISSIONS) {
    if (PERMISSION_IMPORTS[p].some((i) => i.module === module && i.name === name)) {
      return granted.includes(p) ? { grantedBy: p, needs: null } : { grantedBy: null, needs: p };
    }
  }
  return { grantedBy: null, needs: null };
}

export async function inspectPlugin(target: string): Promise<InspectReport> {
  const { spec, adHoc } = await resolveTarget(target);
  const bytes = await readPluginBytes(spec);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const report: InspectReport = {
    target,
    adHoc,
    spec,
    wasm: {
      path: spec.wasm.path, sizeBytes: bytes.length, sha256,
      hash: adHoc ? 'ad-hoc' : sha256 === spec.wasm.sha256 ? 'ok' : 'mismatch',
    },
    module: {
      valid: false, error: null, fastPath: false, abiExport: false, functions: [], exports: [], imports: [],
      memory: { exported: false },
    },
    load: { ok: true },
  };
  let module: WebAssembly.Module | null = null;
  try {
    module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>);
  } catch (e) {
    report.module.error = { code: 'X0T_MODULE_INVALID', message: (e as Error).message };
  }
  if (module) {
    const exports = WebAssembly.Module.exports(module);
    report.module.valid = true;
    report.module.exports = exports.map((e) => ({ name: e.name, kind: e.kind }));
    report.module.memory.exported = exports.some((e) => e.name === 'memory' && e.kind === 'memory');
    report.module.abiExport = exports.some((e) => e.name === 'x0t_abi_version' && e.kind === 'function');
    report.module.imports = WebAssembly.Module.imports(module).map((i) => ({
      module: i.module, name: i.name, kind: i.kind,
      ...(i.kind === 'function' ? permissionFor(i.module, i.name, spec.permissions.host) : { grantedBy: null, needs: null }),
    }));
  }
  // What a slot would decide. Compiled against the file's own hash so a mismatch does not hide the other checks.
  try {
    const compiled = await compilePlugin({ ...spec, wasm: { ...spec.wasm, sha256 } }, bytes);
    report.module.fastPath = compiled.fastPath;
    report.module.functions = [...compiled.functions];
    if (report.wasm.hash === 'mismatch') {
      report.load = { ok: false, error: { code: 'X0T_HASH_MISMATCH', message: `wasm SHA-256 ${sha256} does not match the manifest's ${spec.wasm.sha256}` } };
    }
  } catch (e) {
    const err = asX0tError(e);
    if (err instanceof IoError) throw err;
    report.load = { ok: false, error: { code: err.code, message: err.message } };
    if (module) {
      const names = WebAssembly.Module.exports(module).filter((x) => x.kind === 'function').map((x) => x.name);
      report.module.fastPath = ['x0t_abi_version', 'x0t_input', 'x0t_output_ptr', 'x0t_output_len'].every((n) => names.includes(n));
      report.module.functions = names
        .filter((n) => report.module.fastPath ? n.startsWith(FAST_PREFIX) || !n.startsWith('x0t_') : !n.startsWith('x0t_'))
        .map((n) => (n.startsWith(FAST_PREFIX) ? n.slice(FAST_PREFIX.length) : n))
        .filter((n, i, all) => all.indexOf(n) === i)
        .sort();
    }
  }
  return report;
}

function bytesText(n: number): string {
  const trim = (x: number): string => String(Number(x.toFixed(2)));
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${trim(n / 1024)} KiB` : `${trim(n / 1024 / 1024)} MiB`;
}

function printReport(r: InspectReport): void {
  const s = r.spec;
  const l = s.limits;
  printLine(`${s.name}@${s.version}  (${r.adHoc ? 'bare .wasm, ad-hoc spec' : s.manifestPath})`);
  const rows: [string, string][] = [
    ['capability', s.capability],
    ['abi', s.abi.min === s.abi.max ? String(s.abi.min) : `${s.abi.min}..${s.abi.max}`],
    ['isolation', s.isolation],
    ['limits', `${l.maxMemoryPages} pages (${bytesText(l.maxMemoryPages * 65536)}), ${l.callTimeoutMs} ms, ` +
      `in ≤ ${bytesText(l.maxInputBytes)}, out ≤ ${bytesText(l.maxOutputBytes)}`],
    ['permissions', s.permissions.host.length === 0 ? '(none)' : s.permissions.host.join(', ')],
    ['wasm', s.wasm.path],
    ['size', `${bytesText(r.wasm.sizeBytes)} (${r.wasm.sizeBytes} bytes)`],
    ['sha256', r.wasm.sha256],
    ['hash', r.wasm.hash === 'ok' ? 'OK (matches the manifest)' : r.wasm.hash === 'ad-hoc' ? 'ad hoc (taken from the file)'
      : `MISMATCH (manifest pins ${s.wasm.sha256})`],
    ['fast path', r.module.fastPath ? 'yes' : 'no'],
    ['functions', r.module.functions.length === 0 ? '(none)' : r.module.functions.join(', ')],
    ...(s.description ? [['description', s.description] as [string, string]] : []),
    ...(r.module.valid ? [] : [['module', `INVALID: ${r.module.error?.message ?? ''}`] as [string, string]]),
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) printLine(`  ${k.padEnd(width)}  ${v}`);
  printLine('imports:');
  if (r.module.imports.length === 0) printLine('  (none)');
  for (const i of r.module.imports) {
    const status = i.grantedBy === 'kernel' ? 'kernel' : i.grantedBy ? `granted (${i.grantedBy})` :
      i.needs ? `NOT PERMITTED (needs permission ${i.needs})` : 'NOT PERMITTED';
    printLine(`  ${i.module}.${i.name} (${i.kind})  ${status}`);
  }
  printLine(r.load.ok ? 'load: OK' : `load: REFUSED ${r.load.error.code}: ${r.load.error.message}`);
}

export function registerPluginInspect(plugin: Command): void {
  withJson(
    plugin
      .command('inspect')
      .description('show a plugin\'s spec, functions, imports, size and hash status, and whether the host would load it')
      .argument('<plugin>', 'a plugin manifest (.json) or a bare module (.wasm)'),
  ).action(async (target: string, opts: { json?: boolean }) => {
    const report = await inspectPlugin(target);
    if (opts.json) printJson(report);
    else printReport(report);
  });
}
