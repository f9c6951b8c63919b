// Runtime benchmark: our host vs @extism/extism 1.0.3 (the reference Extism host) vs a raw WebAssembly instance,
// in one run on one machine. Every figure is printed next to its peer and as a ratio.
import createPlugin from '@extism/extism';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PluginSpec } from '../host/core/plugin-spec.js';
import { compilePlugin } from '../host/runtime/compiled-plugin.js';
import { InThreadInstance } from '../host/runtime/in-thread-instance.js';
import { loadPlugin } from '../host/runtime/instantiate.js';
import { loadPluginSpec } from '../host/runtime/load-manifest.js';
import { Slot } from '../host/runtime/slot.js';
import { decodeF32Vector, decodeF64Vector, encodeAggregateRequest, encodeF32Vector } from '../sdk/abi/generated/contract.js';
import type { BenchOptions } from './main.js';
import { fmt, median, medianMs, percentile } from './stats.js';

const ROOT = process.cwd();
const MiB = 1024 * 1024;

async function spec(path: string, changes: { isolation?: 'worker' | 'in-thread'; limits?: Partial<PluginSpec['limits']> } = {}): Promise<PluginSpec> {
  const s = await loadPluginSpec(join(ROOT, path));
  return { ...s, isolation: changes.isolation ?? s.isolation, limits: { ...s.limits, ...changes.limits } };
}

/** Plain-JS FedAvg (the weighted mean of the clients' rows, f64 accumulation): the "plain JS" peer of the plugin. */
export function fedavgJs(clients: number, dim: number, weights: Float32Array, updates: Float32Array): Float32Array {
  const acc = new Float64Array(dim);
  let total = 0;
  for (let c = 0; c < clients; c++) {
    const w = weights[c]!;
    total += w;
    const off = c * dim;
    for (let i = 0; i < dim; i++) acc[i]! += w * updates[off + i]!;
  }
  const out = new Float32Array(dim);
  for (let i = 0; i < dim; i++) out[i] = acc[i]! / total;
  return out;
}

const BIG = { maxMemoryPages: 4096, maxInputBytes: 64 * MiB, maxOutputBytes: 64 * MiB };

