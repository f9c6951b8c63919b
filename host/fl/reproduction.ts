// The Byzantine-robustness reproduction of issue 4: MNIST, 25 clients split non-IID (sorted by label), 5 of them
// Byzantine running ALIE or IPM (ε = 0.1), every aggregation rule, several seeds. Reference: Karimireddy, He &
// Jaggi, "Byzantine-Robust Learning on Heterogeneous Datasets via Bucketing", ICLR'22 (code: epfml/byzantine-
// robust-noniid-optimizer, exp3: a CNN, final test accuracy). Our model is an MLP trained in the trainer plugin,
// so absolute numbers differ; the ordering and the collapse of Krum and RFA under IPM are what should reproduce.
//
// Pure: the plan (one SimulationConfig per run), the command line of each run, the summary, its table and chart.
// Running the plan is the CLI's job (`x0t fl reproduce`, which starts `x0t fl simulate` processes).
import { DEFAULT_SIMULATION, type SimulationConfig } from './federation-simulation.js';
import { groupedBarChart } from './svg-chart.js';

export const REPRO_AGGREGATORS = ['fedavg', 'krum', 'multi-krum', 'median', 'trimmed-mean', 'bulyan', 'geomed', 'cclip'] as const;
export const REPRO_ATTACKS = ['alie', 'ipm'] as const;

/** Final test accuracy (%) in the paper's exp3 table (no bucketing), where it reports the rule. RFA is our geomed. */
export const PAPER_REFERENCE: Readonly<Record<string, { readonly alie: number; readonly ipm: number }>> = {
  cclip: { alie: 91.5, ipm: 92.3 },
  krum: { alie: 77.3, ipm: 36.6 },
  median: { alie: 75.3, ipm: 49.8 },
  geomed: { alie: 63.1, ipm: 16.3 },
};

/** Parameters each rule runs with: f = 5 (the true count) where a rule takes it, β = 0.2 (trims 5 per end), and
 *  τ = 1 for centred clipping: our cclip starts from the coordinate-wise median (the plugin keeps no state between
 *  rounds, the paper starts from the previous aggregate), so τ sets how far it may move from there towards the mean;
 *  at the default τ = 10 no update here is clipped and it is the plain mean, at τ ≤ 0.05 it stays at the median. */
export const REPRO_PARAMS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  krum: { f: '5' },
  'multi-krum': { f: '5' },
  bulyan: { f: '5' },
  'trimmed-mean': { beta: '0.2' },
  cclip: { tau: '1' },
};

export interface ReproductionOptions {
  readonly quick: boolean;
  readonly seeds: number;
  readonly rounds: number;
  /** Also run every rule without an attack (one seed), for the clean accuracy. */
  readonly baseline: boolean;
}

export function defaultReproduction(quick: boolean): ReproductionOptions {
  return quick ? { quick, seeds: 1, rounds: 15, baseline: false } : { quick, seeds: 3, rounds: 100, baseline: true };
}

/** Training settings of every run (the worker-momentum SGD of the paper: β = 0.9, batch 32, one local step). */
export function reproductionBase(o: ReproductionOptions): SimulationConfig {
  return {
    ...DEFAULT_SIMULATION, clients: 25, byzantine: 5, ipmEpsilon: 0.1, partition: 'sorted', batch: 32, localSteps: 1,
    clientLr: 0.5, serverLr: 1, momentum: 0.9, hidden: o.quick ? 32 : 64, rounds: o.rounds, evalEvery: o.rounds, signer: 'ed25519',
  };
}

export function reproductionPlan(o: ReproductionOptions): SimulationConfig[] {
  const base = reproductionBase(o);
  const runs: SimulationConfig[] = [];
  for (const attack of REPRO_ATTACKS) {
    for (const aggregator of REPRO_AGGREGATORS) {
      for (let s = 1; s <= o.seeds; s++) runs.push({ ...base, attack, aggregator, aggregatorParams: REPRO_PARAMS[aggregator] ?? {}, seed: s });
    }
  }
  if (o.baseline) {
    for (const aggregator of REPRO_AGGREGATORS) runs.push({ ...base, attack: 'none', aggregator, aggregatorParams: REPRO_PARAMS[aggregator] ?? {}, seed: 1 });
  }
  return runs;
}

