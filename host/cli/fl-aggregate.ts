// x0t fl aggregate --rule NAME [--param k=v …] --clients N --dim D --input FILE.f32 [--weights FILE.f32]
//                  [--output FILE.f32] [--json]
// One aggregation for scripts: reads N×D little-endian f32 updates (and N weights, else all 1), runs the rule's
// shipped plugin once in its sandbox, and writes the D-vector: `{"result":[…]}` with --json, raw f32 to --output,
// else one value per line. Limits are sized from the input (a local tool aggregating the caller's own data).
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { decodeF32Vector, encodeAggregateRequest } from '../../sdk/abi/generated/contract.js';
import { IoError, UsageError } from '../errors/index.js';
import { aggregationRule, parseRuleParams, ruleSpec } from '../fl/aggregation-rules.js';
import { shortestF32 } from '../fl/f32-text.js';
import { loadPlugin } from '../runtime/instantiate.js';
import { intOption, printErrLine, printJson, printLine, readInput } from './output.js';

interface AggregateOptions {
  rule: string;
  param: string[];
  clients: number;
  dim: number;
  input: string;
  weights?: string;
  output?: string;
  json?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Reads `count` little-endian f32 from a file (or stdin), checking the size names the option. */
async function readF32(path: string, count: number, what: string): Promise<Float32Array> {
  const bytes = await readInput({ inputFile: path });
  if (bytes.length !== count * 4) {
    throw new UsageError(`${what} ${path} holds ${bytes.length} bytes; expected ${count * 4} (${count} little-endian f32)`, {
      path, bytes: bytes.length, expected: count * 4,
    });
  }
  // Copied so the view is aligned whatever the read buffer's offset; f32 is read little-endian on every host we run.
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

export function registerFlAggregate(fl: Command): void {
  fl.command('aggregate')
    .description('aggregate N client updates of D floats with one rule, once (for scripts)')
    .requiredOption('--rule <name>', 'fedavg, median, trimmed-mean, krum, multi-krum, bulyan, geomed or cclip')
    .option('--param <k=v>', 'a rule parameter: f, m, beta, tau, iters, eps (repeatable)', collect, [])
    .requiredOption('--clients <n>', 'number of client updates (N)', intOption(1, 1_000_000))
    .requiredOption('--dim <d>', 'floats per update (D)', intOption(1, 1_000_000_000))
    .requiredOption('--input <file>', 'N×D little-endian f32, row-major (- for stdin)')
    .option('--weights <file>', 'N little-endian f32 weights (default: all 1)')
    .option('--output <file>', 'write the result as D little-endian f32 instead of printing it')
    .option('--json', 'print {"result":[…]} (and timing) as one JSON object')
    .action(async (opts: AggregateOptions) => {
      const rule = aggregationRule(opts.rule);
      const params = parseRuleParams(rule, opts.param);
      const { clients, dim } = opts;
      if (clients * dim * 4 > 2 ** 32 - 1024) throw new UsageError(`a round of ${clients}×${dim} f32 exceeds 4 GiB`, { clients, dim });
      const updates = await readF32(opts.input, clients * dim, '--input');
      const weights = opts.weights === undefined ? new Float32Array(clients).fill(1) : await readF32(opts.weights, clients, '--weights');
      const frame = encodeAggregateRequest({ clients, dim, weights, updates });
      const spec = await ruleSpec(rule, { params, round: { frameBytes: frame.length, dim } });
      const instance = await loadPlugin(spec, { log: (name, level, message) => printErrLine(`[plugin ${name}] ${level}: ${message}`) });
      let result: Float32Array;
      let ms: number;
      try {
        const t0 = performance.now();
        result = decodeF32Vector(await instance.call('aggregate', frame)).values;
        ms = performance.now() - t0;
      } finally {
        await instance.close();
      }
      if (opts.output !== undefined) {
        try {
          await writeFile(opts.output, new Uint8Array(result.buffer, result.byteOffset, result.byteLength));
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code ?? null;
          throw new IoError(`cannot write ${opts.output}: ${code ?? (e as Error).message}`, { path: opts.output, code }, { cause: e });
        }
      }
      if (opts.json) {
        const values = opts.output === undefined ? Array.from(result, (v) => Number(shortestF32(v))) : undefined;
        printJson({ rule: rule.name, params, clients, dim, ms: Math.round(ms * 1000) / 1000, ...(values ? { result: values } : { output: opts.output }) });
      } else if (opts.output === undefined) {
        let text = '';
        for (const v of result) text += shortestF32(v) + '\n';
        process.stdout.write(text);
      } else {
        printLine(`${rule.name}: ${clients} × ${dim} → ${opts.output} (${dim} f32, ${ms.toFixed(1)} ms)`);
      }
    });
}
