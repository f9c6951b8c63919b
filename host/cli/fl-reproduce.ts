// x0t fl reproduce [--quick] [--seeds N] [--rounds N] [--jobs N] [--out DIR] [--json]
// Runs the Byzantine-robustness reproduction (host/fl/reproduction.ts): every rule under ALIE and IPM on MNIST with
// 25 non-IID clients, 5 of them Byzantine, over several seeds. Each run is an `x0t fl simulate` process (its exact
// command line is in the JSON), `--jobs` at a time. Prints the markdown table; --out writes fl-mnist.md, .json, .svg.
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IoError } from '../errors/index.js';
import type { SimulationConfig } from '../fl/federation-simulation.js';
import {
  defaultReproduction, markdownTable, reproductionBase, reproductionChart, reproductionPlan, simulateArgs, summarize,
  type ReproductionOptions, type RunOutcome,
} from '../fl/reproduction.js';
import { intOption, printErrLine, printJson, printLine } from './output.js';
import { ProgressBar } from './progress-bar.js';

interface ReproduceOptions {
  quick?: boolean;
  seeds?: number;
  rounds?: number;
  jobs?: number;
  out?: string;
  json?: boolean;
}

const CLI_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** Runs one simulation in a child `x0t` process and reads its JSON result. */
function runOne(c: SimulationConfig): Promise<RunOutcome> {
  const t0 = performance.now();
  const args = [...simulateArgs(c), '--json', '--no-progress'];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const done = (accuracy: number | null, error: string | null): void =>
      resolve({ aggregator: c.aggregator, attack: c.attack, seed: c.seed, accuracy, error, wallMs: performance.now() - t0 });
    child.on('error', (e) => done(null, e.message));
    child.on('close', (code) => {
      if (code !== 0) return done(null, Buffer.concat(err).toString('utf8').trim().split('\n').pop() ?? `exit ${code}`);
      try {
        const r = JSON.parse(Buffer.concat(out).toString('utf8')) as { finalAccuracy: number };
        done(r.finalAccuracy, null);
      } catch (e) {
        done(null, `unreadable result: ${(e as Error).message}`);
      }
    });
  });
}

export function registerFlReproduce(fl: Command): void {
  fl.command('reproduce')
    .description('Byzantine-robustness reproduction on MNIST: every rule under ALIE and IPM, several seeds (docs/FL.md)')
    .option('--quick', 'one seed, 15 rounds, a smaller MLP, no clean baseline (what CI runs)')
    .option('--seeds <n>', 'seeds per rule and attack (default 3; --quick 1)', intOption(1, 100))
    .option('--rounds <n>', 'rounds per run (default 100; --quick 15)', intOption(1, 100_000))
    .option('--jobs <n>', 'simulations run at once (default: the number of CPUs, at most 4)', intOption(1, 64))
    .option('--out <dir>', 'write fl-mnist.md, fl-mnist.json and fl-mnist.svg there')
    .option('--json', 'print the summary and every run as one JSON object')
    .action(async (opts: ReproduceOptions) => {
      const defaults = defaultReproduction(opts.quick === true);
      const o: ReproductionOptions = { ...defaults, seeds: opts.seeds ?? defaults.seeds, rounds: opts.rounds ?? defaults.rounds };
      const plan = reproductionPlan(o);
      const jobs = opts.jobs ?? Math.min(4, Math.max(1, cpus().length));
      const bar = new ProgressBar(plan.length, 'fl reproduce', { everyMs: 30_000 });
      const t0 = performance.now();
      const outcomes: RunOutcome[] = new Array(plan.length);
      let next = 0;
      let finished = 0;
      const worker = async (): Promise<void> => {
        for (let i = next++; i < plan.length; i = next++) {
          outcomes[i] = await runOne(plan[i]!);
          finished++;
          const r = outcomes[i]!;
          bar.update(finished, `${r.aggregator}/${r.attack}/seed ${r.seed}: ${r.accuracy === null ? 'failed' : (100 * r.accuracy).toFixed(1) + ' %'}`);
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(jobs, plan.length) }, worker));
      } finally {
        bar.close();
      }
      const wallS = (performance.now() - t0) / 1000;
      for (const r of outcomes.filter((x) => x.error !== null)) printErrLine(`x0t: run ${r.aggregator}/${r.attack}/seed ${r.seed} failed: ${r.error}`);
      const rows = summarize(outcomes);
      const base = reproductionBase(o);
      const setting = `${o.quick ? '--quick: ' : ''}${o.rounds} rounds, MLP 784-${base.hidden}-10, ${o.seeds} seed(s), ${jobs} job(s), ${wallS.toFixed(0)} s`;
      const table = markdownTable(rows);
      const example = ['x0t', ...simulateArgs(plan.find((c) => c.aggregator === 'cclip' && c.attack === 'ipm') ?? plan[0]!)].join(' ');
      const report = { options: o, jobs, wallSeconds: Math.round(wallS), setting, example, summary: rows, runs: outcomes };
      if (opts.out !== undefined) {
        try {
          await mkdir(opts.out, { recursive: true });
          await writeFile(join(opts.out, 'fl-mnist.json'), JSON.stringify(report, null, 1) + '\n');
          await writeFile(join(opts.out, 'fl-mnist.md'), `${setting}\n\n${table}\nOne run: \`${example}\`\n`);
          await writeFile(join(opts.out, 'fl-mnist.svg'), reproductionChart(rows, setting));
        } catch (e) {
          throw new IoError(`cannot write the results to ${opts.out}`, { path: opts.out }, { cause: e });
        }
      }
      if (opts.json) {
        printJson(report);
        return;
      }
      printLine(setting);
      printLine();
      printLine(table);
      printLine(`One run: ${example}`);
      if (opts.out !== undefined) printLine(`Written: ${['fl-mnist.md', 'fl-mnist.json', 'fl-mnist.svg'].map((f) => join(opts.out!, f)).join(', ')}`);
    });
}
