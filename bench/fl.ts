// Federated-learning aggregation benchmark, in one run on one machine: the shipped aggregator plugins (fedavg,
// median, krum, multi-krum) through a Slot with worker isolation, vs plain TypeScript (the references the tests use:
// test/support/fl-reference, and bench/runtime.ts's plain-JS FedAvg), vs the memory-bandwidth bound (one copy of
// the input, as bench/runtime.ts defines it). FedAvg also runs on staged input (host/runtime/staged-round.ts), as a
// coordinator would use it: every round, each client's update is copied from its (network) buffer into the round
// staged in the plugin's memory, then the aggregate call runs in place. The fill is timed apart from the call and
// printed; the next round reuses the released instance's memory but rewrites every byte of it.
//
// Full run: FedAvg and coordinate-wise median of 100 clients × 1M f32 (400 MB of updates), Krum and Multi-Krum of
// 25 clients × 1M (the first 25 rows of the same input). --quick: 100 × 100k and 25 × 100k.
//
// The shipped manifests limit a call to 64 MiB of input and 128 MiB of plugin memory, too small for a 400 MB round:
// the bench loads each manifest with loadPluginSpec and overrides `limits` (sized from the frame, printed), nothing
// else. Within a round every peer runs once, in a rotating order, so machine noise falls on all alike; each figure
// is the median of the rounds after one warm-up round.
import { join } from 'node:path';
import { DEFAULT_LIMITS, type PluginSpec } from '../host/core/plugin-spec.js';
import { limitsForRound } from '../host/fl/aggregation-rules.js';
import { loadPluginSpec } from '../host/runtime/load-manifest.js';
import { Slot } from '../host/runtime/slot.js';
import { StagedRound } from '../host/runtime/staged-round.js';
import { decodeF32Vector, encodeAggregateRequest } from '../sdk/abi/generated/contract.js';
import { median as medianRef, type Round } from '../test/support/fl-reference/coordinate.js';
import { krum as krumRef, multiKrum as multiKrumRef } from '../test/support/fl-reference/krum.js';
import type { BenchOptions } from './main.js';
import { fedavgJs } from './runtime.js';
import { fmt, median } from './stats.js';

const ROOT = process.cwd();
const MiB = 1024 * 1024;

/** Limits for one round of `frameBytes` in and `dim` f32 out (the same sizing `x0t fl aggregate` uses). */
function limitsFor(frameBytes: number, dim: number): PluginSpec['limits'] {
  return limitsForRound(DEFAULT_LIMITS, frameBytes, dim);
}

async function slotFor(name: string, limits: PluginSpec['limits']): Promise<Slot> {
  const s = await loadPluginSpec(join(ROOT, 'manifests/plugins', `${name}.json`));
  return Slot.open(name, s.capability, { ...s, isolation: 'worker', limits });
}

/**
 * One warm-up round, then `rounds` rounds; in round r the peers start at index r mod n. Median ms per peer. A peer
 * with a `prepare` step runs it right before itself, timed apart as `<name>:prepare`.
 */
