// The mesh inside a node: UDP transport → sessions → router, and the forwarding of mesh data between them.
//
//   datagram ─► UdpTransport ─► beacon: Discovery ─► connect
//                             └► other frames: SessionManager ─► deliver(peer, plaintext)
//                                                                 ├ routing  ─► Router.step(message)
//                                                                 ├ forward  ─► here? echo service : next hop
//                                                                 └ keepalive
//   Router effects ─► send: sealed routing frames to one or every neighbour; route-changed/lost: events
//   session up/down ─► neighbour-up/down; transport send error ─► neighbour-down{send-error};
//   rtnetlink link-down ─► neighbour-down{carrier|admin} for every neighbour reached over that interface.
//
// The router and the sessions are pure state machines driven by one timer (TickScheduler). Nothing here prints.
import { randomInt } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { meshSpecOf, type Endpoint, type MeshSpec, type NodeSpec } from '../../core/manifest/index.js';
import { decodeRoutingMessage, encodeRoutingMessage } from '../../core/routing/routing-codec.js';
import { Router } from '../../core/routing/router.js';
import {
  routingConfig, type NeighbourDownReason, type NodeAddress, type RoutingEffect, type RoutingEvent, type RoutingMessage,
} from '../../core/routing/types.js';
import { Ed25519Signer } from '../../crypto/ed25519-signer.js';
import type { PeerCredentials } from '../../crypto/peer-credentials.js';
import { X25519Kem } from '../../crypto/x25519-kem.js';
import { asX0tError, IoError, UnsupportedError, UsageError, type X0tError } from '../../errors/index.js';
import { decodeEcho, encodeEcho } from '../../mesh/inner/echo-codec.js';
import { decodeInner, encodeInner, type ForwardMessage } from '../../mesh/inner/inner-codec.js';
import { SessionManager } from '../../mesh/session/session-manager.js';
import type { SessionEvent } from '../../mesh/session/session-types.js';
import { Discovery } from '../../mesh/transport/discovery.js';
import { SUITE_BITS } from '../../mesh/wire/beacon.js';
import { endpointKey, formatUdpEndpoint, parseUdpEndpoint, type UdpEndpoint } from '../../mesh/transport/udp-endpoint.js';
import { UdpTransport } from '../../mesh/transport/udp-transport.js';
import type { Frame } from '../../mesh/wire/frame.js';
import type { PluginHost } from '../../runtime/plugin-host.js';
import { normalizeAddress } from '../../driver/userspace-driver.js';
import { BatmanTables, type BatmanTablesView } from './batman-tables.js';
import type { NodeDriver, NodeLinkEvent } from '../node-driver.js';
import { MeshCounters, renderMeshMetrics, SEALED_OVERHEAD_BYTES } from './mesh-counters.js';
import { openMeshCrypto, type MeshCrypto } from './mesh-crypto.js';
import { loadMeshKeys } from './mesh-keys.js';
import { openMeshTrust } from './open-mesh-trust.js';
import type { JoinToken, MeshTrust } from './mesh-trust.js';
import { interfaceOfNeighbour } from './neighbour-interface.js';
import { PingTracker, type PingRequest, type PingResult, type PingSample } from './ping-tracker.js';
import { TickScheduler } from './tick-scheduler.js';

/** A manifest `host:port` as a UDP endpoint: an IP address as is, a DNS name resolved once, now. */
async function resolveEndpoint(e: Endpoint, what: string): Promise<UdpEndpoint> {
  if (isIP(e.host) !== 0) return parseUdpEndpoint(e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`);
  try {
    const { address } = await lookup(e.host);
    return parseUdpEndpoint(address.includes(':') ? `[${address}]:${e.port}` : `${address}:${e.port}`);
  } catch (err) {
    throw new IoError(`${what} ${e.address}: cannot resolve ${e.host}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, {
      path: what, host: e.host,
    }, { cause: err });
  }
}

/** A static peer, resolved: where it listens and the fingerprint it must prove (when the manifest gives one). */
interface StaticPeer {
  readonly name: string;
  readonly endpoint: UdpEndpoint;
  readonly fingerprint: string | undefined;
}

/** Multicast beacons go out on the named interfaces, or on every interface but loopback when none is named. */
function beaconInterfaces(named: readonly string[]): string[] {
  if (named.length > 0) return [...named];
  return Object.entries(networkInterfaces()).filter(([, addrs]) => !(addrs ?? []).every((a) => a.internal)).map(([name]) => name);
}

