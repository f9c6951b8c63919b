// The user-space packet driver: what a node runs where the XDP program cannot (no BPF in the kernel, no permission,
// no libbpf, or no interface configured). It keeps the same per-peer counters and quarantine list as the kernel
// program, but only for the traffic the node's own transport hands it: the transport calls `record(address, bytes)`
// for every datagram it receives and drops the datagram when `record` answers false (the address is quarantined).
// Traffic to other processes on the machine is not seen at all, which is why the status says 'userspace' and why.
//
// Until the mesh transport exists (issue 7) nothing in the node calls `record`: the counters stay empty outside the
// tests that feed it. The quarantine list is real all the same (the admin API and CLI manage it).
//
// Events follow the kernel program's rules: 'new-peer' on the first accepted packet from an address not yet counted,
// 'drop' for each refused packet of a quarantined address; both share one rate limit of `eventsPerSecond` events per
// one-second window (the rest are counted as suppressed, not sent).
import { isIP, SocketAddress } from 'node:net';
import { UsageError } from '../errors/index.js';
import { compareAddressKeys, encodeAddress } from './ip-address.js';
import { PEER_TABLE_CAPACITY, type DriverEvent, type DriverStatus, type PacketDriver, type PeerCounters, type PeerFamily, type QuarantineEntry } from './packet-driver.js';

/** The kernel program's default event rate (its `config.events_per_sec` 0 means this). */
export const DEFAULT_EVENTS_PER_SECOND = 1000;
const WINDOW_NS = 1_000_000_000n;
const MAPPED_V4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/;

/** An address in the canonical text form every driver reports, with its family. */
export interface PeerAddress {
  readonly address: string;
  readonly family: PeerFamily;
}

/**
 * Normalises IPv4/IPv6 text the way the kernel sees the address: IPv6 compressed and lower-case (RFC 5952, via
 * node:net), a zone index (`%eth0`) dropped, an IPv4-mapped IPv6 address (`::ffff:10.0.0.2`, what a dual-stack
 * socket reports for an IPv4 sender) turned into the IPv4 address it carries. UsageError (`details.path` = `what`)
 * for anything that is not an IP address.
 */
export function normalizeAddress(text: string, what = 'address'): PeerAddress {
  const family = typeof text === 'string' ? isIP(text) : 0;
  if (family === 0) {
    throw new UsageError(`${what} must be an IPv4 or IPv6 address, got ${JSON.stringify(text)}`, { path: what, value: text });
  }
  if (family === 4) return { address: new SocketAddress({ address: text, family: 'ipv4' }).address, family: 4 };
  const canonical = new SocketAddress({ address: text, family: 'ipv6' }).address;
  const mapped = MAPPED_V4.exec(canonical);
  if (mapped) return { address: mapped[1]!, family: 4 };
  return { address: canonical, family: 6 };
}

export interface UserspaceDriverOptions {
  /** Why the node runs this driver rather than XDP; reported as the status reason (never null here). */
  readonly reason: string;
  /** Events per one-second window, as the kernel program's config (default 1000). */
  readonly eventsPerSecond?: number;
  /** Monotonic time in nanoseconds (default process.hrtime.bigint, the kernel's CLOCK_MONOTONIC). */
  readonly clock?: () => bigint;
}

interface Counters {
  readonly family: PeerFamily;
  packets: number;
  bytes: number;
}

/** IPv4 before IPv6, then numeric address order, as the XDP driver sorts. */
function compareAddress(a: PeerAddress, b: PeerAddress): number {
  return compareAddressKeys(encodeAddress(a.address), encodeAddress(b.address));
}

export class UserspaceDriver implements PacketDriver {
  readonly #reason: string;
  readonly #eventsPerSecond: number;
  readonly #clock: () => bigint;
  readonly #peers = new Map<string, Counters>();
  /** Quarantined address → packets refused since it was added. */
  readonly #quarantine = new Map<string, { readonly family: PeerFamily; drops: number }>();
  readonly #listeners = new Set<(event: DriverEvent) => void>();
  #windowStart: bigint | null = null;
  #windowCount = 0;
  #delivered = 0;
  #suppressed = 0;
  #closed = false;
  readonly #perFamily: Record<PeerFamily, number> = { 4: 0, 6: 0 };
  #peerTableFull = 0;

