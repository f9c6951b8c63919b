// x0t plugin test <manifest.json | plugin.wasm> [--capability C]
// Runs the capability's conformance kit (the same one a slot runs before switching a version in) against the
// plugin, printing every case; exits with X0T_SELFTEST_FAILED's code when any case fails.
import type { Command } from 'commander';
import { KITS } from '../../sdk/abi/conformance/index.js';
import { CAPABILITIES, type CapabilityName } from '../../sdk/abi/generated/contract.js';
import { asX0tError, CapabilityMismatchError, SelfTestFailedError, UsageError } from '../errors/index.js';
import { compilePlugin } from '../runtime/compiled-plugin.js';
import { instantiate } from '../runtime/instantiate.js';
import { formatMs, printErrLine, printJson, printLine, withJson } from './output.js';
import { resolveTarget } from './plugin-target.js';

interface CaseResult {
  name: string;
  ok: boolean;
  ms: number;
  error: string | null;
}

export function registerPluginTest(plugin: Command): void {
  withJson(
    plugin
      .command('test')
      .description('run the conformance kit of the plugin\'s capability against it')
      .argument('<plugin>', 'a plugin manifest (.json) or a bare module (.wasm)')
      .option('--capability <name>', `capability kit to run (default: the manifest's; for a bare .wasm: selftest); one of ${Object.keys(CAPABILITIES).join(', ')}`),
  ).action(async (target: string, opts: { capability?: string; json?: boolean }) => {
    if (opts.capability !== undefined && !Object.hasOwn(CAPABILITIES, opts.capability)) {
      throw new UsageError(`unknown capability ${opts.capability} (known: ${Object.keys(CAPABILITIES).join(', ')})`, {
        path: '--capability',
      });
    }
    const { spec } = await resolveTarget(target, opts.capability === undefined ? {} : { capability: opts.capability });
    if (!Object.hasOwn(CAPABILITIES, spec.capability)) {
      throw new CapabilityMismatchError(`no conformance kit for capability ${spec.capability}`, { capability: spec.capability });
    }
    const capability = spec.capability as CapabilityName;
    const compiled = await compilePlugin(spec);
    const missing = (CAPABILITIES[capability].functionNames as readonly string[]).filter((f) => !compiled.functions.includes(f));
    if (missing.length > 0) {
      throw new CapabilityMismatchError(`plugin ${spec.name} lacks ${capability} functions: ${missing.join(', ')}`, {
        capability, missing, functions: compiled.functions,
      });
    }
    const instance = await instantiate(compiled, {
      log: (name, level, message) => printErrLine(`[plugin ${name}] ${level}: ${message}`),
    });
    const results: CaseResult[] = [];
    if (!opts.json) printLine(`${spec.name}@${spec.version}: ${capability} conformance kit (${KITS[capability].length} cases)`);
    try {
      for (const c of KITS[capability]) {
        const t0 = performance.now();
        let error: string | null = null;
        try {
          await c.run((fn, input) => instance.call(fn, input));
        } catch (e) {
          error = e instanceof Error && !('code' in e) ? e.message : `${asX0tError(e).code}: ${asX0tError(e).message}`;
        }
        const r = { name: c.name, ok: error === null, ms: performance.now() - t0, error };
        results.push(r);
        if (!opts.json) printLine(`  ${r.ok ? 'ok  ' : 'FAIL'}  ${c.name} (${formatMs(r.ms)} ms)${r.error ? `\n        ${r.error}` : ''}`);
      }
    } finally {
      await instance.close();
    }
    const failed = results.filter((r) => !r.ok);
    if (opts.json) {
      printJson({
        plugin: spec.name, version: spec.version, sha256: spec.wasm.sha256, capability,
        passed: failed.length === 0, cases: results.map((r) => ({ ...r, ms: Math.round(r.ms * 1000) / 1000 })),
      });
    } else {
      printLine(`${results.length - failed.length}/${results.length} passed`);
    }
    if (failed.length > 0) {
      throw new SelfTestFailedError(`${failed.length} of ${results.length} ${capability} conformance cases failed: ${failed.map((f) => f.name).join('; ')}`, {
        capability, failed: failed.map((f) => f.name),
      });
    }
  });
}