/** Hops a mesh data message may take. */
export const DEFAULT_DATA_TTL = 64;
/** At most one session-rejected event per sender and reason in this long. */
const REJECT_EVENT_MS = 10_000;
/** Data held per destination while on-demand discovery looks for a route. */
const PENDING_PER_DEST = 16;

export type MeshEvent =
  | { readonly kind: 'started'; readonly fingerprint: string; readonly spiffeId: string; readonly endpoints: readonly string[]; readonly trust: string; readonly suite: string }
  | { readonly kind: 'session-up'; readonly peer: string; readonly endpoint: string | null }
  | { readonly kind: 'session-down'; readonly peer: string; readonly reason: string }
  | { readonly kind: 'session-rejected'; readonly reason: string; readonly endpoint: string | null }
  | { readonly kind: 'peer-restarted'; readonly peer: string }
  | { readonly kind: 'neighbour-down'; readonly neighbour: string; readonly reason: NeighbourDownReason }
  | { readonly kind: 'route-changed'; readonly dest: string; readonly nextHops: readonly string[] }
  | { readonly kind: 'route-lost'; readonly dest: string }
  | { readonly kind: 'discovery-failed'; readonly dest: string }
  | { readonly kind: 'error'; readonly error: X0tError };

export interface MeshServiceOptions {
  readonly spec: NodeSpec;
  /** The node's slots: its `kem` and `signer` slots carry the mesh's post-quantum primitives when it has them. */
  readonly host: PluginHost;
  /** The packet driver: the user-space one is fed every datagram; its link watcher tells which interface went down. */
  readonly driver: NodeDriver | null;
  readonly onEvent?: (e: MeshEvent) => void;
}

export interface NeighbourStatus {
  readonly fingerprint: string;
  readonly endpoint: string | null;
  readonly interface: string | null;
  readonly tq: number;
  readonly rttMs: number | null;
  readonly up: boolean;
  readonly session: boolean;
  /** Packets the packet driver counted from this neighbour's address, as the router last saw them (null: not yet). */
  readonly driverRxPackets: number | null;
}

export interface MeshStatus {
  readonly fingerprint: string;
  readonly spiffeId: string;
  readonly suite: string;
  readonly trust: Record<string, unknown>;
  readonly crypto: string;
  readonly endpoints: readonly string[];
  readonly helloMs: number;
  readonly neighbours: readonly NeighbourStatus[];
  readonly routes: number;
  readonly gateway: string | null;
  /** The kernel's batman-adv tables: read from which interface, or why not (null: the manifest asks for none). */
  readonly batman: { readonly interface: string; readonly available: boolean; readonly reason: string | null } | null;
  readonly counters: Record<string, unknown>;
}

export interface RouteStatus {
  readonly dest: string;
  readonly nextHops: readonly string[];
  readonly tq: number;
  readonly hops: number;
  readonly source: string;
  readonly gatewayClass: number;
}

/** An endpoint address in the packet driver's canonical form (no IPv6 zone), or as it is when not an IP address. */
function canonicalAddress(address: string): string {
  const bare = address.replace(/%.*$/, '');
  try {
    return normalizeAddress(bare).address;
  } catch {
    return bare;
  }
}

interface NeighbourEntry {
  endpoint: UdpEndpoint;
  session: boolean;
}

export class MeshService {
  readonly fingerprint: string;
  readonly mesh: MeshSpec;
  readonly #staticPeers: readonly StaticPeer[];
  readonly #crypto: MeshCrypto;
  readonly #trust: MeshTrust;
  readonly #router: Router;
  readonly #sessions: SessionManager;
  readonly #transport: UdpTransport;
  readonly #discovery: Discovery;
  readonly #scheduler: TickScheduler;
  readonly #driver: NodeDriver | null;
  readonly #emit: (e: MeshEvent) => void;
  readonly counters = new MeshCounters();
  readonly #pings = new PingTracker();
  /** Neighbours with (or once with) a session: where they are. */
  readonly #neighbours = new Map<NodeAddress, NeighbourEntry>();
  /** The local socket each remote endpoint was last heard on (to know the interface a neighbour is behind). */
  readonly #localOf = new Map<string, UdpEndpoint>();
  /** Remote addresses the user-space driver has quarantined (their frames are dropped). */
  readonly #quarantined = new Set<string>();
  /** Data waiting for on-demand discovery, per destination. */
  readonly #pending = new Map<NodeAddress, ForwardMessage[]>();
  /** Last send-error neighbour-down per neighbour (ms), so a burst of failing sends is one event. */
  readonly #sendErrorAt = new Map<NodeAddress, number>();
  /**
   * Neighbours taken down while their session lives on (carrier, admin, send-error), with when and why. The router
   * forgets a neighbour on neighbour-down, so the node announces it again when it has reason to believe the path
   * works: authenticated traffic from it, a link-up on its interface, or (send errors) two hellos later.
   */
  readonly #downed = new Map<NodeAddress, { reason: NeighbourDownReason; at: number }>();
  /** When a session-rejected event last went out, per sender and reason. */
  readonly #rejectEventAt = new Map<string, number>();
  #lastConnectAt = 0;
  /** When the packet driver's per-peer counters were last handed to the router. */
  #countersAt = 0;
  /** The kernel's batman-adv tables (manifest `mesh.batman`), or why they cannot be read; null: not asked for. */
  #batman: { readonly tables: BatmanTables } | { readonly reason: string } | null = null;
  #closing: Promise<void> | null = null;

