// Peer discovery: beacons (who I am, where my transport listens) sent every interval to a list of static peers
// through the transport, and — on chosen interfaces — to a link-local multicast group (IPv4 224.0.0.0/24, IPv6
// ff02::/16) from sockets of its own. Beacons are unauthenticated hints: a sighting makes the node start a session
// handshake, which is where identity is checked. Sightings are kept per (fingerprint, endpoint), so a peer
// reachable over several links or both address families is reported once per path; `onPeer` fires when a path is
// first seen or the peer's boot id on it changes (it restarted). Own beacons, and those of other trust domains,
// are ignored.
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';
import { CodecError, IoError, type X0tError } from '../../errors/index.js';
import type { Beacon } from '../wire/beacon.js';
import { decodeFrame, encodeFrame } from '../wire/frame.js';
import { isLinkLocalV6, isUnspecified, parseIp } from '../wire/ip-address.js';
import { endpointFamily, endpointKey, formatUdpEndpoint, normalizeEndpoint, type UdpEndpoint } from './udp-endpoint.js';
import type { UdpTransport } from './udp-transport.js';

export interface PeerSighting {
  readonly fingerprint: string;
  /** Where to reach the peer's transport over this path. */
  readonly endpoint: UdpEndpoint;
  readonly beacon: Beacon;
}

export interface PeerRecord extends PeerSighting {
  readonly via: 'static' | 'multicast';
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;
}

export interface MulticastOptions {
  /** Interface names (`eth0`, `lo`); one socket per interface and family. */
  readonly interfaces: readonly string[];
  /** Default [4, 6]; a family the interface lacks is skipped (see `multicastStatus`). */
  readonly families?: readonly (4 | 6)[];
  readonly port?: number;
  readonly ipv4Group?: string;
  readonly ipv6Group?: string;
}

export interface DiscoveryOptions {
  /** Static-peer beacons go out through it; its bound endpoints are what beacons advertise. */
  readonly transport: UdpTransport;
  readonly fingerprint: string;
  readonly trustDomain: string;
  /** Bitset of SUITE_BITS. */
  readonly suites: number;
  /** Default: random per start. */
  readonly bootId?: number;
  /** IP endpoints, or host names (`{address: 'node-b.lan', port}`) resolved again at every beacon. */
  readonly staticPeers?: readonly UdpEndpoint[];
  /** Default 1000 ms. */
  readonly intervalMs?: number;
  /** A path not heard from for this long is forgotten (reported again when it returns); default 10 intervals. */
  readonly expireAfterMs?: number;
  readonly multicast?: MulticastOptions;
  onPeer(p: PeerSighting): void;
  onPeerLost?(p: PeerSighting): void;
  /** Multicast socket failures (join, send); static-peer send errors surface through the transport. */
  onError?(e: X0tError): void;
  readonly now?: () => number;
}

export const DEFAULT_DISCOVERY_PORT = 7117;
/** Unassigned addresses in the link-local blocks (IANA: 224.0.0.0/24, ff02::/16), overridable. */
export const DEFAULT_IPV4_GROUP = '224.0.0.117';
export const DEFAULT_IPV6_GROUP = 'ff02::7117';

export interface MulticastSocketStatus {
  readonly interface: string;
  readonly family: 4 | 6;
  /** null when joined; otherwise why not (no address of that family, join refused, …). */
  readonly error: string | null;
}

interface MulticastSocket {
  readonly socket: Socket;
  readonly group: string;
  readonly iface: string;
  readonly family: 4 | 6;
}

export interface DiscoveryCounters {
  beaconsSent: number;
  beaconsReceived: number;
  ignoredOwn: number;
  ignoredForeignDomain: number;
  /** Multicast datagrams that were not beacon frames. */
  undecodable: number;
}

function errText(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.message : String(e);
}

