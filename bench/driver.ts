// Driver benchmark (issue 6): cost per packet of the XDP program bpf/x0t_xdp.o and its three reduced variants
// (empty → count → count+quarantine → full product program), measured two ways:
//   prog run   — BPF_PROG_TEST_RUN via `bpftool prog run … repeat N`: the kernel runs the program N times on one
//                frame and reports the mean ns per run (includes the test-run loop's own overhead, which is what the
//                empty program measures). Frames: Ethernet+IPv4+UDP and Ethernet+IPv6+UDP, 92 bytes, from a source
//                already in peers_v4/peers_v6 and owning its peer_cache slot on every CPU (the steady state: a known
//                peer, not quarantined, a cache hit) while the quarantine
//                is in use (other addresses quarantined, their quarantine_filter bits set): ns_full. Also the same
//                on a second object whose quarantine is empty (ns_full_quarantine_idle), a passing known peer whose
//                filter bit is set without an entry (a stale bit or a bucket shared with a quarantined address: the
//                worst case for passing traffic, ns_full_filter_hit), the drop path (ns_full_drop), and a known peer
//                whose cache slot another address owns (the hash path, ns_full_cache_miss). Median of
//                several repetitions, programs, frames and objects interleaved.
//   bpf_stats  — kernel.bpf_stats_enabled=1, each variant attached in turn (native XDP) on B's veth facing A in a
//                namespace pair, a burst of UDP datagrams from A, then run_time_ns / run_cnt of the program from
//                `bpftool prog show id N`. Real packets through the veth driver; the sysctl is restored afterwards.
// Headline keys: ns_empty, ns_counter, ns_quarantine, ns_full (prog run, IPv4, quarantine in use),
// ns_full_quarantine_idle, ns_full_filter_hit, ns_full_drop, ns_full_cache_miss, stats_ns_* (bpf_stats).
// Goal: ns_full ≤ 60. Needs root and bpftool; prints a skip line otherwise. Leaves no namespace, pin or program.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { NetnsLab, netnsUnavailable, sh } from '../test/support/netns.js';
import {
  PinnedXdpObject, UDP_SENDER, XDP_DROP, XDP_PASS, XDP_PROGRAMS, bpftoolUnavailable, ipv4Key, ipv6Key, programsStillLoaded, type XdpProgram,
} from '../test/integration/bpf/bpftool-object.js';
import { udp4Frame, udp6Frame } from '../test/integration/bpf/frames.js';
import { quarantineFilterBit } from '../host/driver/quarantine-filter.js';
import { peerCacheSlot } from '../host/driver/bpf-contract.js';
import type { BenchOptions } from './main.js';
import { fmt, median } from './stats.js';

const SHORT: Record<XdpProgram, string> = {
  x0t_xdp_empty: 'empty', x0t_xdp_count: 'counter', x0t_xdp_count_quarantine: 'quarantine', x0t_xdp: 'full',
};
const GOAL_FULL_NS = 60;
const STATS_SYSCTL = '/proc/sys/kernel/bpf_stats_enabled';

/** One measured case: a program of an object on a frame, with the verdict it must give. */
interface RunCase { readonly key: string; readonly obj: PinnedXdpObject; readonly prog: XdpProgram; readonly file: string; readonly retval: number }