/** The `x0t fl simulate` arguments that run `c` (what the reproduction starts, and what a reader can re-run). */
export function simulateArgs(c: SimulationConfig): string[] {
  const args = [
    'fl', 'simulate', '--clients', String(c.clients), '--byzantine', String(c.byzantine), '--attack', c.attack,
    '--aggregator', c.aggregator,
  ];
  for (const [k, v] of Object.entries(c.aggregatorParams)) args.push('--param', `${k}=${v}`);
  args.push(
    '--rounds', String(c.rounds), '--seed', String(c.seed), '--hidden', String(c.hidden), '--batch', String(c.batch),
    '--local-steps', String(c.localSteps), '--client-lr', String(c.clientLr), '--server-lr', String(c.serverLr),
    '--momentum', String(c.momentum), '--partition', c.partition, '--ipm-epsilon', String(c.ipmEpsilon),
    '--signer', c.signer, '--eval-every', String(c.evalEvery),
  );
  return args;
}

export interface RunOutcome {
  readonly aggregator: string;
  readonly attack: string;
  readonly seed: number;
  /** Final test accuracy in [0, 1], or null when the run failed. */
  readonly accuracy: number | null;
  readonly error: string | null;
  readonly wallMs: number;
}

export interface SummaryRow {
  readonly aggregator: string;
  readonly attack: string;
  /** Accuracies in %, one per successful seed. */
  readonly accuracies: readonly number[];
  readonly mean: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly failed: number;
  readonly reference: number | null;
}

export function summarize(outcomes: readonly RunOutcome[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const attack of ['none', ...REPRO_ATTACKS]) {
    for (const aggregator of REPRO_AGGREGATORS) {
      const mine = outcomes.filter((o) => o.attack === attack && o.aggregator === aggregator);
      if (mine.length === 0) continue;
      const acc = mine.filter((o) => o.accuracy !== null).map((o) => 100 * o.accuracy!);
      const ref = attack === 'none' ? null : PAPER_REFERENCE[aggregator]?.[attack as 'alie' | 'ipm'] ?? null;
      rows.push({
        aggregator, attack, accuracies: acc, mean: acc.length ? acc.reduce((s, v) => s + v, 0) / acc.length : null,
        min: acc.length ? Math.min(...acc) : null, max: acc.length ? Math.max(...acc) : null,
        failed: mine.length - acc.length, reference: ref,
      });
    }
  }
  return rows;
}

const f1 = (v: number | null): string => (v === null ? '–' : v.toFixed(1));

/** A markdown table: one row per rule, a column per attack (mean [min–max] over seeds, paper value beside it). */
export function markdownTable(rows: readonly SummaryRow[]): string {
  const attacks = [...new Set(rows.map((r) => r.attack))];
  const head = ['rule', ...attacks.flatMap((a) => (a === 'none' ? ['no attack'] : [`${a.toUpperCase()} (ours)`, `${a.toUpperCase()} (paper)`]))];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const aggregator of REPRO_AGGREGATORS) {
    const cells = [aggregator === 'geomed' ? 'geomed (RFA)' : aggregator];
    for (const a of attacks) {
      const r = rows.find((x) => x.aggregator === aggregator && x.attack === a);
      const ours = r === undefined || r.mean === null ? '–'
        : r.accuracies.length > 1 ? `${f1(r.mean)} [${f1(r.min)}–${f1(r.max)}]` : f1(r.mean);
      cells.push(r !== undefined && r.failed > 0 ? `${ours} (${r.failed} failed)` : ours);
      if (a !== 'none') cells.push(f1(r?.reference ?? PAPER_REFERENCE[aggregator]?.[a as 'alie' | 'ipm'] ?? null));
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

/** Grouped bars: final accuracy per rule for each attack, whiskers min–max over seeds, paper values as ticks. */
export function reproductionChart(rows: readonly SummaryRow[], subtitle: string): string {
  const attacks = [...new Set(rows.map((r) => r.attack))];
  return groupedBarChart({
    title: 'MNIST, 25 clients (5 Byzantine), non-IID: final test accuracy',
    note: subtitle,
    referenceLabel: "paper (ICLR'22)",
    yLabel: 'test accuracy (%)',
    groups: REPRO_AGGREGATORS.map((a) => (a === 'geomed' ? 'RFA' : a)),
    series: attacks.map((attack) => {
      const pick = (a: string): SummaryRow | undefined => rows.find((r) => r.aggregator === a && r.attack === attack);
      return {
        name: attack === 'none' ? 'no attack' : attack.toUpperCase() + (attack === 'ipm' ? ' (ε = 0.1)' : ''),
        values: REPRO_AGGREGATORS.map((a) => pick(a)?.mean ?? null),
        ranges: REPRO_AGGREGATORS.map((a) => {
          const r = pick(a);
          return r && r.min !== null && r.max !== null && r.accuracies.length > 1 ? [r.min, r.max] as const : null;
        }),
        reference: REPRO_AGGREGATORS.map((a) => (attack === 'none' ? null : PAPER_REFERENCE[a]?.[attack as 'alie' | 'ipm'] ?? null)),
      };
    }),
  });
}