export class Discovery {
  readonly bootId: number;
  private readonly statics = new Map<string, UdpEndpoint>();
  /** Static peers given by host name: looked up before each beacon (addresses may change). */
  private readonly named = new Map<string, UdpEndpoint>();
  private readonly sightings = new Map<string, PeerRecord>();
  private readonly mcast: MulticastSocket[] = [];
  private readonly mcastStatus: MulticastSocketStatus[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly expireAfterMs: number;
  private readonly port: number;
  private closed = false;
  readonly counters: DiscoveryCounters = { beaconsSent: 0, beaconsReceived: 0, ignoredOwn: 0, ignoredForeignDomain: 0, undecodable: 0 };

  private constructor(private readonly o: DiscoveryOptions) {
    this.bootId = o.bootId ?? Math.floor(Math.random() * 0x100000000);
    this.now = o.now ?? Date.now;
    this.intervalMs = o.intervalMs ?? 1000;
    this.expireAfterMs = o.expireAfterMs ?? 10 * this.intervalMs;
    this.port = o.multicast?.port ?? DEFAULT_DISCOVERY_PORT;
    for (const p of o.staticPeers ?? []) this.addStaticPeer(p);
    this.timer = setInterval(() => this.announce(), this.intervalMs);
    this.timer.unref();
  }

  /** Opens the multicast sockets (failures per interface are recorded, not thrown) and sends the first beacons. */
  static async start(o: DiscoveryOptions): Promise<Discovery> {
    if (!/^[0-9a-f]{32}$/.test(o.fingerprint)) throw new IoError('discovery: fingerprint must be 32 lower-case hex characters', { code: 'EINVAL', field: 'fingerprint' });
    const d = new Discovery(o);
    if (o.multicast) await d.openMulticast(o.multicast);
    d.announce();
    return d;
  }

  /** This node's beacon as sent now. */
  beacon(): Beacon {
    return {
      fingerprint: this.o.fingerprint,
      bootId: this.bootId,
      suites: this.o.suites,
      trustDomain: this.o.trustDomain,
      endpoints: this.o.transport.endpoints.slice(0, 255),
    };
  }

  /** An IP endpoint, or a host name and port (resolved at each beacon). Throws CodecError for a bad port or name. */
  addStaticPeer(e: UdpEndpoint): void {
    let n: UdpEndpoint;
    try {
      n = normalizeEndpoint(e);
    } catch (err) {
      if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(e.address) || !Number.isInteger(e.port) || e.port < 1 || e.port > 0xffff) throw err;
      this.named.set(`${e.address.toLowerCase()}:${e.port}`, { address: e.address.toLowerCase(), port: e.port });
      return;
    }
    this.statics.set(endpointKey(n), n);
  }

  removeStaticPeer(e: UdpEndpoint): void {
    this.statics.delete(endpointKey(e));
    this.named.delete(`${e.address.toLowerCase()}:${e.port}`);
  }

  /** Beacon frames the transport received: the node's onFrame hands them here. */
  handleBeacon(beacon: Beacon, from: UdpEndpoint): void {
    this.observe(beacon, from, 'static');
  }

