// Vector-search benchmark (issue 5), part (a): random unit vectors, d = 384, M 32, efConstruction 200, ef 256, k 10,
// one query at a time, for three indexes in one run:
//   ours    — the hnsw plugin (hnswlib's graph and build in wasm32 + SIMD, the shim's query loop) through its slot,
//             worker isolation, as the node runs it (each query: frame encode, shared-memory channel to the worker,
//             search, frame back);
//   native  — hnswlib-node 3.0.0 (the same hnswlib C++ as a native addon, SSE; number[] arguments, as it wants);
//   exact   — ExactVectorIndex, the 8-way unrolled Float32Array scan (recall 1 by definition: the ground truth);
// and ours in-thread: the same plugin on the main thread, loaded from the worker instance's saved index (which
// times save and load through the crash-safe file). In-thread modules are metered (host/runtime/wasm-meter.ts, so a
// runaway plugin can be stopped), which costs the search a few percent; the worker runs the unmetered module and
// pays the hop to its thread instead.
// Figures: build time, qps, recall@10 against exact, p50/p99 single-query latency. Random data is the hardest case
// for HNSW (no cluster structure), so recall at ef 256 is well below that on real embeddings.
// benchVectorSet() is the reusable part: part (b) (real MiniLM embeddings) feeds it its own vectors.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPluginSpec } from '../host/runtime/load-manifest.js';
import { ExactVectorIndex } from '../host/kb/exact-vector-index.js';
import type { VectorIndexParams } from '../host/kb/kb-types.js';
import { builtinHnswManifest, KB_HNSW_DEFAULTS, openHnswIndex, type PluginVectorIndex } from '../host/kb/vector-index.js';
import type { BenchOptions } from './main.js';
import { fmt, percentile } from './stats.js';

export interface VectorSetOptions extends BenchOptions {
  readonly dim: number;
  /** Neighbours per query (default 10). */
  readonly k?: number;
  /** HNSW parameters other than the knowledge base's defaults (M 32, efC 200, ef 256, cosine). */
  readonly params?: Partial<Omit<VectorIndexParams, 'dim'>>;
}

interface NativeIndex {
  initIndex(maxElements: number, m?: number, efConstruction?: number, randomSeed?: number): void;
  addPoint(point: number[], label: number): void;
  setEf(ef: number): void;
  searchKnn(query: number[], k: number): { distances: number[]; neighbors: number[] };
}
type NativeCtor = new (space: 'l2' | 'ip' | 'cosine', dim: number) => NativeIndex;

/** Seeded standard normals (Box-Muller over mulberry32). */
function gaussian(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** `n` random unit vectors of dimension `dim` (uniform on the sphere), row-major. */
export function randomUnitVectors(n: number, dim: number, seed: number): Float32Array {
  const g = gaussian(seed);
  const v = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      const x = g();
      v[i * dim + j] = x;
      norm += x * x;
    }
    const s = 1 / Math.sqrt(norm);
    for (let j = 0; j < dim; j++) v[i * dim + j]! *= s;
  }
  return v;
}

function recall(found: readonly ArrayLike<number>[], truth: readonly ArrayLike<number>[], k: number): number {
  let hit = 0;
  found.forEach((f, q) => {
    const t = new Set(Array.from(truth[q]!).slice(0, k));
    for (let i = 0; i < Math.min(k, f.length); i++) if (t.has(f[i]!)) hit++;
  });
  return hit / (k * found.length);
}

interface Timed {
  readonly qps: number;
  readonly p50: number;
  readonly p99: number;
}

/**
 * Single-query timings of several indexes, interleaved so machine noise falls on all alike: the queries are cut
 * into `rounds` windows, and in each round every index answers that window, in a rotating order. qps is over each
 * index's total time; p50/p99 over its per-query latencies.
 */