  constructor(opts: UserspaceDriverOptions) {
    const rate = opts.eventsPerSecond ?? DEFAULT_EVENTS_PER_SECOND;
    if (!Number.isSafeInteger(rate) || rate < 1) {
      throw new UsageError(`eventsPerSecond must be a positive integer, got ${rate}`, { path: 'eventsPerSecond', value: rate });
    }
    this.#reason = opts.reason;
    this.#eventsPerSecond = rate;
    this.#clock = opts.clock ?? process.hrtime.bigint;
  }

  /**
   * Counts one received packet of `bytes` bytes from `address`. Returns true when the transport may deliver it,
   * false when the address is quarantined (the packet is counted as a drop of that entry instead). `bytes` is what
   * the caller knows of the packet (for a UDP transport, the datagram); the XDP program counts whole Ethernet
   * frames, so byte counts of the two drivers differ by the headers.
   */
  record(address: string, bytes: number): boolean {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new UsageError(`bytes must be a non-negative integer, got ${bytes}`, { path: 'bytes', value: bytes });
    }
    const peer = normalizeAddress(address);
    const q = this.#quarantine.get(peer.address);
    if (q) {
      q.drops++;
      this.#emit('drop', peer);
      return false;
    }
    const c = this.#peers.get(peer.address);
    if (c) {
      c.packets++;
      c.bytes += bytes;
    } else if (this.#perFamily[peer.family] >= PEER_TABLE_CAPACITY) {
      // Bounded like the kernel's table, so spoofed sources cannot grow the node's memory without limit.
      this.#peerTableFull++;
    } else {
      this.#peers.set(peer.address, { family: peer.family, packets: 1, bytes });
      this.#perFamily[peer.family]++;
      this.#emit('new-peer', peer);
    }
    return true;
  }

  /** Whether the transport must refuse packets from `address` (any text form of it). */
  isQuarantined(address: string): boolean {
    return this.#quarantine.has(normalizeAddress(address).address);
  }

  status(): DriverStatus {
    return {
      mode: 'userspace',
      interface: null,
      ifindex: null,
      programId: null,
      pinDir: null,
      reason: this.#reason,
      eventsDelivered: this.#delivered,
      eventsSuppressed: this.#suppressed,
      objectSha256: null,
      peerTableFull: this.#peerTableFull,
    };
  }

  peers(): PeerCounters[] {
    return [...this.#peers]
      .map(([address, c]) => ({ address, family: c.family, packets: c.packets, bytes: c.bytes, quarantined: this.#quarantine.has(address) }))
      .sort(compareAddress);
  }

  quarantineAdd(address: string): void {
    const peer = normalizeAddress(address);
    if (!this.#quarantine.has(peer.address)) this.#quarantine.set(peer.address, { family: peer.family, drops: 0 });
  }

  quarantineDelete(address: string): boolean {
    return this.#quarantine.delete(normalizeAddress(address).address);
  }

  quarantineList(): QuarantineEntry[] {
    return [...this.#quarantine].map(([address, q]) => ({ address, family: q.family, drops: q.drops })).sort(compareAddress);
  }

  onEvent(listener: (event: DriverEvent) => void): () => void {
    if (this.#closed) return () => undefined;
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Drops every listener; counters and the quarantine list stay readable. Safe to call twice. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
  }

  /** Sends an event unless this window's budget is spent (then it is counted as suppressed), as the kernel does. */
  #emit(kind: DriverEvent['kind'], peer: PeerAddress): void {
    const now = this.#clock();
    if (this.#windowStart === null || now - this.#windowStart >= WINDOW_NS) {
      this.#windowStart = now;
      this.#windowCount = 0;
    }
    if (this.#windowCount >= this.#eventsPerSecond) {
      this.#suppressed++;
      return;
    }
    this.#windowCount++;
    this.#delivered++;
    const event: DriverEvent = { kind, address: peer.address, family: peer.family, ifindex: 0, atNs: now };
    for (const listener of [...this.#listeners]) listener(event);
  }
}
