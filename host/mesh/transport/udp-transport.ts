// The mesh's UDP transport: one node:dgram socket per listen endpoint (IPv4 and IPv6), the outer frame codec on
// every datagram, and MTU-aware fragmentation. A frame whose encoding exceeds the path's UDP payload (mtu − IP
// header − 8) is split into fragment frames and put back together by the receiver (reassembly.ts). Nothing throws
// out of `send` for a datagram that cannot go: socket errors (ENETUNREACH, EHOSTUNREACH, EPERM from a firewall, …)
// reach `onSendError` as IoError{code, to}, which the node reads as a link-failure hint. Every drop is counted.
import { createSocket, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { asX0tError, CodecError, IoError, type X0tError } from '../../errors/index.js';
import { FRAGMENT_HEADER_BYTES } from '../wire/fragment.js';
import { decodeDatagram, decodeFrame, encodeDatagram, encodeFrame, FRAME_HEADER_BYTES, type Frame } from '../wire/frame.js';
import { isLinkLocalV6, isUnspecified, parseIp, type IpAddress } from '../wire/ip-address.js';
import { Reassembler, type ReassemblyDrop, type ReassemblyLimits } from './reassembly.js';
import { endpointFamily, endpointKey, formatUdpEndpoint, normalizeEndpoint, type UdpEndpoint } from './udp-endpoint.js';

export interface TransportOptions {
  /** One socket each (port 0 = pick one); IPv4 and IPv6. */
  readonly listen: readonly UdpEndpoint[];
  /** Link MTU, default 1280; the max UDP payload is mtu − 20 (IPv4) or 40 (IPv6) − 8. */
  readonly mtu?: number;
  /** A complete frame, after reassembly and decoding. */
  onFrame(frame: Frame, from: UdpEndpoint, local: UdpEndpoint): void;
  /** A datagram (or reassembled message) that did not decode, or fragments thrown away; counted either way. */
  onDrop?(from: UdpEndpoint, error: X0tError): void;
  /** A datagram that could not be sent (IoError{code, to}), e.g. ENETUNREACH: a link-failure hint. */
  onSendError?(to: UdpEndpoint, error: X0tError): void;
  /** Every datagram received, before decoding (the user-space driver's feed). */
  onDatagram?(from: UdpEndpoint, bytes: number): void;
  /** Reassembly limits; defaults: 64 KiB, 64 fragments, 64 messages per sender, 256 in all, 3 s. */
  readonly reassembly?: Partial<ReassemblyLimits>;
  /** SO_RCVBUF/SO_SNDBUF to ask for (the kernel caps it at net.core.rmem_max/wmem_max); default: the kernel's. */
  readonly socketBufferBytes?: number;
  /** Clock for reassembly timeouts (tests); default Date.now. */
  readonly now?: () => number;
}

/** Why a received datagram was dropped: it did not decode, or reassembly threw its fragments away. */
export type TransportDrop = 'decode' | ReassemblyDrop;

export interface TransportStats {
  datagramsIn: number;
  datagramsOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Frames handed to onFrame / frames given to `send`. */
  framesIn: number;
  framesOut: number;
  fragmentsIn: number;
  fragmentsOut: number;
  reassembled: number;
  /** Incomplete messages held right now. */
  reassemblyInFlight: number;
  sendErrors: number;
  /** Errors a socket raised outside any send (rare: node reports most through the send callback). */
  socketErrors: number;
  /** Frames whose onFrame handler threw (reported through onDrop and dropped). */
  handlerErrors: number;
  drops: Record<TransportDrop, number>;
}

interface BoundSocket {
  readonly socket: Socket;
  readonly local: UdpEndpoint;
  readonly family: 4 | 6;
  readonly ip: IpAddress;
  /** The on-link prefix of the bound address (from the interface list), for choosing a socket by destination. */
  readonly prefixBits: number | null;
}

/** Remembered reply paths (peer endpoint → the socket its datagrams arrive on), at most this many. */
const REPLY_PATH_CAP = 4096;

function isLoopback(ip: IpAddress): boolean {
  return ip.family === 4 ? ip.bytes[0] === 127 : ip.bytes.every((b, i) => b === (i === 15 ? 1 : 0));
}

function inPrefix(a: IpAddress, b: IpAddress, bits: number): boolean {
  if (a.family !== b.family) return false;
  for (let i = 0; i < bits; i++) {
    const m = 0x80 >> (i % 8);
    if (((a.bytes[i >> 3]! ^ b.bytes[i >> 3]!) & m) !== 0) return false;
  }
  return true;
}

/** The prefix length of the interface address equal to `ip`, or null when it is not an interface address. */
function onLinkPrefix(ip: IpAddress): number | null {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) {
      let other: IpAddress;
      try {
        other = parseIp(a.address.split('%')[0]!);
      } catch {
        continue;
      }
      if (other.family === ip.family && inPrefix(other, ip, ip.family === 4 ? 32 : 128)) {
        const bits = Number(a.cidr?.split('/')[1]);
        return Number.isInteger(bits) ? bits : null;
      }
    }
  }
  return null;
}