async function timeInterleaved(nq: number, rounds: number, impls: readonly ((q: number) => unknown)[]): Promise<Timed[]> {
  const lat = impls.map(() => new Float64Array(nq));
  const total = impls.map(() => 0);
  const window = Math.ceil(nq / rounds);
  for (let r = 0; r * window < nq; r++) {
    for (let j = 0; j < impls.length; j++) {
      const which = (r + j) % impls.length;
      const one = impls[which]!;
      const t0 = performance.now();
      for (let q = r * window; q < Math.min(nq, (r + 1) * window); q++) {
        const s = performance.now();
        await one(q);
        lat[which]![q] = performance.now() - s;
      }
      total[which]! += performance.now() - t0;
    }
  }
  return lat.map((l, i) => {
    l.sort();
    return { qps: (nq * 1000) / total[i]!, p50: percentile(l, 50), p99: percentile(l, 99) };
  });
}

const version = (pkg: string): string => {
  try {
    return (JSON.parse(readFileSync(join(process.cwd(), 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
};

/**
 * Builds the three indexes over `vectors` (row-major, `dim` wide) and times `queries` one at a time. Keys are
 * `<name>_qps`, `<name>_native_qps`, `<name>_exact_qps`, `<name>_recall`, `<name>_native_recall`, `<name>_build_s`,
 * `<name>_native_build_s`, `<name>_p50_ms`, `<name>_p99_ms`, `<name>_native_p99_ms`, `<name>_exact_p99_ms`, ...
 */
export async function benchVectorSet(name: string, vectors: Float32Array, queries: Float32Array, opts: VectorSetOptions): Promise<Record<string, number | string>> {
  const { dim, log } = opts;
  const k = opts.k ?? 10;
  const n = vectors.length / dim;
  const nq = queries.length / dim;
  const params: VectorIndexParams = { ...KB_HNSW_DEFAULTS, ...opts.params, dim, capacity: n };
  const labels = Uint32Array.from({ length: n }, (_, i) => i);
  const query = (q: number): Float32Array => queries.subarray(q * dim, (q + 1) * dim);
  log(`${name}: ${n} vectors, d = ${dim}, ${nq} queries one at a time, k = ${k}, M ${params.m}, efC ${params.efConstruction}, ` +
    `ef ${params.efSearch}, ${params.metric}`);

  // exact: the ground truth and the brute-force peer
  const exact = new ExactVectorIndex(params);
  await exact.add(labels, vectors);
  const truth: Uint32Array[] = [];
  for (let q = 0; q < nq; q++) truth.push(exact.searchSync(query(q), k).labels);

  // ours: the plugin through its slot; then its saved index loaded into an in-thread instance
  const ours = await openHnswIndex(params);
  let inThread: PluginVectorIndex | null = null;
  const tmp = mkdtempSync(join(tmpdir(), 'x0t-bench-vector-'));
  try {
    const t0 = performance.now();
    await ours.add(labels, vectors);
    const oursBuild = (performance.now() - t0) / 1000;
    log(`  ours (hnsw plugin)  built in ${fmt(oursBuild, 1)} s`);
    const file = join(tmp, 'index.hnsw');
    const t1 = performance.now();
    await ours.save(file, 'bench');
    const saveS = (performance.now() - t1) / 1000;
    const fileBytes = statSync(file).size;
    const spec = await loadPluginSpec(builtinHnswManifest());
    inThread = await openHnswIndex(params, { ...spec, isolation: 'in-thread' });
    const t2 = performance.now();
    await inThread.load(file);
    const loadS = (performance.now() - t2) / 1000;
    log(`  saved ${fmt(fileBytes / 1048576, 1)} MiB in ${fmt(saveS)} s; loaded into an in-thread instance in ${fmt(loadS)} s`);

    // native hnswlib-node, number[] arguments converted before timing
    const { HierarchicalNSW } = (await import('hnswlib-node')).default as unknown as { HierarchicalNSW: NativeCtor };
    const native = new HierarchicalNSW(params.metric, dim);
    native.initIndex(n, params.m, params.efConstruction, params.seed);
    const rows = Array.from({ length: n }, (_, i) => Array.from(vectors.subarray(i * dim, (i + 1) * dim)));
    const qrows = Array.from({ length: nq }, (_, q) => Array.from(query(q)));
    const t3 = performance.now();
    for (let i = 0; i < n; i++) native.addPoint(rows[i]!, i);
    const nativeBuild = (performance.now() - t3) / 1000;
    native.setEf(params.efSearch);
    log(`  hnswlib-node ${version('hnswlib-node')}  built in ${fmt(nativeBuild, 1)} s`);

    const local = inThread;
    for (let q = 0; q < Math.min(50, nq); q++) { // warm-up
      await ours.search(query(q), k);
      await local.search(query(q), k);
      native.searchKnn(qrows[q]!, k);
    }
    const found: Uint32Array[] = new Array(nq);
    const inThreadFound: Uint32Array[] = new Array(nq);
    const nativeFound: number[][] = new Array(nq);
    const [oursTime, nativeTime, exactTime, inThreadTime] = (await timeInterleaved(nq, 5, [
      async (q) => { found[q] = (await ours.search(query(q), k)).labels; },
      (q) => { nativeFound[q] = native.searchKnn(qrows[q]!, k).neighbors; },
      (q) => exact.searchSync(query(q), k),
      async (q) => { inThreadFound[q] = (await local.search(query(q), k)).labels; },
    ])) as [Timed, Timed, Timed, Timed];
    const oursRecall = recall(found, truth, k);
    const nativeRecall = recall(nativeFound, truth, k);
    const inThreadRecall = recall(inThreadFound, truth, k);
    const line = (label: string, t: Timed, r: number): string =>
      `  ${label.padEnd(26)}${fmt(t.qps, 0)} qps, recall@${k} ${fmt(r, 4)}, p50 ${fmt(t.p50)} ms, p99 ${fmt(t.p99)} ms`;
    log(line('ours (hnsw plugin)', oursTime, oursRecall));
    log(line('hnswlib-node', nativeTime, nativeRecall));
    log(line('ours in-thread (metered)', inThreadTime, inThreadRecall));
    log(line('exact scan', exactTime, 1));
    log(`  ours / native: ${fmt(oursTime.qps / nativeTime.qps)}× qps (in-thread, metered: ${fmt(inThreadTime.qps / nativeTime.qps)}×), ` +
      `build ${fmt(oursBuild / nativeBuild)}× the time`);
    return {
      [`${name}_vectors`]: n,
      [`${name}_queries`]: nq,
      [`${name}_dim`]: dim,
      [`${name}_qps`]: oursTime.qps,
      [`${name}_native_qps`]: nativeTime.qps,
      [`${name}_exact_qps`]: exactTime.qps,
      [`${name}_qps_ratio`]: oursTime.qps / nativeTime.qps,
      [`${name}_recall`]: oursRecall,
      [`${name}_native_recall`]: nativeRecall,
      [`${name}_build_s`]: oursBuild,
      [`${name}_native_build_s`]: nativeBuild,
      [`${name}_p50_ms`]: oursTime.p50,
      [`${name}_p99_ms`]: oursTime.p99,
      [`${name}_native_p50_ms`]: nativeTime.p50,
      [`${name}_native_p99_ms`]: nativeTime.p99,
      [`${name}_exact_p99_ms`]: exactTime.p99,
      [`${name}_inthread_qps`]: inThreadTime.qps,
      [`${name}_inthread_recall`]: inThreadRecall,
      [`${name}_inthread_p99_ms`]: inThreadTime.p99,
      [`${name}_save_s`]: saveS,
      [`${name}_load_s`]: loadS,
      [`${name}_file_bytes`]: fileBytes,
      native_version: version('hnswlib-node'),
    };
  } finally {
    await inThread?.close();
    await ours.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Part (a): random unit vectors (20k, or 3k with --quick), 1000 queries (200). */
export async function vectorBench(opts: BenchOptions): Promise<Record<string, unknown>> {
  const dim = 384;
  const n = opts.quick ? 3000 : 20_000;
  const nq = opts.quick ? 200 : 1000;
  return benchVectorSet('random', randomUnitVectors(n, dim, 1), randomUnitVectors(nq, dim, 2), { ...opts, dim });
}
