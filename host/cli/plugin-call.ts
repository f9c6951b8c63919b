// x0t plugin call <manifest.json | plugin.wasm> <function> [--input TEXT | --input-file FILE] [limit flags]
// Runs one function once and writes its output bytes, raw, to stdout. Any failure exits with the error's exit code.
import type { Command } from 'commander';
import { loadPlugin } from '../runtime/instantiate.js';
import { intOption, printErrLine, printJson, readInput, withJson, writeRaw } from './output.js';
import { limitsFromOptions, resolveTarget } from './plugin-target.js';

interface CallOptions {
  input?: string;
  inputFile?: string;
  timeoutMs?: number;
  maxMemoryPages?: number;
  maxOutputBytes?: number;
  maxInputBytes?: number;
  json?: boolean;
}

export function registerPluginCall(plugin: Command): void {
  withJson(
    plugin
      .command('call')
      .description('run one function of a plugin and write its output bytes to stdout')
      .argument('<plugin>', 'a plugin manifest (.json) or a bare module (.wasm: no host functions beyond the Extism kernel)')
      .argument('<function>', 'the function to call, e.g. echo, sum, aggregate')
      .option('--input <text>', 'input as UTF-8 text')
      .option('--input-file <file>', 'input bytes from a file, or - for stdin')
      .option('--timeout-ms <n>', 'call timeout in milliseconds', intOption(1, 600_000))
      .option('--max-memory-pages <n>', 'linear memory ceiling in 64 KiB pages', intOption(1, 65_536))
      .option('--max-output-bytes <n>', 'largest output accepted', intOption(1, 1_073_741_824))
      .option('--max-input-bytes <n>', 'largest input accepted', intOption(1, 1_073_741_824)),
  ).action(async (target: string, fn: string, opts: CallOptions) => {
    const input = await readInput(opts);
    const { spec } = await resolveTarget(target, { limits: limitsFromOptions(opts) });
    const instance = await loadPlugin(spec, {
      log: (name, level, message) => printErrLine(`[plugin ${name}] ${level}: ${message}`),
    });
    let output: Uint8Array;
    let ms = 0;
    try {
      const t0 = performance.now();
      output = await instance.call(fn, input);
      ms = performance.now() - t0;
    } finally {
      await instance.close();
    }
    if (opts.json) {
      let text: string | null = null;
      try {
        text = new TextDecoder('utf-8', { fatal: true }).decode(output);
      } catch {
        text = null;
      }
      printJson({
        plugin: spec.name, version: spec.version, sha256: spec.wasm.sha256, function: fn, isolation: spec.isolation,
        inputBytes: input.length, outputBytes: output.length, ms: Math.round(ms * 1000) / 1000,
        outputBase64: Buffer.from(output).toString('base64'), outputUtf8: text,
      });
    } else {
      await writeRaw(output);
    }
  });
}