  private constructor(parts: {
    staticPeers: readonly StaticPeer[]; spec: NodeSpec; crypto: MeshCrypto; trust: MeshTrust; router: Router; sessions: SessionManager; transport: UdpTransport;
    discovery: Discovery; scheduler: TickScheduler; driver: NodeDriver | null; emit: (e: MeshEvent) => void; fingerprint: string;
  }) {
    this.#staticPeers = parts.staticPeers;
    this.mesh = meshSpecOf(parts.spec);
    this.#crypto = parts.crypto;
    this.#trust = parts.trust;
    this.#router = parts.router;
    this.#sessions = parts.sessions;
    this.#transport = parts.transport;
    this.#discovery = parts.discovery;
    this.#scheduler = parts.scheduler;
    this.#driver = parts.driver;
    this.#emit = parts.emit;
    this.fingerprint = parts.fingerprint;
  }

  /**
   * Opens the crypto, the node keys, the identity (CA, join or pinned keys), the router, the sessions, the UDP sockets
   * and discovery, then starts connecting to the static peers. Whatever opened is closed again if a later step fails.
   */
  static async open(opts: MeshServiceOptions): Promise<MeshService> {
    const spec = opts.spec;
    const mesh = meshSpecOf(spec);
    const emit = opts.onEvent ?? (() => undefined);
    // SVIDs bind the node's hybrid keys; the classic suite (for comparison) runs on pinned keys only.
    if (mesh.suite === 'classic' && (spec.identity.ca !== undefined || spec.identity.join !== undefined)) {
      throw new UsageError('mesh.suite "classic" runs on pinned keys (mesh.trust.pinned), not on SVIDs from a mesh CA', { path: 'mesh.suite' });
    }
    const listen: UdpEndpoint[] = [];
    for (const [i, e] of spec.listen.mesh.entries()) listen.push(await resolveEndpoint(e, `listen.mesh[${i}]`));
    const staticPeers: StaticPeer[] = [];
    for (const [i, p] of spec.peers.entries()) {
      staticPeers.push({ name: p.name, endpoint: await resolveEndpoint(p.address, `peers[${i}].address`), fingerprint: p.fingerprint });
    }
    const cleanup: (() => Promise<void> | void)[] = [];
    const undo = async (): Promise<void> => {
      for (const f of cleanup.reverse()) await Promise.resolve(f()).catch(() => undefined);
    };
    try {
      const crypto = await openMeshCrypto(opts.host);
      cleanup.push(() => crypto.close());
      const { keys } = await loadMeshKeys(spec.identity, crypto);
      const trust = await openMeshTrust({ spec, keys, crypto });
      cleanup.push(() => trust.close());
      const fingerprint = trust.localIdentity().credentials.fingerprint;
      const router = new Router(fingerprint, routingConfig({
        helloIntervalMs: mesh.helloMs,
        gateway: mesh.gateway,
        // A random first sequence number at each boot lets neighbours notice the restart sooner.
        initialSeq: randomInt(0, 0xffff_ffff),
      }));
      // Late-bound: the transport and the service exist only after the session manager is made.
      let service: MeshService | null = null;
      let transport: UdpTransport | null = null;
      const classic = mesh.suite === 'classic';
      const sessions = new SessionManager({
        suite: mesh.suite,
        kem: classic ? new X25519Kem() : crypto.kem,
        signer: classic ? new Ed25519Signer() : crypto.signer,
        identity: () => trust.localIdentity(),
        verifier: trust.verifier,
        send: (to, frame) => transport?.send(to, frame),
        deliver: (peer, plaintext, from) => {
          if (service) service.#deliver(peer, plaintext, from);
        },
        onEvent: (e) => {
          if (service) service.#onSessionEvent(e);
        },
        rekeyAfterMs: mesh.rekeyMs,
      });
      cleanup.push(() => sessions.close());
      transport = await UdpTransport.open({
        listen,
        mtu: mesh.mtu,
        onFrame: (frame, from, local) => {
          if (service) service.#onFrame(frame, from, local);
        },
        onDrop: () => {
          if (service) service.counters.undecodable++;
        },
        onSendError: (to, error) => {
          if (service) service.#onSendError(to, error);
        },
        onDatagram: (from, bytes) => {
          if (service) service.#onDatagram(from, bytes);
        },
      });
      const t = transport;
      cleanup.push(() => t.close());
      const discovery = await Discovery.start({
        transport: t,
        fingerprint,
        trustDomain: spec.identity.trustDomain,
        suites: SUITE_BITS[mesh.suite],
        staticPeers: staticPeers.map((p) => p.endpoint),
        intervalMs: mesh.discovery.intervalMs,
        ...(mesh.discovery.multicast ? { multicast: { interfaces: beaconInterfaces(mesh.discovery.interfaces) } } : {}),
        onPeer: (p) => {
          if (service) service.#onPeer(p.endpoint, p.fingerprint);
        },
        onError: (error) => emit({ kind: 'error', error }),
      });
      cleanup.push(() => discovery.close());
      const scheduler = new TickScheduler({
        run: (now) => (service ? service.#tick(now) : now + 50),
        onError: (e) => emit({ kind: 'error', error: asX0tError(e) }),
      });
      service = new MeshService({ staticPeers, spec, crypto, trust, router, sessions, transport: t, discovery, scheduler, driver: opts.driver, emit, fingerprint });
      emit({
        kind: 'started', fingerprint, spiffeId: trust.spiffeId, endpoints: t.endpoints.map(formatUdpEndpoint), trust: trust.mode, suite: mesh.suite,
      });
      if (mesh.batman !== null) {
        try {
          const tables = await BatmanTables.open(mesh.batman.interface, opts.driver?.links.links() ?? []);
          service.#batman = { tables };
          cleanup.push(() => tables.close());
        } catch (e) {
          // No batman-adv here: the node routes by itself, and says why (GET /mesh, GET /mesh/batman).
          const error = asX0tError(e);
          service.#batman = { reason: error.message };
          emit({ kind: 'error', error });
        }
      }
      service.#connectStaticPeers(Date.now());
      scheduler.start();
      return service;
    } catch (e) {
      await undo();
      throw e;
    }
  }

  get spiffeId(): string {
    return this.#trust.spiffeId;
  }

  get trust(): MeshTrust {
    return this.#trust;
  }

  /** The bound UDP endpoints (real ports when 0 was asked for). */
  get endpoints(): readonly UdpEndpoint[] {
    return this.#transport.endpoints;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Inputs

  #onDatagram(from: UdpEndpoint, bytes: number): void {
    // With XDP running the kernel counts (and drops quarantined senders) before we see anything.
    const userspace = this.#driver?.userspace ?? null;
    if (userspace === null) return;
    const address = from.address.replace(/%.*$/, '');
    let ok = true;
    try {
      ok = userspace.record(address, bytes);
    } catch {
      // An address the driver cannot parse is not ours to refuse.
    }
    if (ok) this.#quarantined.delete(address);
    else this.#quarantined.add(address);
  }

  #onFrame(frame: Frame, from: UdpEndpoint, local: UdpEndpoint): void {
    if (this.#quarantined.has(from.address.replace(/%.*$/, ''))) {
      this.counters.drop('quarantined');
      return;
    }
    this.#localOf.set(endpointKey(from), local);
    if (frame.kind === 'beacon') {
      this.#discovery.handleBeacon(frame.beacon, from);
      return;
    }
    void this.#sessions.handleFrame(frame, from).finally(() => this.#scheduler.poke());
  }