  /** Sends beacons now (the timer does this every interval) and forgets paths not heard from in a while. */
  announce(): void {
    if (this.closed) return;
    const now = this.now();
    for (const [k, p] of this.sightings) {
      if (now - p.lastSeenMs <= this.expireAfterMs) continue;
      this.sightings.delete(k);
      this.o.onPeerLost?.({ fingerprint: p.fingerprint, endpoint: p.endpoint, beacon: p.beacon });
    }
    const frame = { kind: 'beacon' as const, beacon: this.beacon() };
    for (const to of this.statics.values()) {
      this.o.transport.send(to, frame);
      this.counters.beaconsSent++;
    }
    for (const peer of this.named.values()) void this.beaconToName(peer, frame);
    if (this.mcast.length === 0) return;
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(frame);
    } catch (e) {
      this.o.onError?.(e as CodecError);
      return;
    }
    for (const m of this.mcast) {
      const group = m.family === 6 ? `${m.group}%${m.iface}` : m.group;
      m.socket.send(bytes, this.port, group, (err) => {
        if (err) this.o.onError?.(new IoError(`multicast beacon on ${m.iface} failed: ${errText(err)}`, { code: errText(err), to: formatUdpEndpoint({ address: group, port: this.port }) }, { cause: err }));
      });
      this.counters.beaconsSent++;
    }
  }

  private async beaconToName(peer: UdpEndpoint, frame: { kind: 'beacon'; beacon: Beacon }): Promise<void> {
    let addrs: { address: string }[];
    try {
      addrs = await lookup(peer.address, { all: true });
    } catch (e) {
      this.o.onError?.(new IoError(`static peer ${peer.address}: ${errText(e)}`, { code: errText(e), to: `${peer.address}:${peer.port}` }, { cause: e }));
      return;
    }
    if (this.closed) return;
    // Only families the transport has a socket for; each distinct address once.
    const families = new Set(this.o.transport.endpoints.map(endpointFamily));
    const seen = new Set<string>();
    for (const a of addrs) {
      const to = normalizeEndpoint({ address: a.address, port: peer.port });
      const key = endpointKey(to);
      if (seen.has(key) || !families.has(endpointFamily(to))) continue;
      seen.add(key);
      this.o.transport.send(to, frame);
      this.counters.beaconsSent++;
    }
  }

  peers(): PeerRecord[] {
    return [...this.sightings.values()];
  }

  multicastStatus(): readonly MulticastSocketStatus[] {
    return this.mcastStatus;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await Promise.all(this.mcast.map((m) => new Promise<void>((resolve) => m.socket.close(() => resolve()))));
  }

  private observe(beacon: Beacon, endpoint: UdpEndpoint, via: 'static' | 'multicast'): void {
    this.counters.beaconsReceived++;
    if (beacon.fingerprint === this.o.fingerprint) {
      this.counters.ignoredOwn++;
      return;
    }
    if (beacon.trustDomain !== this.o.trustDomain) {
      this.counters.ignoredForeignDomain++;
      return;
    }
    const key = `${beacon.fingerprint}@${endpointKey(endpoint)}`;
    const now = this.now();
    const old = this.sightings.get(key);
    this.sightings.set(key, { fingerprint: beacon.fingerprint, endpoint, beacon, via: old?.via ?? via, firstSeenMs: old?.firstSeenMs ?? now, lastSeenMs: now });
    if (!old || old.beacon.bootId !== beacon.bootId) this.o.onPeer({ fingerprint: beacon.fingerprint, endpoint, beacon });
  }

  /**
   * Where a peer heard by multicast listens: its advertised endpoint of the datagram's family when that is a
   * specific address (a link-local one takes the zone of the interface it came in on), else the datagram's source
   * address with the advertised port.
   */
  private multicastEndpoint(beacon: Beacon, source: UdpEndpoint): UdpEndpoint | null {
    const family = endpointFamily(source);
    const sameFamily = beacon.endpoints.filter((e) => endpointFamily(e) === family);
    const srcIp = parseIp(source.address);
    const zone = source.address.includes('%') ? source.address.slice(source.address.indexOf('%')) : '';
    for (const e of sameFamily) {
      const ip = parseIp(e.address);
      if (isUnspecified(ip)) return normalizeEndpoint({ address: source.address, port: e.port });
      if (isLinkLocalV6(ip)) return normalizeEndpoint({ address: e.address.split('%')[0]! + zone, port: e.port });
      // A loopback address advertised by a peer on another host is useless; only take it from a loopback source.
      const loopback = (family === 4 && ip.bytes[0] === 127) || (family === 6 && e.address === '::1');
      const srcLoopback = (family === 4 && srcIp.bytes[0] === 127) || (family === 6 && source.address === '::1');
      if (!loopback || srcLoopback) return e;
    }
    return null;
  }

  private receiveMulticast(msg: Uint8Array, address: string, port: number): void {
    let source: UdpEndpoint;
    let beacon: Beacon;
    try {
      source = normalizeEndpoint({ address, port });
      const f = decodeFrame(msg);
      if (f.kind !== 'beacon') throw new CodecError('discovery: not a beacon', { kind: 'frame', reason: 'kind' });
      beacon = f.beacon;
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
      this.counters.undecodable++;
      return;
    }
    if (beacon.fingerprint === this.o.fingerprint) {
      this.counters.beaconsReceived++;
      this.counters.ignoredOwn++;
      return;
    }
    const endpoint = this.multicastEndpoint(beacon, source);
    if (endpoint) this.observe(beacon, endpoint, 'multicast');
  }

  private async openMulticast(m: MulticastOptions): Promise<void> {
    const ifaces = networkInterfaces();
    for (const name of m.interfaces) {
      for (const family of m.families ?? [4, 6]) {
        const group = family === 4 ? m.ipv4Group ?? DEFAULT_IPV4_GROUP : m.ipv6Group ?? DEFAULT_IPV6_GROUP;
        const v4 = ifaces[name]?.find((a) => a.family === 'IPv4')?.address;
        const has6 = ifaces[name]?.some((a) => a.family === 'IPv6') ?? false;
        if (!ifaces[name]) { this.mcastStatus.push({ interface: name, family, error: 'no such interface' }); continue; }
        if (family === 4 && !v4) { this.mcastStatus.push({ interface: name, family, error: 'no IPv4 address' }); continue; }
        if (family === 6 && !has6) { this.mcastStatus.push({ interface: name, family, error: 'no IPv6 address' }); continue; }
        const ifaceAddr = family === 4 ? v4! : `::%${name}`;
        const socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6', reuseAddr: true, ipv6Only: family === 6 });
        try {
          await new Promise<void>((resolve, reject) => {
            socket.once('error', reject);
            socket.bind(this.port, () => { socket.off('error', reject); resolve(); });
          });
          socket.addMembership(group, ifaceAddr);
          socket.setMulticastInterface(ifaceAddr);
          socket.setMulticastLoopback(true); // other nodes on this host (the loopback demo) must hear us
          socket.setMulticastTTL(1);
        } catch (e) {
          socket.close();
          this.mcastStatus.push({ interface: name, family, error: errText(e) });
          this.o.onError?.(new IoError(`multicast on ${name} (IPv${family}) unavailable: ${errText(e)}`, { code: errText(e), interface: name }, { cause: e }));
          continue;
        }
        socket.on('message', (msg, rinfo) => this.receiveMulticast(msg, rinfo.address, rinfo.port));
        socket.on('error', (e) => this.o.onError?.(new IoError(`multicast socket on ${name}: ${errText(e)}`, { code: errText(e), interface: name }, { cause: e })));
        this.mcast.push({ socket, group, iface: name, family });
        this.mcastStatus.push({ interface: name, family, error: null });
      }
    }
  }
}
