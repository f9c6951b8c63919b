// x0t fl simulate --clients 25 --byzantine 5 --attack alie|ipm|signflip|none --aggregator NAME --rounds N
//                 [--param k=v …] [--dp-epsilon E] [--secagg] [--lora-rank R] [--plot FILE.svg] [--json] …
// A federation on this machine (host/fl/federation-simulation.ts): MNIST split non-IID over the clients, training
// in the sandboxed trainer plugin, signed updates through a coordinator, the rule in an aggregator slot. Prints a
// progress bar on stderr and a result table (or one JSON object with every round) on stdout.
import type { Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { IoError } from '../errors/index.js';
import { aggregationRule, parseRuleParams } from '../fl/aggregation-rules.js';
import { ATTACKS, parseAttack } from '../fl/byzantine-attacks.js';
import { PARTITIONS, type PartitionName } from '../fl/data-partition.js';
import { DEFAULT_SIMULATION, runSimulation, type SimulationConfig, type SimulationResult } from '../fl/federation-simulation.js';
import { parseSignatureSchemeName } from '../fl/signature-schemes.js';
import { lineChart } from '../fl/svg-chart.js';
import { openTrainer } from '../fl/trainer-slot.js';
import { UsageError } from '../errors/index.js';
import { intOption, printJson, printLine, table } from './output.js';
import { ProgressBar } from './progress-bar.js';

interface SimulateOptions {
  clients: number;
  byzantine: number;
  attack: string;
  ipmEpsilon: string;
  aggregator: string;
  param: string[];
  rounds: number;
  seed: number;
  hidden: number;
  batch: number;
  localSteps: number;
  clientLr: string;
  serverLr: string;
  momentum: string;
  partition: string;
  signer: string;
  evalEvery: number;
  dpEpsilon?: string;
  dpDelta: string;
  dpClip: string;
  dpSampleRate: string;
  secagg?: boolean;
  loraRank?: number;
  loraAlpha?: string;
  pretrain?: boolean;
  plot?: string;
  progress: boolean;
  json?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function num(value: string, name: string, check: (v: number) => boolean, rule: string): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v) || !check(v)) throw new UsageError(`--${name} must be ${rule} (got '${value}')`, { option: name });
  return v;
}

/** Options → a fully-defaulted, checked SimulationConfig (the simulation checks the combinations). */
export function simulationConfigFrom(o: SimulateOptions): SimulationConfig {
  const rule = aggregationRule(o.aggregator);
  if (!(PARTITIONS as readonly string[]).includes(o.partition)) throw new UsageError(`--partition must be one of ${PARTITIONS.join(', ')}`, { option: 'partition' });
  const positive = (v: number): boolean => v > 0;
  return {
    ...DEFAULT_SIMULATION,
    clients: o.clients, byzantine: o.byzantine, attack: parseAttack(o.attack),
    ipmEpsilon: num(o.ipmEpsilon, 'ipm-epsilon', positive, 'a positive number'),
    aggregator: rule.name, aggregatorParams: parseRuleParams(rule, o.param), rounds: o.rounds, seed: o.seed,
    hidden: o.hidden, batch: o.batch, localSteps: o.localSteps,
    clientLr: num(o.clientLr, 'client-lr', positive, 'a positive number'),
    serverLr: num(o.serverLr, 'server-lr', positive, 'a positive number'),
    momentum: num(o.momentum, 'momentum', (v) => v >= 0 && v < 1, 'in [0, 1)'),
    partition: o.partition as PartitionName, evalEvery: o.evalEvery, signer: parseSignatureSchemeName(o.signer, '--signer'),
    dp: o.dpEpsilon === undefined ? null : {
      epsilon: num(o.dpEpsilon, 'dp-epsilon', positive, 'a positive number'),
      delta: num(o.dpDelta, 'dp-delta', (v) => v > 0 && v < 1, 'in (0, 1)'),
      clipNorm: num(o.dpClip, 'dp-clip', positive, 'a positive number'),
      sampleRate: num(o.dpSampleRate, 'dp-sample-rate', (v) => v > 0 && v <= 1, 'in (0, 1]'),
    },
    secagg: o.secagg === true,
    pretrain: o.pretrain === true,
    lora: o.loraRank === undefined ? null : {
      rank: o.loraRank, alpha: o.loraAlpha === undefined ? 2 * o.loraRank : num(o.loraAlpha, 'lora-alpha', positive, 'a positive number'),
    },
  };
}

function pct(v: number | null): string {
  return v === null ? '-' : (100 * v).toFixed(1) + ' %';
}

export function resultTable(r: SimulationResult): string {
  const rows = r.rounds.filter((x) => x.accuracy !== null).map((x) => [
    String(x.round), x.trainLoss.toFixed(3), pct(x.accuracy), x.epsilon === null ? '-' : x.epsilon.toFixed(2),
    String(x.received), String(x.bytesPerClient), x.ms.toFixed(0),
  ]);
  return table(['round', 'train loss', 'test accuracy', 'ε spent', 'updates', 'bytes/client', 'ms'], rows);
}