  #onPeer(endpoint: UdpEndpoint, fingerprint?: string): void {
    if (fingerprint === this.fingerprint) return;
    // A static peer pinned to a fingerprint is only ever connected as that node, whatever its beacon claims.
    const pinned = this.#staticPeers.find((p) => p.fingerprint !== undefined && endpointKey(p.endpoint) === endpointKey(endpoint));
    const expected = pinned?.fingerprint ?? fingerprint;
    if (expected !== undefined && this.#neighbours.get(expected)?.session === true) return;
    this.#sessions.connect(endpoint, expected);
  }

  #onSessionEvent(e: SessionEvent): void {
    const now = Date.now();
    switch (e.type) {
      case 'up': {
        this.counters.sessionsUp++;
        this.#downed.delete(e.peer);
        this.#neighbours.set(e.peer, { endpoint: e.endpoint, session: true });
        this.#emit({ kind: 'session-up', peer: e.peer, endpoint: formatUdpEndpoint(e.endpoint) });
        this.#step(now, { type: 'neighbour-up', neighbour: e.peer });
        break;
      }
      case 'down': {
        this.counters.sessionsDown++;
        const n = this.#neighbours.get(e.peer);
        if (n) n.session = false;
        this.#emit({ kind: 'session-down', peer: e.peer, reason: e.reason });
        this.#neighbourDown(now, e.peer, 'session');
        break;
      }
      case 'rekeyed':
        break;
      case 'rejected': {
        // Every refusal is counted (x0t_mesh_session_rejects_total); an event goes out once per sender and reason per
        // REJECT_EVENT_MS, so a peer that keeps trying does not flood the log.
        const key = `${endpointKey(e.from)} ${e.reason}`;
        if (now - (this.#rejectEventAt.get(key) ?? -Infinity) < REJECT_EVENT_MS) break;
        if (this.#rejectEventAt.size > 1024) this.#rejectEventAt.clear();
        this.#rejectEventAt.set(key, now);
        this.#emit({ kind: 'session-rejected', reason: e.reason, endpoint: formatUdpEndpoint(e.from) });
        break;
      }
      case 'peer-restarted':
        this.#emit({ kind: 'peer-restarted', peer: e.peer });
        break;
      case 'handshake-failed':
        this.counters.handshakeTimeouts++;
        break;
    }
    this.#scheduler.poke();
  }

  #onSendError(to: UdpEndpoint, _error: X0tError): void {
    this.counters.sendErrors++;
    const now = Date.now();
    const key = endpointKey(to);
    for (const [fp, n] of this.#neighbours) {
      if (endpointKey(n.endpoint) !== key) continue;
      const last = this.#sendErrorAt.get(fp) ?? -Infinity;
      if (now - last < this.mesh.helloMs) continue;
      this.#sendErrorAt.set(fp, now);
      this.#neighbourDown(now, fp, 'send-error');
    }
  }

  /**
   * An rtnetlink link event: a link that went down takes down every neighbour reached over it, with the kernel's
   * reason (carrier or admin): the router switches to the backup next hop at once.
   */
  onLinkEvent(e: NodeLinkEvent): void {
    if (e.event.kind !== 'link-down' && e.event.kind !== 'link-up') return;
    const links = this.#driver?.links.links() ?? [];
    const now = Date.now();
    for (const [fp, n] of this.#neighbours) {
      const local = this.#localOf.get(endpointKey(n.endpoint)) ?? null;
      if (interfaceOfNeighbour(n.endpoint, local, links) !== e.interface) continue;
      if (e.event.kind === 'link-down') this.#neighbourDown(now, fp, e.event.reason);
      else this.#revive(now, fp);
    }
  }

  /** Announces a neighbour taken down (not for want of a session) again; the router's probes judge it from here. */
  #revive(now: number, neighbour: NodeAddress): void {
    if (!this.#downed.has(neighbour) || this.#neighbours.get(neighbour)?.session !== true) return;
    this.#downed.delete(neighbour);
    this.#step(now, { type: 'neighbour-up', neighbour });
  }

  #neighbourDown(now: number, neighbour: NodeAddress, reason: NeighbourDownReason): void {
    if (reason === 'session') this.#downed.delete(neighbour);
    else this.#downed.set(neighbour, { reason, at: now });
    this.counters.neighbourDown(reason);
    this.#emit({ kind: 'neighbour-down', neighbour, reason });
    this.#step(now, { type: 'neighbour-down', neighbour, reason });
  }

