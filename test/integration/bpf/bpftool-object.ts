// The XDP object loaded, attached and inspected with bpftool and iproute2 only, so the kernel program can be tested
// (and benchmarked) without the TypeScript driver. Programs and maps are pinned under one folder of /sys/fs/bpf
// named after the caller and the process id; attaching goes by program id because `ip netns exec` remounts /sys and
// hides the pins inside a namespace. close() detaches what was attached and removes the pins, which frees the
// programs and maps.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sh } from '../../support/netns.js';
import { quarantineFilter } from '../../../host/driver/quarantine-filter.js';
import { peerCacheSlot } from '../../../host/driver/bpf-contract.js';
import { encodeAddress } from '../../../host/driver/ip-address.js';

/** bpf/x0t_xdp.o in the repository (this file runs from dist/test/integration/bpf). */
export const XDP_OBJECT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'bpf', 'x0t_xdp.o');

/** The datagram sender (udp-sender.ts) that tests and the benchmark run inside a namespace. */
export const UDP_SENDER = fileURLToPath(new URL('./udp-sender.js', import.meta.url));

export const XDP_PROGRAMS = ['x0t_xdp_empty', 'x0t_xdp_count', 'x0t_xdp_count_quarantine', 'x0t_xdp'] as const;
export type XdpProgram = (typeof XDP_PROGRAMS)[number];

export const XDP_PASS = 2;
export const XDP_DROP = 1;

const BPFTOOL = ['/usr/sbin/bpftool', '/sbin/bpftool', '/usr/bin/bpftool'].find((p) => existsSync(p));

/** Why the object cannot be loaded here, or null when it can. */
export function bpftoolUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'loading XDP programs needs root';
  if (BPFTOOL === undefined) return 'bpftool is not installed';
  if (!existsSync(XDP_OBJECT)) return `${XDP_OBJECT} is missing (npm run build:bpf)`;
  const mounts = readFileSync('/proc/mounts', 'utf8');
  if (!mounts.split('\n').some((l) => l.split(' ')[1] === '/sys/fs/bpf' && l.split(' ')[2] === 'bpf')) return 'bpffs is not mounted at /sys/fs/bpf';
  return null;
}

function bpftool(args: readonly string[], ns?: string): Promise<string> {
  const argv = [BPFTOOL ?? 'bpftool', ...args];
  return sh(ns === undefined ? argv : ['ip', 'netns', 'exec', ns, ...argv]);
}

function bytesOf(hex: readonly string[]): Buffer {
  return Buffer.from(hex.map((h) => Number.parseInt(h, 16)));
}

/** One map entry as raw bytes; per-CPU maps give one value per possible CPU. */
export interface MapEntry { readonly key: Buffer; readonly values: readonly Buffer[] }

/** One CPU's copy of a peer_cache slot (struct x0t_peer_slot); addr is 4 bytes for family 4, else 16. */
export interface PeerSlot { readonly family: number; readonly addr: Buffer; readonly packets: bigint; readonly bytes: bigint }

/** Little-endian u64 fields of a value (all of the contract's counters are u64). */
export function u64s(value: Buffer): bigint[] {
  const out: bigint[] = [];
  for (let o = 0; o + 8 <= value.length; o += 8) out.push(value.readBigUInt64LE(o));
  return out;
}

/** Sums u64 fields over the per-CPU values of an entry. */
export function sumPerCpu(entry: MapEntry | undefined): bigint[] {
  if (entry === undefined || entry.values.length === 0) return [];
  const sums = u64s(entry.values[0]!).map(() => 0n);
  for (const v of entry.values) u64s(v).forEach((x, i) => { sums[i]! += x; });
  return sums;
}

/** Key bytes of an address in network order, as the maps store it: the driver's own codec, family checked. */
function keyOf(addr: string, family: 4 | 6): Buffer {
  const key = encodeAddress(addr);
  if (key.family !== family) throw new Error(`${addr} is not an IPv${family} address`);
  return Buffer.from(key.bytes);
}

export const ipv4Key = (addr: string): Buffer => keyOf(addr, 4);
export const ipv6Key = (addr: string): Buffer => keyOf(addr, 6);

function byteArgs(b: Buffer): string[] {
  return [...b].map((x) => String(x));
}

export class PinnedXdpObject {
  readonly dir: string;
  readonly #ids = new Map<XdpProgram, number>();
  readonly #attached: { ns: string; dev: string }[] = [];

  private constructor(dir: string) {
    this.dir = dir;
  }

