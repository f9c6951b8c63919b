// Route convergence on the mesh lab, the same procedure for any routing under test (babeld, our nodes): with data
// flowing S → R every 10 ms over the primary path S–A–R, fail the first hop S–A (a pulled cable, or silently), and
// measure the time from the fault to the first reply to a request sent after it — data flows again, necessarily over
// the backup S–B–C–R. Then restore the link and wait for the primary to come back before the next run.
// Also: control traffic per node in steady state, from nftables counters on each node's outgoing routing datagrams.
import { sh } from '../test/support/netns.js';
import { IcmpProbe, convergenceMs, type BabeldMesh, type EchoSample } from '../test/support/babeld.js';
import { MESH_NODES, type MeshLab, type MeshLinkName } from '../test/support/mesh-lab.js';

export type Fault = 'carrier' | 'silent';

/** A probe flow already running: `finish` returns its samples once data flows after the fault (or at the cap). */
export interface ProbeFlow {
  finish(faultAtMs: number, capMs: number): Promise<readonly EchoSample[]>;
}

/** What the procedure needs from a routing system running on the lab. */
export interface RoutingUnderTest {
  readonly name: string;
  /** Starts a flow S → R of one request every `intervalMs`, long enough to last `durationMs`. */
  startFlow(intervalMs: number, durationMs: number): Promise<ProbeFlow>;
  /** Which first hop S uses towards R now: 'primary' (A), 'backup' (B) or null (no route). */
  firstHop(): Promise<'primary' | 'backup' | null>;
  /** Called after a failed link was restored (babeld: re-check interfaces at once instead of within 30 s). */
  linkRestored?(link: MeshLinkName): Promise<void>;
}

export interface ConvergenceRun {
  readonly fault: Fault;
  /** ms from the fault to data flowing again; null when it did not within the cap. */
  readonly convergenceMs: number | null;
  /** Replies to requests sent before the fault (the flow worked over the primary). */
  readonly repliesBefore: number;
  /** S's first hop towards R once data flows again (must be the backup). */
  readonly hopAfter: 'primary' | 'backup' | null;
  /** ms from restoring S–A until S routed over the primary again (100 ms polling); null when not awaited or not
   *  back within the timeout (then the lab is not in its initial state: further runs would not measure the same). */
  readonly recoverMs: number | null;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `firstHop` until it is `want`; returns false after `timeoutMs`. */
export async function waitFirstHop(r: RoutingUnderTest, want: 'primary' | 'backup', timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await r.firstHop()) === want) return true;
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
}

/**
 * One measurement: the flow runs `warmupMs` over the primary, the S–A link fails, the flow continues until a reply
 * arrives or `capMs` after the fault; then S–A is restored and, unless `awaitRecovery` is false, the time until S
 * routes over the primary again is measured, up to `recoverTimeoutMs` (babeld's metric smoothing takes tens of
 * seconds to switch back).
 */
export async function measureConvergence(
  lab: MeshLab, r: RoutingUnderTest, fault: Fault,
  o: {
    readonly intervalMs?: number; readonly warmupMs?: number; readonly capMs: number;
    readonly awaitRecovery?: boolean; readonly recoverTimeoutMs?: number;
  },
): Promise<ConvergenceRun> {
  const intervalMs = o.intervalMs ?? 10;
  const warmupMs = o.warmupMs ?? 1000;
  if (!(await waitFirstHop(r, 'primary', 10_000))) throw new Error(`${r.name}: S does not route to R over the primary before the fault`);
  const flow = await r.startFlow(intervalMs, warmupMs + o.capMs + 500);
  await sleep(warmupMs);
  const faultAt = fault === 'carrier' ? await lab.cut('sa') : await lab.blackhole('sa');
  let samples: readonly EchoSample[];
  let hopAfter: 'primary' | 'backup' | null;
  let restoredAt: number;
  try {
    samples = await flow.finish(faultAt, o.capMs);
    hopAfter = await r.firstHop();
  } finally {
    restoredAt = await lab.restore('sa');
    await r.linkRestored?.('sa');
  }
  let recoverMs: number | null = null;
  if (o.awaitRecovery !== false && (await waitFirstHop(r, 'primary', o.recoverTimeoutMs ?? 60_000))) recoverMs = Date.now() - restoredAt;
  return {
    fault,
    convergenceMs: convergenceMs(samples, faultAt),
    repliesBefore: samples.filter((s) => s.rttMs !== null && s.sentAtMs + s.rttMs < faultAt).length,
    hopAfter,
    recoverMs,
  };
}

/**
 * Bytes per second per node of routing traffic leaving the nodes (IP datagrams to `udpPort`, headers included, as
 * nftables counts them), over `seconds` of steady state. Adds a counting table in each namespace and removes it.
 */
export async function controlBytesPerNode(lab: MeshLab, udpPort: number, seconds: number): Promise<number> {
  const table = 'x0tm_control';
  const add = async (n: (typeof MESH_NODES)[number]): Promise<void> => {
    await lab.exec(n, ['nft', 'add', 'table', 'inet', table]);
    await lab.exec(n, ['nft', 'add', 'chain', 'inet', table, 'out', '{ type filter hook output priority 0; policy accept; }']);
    await lab.exec(n, ['nft', 'add', 'rule', 'inet', table, 'out', 'udp', 'dport', String(udpPort), 'counter']);
  };
  const read = async (n: (typeof MESH_NODES)[number]): Promise<number> => {
    const j = JSON.parse(await lab.exec(n, ['nft', '-j', 'list', 'table', 'inet', table])) as { nftables: { rule?: { expr: { counter?: { bytes: number } }[] } }[] };
    let bytes = 0;
    for (const item of j.nftables) for (const e of item.rule?.expr ?? []) bytes += e.counter?.bytes ?? 0;
    return bytes;
  };
  try {
    for (const n of MESH_NODES) await add(n);
    const before = await Promise.all(MESH_NODES.map(read));
    const t0 = Date.now();
    await sleep(seconds * 1000);
    const after = await Promise.all(MESH_NODES.map(read));
    const elapsedS = (Date.now() - t0) / 1000;
    const total = after.reduce((s, b, i) => s + b - before[i]!, 0);
    return total / MESH_NODES.length / elapsedS;
  } finally {
    for (const n of MESH_NODES) await sh(['ip', 'netns', 'exec', lab.ns(n), 'nft', 'delete', 'table', 'inet', table]).catch(() => undefined);
  }
}

/** babeld on the lab as a routing under test: ICMP echo S → R's loopback; the first hop is the kernel route's device. */
export function babeldUnderTest(lab: MeshLab, babeld: BabeldMesh): RoutingUnderTest {
  const dst = lab.loopback('r');
  return {
    name: 'babeld',
    async startFlow(intervalMs) {
      const probe = new IcmpProbe(lab, 's', dst, { intervalMs });
      return {
        async finish(faultAtMs, capMs) {
          await probe.replyAfter(faultAtMs, Math.max(0, faultAtMs + capMs - Date.now()));
          await probe.stop();
          return probe.samples;
        },
      };
    },
    async firstHop() {
      const dev = await lab.routeDev('s', dst);
      if (dev === lab.link('sa').a.dev) return 'primary';
      if (dev === lab.link('sb').a.dev) return 'backup';
      return null;
    },
    linkRestored: (link) => babeld.linkRestored(link),
  };
}
