// x0t sim --nodes 50 --topology grid|random|ring --faults link-cut,blackhole,crash[,partition] --seed S
//         [--hello-ms 1000] [--duration-s N] [--faults-per-kind 2] [--loss P] [--delay-ms D] [--out DIR] [--json]
// Runs the deterministic routing simulator (host/core/routing/sim-scenario.ts) at scale with a progress bar on
// stderr, prints a summary, and with --out writes the convergence report (report.json, report.md, routes.svg).
// The same seed gives a byte-identical report.json.
import type { Command } from 'commander';
import { UsageError } from '../errors/index.js';
import { DEFAULT_SCENARIO, runScenario, scenarioDurationMs, TOPOLOGY_KINDS, type ScenarioConfig, type TopologyKind } from '../core/routing/sim-scenario.js';
import { FAULT_KINDS, type FaultKind } from '../core/routing/simulator.js';
import { intOption, printJson, printLine, table } from './output.js';
import { ProgressBar } from './progress-bar.js';
import { writeSimReport } from './sim-report.js';

interface SimOptions {
  nodes: number;
  topology: string;
  faults: string;
  faultsPerKind: number;
  seed: number;
  helloMs: number;
  durationS?: number;
  loss: string;
  delayMs: number;
  jitterMs: number;
  out?: string;
  progress: boolean;
  json?: boolean;
}

function probability(value: string, name: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || v < 0 || v >= 1) throw new UsageError(`--${name} must be in [0, 1) (got '${value}')`, { option: name });
  return v;
}

/** Options → a checked scenario (the router validates its own config when the run starts). */
export function scenarioFrom(o: SimOptions): ScenarioConfig {
  if (!(TOPOLOGY_KINDS as readonly string[]).includes(o.topology)) throw new UsageError(`--topology must be one of ${TOPOLOGY_KINDS.join(', ')}`, { option: 'topology' });
  const faults = o.faults.trim() === '' || o.faults === 'none' ? [] : o.faults.split(',').map((f) => f.trim());
  for (const f of faults) if (!(FAULT_KINDS as readonly string[]).includes(f)) throw new UsageError(`--faults: unknown fault '${f}' (${FAULT_KINDS.join(', ')})`, { option: 'faults' });
  return {
    ...DEFAULT_SCENARIO,
    nodes: o.nodes, topology: o.topology as TopologyKind, faults: faults as FaultKind[], faultsPerKind: o.faultsPerKind, seed: o.seed,
    helloMs: o.helloMs, durationS: o.durationS ?? null,
    link: { delayMs: o.delayMs, jitterMs: o.jitterMs, loss: probability(o.loss, 'loss'), duplicate: 0 },
  };
}

const ms = (v: number | null): string => (v === null ? '-' : `${Math.round(v)} ms`);

export function registerSim(program: Command): void {
  const d = DEFAULT_SCENARIO;
  program.command('sim')
    .description('run the deterministic routing simulator: N routers on a topology, faults, convergence report with a plot')
    .option('--nodes <n>', 'number of nodes', intOption(2, 2000), d.nodes)
    .option('--topology <kind>', `${TOPOLOGY_KINDS.join(', ')}`, d.topology)
    .option('--faults <list>', `comma-separated: ${FAULT_KINDS.join(', ')} (or none)`, d.faults.join(','))
    .option('--faults-per-kind <n>', 'faults of each kind, one after another, each healed before the next', intOption(0, 1000), d.faultsPerKind)
    .option('--seed <n>', 'seed of the topology, fault targets, link randomness and start phases', intOption(0, 2 ** 32 - 1), d.seed)
    .option('--hello-ms <ms>', 'OGM and probe interval', intOption(10, 3_600_000), d.helloMs)
    .option('--duration-s <s>', 'simulated seconds (default: warm-up + one slot per fault)', intOption(1, 86_400))
    .option('--loss <p>', 'per-message loss probability on every link', String(d.link.loss))
    .option('--delay-ms <ms>', 'one-way link delay', intOption(0, 10_000), d.link.delayMs)
    .option('--jitter-ms <ms>', 'extra uniform delay (reorders messages)', intOption(0, 10_000), d.link.jitterMs)
    .option('--out <dir>', 'write report.json, report.md and routes.svg here')
    .option('--no-progress', 'no progress bar on stderr')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: SimOptions) => {
      const config = scenarioFrom(opts);
      const totalS = Math.ceil(scenarioDurationMs(config) / 1000);
      const bar = opts.progress ? new ProgressBar(totalS, `sim ${config.nodes} ${config.topology}`, { everyMs: 5000 }) : null;
      let result;
      try {
        result = runScenario(config, (t) => bar?.update(Math.floor(t / 1000), `t=${(t / 1000).toFixed(0)} s`));
        bar?.update(totalS);
      } finally {
        bar?.close();
      }
      const files = opts.out !== undefined ? await writeSimReport(opts.out, result) : [];
      if (opts.json) {
        printJson({ summary: result.summary, faults: result.simulation.faults, files });
        return;
      }
      printLine(table(['event', 'count', 'recovered', 'recovery max', 'recovery mean', 'detection max'],
        Object.entries(result.summary.byKind).map(([k, v]) => [k, String(v.count), String(v.recovered), ms(v.recoveryMsMax), ms(v.recoveryMsMean), ms(v.detectMsMax)])));
      printLine();
      const s = result.summary;
      printLine(`${config.nodes} nodes (${result.topology.edges.length} links, ${config.topology}), hello ${config.helloMs} ms, seed ${config.seed}: ` +
        `silent-detection bound ${s.silentDetectionBoundMs} ms; control ${s.controlBytesPerNodePerS.toFixed(0)} B/s per node ` +
        `(${s.controlMessagesPerNodePerS.toFixed(1)} msg/s); loop samples ${s.loopSamples}; working at end ${(100 * s.finalWorkingFraction).toFixed(1)} %` +
        (files.length > 0 ? `; report: ${files.join(', ')}` : ''));
    });
}