  /** Loads every program of the object (maps shared) and pins them under /sys/fs/bpf/x0t_<tag>_<pid>. */
  static async load(tag: string): Promise<PinnedXdpObject> {
    const dir = `/sys/fs/bpf/x0t_${tag}_${process.pid}`;
    rmSync(dir, { recursive: true, force: true }); // left over from a killed run with the same pid
    await bpftool(['prog', 'loadall', XDP_OBJECT, dir, 'type', 'xdp', 'pinmaps', join(dir, 'maps')]);
    const obj = new PinnedXdpObject(dir);
    for (const p of XDP_PROGRAMS) {
      const info = JSON.parse(await bpftool(['--json', 'prog', 'show', 'pinned', join(dir, p)])) as { id: number };
      obj.#ids.set(p, info.id);
    }
    return obj;
  }

  id(prog: XdpProgram): number {
    const id = this.#ids.get(prog);
    if (id === undefined) throw new Error(`program ${prog} not loaded`);
    return id;
  }

  get ids(): readonly number[] {
    return [...this.#ids.values()];
  }

  /** Attaches a program to a device inside a namespace; `generic` forces skb mode. */
  async attach(ns: string, dev: string, prog: XdpProgram, generic = false): Promise<void> {
    await bpftool(['net', 'attach', generic ? 'xdpgeneric' : 'xdp', 'id', String(this.id(prog)), 'dev', dev, 'overwrite'], ns);
    if (!this.#attached.some((a) => a.ns === ns && a.dev === dev)) this.#attached.push({ ns, dev });
  }

  async detach(ns: string, dev: string): Promise<void> {
    // Detach both modes: only the one in use has a program; the other detach is a no-op.
    await bpftool(['net', 'detach', 'xdp', 'dev', dev], ns).catch(() => undefined);
    await bpftool(['net', 'detach', 'xdpgeneric', 'dev', dev], ns).catch(() => undefined);
    const i = this.#attached.findIndex((a) => a.ns === ns && a.dev === dev);
    if (i >= 0) this.#attached.splice(i, 1);
  }

  async dump(map: string): Promise<MapEntry[]> {
    const rows = JSON.parse(await bpftool(['--json', 'map', 'dump', 'pinned', join(this.dir, 'maps', map)])) as {
      key: string[]; value?: string[]; values?: { cpu: number; value: string[] }[];
    }[];
    return rows.map((r) => ({
      key: bytesOf(r.key),
      values: r.values !== undefined ? r.values.map((v) => bytesOf(v.value)) : r.value !== undefined ? [bytesOf(r.value)] : [],
    }));
  }

  async lookup(map: string, key: Buffer): Promise<MapEntry | undefined> {
    return (await this.dump(map)).find((e) => e.key.equals(key));
  }

  async update(map: string, key: Buffer, value: Buffer): Promise<void> {
    await bpftool(['map', 'update', 'pinned', join(this.dir, 'maps', map), 'key', ...byteArgs(key), 'value', ...byteArgs(value)]);
  }

  /** Many updates of one map in one `bpftool batch` (per-CPU maps: the value goes to every CPU). */
  async updateMany(map: string, entries: Iterable<{ key: Buffer; value: Buffer }>): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'x0t-bpftool-batch-'));
    try {
      const lines = [...entries].map((e) => ['map', 'update', 'pinned', join(this.dir, 'maps', map), 'key', ...byteArgs(e.key), 'value', ...byteArgs(e.value)].join(' '));
      writeFileSync(join(dir, 'batch'), `${lines.join('\n')}\n`);
      await bpftool(['batch', 'file', join(dir, 'batch')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async delete(map: string, key: Buffer): Promise<void> {
    await bpftool(['map', 'delete', 'pinned', join(this.dir, 'maps', map), 'key', ...byteArgs(key)]);
  }

  /** One CPU's copy of the peer_cache slot a source key (4 or 16 bytes) maps to, per possible CPU (index = CPU). */
  async cacheSlot(key: Buffer): Promise<PeerSlot[]> {
    const index = Buffer.alloc(4);
    index.writeUInt32LE(peerCacheSlot(key), 0);
    const entry = await this.lookupOne('peer_cache', index);
    return (entry?.values ?? []).map((v) => ({
      family: v[0]!, addr: v.subarray(8, v[0] === 4 ? 12 : 24), packets: v.readBigUInt64LE(24), bytes: v.readBigUInt64LE(32),
    }));
  }

  /**
   * A source's totals as the contract defines them (bpf/README.md): its peers_v4/v6 value plus every CPU's
   * peer_cache slot holding its address, summed over CPUs. [0n, 0n] when it is in neither.
   */
  async peerTotals(key: Buffer): Promise<[bigint, bigint]> {
    let [p = 0n, b = 0n] = sumPerCpu(await this.lookupOne(key.length === 4 ? 'peers_v4' : 'peers_v6', key));
    for (const s of await this.cacheSlot(key)) {
      if (s.family === (key.length === 4 ? 4 : 6) && s.addr.equals(key)) {
        p += s.packets;
        b += s.bytes;
      }
    }
    return [p, b];
  }

  /** One entry by key (`bpftool map lookup`), undefined when absent. */
  async lookupOne(map: string, key: Buffer): Promise<MapEntry | undefined> {
    let out: string;
    try {
      out = await bpftool(['--json', 'map', 'lookup', 'pinned', join(this.dir, 'maps', map), 'key', ...byteArgs(key)]);
    } catch {
      return undefined; // bpftool fails on a missing key
    }
    const r = JSON.parse(out) as { key: string[]; value?: string[]; values?: { cpu: number; value: string[] }[] };
    return {
      key: bytesOf(r.key),
      values: r.values !== undefined ? r.values.map((v) => bytesOf(v.value)) : r.value !== undefined ? [bytesOf(r.value)] : [],
    };
  }

  /** Sets `config.events_per_sec` (0 = the built-in default). */
  async setEventsPerSec(limit: number): Promise<void> {
    const v = Buffer.alloc(8);
    v.writeUInt32LE(limit, 0);
    await this.update('config', Buffer.alloc(4), v);
  }

  /** `stats` summed over CPUs (struct x0t_stats: 6 u64, peers_full last). */
  async stats(): Promise<{ eventsSent: bigint; eventsSuppressed: bigint; ringbufFull: bigint; peersFull: bigint }> {
    const [sent = 0n, suppressed = 0n, full = 0n, , , peersFull = 0n] = sumPerCpu(await this.lookup('stats', Buffer.alloc(4)));
    return { eventsSent: sent, eventsSuppressed: suppressed, ringbufFull: full, peersFull };
  }

  /** Writes `quarantine_filter` with exactly the bits of `keys` (4- or 16-byte source keys). */
  async setQuarantineFilter(keys: Iterable<Buffer>): Promise<void> {
    await this.update('quarantine_filter', Buffer.alloc(4), Buffer.from(quarantineFilter(keys)));
  }

  /** Every key of quarantine_v4 and quarantine_v6. */
  async quarantinedKeys(): Promise<Buffer[]> {
    return [...(await this.dump('quarantine_v4')), ...(await this.dump('quarantine_v6'))].map((e) => e.key);
  }

  /**
   * Quarantines a source the way user space must (bpf/README.md): its filter bit first, then the entry
   * `{drops: 0}` in quarantine_v4 (4-byte key) or quarantine_v6 (16-byte key).
   */
  async quarantine(key: Buffer): Promise<void> {
    await this.setQuarantineFilter([...(await this.quarantinedKeys()), key]);
    await this.update(key.length === 4 ? 'quarantine_v4' : 'quarantine_v6', key, Buffer.alloc(8));
  }

  /** Releases a source: deletes the entry, then rewrites the filter from the entries left. */
  async release(key: Buffer): Promise<void> {
    await this.delete(key.length === 4 ? 'quarantine_v4' : 'quarantine_v6', key);
    await this.setQuarantineFilter(await this.quarantinedKeys());
  }

  /** Runs a program once per repetition on `packetFile` with BPF_PROG_TEST_RUN; average ns per run and the verdict. */
  /** `cpu`: run pinned to that CPU (taskset; the test run stays on the CPU it starts on), so per-CPU state is known. */
  async testRun(prog: XdpProgram, packetFile: string, repeat: number, cpu?: number): Promise<{ retval: number; durationNs: number }> {
    const args = ['--json', 'prog', 'run', 'pinned', join(this.dir, prog), 'data_in', packetFile, 'repeat', String(repeat)];
    const text = cpu === undefined ? await bpftool(args) : await sh(['taskset', '-c', String(cpu), BPFTOOL ?? 'bpftool', ...args]);
    const out = JSON.parse(text) as { retval: number; duration: number };
    return { retval: out.retval, durationNs: out.duration };
  }

  /** Detaches everything this object attached and removes its pins (the kernel then frees programs and maps). */
  async close(): Promise<void> {
    for (const a of [...this.#attached]) await this.detach(a.ns, a.dev);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Program ids from `ids` still loaded in the kernel (freeing after the last reference goes is asynchronous). */
export async function programsStillLoaded(ids: readonly number[], waitMs = 2000): Promise<number[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const loaded = (JSON.parse(await bpftool(['--json', 'prog', 'show'])) as { id: number }[]).map((p) => p.id);
    const left = ids.filter((id) => loaded.includes(id));
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** XDP programs attached to any interface of a namespace, per `bpftool net` (empty when none). */
export async function xdpAttachedIn(ns: string): Promise<{ devname: string; id: number }[]> {
  const out = JSON.parse(await bpftool(['--json', 'net', 'show'], ns)) as { xdp?: { devname: string; id: number }[] }[];
  return out.flatMap((o) => o.xdp ?? []);
}