async function interleaved(
  rounds: number, peers: Record<string, () => unknown>, prepare: Record<string, () => unknown> = {},
): Promise<Record<string, number>> {
  const names = Object.keys(peers);
  const keys = [...names, ...Object.keys(prepare).map((n) => `${n}:prepare`)];
  const times: Record<string, number[]> = Object.fromEntries(keys.map((n) => [n, []]));
  for (let r = 0; r <= rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length]!;
      const before = prepare[name];
      if (before) {
        const t = performance.now();
        await before();
        if (r > 0) times[`${name}:prepare`]!.push(performance.now() - t);
      }
      const t0 = performance.now();
      await peers[name]!();
      const ms = performance.now() - t0;
      if (r > 0) times[name]!.push(ms);
    }
  }
  return Object.fromEntries(keys.map((n) => [n, median(times[n]!)]));
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`fl bench: length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function check(what: string, err: number, tol: number): void {
  if (!(err <= tol)) throw new Error(`fl bench: ${what} differs from the plain TypeScript reference by ${err} (> ${tol})`);
}

/** Uniform f32 in [-1, 1) from xorshift32 (fast and reproducible; Math.random over 100M values is slow). */
function randomF32(n: number, seed = 0x9e3779b9): Float32Array {
  const out = new Float32Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x / 2147483648 - 1;
  }
  return out;
}

export async function flBench({ quick, log }: BenchOptions): Promise<Record<string, unknown>> {
  const dim = quick ? 100_000 : 1_000_000;
  const clients = 100;
  const krumClients = 25;
  const fastRounds = quick ? 5 : 7;
  const slowRounds = 3;
  const result: Record<string, unknown> = { quick, node: process.version, dim, clients, krum_clients: krumClients };
  log(`fl: ${clients} × ${dim.toLocaleString('en')} f32 (${fmt((clients * dim * 4) / MiB, 0)} MiB) for FedAvg and median, ` +
    `${krumClients} × ${dim.toLocaleString('en')} (the first ${krumClients} rows) for Krum and Multi-Krum` +
    (quick ? ' [--quick: reduced sizes; the full run uses 1M coordinates]' : ''));
  log('plugins run through a Slot with worker isolation; peers interleaved per round; median of the rounds after a warm-up');

  const t0 = performance.now();
  const updates = randomF32(clients * dim);
  const weights = Float32Array.from({ length: clients }, (_, c) => 1 + (c % 7));
  const round: Round = { clients, dim, weights, updates };
  const frame = encodeAggregateRequest(round);
  const limits = limitsFor(frame.length, dim);
  result['limits'] = limits;
  log(`input generated and encoded in ${fmt(performance.now() - t0, 0)} ms; ` +
    `limits overridden in the bench (shipped manifests: 64 MiB input, 2048 pages = 128 MiB memory, 5 s): ` +
    `maxMemoryPages ${limits.maxMemoryPages} (${limits.maxMemoryPages / 16} MiB), maxInputBytes ${limits.maxInputBytes / MiB} MiB, ` +
    `maxOutputBytes ${limits.maxOutputBytes / MiB} MiB, callTimeoutMs ${limits.callTimeoutMs}`);

  const rows: [string, string, number, number, string][] = [];

  // ---- FedAvg: plugin vs plain JS vs one copy of the input ----
  {
    const slot = await slotFor('fedavg', limits);
    const out = new Uint8Array(limits.maxOutputBytes);
    let got: ArrayLike<number> = [];
    let gotStaged: ArrayLike<number> = [];
    let ref: ArrayLike<number> = [];
    let dst: Float32Array | null = new Float32Array(updates.length);
    let staged: StagedRound | null = null;
    let paths = '';
    const ms = await interleaved(fastRounds, {
      plugin: async () => { got = decodeF32Vector(await slot.call('aggregate', frame, out)).values; },
      staged: async () => {
        try {
          gotStaged = decodeF32Vector(await staged!.aggregate(out)).values;
          paths += staged!.path === 'in-place' ? '' : `${staged!.path} `;
        } finally {
          await staged!.release();
        }
      },
      js: () => { ref = fedavgJs(clients, dim, weights, updates); },
      bound: () => dst!.set(updates),
    }, {
      // The coordinator's side, as updates arrive: lease the round, then copy each client's row and weight in.
      staged: async () => {
        staged = await StagedRound.open(slot, clients, dim);
        for (let c = 0; c < clients; c++) {
          staged.row(c).set(updates.subarray(c * dim, (c + 1) * dim));
          staged.weights[c] = weights[c]!;
        }
      },
    });
    dst = null;
    await slot.close();
    if (paths !== '') throw new Error(`fl bench: staged FedAvg did not run in place (${paths.trim()})`);
    const err = maxAbsDiff(got, ref);
    check('fedavg', err, 1e-5);
    const errStaged = maxAbsDiff(gotStaged, ref);
    check('fedavg staged', errStaged, 1e-5);
    const fill = ms['staged:prepare']!;
    Object.assign(result, {
      fedavg_ms: ms['plugin'], fedavg_js_ms: ms['js'], fedavg_bound_ms: ms['bound'],
      fedavg_vs_bound: ms['plugin']! / ms['bound']!, fedavg_speedup_vs_js: ms['js']! / ms['plugin']!, fedavg_max_abs_error: err,
      fedavg_staged_ms: ms['staged'], fedavg_staged_vs_bound: ms['staged']! / ms['bound']!,
      fedavg_staged_fill_ms: fill, fedavg_staged_fill_vs_bound: fill / ms['bound']!,
      fedavg_staged_speedup_vs_js: ms['js']! / ms['staged']!, fedavg_staged_max_abs_error: errStaged,
    });
    rows.push(['fedavg', `${clients}×${dim}`, ms['plugin']!, ms['js']!, `bound ${fmt(ms['bound']!)} ms → ${fmt(ms['plugin']! / ms['bound']!)}× the bound`]);
    rows.push(['fedavg st.', `${clients}×${dim}`, ms['staged']!, ms['js']!,
      `staged input: call ${fmt(ms['staged']! / ms['bound']!)}× the bound; filling the round as updates arrive ` +
      `${fmt(fill)} ms (${fmt(fill / ms['bound']!)}×), not in the call`]);
  }

  // ---- coordinate-wise median ----
  {
    const slot = await slotFor('median', limits);
    const out = new Uint8Array(limits.maxOutputBytes);
    let got: ArrayLike<number> = [];
    let ref: ArrayLike<number> = [];
    const ms = await interleaved(slowRounds, {
      plugin: async () => { got = decodeF32Vector(await slot.call('aggregate', frame, out)).values; },
      ts: () => { ref = medianRef(round); },
    });
    await slot.close();
    const err = maxAbsDiff(got, ref);
    check('median', err, 1e-6);
    Object.assign(result, { median_ms: ms['plugin'], median_js_ms: ms['ts'], median_speedup: ms['ts']! / ms['plugin']!, median_max_abs_error: err });
    rows.push(['median', `${clients}×${dim}`, ms['plugin']!, ms['ts']!, '']);
  }

  // ---- Krum and Multi-Krum of the first 25 rows ----
  {
    const kround: Round = { clients: krumClients, dim, weights: weights.slice(0, krumClients), updates: updates.subarray(0, krumClients * dim) };
    const kframe = encodeAggregateRequest(kround);
    const klimits = limitsFor(kframe.length, dim);
    result['krum_limits'] = klimits;
    for (const [name, key, ref, tol] of [['krum', 'krum', krumRef, 0], ['multi-krum', 'multikrum', multiKrumRef, 1e-5]] as const) {
      const slot = await slotFor(name, klimits);
      const out = new Uint8Array(klimits.maxOutputBytes);
      let got: ArrayLike<number> = [];
      let want: ArrayLike<number> = [];
      const ms = await interleaved(slowRounds, {
        plugin: async () => { got = decodeF32Vector(await slot.call('aggregate', kframe, out)).values; },
        ts: () => { want = ref(kround); },
      });
      await slot.close();
      const err = maxAbsDiff(got, want);
      check(name, err, tol);
      Object.assign(result, { [`${key}_ms`]: ms['plugin'], [`${key}_js_ms`]: ms['ts'], [`${key}_speedup`]: ms['ts']! / ms['plugin']!, [`${key}_max_abs_error`]: err });
      rows.push([name, `${krumClients}×${dim}`, ms['plugin']!, ms['ts']!, '']);
    }
  }

  // ---- table and goals ----
  log('');
  log(`${'aggregator'.padEnd(11)} ${'round'.padEnd(12)} ${'plugin ms'.padStart(10)} ${'plain TS ms'.padStart(12)} ${'TS/plugin'.padStart(10)}  note`);
  for (const [name, size, p, js, note] of rows) {
    log(`${name.padEnd(11)} ${size.padEnd(12)} ${fmt(p).padStart(10)} ${fmt(js).padStart(12)} ${`${fmt(js / p, 1)}×`.padStart(10)}  ${note}`);
  }
  const goals = {
    goal_fedavg_within_1_5x_bound: (result['fedavg_vs_bound'] as number) <= 1.5,
    goal_fedavg_staged_within_1_5x_bound: (result['fedavg_staged_vs_bound'] as number) <= 1.5,
    goal_median_3x_faster_than_ts: (result['median_speedup'] as number) >= 3,
    goal_krum_3x_faster_than_ts: (result['krum_speedup'] as number) >= 3,
  };
  Object.assign(result, goals, { goals_pass: Object.values(goals).every(Boolean) });
  const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');
  log('');
  log(`goal FedAvg ≤ 1.5× the bandwidth bound: ${fmt(result['fedavg_vs_bound'] as number)}× → ${verdict(goals.goal_fedavg_within_1_5x_bound)}`);
  log(`goal FedAvg ≤ 1.5× the bandwidth bound, staged input (the call; the fill is ${fmt(result['fedavg_staged_fill_vs_bound'] as number)}× ` +
    `the bound, paid as updates arrive): ${fmt(result['fedavg_staged_vs_bound'] as number)}× → ${verdict(goals.goal_fedavg_staged_within_1_5x_bound)}`);
  log(`goal median ≥ 3× faster than plain TS: ${fmt(result['median_speedup'] as number, 1)}× → ${verdict(goals.goal_median_3x_faster_than_ts)}`);
  log(`goal Krum ≥ 3× faster than plain TS: ${fmt(result['krum_speedup'] as number, 1)}× → ${verdict(goals.goal_krum_3x_faster_than_ts)}`);
  log(`(Multi-Krum, no goal: ${fmt(result['multikrum_speedup'] as number, 1)}× faster than plain TS)`);
  return result;
}
