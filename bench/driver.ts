// Driver benchmark (issue 6): cost per packet of the XDP program bpf/x0t_xdp.o and its three reduced variants
// (empty → count → count+quarantine → full product program), measured two ways:
//   prog run   — BPF_PROG_TEST_RUN via `bpftool prog run … repeat N`: the kernel runs the program N times on one
//                frame and reports the mean ns per run (includes the test-run loop's own overhead, which is what the
//                empty program measures). Frames: Ethernet+IPv4+UDP and Ethernet+IPv6+UDP, 92 bytes, from a source
//                already in peers_v4/peers_v6 (the steady state: a known peer, not quarantined). Also the drop path
//                (source quarantined) of the full program. Median of several repetitions, programs interleaved.
//   bpf_stats  — kernel.bpf_stats_enabled=1, each variant attached in turn (native XDP) on B's veth facing A in a
//                namespace pair, a burst of UDP datagrams from A, then run_time_ns / run_cnt of the program from
//                `bpftool prog show id N`. Real packets through the veth driver; the sysctl is restored afterwards.
// Headline keys: ns_empty, ns_counter, ns_quarantine, ns_full (prog run, IPv4), stats_ns_* (bpf_stats).
// Goal: ns_full ≤ 60. Needs root and bpftool; prints a skip line otherwise. Leaves no namespace, pin or program.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetnsLab, netnsUnavailable, sh } from '../test/support/netns.js';
import {
  PinnedXdpObject, UDP_SENDER, XDP_PROGRAMS, bpftoolUnavailable, ipv4Key, programsStillLoaded, type XdpProgram,
} from '../test/integration/bpf/bpftool-object.js';
import { udp4Frame, udp6Frame } from '../test/integration/bpf/frames.js';
import type { BenchOptions } from './main.js';
import { fmt, median } from './stats.js';

const SHORT: Record<XdpProgram, string> = {
  x0t_xdp_empty: 'empty', x0t_xdp_count: 'counter', x0t_xdp_count_quarantine: 'quarantine', x0t_xdp: 'full',
};
const GOAL_FULL_NS = 60;
const STATS_SYSCTL = '/proc/sys/kernel/bpf_stats_enabled';

async function progRunMedians(obj: PinnedXdpObject, files: Record<string, string>, repeat: number, reps: number): Promise<Record<string, number>> {
  const runs = new Map<string, number[]>();
  // Interleave programs and frames within each repetition so drift (frequency, neighbours) hits all alike.
  for (let r = 0; r < reps; r++) {
    for (const [frame, file] of Object.entries(files)) {
      for (const prog of XDP_PROGRAMS) {
        const { durationNs } = await obj.testRun(prog, file, repeat);
        const k = `${frame}:${prog}`;
        runs.set(k, [...(runs.get(k) ?? []), durationNs]);
      }
    }
  }
  return Object.fromEntries([...runs].map(([k, v]) => [k, median(v)]));
}

async function progStats(id: number): Promise<{ runNs: bigint; runCnt: bigint }> {
  const info = JSON.parse(await sh(['bpftool', '--json', 'prog', 'show', 'id', String(id)])) as { run_time_ns?: number; run_cnt?: number };
  return { runNs: BigInt(info.run_time_ns ?? 0), runCnt: BigInt(info.run_cnt ?? 0) };
}