export async function runtimeBench({ quick, log }: BenchOptions): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = { quick, node: process.version };
  const selftestPath = 'manifests/plugins/selftest.json';
  const selftestBytes = new Uint8Array(readFileSync((await spec(selftestPath)).wasm.path));

  // ---- bulk bytes: one payload host → plugin → host (the plugin's echo copies it to its output) ----
  {
    const size = 4 * MiB;
    const reps = quick ? 15 : 60;
    const payload = new Uint8Array(size).map((_, i) => i);
    const inThread = (await loadPlugin(await spec(selftestPath, { isolation: 'in-thread', limits: { ...BIG, callTimeoutMs: 25 } }))) as InThreadInstance;
    const worker = await loadPlugin(await spec(selftestPath, { limits: { ...BIG, callTimeoutMs: 10_000 } }));
    const extism = await createPlugin({ wasm: [{ data: selftestBytes, name: 'main' }] }, { useWasi: false });
    // Raw floor: the same module, the same copies in and out, no call at all.
    const raw = (await compilePlugin(await spec(selftestPath, { limits: BIG }))).module;
    const rawInst = new WebAssembly.Instance(raw, { 'extism:host/env': new Proxy({}, { get: () => () => 0n }) as WebAssembly.ModuleImports });
    const rawEx = rawInst.exports as { memory: WebAssembly.Memory; x0t_input: (n: number) => number };
    const ptr = rawEx.x0t_input(size);
    // Every peer gets the output into a reused buffer where its API allows it (ours and the raw floor do).
    const outBuf = new Uint8Array(size);
    const check = (out: Uint8Array) => { if (out.length !== size || out[size - 1] !== payload[size - 1]) throw new Error('bulk echo returned wrong bytes'); };
    const msOurs = await medianMs(reps, () => check(inThread.callSync('echo', payload, outBuf)));
    const msWorker = await medianMs(reps, async () => check(await worker.call('echo', payload, outBuf)));
    const msOursFresh = await medianMs(reps, () => check(inThread.callSync('echo', payload)));
    const msExtism = await medianMs(Math.max(3, reps / 5), async () => {
      const out = await extism.call(['main', 'echo'], payload);
      check(out!.bytes().slice());
      await extism.reset();
    });
    const msRaw = await medianMs(reps, () => {
      const mem = new Uint8Array(rawEx.memory.buffer);
      mem.set(payload, ptr);
      outBuf.set(mem.subarray(ptr, ptr + size));
      check(outBuf);
    });
    const gbps = (ms: number) => size / (ms / 1000) / 1e9;
    Object.assign(result, {
      bulk_bytes: size,
      bulk_gbps: gbps(msOurs),
      bulk_gbps_isolated: gbps(msWorker),
      bulk_gbps_fresh_buffer: gbps(msOursFresh),
      extism_bulk_gbps: gbps(msExtism),
      raw_copy_gbps: gbps(msRaw),
    });
    log(`bulk ${size / MiB} MiB echo: ours in-thread ${fmt(gbps(msOurs))} GB/s, ours isolated ${fmt(gbps(msWorker))} GB/s, ` +
      `ours in-thread into a fresh buffer per call ${fmt(gbps(msOursFresh))} GB/s, ` +
      `@extism/extism ${fmt(gbps(msExtism), 3)} GB/s, raw wasm copy ${fmt(gbps(msRaw))} GB/s → ours/extism ${fmt(msExtism / msOurs, 0)}×, ours/raw ${fmt(msRaw / msOurs)}`);
    await inThread.close();
    await worker.close();
    await extism.close();
  }

  // ---- small-call overhead: echo of 0 bytes ----
  {
    const n = quick ? 20_000 : 200_000;
    const empty = new Uint8Array(0);
    const inThread = (await loadPlugin(await spec(selftestPath, { isolation: 'in-thread', limits: { callTimeoutMs: 25 } }))) as InThreadInstance;
    const worker = await loadPlugin(await spec(selftestPath));
    const fg = await createPlugin({ wasm: [{ data: selftestBytes, name: 'main' }] }, { useWasi: false });
    const bg = await createPlugin({ wasm: [{ data: selftestBytes, name: 'main' }] }, { useWasi: false, runInWorker: true });
    const direct = (x: Uint8Array): Uint8Array => x.slice();
    const perCallUs = async (count: number, f: () => unknown): Promise<number> => {
      const runs: number[] = [];
      for (let r = 0; r < 3; r++) {
        const t0 = performance.now();
        for (let i = 0; i < count; i++) await f();
        runs.push(((performance.now() - t0) * 1000) / count);
      }
      return median(runs);
    };
    let k = 0;
    const usDirect = await perCallUs(n, () => direct(empty));
    const usSync = await perCallUs(n, () => inThread.callSync('echo', empty));
    const usInThread = await perCallUs(n, () => inThread.call('echo', empty));
    const usWorker = await perCallUs(n, () => worker.call('echo', empty));
    // 1.0.3 must be reset before 16,384 calls with input or output: reset every 4,096 (cost amortised in).
    const usFg = await perCallUs(n / 4, async () => { await fg.call(['main', 'echo'], empty); if (++k % 4096 === 0) await fg.reset(); });
    const usBg = await perCallUs(Math.min(n / 20, 5_000), async () => { await bg.call(['main', 'echo'], empty); if (++k % 4096 === 0) await bg.reset(); });
    Object.assign(result, {
      call_us_direct_js: usDirect,
      call_us_inthread_sync: usSync,
      call_us_inthread: usInThread,
      call_us_isolated: usWorker,
      extism_call_us_foreground: usFg,
      extism_call_us_worker: usBg,
    });
    log(`noop call: direct JS ${fmt(usDirect, 3)} µs; ours in-thread ${fmt(usSync, 3)} µs sync / ${fmt(usInThread, 3)} µs async; ` +
      `ours isolated ${fmt(usWorker)} µs; @extism/extism foreground ${fmt(usFg)} µs, worker ${fmt(usBg)} µs → ` +
      `isolated ours/extism-worker ${fmt(usBg / usWorker, 1)}×`);
    await inThread.close();
    await worker.close();
    await fg.close();
    await bg.close();
  }

  // ---- hot swap under continuous load ----
  {
    const swaps = quick ? 20 : 100;
    const a = await spec(selftestPath);
    const b = await spec('test/fixtures/manifests/selftest-alt.json');
    const slot = await Slot.open('selftest', 'selftest', a);
    const frame = encodeF32Vector({ len: 3, values: Float32Array.of(1, 2, 3.5) });
    const latencies: number[] = [];
    let failed = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        const t0 = performance.now();
        try {
          if (decodeF64Vector(await slot.call('sum', frame)).values[0] !== 6.5) failed++;
        } catch {
          failed++;
        }
        latencies.push(performance.now() - t0);
        await new Promise((r) => setImmediate(r));
      }
    })();
    const swapMs: number[] = [];
    for (let i = 0; i < swaps; i++) {
      const t0 = performance.now();
      await slot.swap(i % 2 === 0 ? b : a);
      swapMs.push(performance.now() - t0);
    }
    running = false;
    await load;
    await slot.close();
    const sorted = Float64Array.from(latencies).sort();
    Object.assign(result, {
      swaps,
      swap_ms: median(swapMs),
      swap_failed_calls: failed,
      swap_calls: latencies.length,
      swap_p50_ms: percentile(sorted, 50),
      swap_p99_ms: percentile(sorted, 99),
      swap_max_ms: sorted[sorted.length - 1],
    });
    log(`hot swap ×${swaps} under load: swap ${fmt(median(swapMs))} ms median, ${failed} failed of ${latencies.length} calls, ` +
      `call p50 ${fmt(percentile(sorted, 50), 3)} ms, p99 ${fmt(percentile(sorted, 99))} ms, max ${fmt(sorted[sorted.length - 1]!)} ms`);
  }

  // ---- FedAvg of 100 clients × 100k f32 ----
  {
    const clients = 100;
    const dim = 100_000;
    const reps = quick ? 5 : 15;
    const weights = Float32Array.from({ length: clients }, (_, c) => 1 + (c % 7));
    const updates = new Float32Array(clients * dim);
    for (let i = 0; i < updates.length; i++) updates[i] = Math.sin(i * 0.001);
    const frame = encodeAggregateRequest({ clients, dim, weights, updates });
    const fedavgPath = 'manifests/plugins/fedavg.json';
    // A 40 MiB round is longer than the 25 ms a manifest may grant an in-thread plugin: the in-thread figure uses a
    // spec built here with a 2 s deadline, to show the engine's speed without the worker's two extra copies.
    const inThread = (await loadPlugin(await spec(fedavgPath, { isolation: 'in-thread', limits: { ...BIG, callTimeoutMs: 2000 } }))) as InThreadInstance;
    const worker = await loadPlugin(await spec(fedavgPath, { limits: { ...BIG, callTimeoutMs: 10_000 } }));
    const js = (): Float32Array => fedavgJs(clients, dim, weights, updates);
    let ref: Float32Array = new Float32Array(0);
    const msJs = await medianMs(reps, () => { ref = js(); });
    let got: Float32Array = new Float32Array(0);
    const msPlugin = await medianMs(reps, () => { got = decodeF32Vector(inThread.callSync('aggregate', frame)).values; });
    const msWorker = await medianMs(reps, async () => { got = decodeF32Vector(await worker.call('aggregate', frame)).values; });
    let maxErr = 0;
    for (let i = 0; i < dim; i++) maxErr = Math.max(maxErr, Math.abs(got[i]! - ref[i]!));
    if (maxErr > 1e-5) throw new Error(`fedavg plugin differs from the JS reference by ${maxErr}`);
    // Memory-bandwidth bound: one read of every input byte, measured as a plain copy of the same bytes.
    const dst = new Float32Array(updates.length);
    const msCopy = await medianMs(reps, () => dst.set(updates));
    Object.assign(result, {
      fedavg_clients: clients,
      fedavg_dim: dim,
      fedavg_ms: msWorker,
      fedavg_ms_inthread: msPlugin,
      fedavg_js_ms: msJs,
      fedavg_bandwidth_bound_ms: msCopy,
      fedavg_max_abs_error: maxErr,
    });
    log(`fedavg ${clients}×${dim} f32 (${fmt(frame.length / MiB, 1)} MiB): plugin isolated ${fmt(msWorker)} ms, in-thread ${fmt(msPlugin)} ms, ` +
      `plain JS ${fmt(msJs)} ms, bandwidth bound (copy of the input) ${fmt(msCopy)} ms → isolated plugin ${fmt(msJs / msWorker, 1)}× faster than JS, ` +
      `${fmt(msWorker / msCopy, 1)}× the bound (in-thread ${fmt(msPlugin / msCopy, 1)}×); max |Δ| vs JS ${maxErr.toExponential(1)}`);
    await inThread.close();
    await worker.close();
  }
  return result;
}