async function progRunMedians(cases: readonly RunCase[], repeat: number, reps: number): Promise<Record<string, number>> {
  const runs = new Map<string, number[]>();
  // Interleave all cases within each repetition so drift (frequency, neighbours) hits all alike.
  for (let r = 0; r < reps; r++) {
    for (const c of cases) {
      const { retval, durationNs } = await c.obj.testRun(c.prog, c.file, repeat);
      if (retval !== c.retval) throw new Error(`${c.key}: ${c.prog} returned ${retval}, expected ${c.retval}`);
      runs.set(c.key, [...(runs.get(c.key) ?? []), durationNs]);
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
  const idle = await PinnedXdpObject.load('bench-idle');
  const lab = new NetnsLab('bbpf');
  const previousStats = readFileSync(STATS_SYSCTL, 'utf8').trim();
  const result: Record<string, unknown> = {};
  try {
    // (a) prog run on a known peer.
    const files = {
      v4: join(tmp, 'udp4.bin'), v6: join(tmp, 'udp6.bin'), drop: join(tmp, 'drop4.bin'), hit: join(tmp, 'hit4.bin'), miss: '',
    };
    const hitSource = '10.89.0.9';
    writeFileSync(files.v4, udp4Frame('10.89.0.1', '10.89.0.2', payload));
    writeFileSync(files.v6, udp6Frame('fd00:89::1', 'fd00:89::2', payload - 20));
    writeFileSync(files.drop, udp4Frame('10.89.0.66', '10.89.0.2', payload));
    writeFileSync(files.hit, udp4Frame(hitSource, '10.89.0.2', payload));
    // A known peer whose peer_cache slot is owned by another address (the main IPv4 source): its packets take the
    // hash path on every CPU (ns_full_cache_miss).
    const mainSlot = peerCacheSlot(ipv4Key('10.89.0.1'));
    let missSource = '';
    for (let i = 2; i < 65536 && missSource === ''; i++) {
      const c = `10.89.${i >> 8}.${i & 0xff}`;
      if (c !== hitSource && peerCacheSlot(ipv4Key(c)) === mainSlot) missSource = c;
    }
    files.miss = join(tmp, 'miss4.bin');
    writeFileSync(files.miss, udp4Frame(missSource, '10.89.0.2', payload));
    // The sources become known peers and, on every CPU (prog run runs on whichever CPU bpftool is on), own their
    // peer_cache slots: the first packet inserts the peer, the next one (known, slot empty) claims the slot. The
    // main source goes first, so the miss source finds that slot taken.
    const onlineCpus = cpus().length;
    for (const o of [obj, idle]) {
      for (let cpu = 0; cpu < onlineCpus; cpu++) {
        for (const f of [files.v4, files.v6, files.hit, files.miss]) await o.testRun('x0t_xdp', f, 2, cpu);
      }
    }
    for (const [key, owner] of [[ipv4Key('10.89.0.1'), true], [ipv6Key('fd00:89::1'), true], [ipv4Key(missSource), false]] as const) {
      const slots = (await obj.cacheSlot(key)).slice(0, onlineCpus);
      if (!slots.every((sl) => (sl.family !== 0 && sl.addr.equals(key)) === owner)) throw new Error(`peer_cache slot of ${key.toString('hex')} is not as the benchmark needs`);
    }
    // The quarantine in use on `obj`: a few other addresses, entries and filter bits as user space sets them.
    const quarantined = [ipv4Key('10.89.0.66'), ipv4Key('10.89.0.67'), ipv4Key('10.89.0.68'), ipv6Key('fd00:89::66'), ipv6Key('fd00:89::67')];
    for (const k of quarantined) await obj.quarantine(k);
    const bits = new Set(quarantined.map((k) => quarantineFilterBit(k)));
    for (const k of [ipv4Key('10.89.0.1'), ipv6Key('fd00:89::1'), ipv4Key(missSource)]) {
      if (bits.has(quarantineFilterBit(k))) throw new Error('a benchmark source shares a filter bit with a quarantined address');
    }
    // A stale bit: the passing source's bit set without an entry (what a shared bucket costs).
    await obj.setQuarantineFilter([...quarantined, ipv4Key(hitSource)]);
    const cases: RunCase[] = [];
    for (const [frame, file] of [['v4', files.v4], ['v6', files.v6]] as const) {
      for (const prog of XDP_PROGRAMS) cases.push({ key: `${frame}:${prog}`, obj, prog, file, retval: XDP_PASS });
      cases.push({ key: `${frame}:idle:x0t_xdp`, obj: idle, prog: 'x0t_xdp', file, retval: XDP_PASS });
      cases.push({ key: `${frame}:idle:x0t_xdp_count_quarantine`, obj: idle, prog: 'x0t_xdp_count_quarantine', file, retval: XDP_PASS });
    }
    cases.push({ key: 'hit', obj, prog: 'x0t_xdp', file: files.hit, retval: XDP_PASS });
    cases.push({ key: 'drop', obj, prog: 'x0t_xdp', file: files.drop, retval: XDP_DROP });
    cases.push({ key: 'miss', obj, prog: 'x0t_xdp', file: files.miss, retval: XDP_PASS });
    const m = await progRunMedians(cases, repeat, reps);
    log(`driver: bpftool prog run, ns per packet (mean of ${repeat} runs, median of ${reps}); 92-byte UDP frame from a known peer;`);
    log(`  quarantine in use (${quarantined.length} other addresses quarantined) unless "idle" (quarantine empty)`);
    log(`  ${'program'.padEnd(32)} ${'IPv4'.padStart(6)} ${'IPv6'.padStart(6)}`);
    for (const p of XDP_PROGRAMS) {
      const v4 = m[`v4:${p}`]!;
      const v6 = m[`v6:${p}`]!;
      log(`  ${p.padEnd(32)} ${fmt(v4, 0).padStart(6)} ${fmt(v6, 0).padStart(6)}`);
      result[`ns_${SHORT[p]}`] = v4;
      result[`ns_${SHORT[p]}_v6`] = v6;
    }
    const idleKeys = { x0t_xdp_count_quarantine: 'ns_quarantine_idle', x0t_xdp: 'ns_full_quarantine_idle' } as const;
    for (const [p, key] of Object.entries(idleKeys)) {
      const v4 = m[`v4:idle:${p}`]!;
      const v6 = m[`v6:idle:${p}`]!;
      log(`  ${`${p} (idle)`.padEnd(32)} ${fmt(v4, 0).padStart(6)} ${fmt(v6, 0).padStart(6)}`);
      result[key] = v4;
      result[`${key}_v6`] = v6;
    }
    result['ns_full_filter_hit'] = m['hit'];
    result['ns_full_drop'] = m['drop'];
    result['ns_full_cache_miss'] = m['miss'];
    log(`  x0t_xdp, known peer whose filter bit is set without an entry (quarantine hash looked up, miss): ${fmt(m['hit']!, 0)}`);
    log(`  x0t_xdp, known peer whose peer_cache slot another address owns (hash path): ${fmt(m['miss']!, 0)}`);
    log(`  x0t_xdp, quarantined source (XDP_DROP + drop event; events suppressed after the first 1000/s): ${fmt(m['drop']!, 0)}`);
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
    const ids = [...obj.ids, ...idle.ids];
    await obj.close();
    await idle.close();
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