export async function driverBench(opts: BenchOptions): Promise<Record<string, unknown>> {
  const { log, quick } = opts;
  const skip = (await netnsUnavailable()) ?? bpftoolUnavailable();
  if (skip !== null) {
    log(`driver: skipped — ${skip}`);
    return { skipped: skip };
  }
  const repeat = quick ? 200_000 : 1_000_000;
  const reps = quick ? 3 : 9;
  const burst = quick ? 50_000 : 200_000;
  const payload = 50; // 14 + 20 + 8 + 50 = 92-byte IPv4 frame; 14 + 40 + 8 + 30 = 92-byte IPv6 frame
  const started = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), 'x0t-bench-driver-'));
  const obj = await PinnedXdpObject.load('bench');
  const lab = new NetnsLab('bbpf');
  const previousStats = readFileSync(STATS_SYSCTL, 'utf8').trim();
  const result: Record<string, unknown> = {};
  try {
    // (a) prog run on a known peer.
    const files = {
      v4: join(tmp, 'udp4.bin'), v6: join(tmp, 'udp6.bin'), drop: join(tmp, 'drop4.bin'),
    };
    writeFileSync(files.v4, udp4Frame('10.89.0.1', '10.89.0.2', payload));
    writeFileSync(files.v6, udp6Frame('fd00:89::1', 'fd00:89::2', payload - 20));
    writeFileSync(files.drop, udp4Frame('10.89.0.66', '10.89.0.2', payload));
    await obj.testRun('x0t_xdp', files.v4, 1); // the sources become known peers
    await obj.testRun('x0t_xdp', files.v6, 1);
    await obj.update('quarantine_v4', ipv4Key('10.89.0.66'), Buffer.alloc(8));
    const known = await progRunMedians(obj, { v4: files.v4, v6: files.v6 }, repeat, reps);
    const dropRuns: number[] = [];
    for (let r = 0; r < reps; r++) dropRuns.push((await obj.testRun('x0t_xdp', files.drop, repeat)).durationNs);
    log(`driver: bpftool prog run, ns per packet (mean of ${repeat} runs, median of ${reps}); 92-byte UDP frame from a known peer`);
    log(`  ${'program'.padEnd(26)} ${'IPv4'.padStart(6)} ${'IPv6'.padStart(6)}`);
    for (const p of XDP_PROGRAMS) {
      const v4 = known[`v4:${p}`]!;
      const v6 = known[`v6:${p}`]!;
      log(`  ${p.padEnd(26)} ${fmt(v4, 0).padStart(6)} ${fmt(v6, 0).padStart(6)}`);
      result[`ns_${SHORT[p]}`] = v4;
      result[`ns_${SHORT[p]}_v6`] = v6;
    }
    result['ns_full_drop'] = median(dropRuns);
    log(`  x0t_xdp, quarantined source (XDP_DROP + drop event; events suppressed after the first 1000/s): ${fmt(median(dropRuns), 0)}`);
    const overhead = result['ns_empty'] as number;
    log(`  net of the test-run loop (empty program): full ${fmt((result['ns_full'] as number) - overhead, 0)} ns`);

    // (b) bpf_stats on real veth traffic.
    await lab.addNamespace('a');
    await lab.addNamespace('b');
    const ab = await lab.link('a', 'b', 89);
    writeFileSync(STATS_SYSCTL, '1');
    const rounds = quick ? 1 : 3;
    const perRound = Math.ceil(burst / rounds);
    log(`driver: bpf_stats (kernel.bpf_stats_enabled=1), native XDP on veth, ${rounds} × ${perRound} UDP datagrams of ${payload} bytes per program (median of rounds)`);
    const perProg = new Map<XdpProgram, { ns: number[]; runs: number; pps: number[] }>();
    for (let r = 0; r < rounds; r++) {
      for (const p of XDP_PROGRAMS) {
        await obj.attach(lab.ns('b'), ab.b.dev, p);
        const before = await progStats(obj.id(p));
        const t0 = Date.now();
        await lab.exec('a', [process.execPath, UDP_SENDER, '--to', ab.b.ipv4, '--count', String(perRound), '--size', String(payload), '--window', '256'], { timeoutMs: 300_000 });
        const ms = Date.now() - t0;
        await new Promise((res) => setTimeout(res, 100)); // the veth NAPI finishes the queue
        const after = await progStats(obj.id(p));
        await obj.detach(lab.ns('b'), ab.b.dev);
        const runs = after.runCnt - before.runCnt;
        const acc = perProg.get(p) ?? { ns: [], runs: 0, pps: [] };
        if (runs > 0n) acc.ns.push(Number(after.runNs - before.runNs) / Number(runs));
        acc.runs += Number(runs);
        acc.pps.push((perRound / ms) * 1000);
        perProg.set(p, acc);
      }
    }
    const statsEmpty = median(perProg.get('x0t_xdp_empty')?.ns ?? []);
    for (const p of XDP_PROGRAMS) {
      const acc = perProg.get(p)!;
      const ns = median(acc.ns);
      result[`stats_ns_${SHORT[p]}`] = ns;
      result[`stats_runs_${SHORT[p]}`] = acc.runs;
      log(`  ${p.padEnd(26)} ${fmt(ns, 1).padStart(7)} ns/packet (${fmt(ns - statsEmpty, 1).padStart(6)} over empty) over ${acc.runs} runs, ~${fmt(median(acc.pps), 0)} datagrams/s sent`);
    }
  } finally {
    writeFileSync(STATS_SYSCTL, previousStats);
    const ids = obj.ids;
    await obj.close();
    await lab.close();
    rmSync(tmp, { recursive: true, force: true });
    const left = await programsStillLoaded(ids);
    if (left.length > 0) log(`driver: warning — programs ${left.join(', ')} still loaded after teardown`);
  }
  const full = result['ns_full'] as number;
  result['goal_full_ns'] = GOAL_FULL_NS;
  result['goal_full_pass'] = full <= GOAL_FULL_NS;
  result['seconds'] = (Date.now() - started) / 1000;
  result['cpus'] = cpus().length;
  result['kernel'] = (await sh(['uname', '-r'])).trim();
  log(`goal full ≤ ${GOAL_FULL_NS} ns (prog run): ${fmt(full, 0)} ns → ${full <= GOAL_FULL_NS ? 'PASS' : 'FAIL'}`);
  log(`driver bench: ${fmt(result['seconds'] as number, 1)} s; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), kernel ${result['kernel'] as string}`);
  return result;
}