export const DEFAULT_MTU = 1280;
const MIN_MTU = 128;
const MAX_MTU = 65535;

/** The largest UDP payload that fits one IP packet of `mtu` bytes. */
export function maxUdpPayload(mtu: number, family: 4 | 6): number {
  return Math.min(mtu - (family === 4 ? 20 : 40) - 8, family === 4 ? 65507 : 65527);
}

function errnoCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'EUNKNOWN';
}

async function bindSocket(spec: UdpEndpoint, bufferBytes: number | undefined): Promise<BoundSocket> {
  const family = endpointFamily(spec);
  const socket = createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: spec.address, port: spec.port, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    socket.close();
    throw new IoError(`cannot bind UDP ${formatUdpEndpoint(spec)}: ${errnoCode(e)}`, { code: errnoCode(e), endpoint: formatUdpEndpoint(spec) }, { cause: e });
  }
  if (bufferBytes !== undefined) {
    try {
      socket.setRecvBufferSize(bufferBytes);
      socket.setSendBufferSize(bufferBytes);
    } catch {
      // A request above the system maximum is not fatal: the default buffers still work, only smaller.
    }
  }
  const a = socket.address();
  // The kernel reports the address without its zone; keep the zone the caller asked for.
  const pct = spec.address.indexOf('%');
  const address = pct >= 0 && !a.address.includes('%') ? `${a.address}${spec.address.slice(pct)}` : a.address;
  const local = normalizeEndpoint({ address, port: a.port });
  const ip = parseIp(local.address);
  return { socket, local, family, ip, prefixBits: isUnspecified(ip) ? null : onLinkPrefix(ip) };
}

/**
 * Which of several same-family sockets should carry a datagram to `to` (when neither `via` nor a learned reply path
 * says): the one on the destination's link zone, then one whose on-link prefix holds it, then a wildcard one; a
 * loopback-bound socket only for loopback destinations (the kernel refuses the others). Ties go to listen order.
 */
function socketScore(s: BoundSocket, to: IpAddress): number {
  let score = 0;
  const toZone = to.scope ? JSON.stringify(to.scope) : null;
  if (toZone !== null && s.ip.scope && JSON.stringify(s.ip.scope) === toZone) score += 8;
  if (s.prefixBits !== null && inPrefix(s.ip, to, s.prefixBits)) score += 4;
  if (isUnspecified(s.ip)) score += 2;
  if (isLoopback(s.ip)) score += isLoopback(to) ? 4 : -8;
  return score;
}

export class UdpTransport {
  /** The bound endpoints, in the order of `listen` (actual ports when 0 was asked for). */
  readonly endpoints: readonly UdpEndpoint[];
  readonly mtu: number;
  private readonly reassembler: Reassembler;
  private readonly now: () => number;
  private readonly sweep: NodeJS.Timeout;
  private nextMsgId = Math.floor(Math.random() * 0x100000000);
  /** Peer endpoint key → the socket its datagrams arrived on: replies leave the way requests came in. */
  private readonly replyPaths = new Map<string, BoundSocket>();
  private closed = false;
  private readonly counters = {
    datagramsIn: 0, datagramsOut: 0, bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0,
    fragmentsIn: 0, fragmentsOut: 0, sendErrors: 0, socketErrors: 0, decodeDrops: 0, handlerErrors: 0,
  };

  private constructor(private readonly sockets: readonly BoundSocket[], private readonly o: TransportOptions, mtu: number) {
    this.endpoints = sockets.map((s) => s.local);
    this.mtu = mtu;
    this.reassembler = new Reassembler(o.reassembly);
    this.now = o.now ?? Date.now;
    for (const s of sockets) {
      s.socket.on('message', (msg, rinfo) => this.receive(s, msg, rinfo.address, rinfo.port));
      s.socket.on('error', () => { this.counters.socketErrors++; });
    }
    this.sweep = setInterval(() => this.reassembler.expire(this.now()), 250);
    this.sweep.unref();
  }

