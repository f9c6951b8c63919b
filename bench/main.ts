// `npm run bench -- <suite> [--quick] [--json]`: side-by-side benchmarks against peers in the same run.
import { driverBench } from './driver.js';
import { flBench } from './fl.js';
import { meshBench } from './mesh.js';
import { pqcBench } from './pqc.js';
import { runtimeBench } from './runtime.js';
import { vectorBench } from './vector.js';
import { realVectorBench } from './vector-real.js';

/** Vector search: (a) random unit vectors, then (b) MiniLM embeddings of real text, in one run. */
async function vectorSuite(opts: BenchOptions): Promise<Record<string, unknown>> {
  return { ...(await vectorBench(opts)), ...(await realVectorBench(opts)) };
}

const SUITES: Record<string, (opts: BenchOptions) => Promise<Record<string, unknown>>> = {
  runtime: runtimeBench, pqc: pqcBench, fl: flBench, vector: vectorSuite, driver: driverBench, mesh: meshBench,
};

export interface BenchOptions {
  readonly quick: boolean;
  readonly json: boolean;
  readonly log: (line: string) => void;
}

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('--'));
const quick = args.includes('--quick');
const json = args.includes('--json');
const selected = names.length > 0 ? names : Object.keys(SUITES);
const unknown = selected.filter((n) => !(n in SUITES));
if (unknown.length > 0) {
  process.stderr.write(`unknown bench suite(s): ${unknown.join(', ')}; available: ${Object.keys(SUITES).join(', ')}\n`);
  process.exit(2);
}
const results: Record<string, unknown> = {};
for (const name of selected) {
  const log = json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => process.stdout.write(`${line}\n`);
  results[name] = await SUITES[name]!({ quick, json, log });
}
if (json) process.stdout.write(`${JSON.stringify(selected.length === 1 ? results[selected[0]!] : results, null, 2)}\n`);
process.exit(0);