export function registerFlSimulate(fl: Command): void {
  const d = DEFAULT_SIMULATION;
  fl.command('simulate')
    .description('simulate a federation on MNIST: non-IID clients, Byzantine attackers, a robust rule, optional DP, secure aggregation, LoRA')
    .option('--clients <n>', 'clients, Byzantine included', intOption(2, 255), d.clients)
    .option('--byzantine <n>', 'Byzantine clients among them', intOption(0, 254), d.byzantine)
    .option('--attack <name>', `what Byzantine clients send: ${ATTACKS.join(', ')}`, d.attack)
    .option('--ipm-epsilon <e>', "IPM's ε", String(d.ipmEpsilon))
    .option('--aggregator <name>', 'fedavg, median, trimmed-mean, krum, multi-krum, bulyan, geomed, cclip', d.aggregator)
    .option('--param <k=v>', 'an aggregator parameter: f, m, beta, tau, iters, eps (repeatable)', collect, [])
    .option('--rounds <n>', 'federated rounds', intOption(1, 100_000), d.rounds)
    .option('--seed <n>', 'seed of the data split, initialisation, minibatches', intOption(0, 2 ** 31), d.seed)
    .option('--hidden <n>', 'hidden units of the MLP (784 → hidden → 10)', intOption(1, 4096), d.hidden)
    .option('--batch <n>', 'minibatch size of a local step', intOption(1, 4096), d.batch)
    .option('--local-steps <n>', 'local SGD steps per round', intOption(1, 10_000), d.localSteps)
    .option('--client-lr <x>', 'local SGD learning rate', String(d.clientLr))
    .option('--server-lr <x>', 'server step on the aggregate', String(d.serverLr))
    .option('--momentum <b>', 'worker momentum β over the local deltas', String(d.momentum))
    .option('--partition <how>', `data split over honest clients: ${PARTITIONS.join(', ')}`, d.partition)
    .option('--signer <name>', 'update signatures: ed25519, ml-dsa-65, ed25519+ml-dsa-65', d.signer)
    .option('--eval-every <n>', 'evaluate on the test digits every n rounds', intOption(1, 100_000), d.evalEvery)
    .option('--dp-epsilon <e>', 'user-level DP-FedAvg: target ε over all rounds (needs --aggregator fedavg)')
    .option('--dp-delta <d>', 'δ of the DP guarantee', '1e-5')
    .option('--dp-clip <c>', 'L2 clipping norm of each update', '1')
    .option('--dp-sample-rate <q>', 'each client takes part in a round with probability q (Poisson, OS CSPRNG)', '1')
    .option('--secagg', 'secure aggregation: the coordinator sees only the sum (needs --aggregator fedavg)')
    .option('--lora-rank <r>', 'exchange LoRA adapters of rank r over a base pretrained on public digits 0-4', intOption(1, 64))
    .option('--lora-alpha <a>', 'LoRA α (default 2r)')
    .option('--pretrain', 'start from a base pretrained on public data (digits 0-4), as LoRA runs do: compares full weights with LoRA')
    .option('--plot <file.svg>', 'write test accuracy over rounds as an SVG chart')
    .option('--no-progress', 'no progress bar on stderr')
    .option('--json', 'print one JSON object with the configuration and every round')
    .action(async (opts: SimulateOptions) => {
      const config = simulationConfigFrom(opts);
      const bar = opts.progress ? new ProgressBar(config.rounds, `fl ${config.aggregator}/${config.attack}`) : null;
      const trainer = await openTrainer();
      let result: SimulationResult;
      try {
        let lastAcc: number | null = null;
        result = await runSimulation(config, { trainer: trainer.trainer }, {
          onRound: (r) => {
            if (r.accuracy !== null) lastAcc = r.accuracy;
            bar?.update(r.round, `loss ${r.trainLoss.toFixed(3)}  acc ${pct(lastAcc)}${r.epsilon === null ? '' : `  ε ${r.epsilon.toFixed(2)}`}`);
          },
        });
      } finally {
        bar?.close();
        await trainer.close();
      }
      if (opts.plot !== undefined) {
        const svg = lineChart({
          title: `MNIST, ${config.clients} clients (${config.byzantine} Byzantine, ${config.attack}), ${config.aggregator}`,
          xLabel: 'round', yLabel: 'test accuracy (%)', yMin: 0, yMax: 100,
          series: [{ name: config.aggregator, points: result.rounds.filter((r) => r.accuracy !== null).map((r) => [r.round, 100 * r.accuracy!] as const) }],
        });
        try {
          await writeFile(opts.plot, svg);
        } catch (e) {
          throw new IoError(`cannot write ${opts.plot}`, { path: opts.plot }, { cause: e });
        }
      }
      if (opts.json) {
        printJson({ ...result, config: result.config });
        return;
      }
      printLine(resultTable(result));
      printLine();
      const last = result.rounds[result.rounds.length - 1]!;
      printLine(`${config.aggregator} under ${config.attack} (${config.byzantine}/${config.clients} Byzantine): final test accuracy ${pct(result.finalAccuracy)}` +
        ` (start ${pct(result.initialAccuracy)}), ${result.dim.toLocaleString('en')} values exchanged, ${last.bytesPerClient.toLocaleString('en')} bytes per client per round` +
        (last.epsilon === null ? '' : `, (ε, δ) = (${last.epsilon.toFixed(2)}, ${config.dp!.delta})`) +
        `, ${(result.wallMs / 1000).toFixed(1)} s${opts.plot ? `; plot: ${opts.plot}` : ''}`);
    });
}