  #deliver(peer: PeerCredentials, plaintext: Uint8Array, _from: UdpEndpoint): void {
    let inner;
    try {
      inner = decodeInner(plaintext);
    } catch {
      this.counters.drop('malformed');
      return;
    }
    const now = Date.now();
    // Authenticated traffic from a neighbour taken down for its link: the path works again.
    if (this.#downed.has(peer.fingerprint)) this.#revive(now, peer.fingerprint);
    switch (inner.type) {
      case 'keepalive':
        return;
      case 'routing': {
        let message: RoutingMessage;
        try {
          message = decodeRoutingMessage(inner.bytes);
        } catch {
          this.counters.drop('routing-malformed');
          return;
        }
        this.counters.controlMessagesReceived++;
        this.counters.controlBytesReceived += plaintext.length + SEALED_OVERHEAD_BYTES;
        this.#step(now, { type: 'message', from: peer.fingerprint, message });
        return;
      }
      case 'forward':
        this.#route(now, inner.forward, peer.fingerprint);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Router

  /** One run of the timer; returns when the router next needs one. */
  #tick(now: number): number {
    this.#sessions.tick(now);
    // A send error is a hint, not proof: after two hellos the neighbour is tried again (probes decide).
    for (const [fp, d] of this.#downed) if (d.reason === 'send-error' && now - d.at >= this.mesh.helloMs * 2) this.#revive(now, fp);
    this.#apply(now, this.#router.tick(now));
    if (this.#driver !== null && now - this.#countersAt >= this.mesh.helloMs) this.#feedLinkCounters(now);
    // Static peers without a session are tried again every other hello (a peer that restarted or came up late).
    if (now - this.#lastConnectAt >= this.mesh.helloMs * 2) this.#connectStaticPeers(now);
    return this.#router.nextWakeAt();
  }

  /**
   * Once per hello, the packet driver's count of packets received from each neighbour's address (XDP in the kernel,
   * else what the transport recorded) and the sealed packets sent to it: traffic out with nothing back in between
   * two readings makes the router probe at once instead of at the next hello.
   */
  #feedLinkCounters(now: number): void {
    this.#countersAt = now;
    const rx = new Map<string, number>();
    for (const p of this.#driver!.peers()) rx.set(p.address, p.packets);
    const tx = new Map<string, number>();
    for (const s of this.#sessions.sessions()) tx.set(s.peer, (tx.get(s.peer) ?? 0) + s.txPackets);
    for (const [fp, n] of this.#neighbours) {
      if (!n.session) continue;
      const rxPackets = rx.get(canonicalAddress(n.endpoint.address));
      if (rxPackets === undefined) continue;
      this.#step(now, { type: 'link-counters', neighbour: fp, rxPackets, txPackets: tx.get(fp) ?? 0 });
    }
  }

  #step(now: number, event: RoutingEvent): void {
    this.#apply(now, this.#router.step(now, event));
  }

  #apply(now: number, effects: readonly RoutingEffect[]): void {
    for (const fx of effects) {
      switch (fx.type) {
        case 'send':
          this.#sendRouting(fx.to, fx.message);
          break;
        case 'route-changed':
          this.counters.routeChanges++;
          this.#emit({ kind: 'route-changed', dest: fx.dest, nextHops: fx.nextHops });
          this.#flushPending(now, fx.dest);
          break;
        case 'route-lost':
          this.counters.routeChanges++;
          this.#emit({ kind: 'route-lost', dest: fx.dest });
          break;
        case 'discovery-failed': {
          const waiting = this.#pending.get(fx.dest)?.length ?? 0;
          this.#pending.delete(fx.dest);
          for (let i = 0; i < waiting; i++) this.counters.drop('no-route');
          this.#emit({ kind: 'discovery-failed', dest: fx.dest });
          break;
        }
      }
    }
  }

  #sendRouting(to: NodeAddress | 'neighbours', message: RoutingMessage): void {
    const plaintext = encodeInner({ type: 'routing', bytes: encodeRoutingMessage(message) });
    const targets = to === 'neighbours'
      ? [...this.#neighbours.entries()].filter(([, n]) => n.session).map(([fp]) => fp)
      : [to];
    for (const fp of targets) {
      if (!this.#sessions.send(fp, plaintext)) continue;
      this.counters.controlMessagesSent++;
      this.counters.controlBytesSent += plaintext.length + SEALED_OVERHEAD_BYTES;
    }
  }

  #connectStaticPeers(now: number): void {
    this.#lastConnectAt = now;
    for (const p of this.#staticPeers) {
      if (p.fingerprint !== undefined && this.#neighbours.get(p.fingerprint)?.session === true) continue;
      const key = endpointKey(p.endpoint);
      const known = [...this.#neighbours.values()].some((n) => n.session && endpointKey(n.endpoint) === key);
      if (!known) this.#sessions.connect(p.endpoint, p.fingerprint);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Forwarding

  /** Sends mesh data from this node. False when it could not leave (no route yet: it waits for discovery). */
  originate(dst: NodeAddress, flow: number, payload: Uint8Array): boolean {
    this.counters.dataOriginated++;
    return this.#route(Date.now(), { src: this.fingerprint, dst, ttl: DEFAULT_DATA_TTL, flow, payload }, null);
  }

  /**
   * One hop of forwarding: deliver here, or send on to the router's first next hop with a session (the backup when
   * the primary has none). No route: ask the router to discover one (AODV) and hold the data meanwhile.
   */
  #route(now: number, f: ForwardMessage, from: NodeAddress | null): boolean {
    if (f.dst === this.fingerprint) {
      this.counters.dataDelivered++;
      this.#deliverLocal(f);
      return true;
    }
    if (from !== null) {
      if (f.ttl <= 1) {
        this.counters.drop('ttl');
        return false;
      }
      f = { ...f, ttl: f.ttl - 1 };
    }
    if (this.#sendOn(f, from)) {
      if (from !== null) this.counters.dataForwarded++;
      return true;
    }
    const hops = this.#router.nextHops(f.dst);
    if (hops.length > 0) {
      this.counters.drop('no-session');
      return false;
    }
    const queue = this.#pending.get(f.dst) ?? [];
    if (queue.length >= PENDING_PER_DEST) {
      this.counters.drop('no-route');
      return false;
    }
    queue.push(f);
    const first = queue.length === 1;
    this.#pending.set(f.dst, queue);
    if (first) this.#step(now, { type: 'need-route', dest: f.dst });
    return false;
  }

  /** Sends `f` one hop on; a next hop that is where it came from is tried last (no ping-pong while routes settle). */
  #sendOn(f: ForwardMessage, from: NodeAddress | null = null): boolean {
    const best = this.#router.nextHops(f.dst).slice(0, 2);
    const hops = from === null ? best : [...best.filter((h) => h !== from), ...best.filter((h) => h === from)];
    const plaintext = encodeInner({ type: 'forward', forward: f });
    for (const hop of hops) if (this.#sessions.send(hop, plaintext)) return true;
    // A neighbour the router has no route to yet (the first OGM is still to come) is one hop away all the same.
    if (hops.length === 0 && this.#neighbours.get(f.dst)?.session === true) return this.#sessions.send(f.dst, plaintext);
    return false;
  }

  #flushPending(now: number, dest: NodeAddress): void {
    const queue = this.#pending.get(dest);
    if (!queue) return;
    this.#pending.delete(dest);
    for (const f of queue) {
      if (!this.#sendOn(f)) this.counters.drop('no-session');
      else if (f.src !== this.fingerprint) this.counters.dataForwarded++;
    }
    void now;
  }

  /** The echo service: answer requests, hand replies to the waiting ping. */
  #deliverLocal(f: ForwardMessage): void {
    let echo;
    try {
      echo = decodeEcho(f.payload);
    } catch {
      this.counters.drop('unknown-service');
      return;
    }
    if (echo.op === 'request') {
      this.originate(f.src, f.flow, encodeEcho({ op: 'reply', seq: echo.seq, padding: echo.padding }));
    } else {
      this.#pings.reply(f.flow, echo.seq);
    }
  }

  /** `POST /mesh/ping`: echo requests through the mesh at an interval; each sample says when it left and its RTT. */
  async ping(req: PingRequest): Promise<PingResult> {
    const flow = this.#pings.newFlow();
    const padding = new Uint8Array(req.size);
    const samples: Promise<PingSample>[] = [];
    const start = performance.now();
    for (let seq = 0; seq < req.count; seq++) {
      const wait = start + seq * req.intervalMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (this.#closing !== null) break;
      const sentAtMs = Date.now();
      const reply = this.#pings.expect(flow, seq, req.timeoutMs);
      const left = this.originate(req.to, flow, encodeEcho({ op: 'request', seq, padding }));
      samples.push(reply.then((rttMs) => ({
        seq, sentAtMs, rttMs: rttMs === null ? null : Math.round(rttMs * 1000) / 1000, ...(left || rttMs !== null ? {} : { error: 'not-sent' }),
      })));
    }
    const done = await Promise.all(samples);
    return { to: req.to, sent: done.length, received: done.filter((s) => s.rttMs !== null).length, samples: done };
  }

  // -------------------------------------------------------------------------------------------------------------
  // Views

  /**
   * The kernel's batman-adv originator (as routes) and gateway tables of `mesh.batman.interface`. UnsupportedError
   * with the reason when the manifest names none or the kernel has no batman-adv.
   */
  async batman(): Promise<BatmanTablesView> {
    const b = this.#batman;
    if (b === null) throw new UnsupportedError('batman-adv: the manifest names no batman-adv interface (mesh.batman.interface)', {});
    if ('reason' in b) throw new UnsupportedError(b.reason, {});
    return b.tables.view();
  }

  /** Whether the kernel's batman-adv tables are read (null: not asked for in the manifest). */
  batmanStatus(): { readonly interface: string; readonly available: boolean; readonly reason: string | null } | null {
    const b = this.#batman;
    if (b === null || this.mesh.batman === null) return null;
    return { interface: this.mesh.batman.interface, available: 'tables' in b, reason: 'reason' in b ? b.reason : null };
  }

  status(): MeshStatus {
    this.#syncSessionCounters();
    const views = new Map(this.#router.neighbours().map((n) => [n.neighbour, n]));
    const links = this.#driver?.links.links() ?? [];
    const all = new Set([...this.#neighbours.keys(), ...views.keys()]);
    const neighbours = [...all].sort().map((fp): NeighbourStatus => {
      const n = this.#neighbours.get(fp);
      const v = views.get(fp);
      const local = n ? this.#localOf.get(endpointKey(n.endpoint)) ?? null : null;
      return {
        fingerprint: fp,
        endpoint: n ? formatUdpEndpoint(n.endpoint) : null,
        interface: n ? interfaceOfNeighbour(n.endpoint, local, links) : null,
        tq: v?.tq ?? 0,
        rttMs: v?.rttMs ?? null,
        up: v?.up ?? false,
        session: n?.session ?? false,
        driverRxPackets: v?.rxPackets ?? null,
      };
    });
    return {
      fingerprint: this.fingerprint,
      spiffeId: this.#trust.spiffeId,
      suite: this.mesh.suite,
      trust: this.#trust.describe(),
      crypto: this.mesh.suite === 'classic' ? 'x25519 + ed25519 (node:crypto)' : this.#crypto.source,
      endpoints: this.#transport.endpoints.map(formatUdpEndpoint),
      helloMs: this.mesh.helloMs,
      neighbours,
      routes: this.#router.routes().length,
      gateway: this.#router.gateway(),
      batman: this.batmanStatus(),
      counters: this.counters.toJSON(),
    };
  }

  routes(): RouteStatus[] {
    return this.#router.routes().map((r) => ({
      dest: r.dest, nextHops: [...r.nextHops], tq: r.tq, hops: r.hops, source: r.source, gatewayClass: r.gatewayClass,
    })).sort((a, b) => a.dest.localeCompare(b.dest));
  }

  sessions(): unknown[] {
    return this.#sessions.sessions();
  }

  transportStats(): unknown {
    return this.#transport.stats();
  }

  createJoinToken(ttlMs: number): Promise<JoinToken> {
    return this.#trust.createJoinToken(ttlMs);
  }

  /** Handshake, rekey and refusal counts come from the session layer's own statistics. */
  #syncSessionCounters(): void {
    const st = this.#sessions.stats();
    this.counters.handshakes = st.handshakesCompleted;
    this.counters.rekeys = st.rekeys;
    this.counters.peerRestarts = st.peerRestarts;
    for (const [reason, n] of Object.entries(st.rejects)) this.counters.rejects.set(reason, n);
  }

  metrics(): string {
    this.#syncSessionCounters();
    const neighbours = this.#router.neighbours();
    const up = neighbours.filter((n) => n.up).length;
    return renderMeshMetrics(this.counters, {
      neighboursUp: up,
      neighboursDown: neighbours.length - up,
      routes: this.#router.routes().length,
      sessions: [...this.#neighbours.values()].filter((n) => n.session).length,
    });
  }

  /** Stops the timer and pings, then closes discovery, sessions, sockets, the identity and the crypto, in that order. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#scheduler.stop();
      this.#pings.close();
      const steps: (() => Promise<void> | void)[] = [
        () => this.#discovery.close(),
        () => this.#sessions.close(),
        () => this.#transport.close(),
        () => this.#trust.close(),
        () => this.#crypto.close(),
        () => { if (this.#batman !== null && 'tables' in this.#batman) this.#batman.tables.close(); },
      ];
      let first: unknown = null;
      for (const s of steps) {
        try {
          await s();
        } catch (e) {
          first ??= e;
        }
      }
      if (first !== null) throw first;
    })();
    return this.#closing;
  }
}