  static async open(o: TransportOptions): Promise<UdpTransport> {
    const mtu = o.mtu ?? DEFAULT_MTU;
    if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > MAX_MTU) throw new IoError(`mtu ${mtu} out of range ${MIN_MTU}..${MAX_MTU}`, { code: 'EINVAL', field: 'mtu' });
    if (o.listen.length === 0) throw new IoError('no listen endpoints', { code: 'EINVAL', field: 'listen' });
    const specs = o.listen.map((e) => normalizeEndpoint(e));
    const bound: BoundSocket[] = [];
    try {
      for (const spec of specs) bound.push(await bindSocket(spec, o.socketBufferBytes));
    } catch (e) {
      for (const b of bound) b.socket.close();
      throw e;
    }
    return new UdpTransport(bound, o, mtu);
  }

  /** The largest encoded frame that goes to `to` as one datagram. */
  maxPayload(to: UdpEndpoint): number {
    return maxUdpPayload(this.mtu, endpointFamily(to));
  }

  /** Sends a frame, fragmenting it when its encoding exceeds the path's max UDP payload. Never throws. */
  send(to: UdpEndpoint, frame: Frame, via?: UdpEndpoint): void {
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(frame);
    } catch (e) {
      this.sendFailed(to, e instanceof CodecError ? e : new IoError(`cannot encode frame: ${String(e)}`, { code: 'EINVAL', to: formatUdpEndpoint(to) }));
      return;
    }
    const s = this.pick(to, via);
    if (!s) return;
    this.counters.framesOut++;
    const max = maxUdpPayload(this.mtu, s.family);
    if (bytes.byteLength <= max) {
      this.transmit(s, to, bytes);
      return;
    }
    const limit = this.reassembler.limits;
    const maxChunk = max - FRAME_HEADER_BYTES - FRAGMENT_HEADER_BYTES;
    const count = Math.ceil(bytes.byteLength / maxChunk);
    if (bytes.byteLength > limit.maxMessageBytes || count > limit.maxFragments) {
      this.sendFailed(to, new IoError(`frame of ${bytes.byteLength} bytes exceeds the ${limit.maxMessageBytes}-byte / ${limit.maxFragments}-fragment limit`, { code: 'EMSGSIZE', to: formatUdpEndpoint(to), bytes: bytes.byteLength }));
      return;
    }
    // Even pieces: no runt last fragment.
    const size = Math.ceil(bytes.byteLength / count);
    const msgId = this.nextMsgId;
    this.nextMsgId = (this.nextMsgId + 1) >>> 0;
    for (let index = 0; index < count; index++) {
      const chunk = bytes.subarray(index * size, Math.min(bytes.byteLength, (index + 1) * size));
      this.counters.fragmentsOut++;
      this.transmit(s, to, encodeDatagram({ kind: 'fragment', fragment: { msgId, index, count, chunk } }));
    }
  }

  /** Plain UDP: the bytes as one datagram, no framing or fragmenting (benchmarks, tests, fault injection). */
  sendRaw(to: UdpEndpoint, bytes: Uint8Array, via?: UdpEndpoint): void {
    const s = this.pick(to, via);
    if (s) this.transmit(s, to, bytes);
  }

  stats(): TransportStats {
    const c = this.counters;
    const drops = { decode: c.decodeDrops, ...this.reassembler.dropCounts() };
    return {
      datagramsIn: c.datagramsIn, datagramsOut: c.datagramsOut, bytesIn: c.bytesIn, bytesOut: c.bytesOut,
      framesIn: c.framesIn, framesOut: c.framesOut, fragmentsIn: c.fragmentsIn, fragmentsOut: c.fragmentsOut,
      reassembled: this.reassembler.reassembled, reassemblyInFlight: this.reassembler.inFlight,
      sendErrors: c.sendErrors, socketErrors: c.socketErrors, handlerErrors: c.handlerErrors, drops,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweep);
    await Promise.all(this.sockets.map((s) => new Promise<void>((resolve) => s.socket.close(() => resolve()))));
  }

  private pick(to: UdpEndpoint, via?: UdpEndpoint): BoundSocket | undefined {
    const where = formatUdpEndpoint(to);
    if (this.closed) {
      this.sendFailed(to, new IoError(`send to ${where}: transport closed`, { code: 'ECLOSED', to: where }));
      return undefined;
    }
    const family = endpointFamily(to);
    let s: BoundSocket | undefined;
    if (via) {
      const key = endpointKey(via);
      s = this.sockets.find((b) => endpointKey(b.local) === key);
      if (!s) {
        this.sendFailed(to, new IoError(`send to ${where}: no socket bound to ${formatUdpEndpoint(via)}`, { code: 'EADDRNOTAVAIL', to: where }));
        return undefined;
      }
    } else {
      // One socket (the common case) needs no choice and no per-send key computation.
      s = this.sockets.length === 1 ? this.sockets[0] : this.replyPaths.get(endpointKey(to)) ?? this.bestSocket(to, family);
    }
    if (!s || s.family !== family) {
      this.sendFailed(to, new IoError(`send to ${where}: no IPv${family} socket`, { code: 'EAFNOSUPPORT', to: where }));
      return undefined;
    }
    return s;
  }

  private bestSocket(to: UdpEndpoint, family: 4 | 6): BoundSocket | undefined {
    const same = this.sockets.filter((b) => b.family === family);
    if (same.length <= 1) return same[0];
    let ip: IpAddress;
    try {
      ip = parseIp(to.address);
    } catch {
      return same[0];
    }
    let best = same[0]!;
    let bestScore = socketScore(best, ip);
    for (const b of same.slice(1)) {
      const score = socketScore(b, ip);
      if (score > bestScore) { best = b; bestScore = score; }
    }
    return best;
  }

  private transmit(s: BoundSocket, to: UdpEndpoint, bytes: Uint8Array): void {
    const fail = (e: unknown): void => {
      const where = formatUdpEndpoint(to);
      this.sendFailed(to, new IoError(`send to ${where} failed: ${errnoCode(e)}`, { code: errnoCode(e), to: where }, { cause: e }));
    };
    try {
      s.socket.send(bytes, to.port, to.address, (err) => {
        if (err) fail(err);
        else {
          this.counters.datagramsOut++;
          this.counters.bytesOut += bytes.byteLength;
        }
      });
    } catch (e) {
      fail(e); // synchronous refusals: a bad port or address, a socket already closed
    }
  }

  private sendFailed(to: UdpEndpoint, error: X0tError): void {
    this.counters.sendErrors++;
    this.o.onSendError?.(to, error);
  }

  private sourceOf(s: BoundSocket, address: string, port: number): UdpEndpoint {
    let from: UdpEndpoint;
    try {
      from = normalizeEndpoint({ address, port });
    } catch {
      return { address, port };
    }
    // A link-local source without a zone is only reachable through the interface it came in on: ours.
    if (s.family === 6 && !from.address.includes('%') && isLinkLocalV6(parseIp(from.address))) {
      const pct = s.local.address.indexOf('%');
      if (pct >= 0) from = { address: from.address + s.local.address.slice(pct), port };
    }
    return from;
  }

  private receive(s: BoundSocket, msg: Uint8Array, address: string, port: number): void {
    const from = this.sourceOf(s, address, port);
    if (this.sockets.length > 1) {
      const key = endpointKey(from);
      if (this.replyPaths.get(key) !== s) {
        this.replyPaths.delete(key);
        this.replyPaths.set(key, s);
        if (this.replyPaths.size > REPLY_PATH_CAP) this.replyPaths.delete(this.replyPaths.keys().next().value!);
      }
    }
    this.counters.datagramsIn++;
    this.counters.bytesIn += msg.byteLength;
    this.o.onDatagram?.(from, msg.byteLength);
    let d;
    try {
      d = decodeDatagram(msg);
    } catch (e) {
      this.decodeFailed(from, e);
      return;
    }
    if (d.kind !== 'fragment') {
      this.deliver(d, from, s.local);
      return;
    }
    this.counters.fragmentsIn++;
    const r = this.reassembler.push(endpointKey(from), d.fragment, this.now());
    if (r.kind === 'pending') return;
    if (r.kind === 'dropped') {
      if (r.reason !== 'duplicate') {
        this.o.onDrop?.(from, new CodecError(`fragment from ${formatUdpEndpoint(from)} dropped: ${r.reason}`, { kind: 'fragment', reason: r.reason, msgId: d.fragment.msgId }));
      }
      return;
    }
    let frame: Frame;
    try {
      frame = decodeFrame(r.bytes);
    } catch (e) {
      this.decodeFailed(from, e);
      return;
    }
    this.deliver(frame, from, s.local);
  }

  private decodeFailed(from: UdpEndpoint, e: unknown): void {
    if (!(e instanceof CodecError)) throw e; // a bug in a decoder, not bad input: let it surface
    this.counters.decodeDrops++;
    this.o.onDrop?.(from, e);
  }

  private deliver(frame: Frame, from: UdpEndpoint, local: UdpEndpoint): void {
    this.counters.framesIn++;
    try {
      this.o.onFrame(frame, from, local);
    } catch (e) {
      // A failing handler loses this frame, never the node: it runs in a socket event, where a throw would be
      // an uncaught exception.
      this.counters.handlerErrors++;
      this.o.onDrop?.(from, asX0tError(e));
    }
  }
}
