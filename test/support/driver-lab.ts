// What the driver's integration tests share: a private bpffs for the pins (mounted by the test in the host's mount
// namespace, so children started with `ip netns exec` — each in a mount namespace of its own — all see the same
// one and pins outlive a killed child, as they would outlive a crashed node), static neighbours so no ARP/ND adds
// packets from the tested addresses, and senders of exact packet counts from a lab namespace.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before } from 'node:test';
import { NetnsLab, sh, type VethLink } from './netns.js';

const execFileP = promisify(execFile);
/** The bpf tests' exact-count UDP sender (test/integration/bpf/udp-sender.ts). */
const UDP_SENDER = 'dist/test/integration/bpf/udp-sender.js';

export const ETH = 14;
export const IPV4 = 20;
export const IPV6 = 40;
/** UDP header and ICMP/ICMPv6 echo header alike. */
export const L4 = 8;
/** `ping`'s default payload. */
export const PING_PAYLOAD = 56;

const IPROUTE2_DIRS = ['ip', 'tc', 'xdp'];

/** A fresh bpffs mounted on a temporary directory; `entries` is what an empty one lists (the kernel's preload files). */
export class TestBpffs {
  readonly path: string;
  readonly entries: readonly string[];

  private constructor(path: string, entries: readonly string[]) {
    this.path = path;
    this.entries = entries;
  }

  static async mount(): Promise<TestBpffs> {
    const path = mkdtempSync(join(tmpdir(), 'x0t-drv-bpffs-'));
    await sh(['mount', '-t', 'bpf', 'x0t-test-bpffs', path]);
    return new TestBpffs(path, readdirSync(path).sort());
  }

  /**
   * What is in it besides the preload entries (pin directories left behind). iproute2's `ip link set … xdp obj`,
   * run in a namespace whose /sys/fs/bpf is not a bpffs, takes the first bpffs in /proc/mounts — possibly this one,
   * also when another test on the machine runs it — and creates its directories `ip`, `tc`, `xdp`: not ours.
   */
  leftovers(): string[] {
    return readdirSync(this.path).filter((e) => !this.entries.includes(e) && !IPROUTE2_DIRS.includes(e)).sort();
  }

  async unmount(): Promise<void> {
    await sh(['umount', this.path]).catch(() => undefined);
    try {
      rmdirSync(this.path);
    } catch {
      /* still mounted: left for the next run's inspection rather than forced */
    }
  }
}

async function mac(lab: NetnsLab, ns: string, dev: string): Promise<string> {
  const [link] = JSON.parse(await lab.exec(ns, ['ip', '-j', 'link', 'show', 'dev', dev])) as { address: string }[];
  return link!.address;
}

/** Permanent neighbour entries on both ends of a link (short namespace names `a`, `b` of the link's sides). */
export async function staticNeighbours(lab: NetnsLab, link: VethLink, a: string, b: string): Promise<void> {
  const macA = await mac(lab, a, link.a.dev);
  const macB = await mac(lab, b, link.b.dev);
  for (const [ns, dev, addr, lladdr] of [
    [a, link.a.dev, link.b.ipv4, macB], [a, link.a.dev, link.b.ipv6, macB],
    [b, link.b.dev, link.a.ipv4, macA], [b, link.b.dev, link.a.ipv6, macA],
  ] as const) {
    await lab.exec(ns, ['ip', 'neigh', 'replace', addr, 'lladdr', lladdr, 'dev', dev, 'nud', 'permanent']);
  }
}

/** Sends exactly `count` echo requests from namespace `ns`; returns how many replies came back. */
export async function ping(lab: NetnsLab, ns: string, to: string, count: number): Promise<number> {
  const argv = ['ip', 'netns', 'exec', lab.ns(ns), 'ping', ...(to.includes(':') ? ['-6'] : []), '-q', '-c', String(count), '-i', '0.01', '-W', '1', to];
  let stdout: string;
  try {
    stdout = (await execFileP(argv[0]!, argv.slice(1), { timeout: 30_000 })).stdout;
  } catch (e) {
    stdout = (e as { stdout?: string }).stdout ?? ''; // ping exits 1 when replies are missing (quarantined)
  }
  const m = /(\d+) packets transmitted, (\d+) received/.exec(stdout);
  assert.ok(m, `ping summary missing: ${stdout}`);
  assert.equal(Number(m[1]), count, 'ping transmitted the requested count');
  return Number(m[2]);
}

/** Sends exactly `count` UDP datagrams of `size` payload bytes from namespace `ns` to `to`. */
export async function sendUdp(lab: NetnsLab, ns: string, to: string, count: number, size: number): Promise<void> {
  const out = await lab.exec(ns, [process.execPath, UDP_SENDER, '--to', to, '--count', String(count), '--size', String(size)]);
  assert.equal((JSON.parse(out) as { sent: number }).sent, count);
}

/** The frame length XDP counts for one UDP datagram with `payload` bytes. */
export function udpFrameBytes(family: 4 | 6, payload: number): number {
  return ETH + (family === 4 ? IPV4 : IPV6) + L4 + payload;
}

/** Whether an interface in a lab namespace has any XDP program attached (`ip -j link show`). */
export async function xdpAttached(lab: NetnsLab, ns: string, dev: string): Promise<boolean> {
  const [link] = JSON.parse(await lab.exec(ns, ['ip', '-j', 'link', 'show', 'dev', dev])) as { xdp?: unknown }[];
  return link!.xdp !== undefined;
}

/** Whether the kernel still has a program with this id (`bpftool prog show id N`). */
export async function programLoaded(id: number): Promise<boolean> {
  try {
    await sh(['bpftool', 'prog', 'show', 'id', String(id)]);
    return true;
  } catch {
    return false;
  }
}

/** A driver test's topology: namespaces a – b – c, the a–b link (the driver attaches on b facing a), and the bpffs. */
export interface DriverTriangle {
  readonly lab: NetnsLab;
  readonly ab: VethLink;
  readonly bpffs: TestBpffs;
}

/**
 * Registers the suite's before/after hooks for an A – B – C lab on subnets `subnet` (a–b) and `subnet + 1` (b–c),
 * with static neighbours on a–b and a private bpffs; teardown checks the namespaces are gone. The returned object's
 * fields are set once `before` has run.
 */
export function useDriverTriangle(tag: string, subnet: number): DriverTriangle {
  const t = { lab: new NetnsLab(tag) } as { lab: NetnsLab; ab: VethLink; bpffs: TestBpffs };
  before(async () => {
    for (const ns of ['a', 'b', 'c']) await t.lab.addNamespace(ns);
    t.ab = await t.lab.link('a', 'b', subnet);
    await t.lab.link('b', 'c', subnet + 1);
    await staticNeighbours(t.lab, t.ab, 'a', 'b');
    t.bpffs = await TestBpffs.mount();
  });
  after(async () => {
    await t.lab.close();
    await t.bpffs?.unmount();
    for (const ns of ['a', 'b', 'c']) assert.ok(!existsSync(`/run/netns/${t.lab.ns(ns)}`), `namespace ${ns} is gone`);
  });
  return t;
}
