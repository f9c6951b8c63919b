// The routing core (the batman-adv role, in user space): a pure state machine. The node steps it with events and
// ticks it with the time; it returns effects (messages to send, route changes). No timers, no I/O, no randomness.
//
// Proactive routing: every node floods an OGM each hello interval; a neighbour that hears it records, per
// (originator, neighbour), the advertised path TQ and the sequence number, and rebroadcasts the first copy of each
// new sequence number with its own route's TQ × (255 − hopPenalty)/255. The route to an originator is the best
// path (advertised TQ × link TQ of the neighbour) among fresh copies; the backup is the best via another
// neighbour. Copies whose prevSender is this node are echoes of its own path: ignored, and they withdraw what that
// neighbour said before (no 2-hop loops).
// Hysteresis: a better path replaces the primary only when it beats it by switchMarginTq (or is better and shorter)
// for switchHoldMs; when the primary is gone (neighbour down or dead, path revoked or expired), the backup takes over
// in the same step.
// Loop avoidance after a failover: for feasibilityHoldMs (or until a newer OGM) only neighbours advertising no more
// hops than this node had are eligible; the failover is re-advertised at once (a triggered update with the same
// sequence number) so neighbours whose copy ran through this node drop it; a node that lost its last path sends
// RERR. A new or revived neighbour gets a table dump (own OGM + every route) so heals converge in one round trip.
//
// Link quality: one probe per neighbour per hello interval; loss over the last probeWindow probes and the smoothed
// RTT give the link TQ = 255 × delivery / (1 + srtt / rttHalfMs).
//
// Failure detection:
// - carrier/admin/session/send-error: the node's `neighbour-down` event removes the neighbour and fails every route
//   over to its backup in that same step (detection time = the event's own latency).
// - silent failure (no event): a probe reply is expected within T = clamp(probeTimeoutRttFactor × srtt,
//   probeTimeoutFloorMs, probeTimeoutMaxMs); on a miss the probe is repeated at once; after deadAfterMisses (N)
//   consecutive misses the neighbour is declared dead and its routes fail over. The failure can start just after a
//   reply arrived, and the next regular probe leaves at most one hello interval H later, so
//       worst-case silent detection  D = H + N · T  (+ the caller's tick lateness; see nextWakeAt()).
//   With the defaults (H = 1000 ms, N = 3, T = 150 ms on links under ~37 ms RTT): D = 1450 ms.
// - a neighbour that lost every route to a destination sends RERR; receivers revoke that path at once.
// - after either kind of loss the node floods a fresh OGM of its own (routes towards it re-converge at once).
// Rerouting after detection: at once when the backup is feasible, within feasibilityHoldMs otherwise, and when no
// alternative is known, after the destination's next OGM (≤ H). The simulator tests hold the router to
// D + feasibilityHoldMs (+ their 10 ms sampling) for blackholes and crashes on grids and random meshes.
//
// On-demand discovery (AODV-style) for destinations the OGM flood does not reach (beyond ogmTtl, or not yet heard):
// `need-route` floods an RREQ; each hop installs a reverse route; the destination (or a node with a route) answers
// with an RREP along the reverse path, which installs forward routes; retries, then `discovery-failed`.
import { RoutingError } from '../../errors/index.js';
import {
  isNodeAddress, routingConfig, gatewayClassOf, type NeighbourView, type NodeAddress, type OgmMessage, type RouteView,
  type RoutingConfig, type RoutingEffect, type RoutingEvent, type RoutingMessage,
} from './types.js';

/** Worst-case time from a silent link failure to the neighbour being declared dead (see the header). */
export function silentDetectionBoundMs(c: RoutingConfig, srttMs = 0): number {
  return c.helloIntervalMs + c.deadAfterMisses * probeTimeoutMs(c, srttMs);
}

export function probeTimeoutMs(c: RoutingConfig, srttMs: number | null): number {
  return Math.min(c.probeTimeoutMaxMs, Math.max(c.probeTimeoutFloorMs, c.probeTimeoutRttFactor * (srttMs ?? 0)));
}

interface Neighbour {
  readonly id: NodeAddress;
  alive: boolean;
  /** Outcomes of the last probes (true = answered), oldest first. */
  readonly window: boolean[];
  srtt: number | null;
  probeSeq: number;
  pending: { seq: number; sentAt: number; deadline: number } | null;
  nextProbeAt: number;
  misses: number;
  rx: number | null;
  tx: number | null;
}

interface PathEntry {
  seq: number;
  prevSender: NodeAddress;
  /** TQ the neighbour advertised (0 = revoked by its RERR). */
  tq: number;
  hops: number;
  at: number;
}

interface Originator {
  readonly id: NodeAddress;
  lastSeq: number | null;
  /** TTL left for a rebroadcast of the newest copy. */
  lastTtl: number;
  lastAcceptedAt: number;
  gatewayClass: number;
  readonly paths: Map<NodeAddress, PathEntry>;
  primary: NodeAddress | null;
  backup: NodeAddress | null;
  primaryTq: number;
  primaryHops: number;
  challenger: { n: NodeAddress; since: number } | null;
  /**
   * Loop avoidance after a failover: until a newer sequence number arrives, a new primary must advertise a hop
   * count no greater than this node's distance before it lost its primary (a neighbour whose path runs through
   * this node advertises more). Lifted after feasibilityHoldMs, when the triggered updates and RERRs of the
   * failover have reached the neighbours and stale advertisements are gone. null when no failover is pending.
   */
  feasible: { hops: number; seq: number | null; until: number } | null;
  /** A primary was lost since the last new sequence number: paths heard before may run through the failure. */
  suspect: boolean;
}

interface AodvRoute {
  nextHop: NodeAddress;
  hops: number;
  expiresAt: number;
}

interface Candidate {
  n: NodeAddress;
  score: number;
  hops: number;
}

const seqDiff = (a: number, b: number): number => (a - b) | 0;
/** Higher score, then fewer hops, then the lower address (deterministic ties). */
const better = (a: Candidate, b: Candidate): boolean => a.score > b.score || (a.score === b.score && (a.hops < b.hops || (a.hops === b.hops && a.n < b.n)));
const sameHops = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export class Router {
  readonly self: NodeAddress;
  readonly config: RoutingConfig;
  readonly #neighbours = new Map<NodeAddress, Neighbour>();
  readonly #originators = new Map<NodeAddress, Originator>();
  readonly #aodv = new Map<NodeAddress, AodvRoute>();
  readonly #discoveries = new Map<NodeAddress, { deadline: number; retriesLeft: number }>();
  readonly #seenRreq = new Map<string, number>();
  /** What the last route-changed effect said per destination (to emit only changes). */
  readonly #reported = new Map<NodeAddress, readonly NodeAddress[]>();
  #seq: number;
  #nextOgmAt = -Infinity;
  #nextHousekeepingAt = -Infinity;
  #requestId = 0;
  #gateway: NodeAddress | null = null;
  readonly #gatewayClass: number;

  constructor(self: NodeAddress, config: Partial<RoutingConfig> = {}) {
    if (!isNodeAddress(self)) throw new RoutingError('router address must be 32 lower-case hex characters', { field: 'self' });
    this.self = self;
    this.config = routingConfig(config);
    this.#seq = this.config.initialSeq;
    this.#gatewayClass = this.config.gateway === null ? 0 : gatewayClassOf(this.config.gateway.bandwidthKbps);
  }

  step(now: number, event: RoutingEvent): RoutingEffect[] {
    const fx: RoutingEffect[] = [];
    const lost: NodeAddress[] = [];
    switch (event.type) {
      case 'neighbour-up': this.#neighbourUp(now, event.neighbour, fx); break;
      case 'neighbour-down': {
        if (!this.#neighbours.has(event.neighbour)) break;
        this.#neighbours.delete(event.neighbour);
        this.#dropVia(now, event.neighbour, fx, lost);
        this.#floodOwnOgm(fx);
        break;
      }
      case 'message': this.#onMessage(now, event.from, event.message, fx, lost); break;
      case 'link-counters': this.#onCounters(now, event.neighbour, event.rxPackets, event.txPackets, fx); break;
      case 'need-route': this.#needRoute(now, event.dest, fx); break;
    }
    this.#sendRerr(lost, fx);
    return fx;
  }

  tick(now: number): RoutingEffect[] {
    const fx: RoutingEffect[] = [];
    const lost: NodeAddress[] = [];
    const c = this.config;
    if (now >= this.#nextOgmAt) {
      this.#nextOgmAt = now + c.helloIntervalMs;
      fx.push({ type: 'send', to: 'neighbours', message: this.#ownOgm() });
      this.#seq = (this.#seq + 1) >>> 0;
    }
    for (const nb of [...this.#neighbours.values()]) {
      if (nb.pending !== null && now >= nb.pending.deadline) {
        nb.pending = null;
        this.#record(nb, false);
        nb.misses++;
        if (nb.alive && nb.misses >= c.deadAfterMisses) {
          nb.alive = false;
          this.#dropVia(now, nb.id, fx, lost);
          this.#floodOwnOgm(fx);
        } else if (nb.alive) {
          this.#probe(now, nb, fx); // fast re-probe
        }
      }
      if (nb.pending === null && now >= nb.nextProbeAt) {
        nb.nextProbeAt = now + c.helloIntervalMs;
        this.#probe(now, nb, fx);
      }
    }
    // Every half hello: expire stale path entries and re-select every route (link TQs drift with probes);
    // in between, only routes with a challenger waiting out its hold time.
    const housekeeping = now >= this.#nextHousekeepingAt;
    if (housekeeping) this.#nextHousekeepingAt = now + c.helloIntervalMs / 2;
    for (const o of [...this.#originators.values()]) {
      if (!housekeeping) {
        if (o.challenger !== null || (o.feasible !== null && now >= o.feasible.until)) this.#reselect(now, o);
        continue;
      }
      for (const [n, e] of o.paths) if (now - e.at > c.originatorTimeoutMs) o.paths.delete(n);
      this.#reselect(now, o);
      if (o.paths.size === 0 && !this.#isAlive(o.id) && now - o.lastAcceptedAt > 4 * c.originatorTimeoutMs) this.#originators.delete(o.id);
    }
    for (const [dest, r] of [...this.#aodv]) if (now >= r.expiresAt) this.#aodv.delete(dest);
    for (const [key, until] of [...this.#seenRreq]) if (now >= until) this.#seenRreq.delete(key);
    for (const [dest, d] of [...this.#discoveries]) {
      if (now < d.deadline) continue;
      if (this.nextHops(dest).length > 0) { this.#discoveries.delete(dest); continue; }
      if (d.retriesLeft > 0) {
        d.retriesLeft--;
        d.deadline = now + c.rreqTimeoutMs;
        fx.push({ type: 'send', to: 'neighbours', message: this.#rreq(dest) });
      } else {
        this.#discoveries.delete(dest);
        fx.push({ type: 'discovery-failed', dest });
      }
    }
    this.#refreshAll(fx, lost);
    this.#selectGateway();
    this.#sendRerr(lost, fx);
    return fx;
  }

  /**
   * When the router next needs a tick (-Infinity or a past time: tick now). The caller may tick more often;
   * ticking later delays failure detection by as much.
   */
  nextWakeAt(): number {
    let t = Math.min(this.#nextOgmAt, this.#nextHousekeepingAt);
    for (const nb of this.#neighbours.values()) t = Math.min(t, nb.pending !== null ? nb.pending.deadline : nb.nextProbeAt);
    for (const d of this.#discoveries.values()) t = Math.min(t, d.deadline);
    for (const r of this.#aodv.values()) t = Math.min(t, r.expiresAt);
    for (const o of this.#originators.values()) {
      if (o.challenger !== null) t = Math.min(t, o.challenger.since + this.config.switchHoldMs);
      if (o.feasible !== null) t = Math.min(t, o.feasible.until);
    }
    // Path expiry is checked at housekeeping (at most half a hello late), not tracked per entry.
    return t;
  }

  /** Best two next hops to `dest`: primary then backup (a different neighbour); [] when there is no route. */
  nextHops(dest: NodeAddress): readonly NodeAddress[] {
    const o = this.#originators.get(dest);
    if (o !== undefined && o.primary !== null) return o.backup === null ? [o.primary] : [o.primary, o.backup];
    const a = this.#aodv.get(dest);
    return a !== undefined && this.#isAlive(a.nextHop) ? [a.nextHop] : [];
  }

  routes(): RouteView[] {
    const out: RouteView[] = [];
    const dests = new Set([...this.#originators.keys(), ...this.#aodv.keys()]);
    for (const dest of [...dests].sort()) {
      const nextHops = this.nextHops(dest);
      if (nextHops.length === 0) continue;
      const o = this.#originators.get(dest);
      if (o !== undefined && o.primary !== null) {
        out.push({ dest, nextHops, tq: o.primaryTq, hops: o.primaryHops, source: 'ogm', gatewayClass: o.gatewayClass });
      } else {
        out.push({ dest, nextHops, tq: 0, hops: this.#aodv.get(dest)!.hops, source: 'aodv', gatewayClass: o?.gatewayClass ?? 0 });
      }
    }
    return out;
  }

  neighbours(): NeighbourView[] {
    return [...this.#neighbours.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map((nb) => ({
      neighbour: nb.id, up: nb.alive, tq: this.#linkTq(nb), rttMs: nb.srtt, delivery: this.#delivery(nb),
      consecutiveMisses: nb.misses, rxPackets: nb.rx, txPackets: nb.tx,
    }));
  }

  /** Neighbours that are up: the recipients of a send to 'neighbours'. */
  liveNeighbours(): NodeAddress[] {
    const out: NodeAddress[] = [];
    for (const nb of this.#neighbours.values()) if (nb.alive) out.push(nb.id);
    return out;
  }

  /** The gateway this node uses (itself when it is one), chosen by route TQ × bandwidth class with hysteresis. */
  gateway(): NodeAddress | null {
    return this.#gatewayClass > 0 ? this.self : this.#gateway;
  }

  // ---- neighbours and probes ----

  #neighbourUp(now: number, id: NodeAddress, fx: RoutingEffect[]): void {
    if (id === this.self) return;
    let nb = this.#neighbours.get(id);
    if (nb === undefined) {
      nb = { id, alive: true, window: [], srtt: null, probeSeq: 0, pending: null, nextProbeAt: now + this.config.helloIntervalMs, misses: 0, rx: null, tx: null };
      this.#neighbours.set(id, nb);
    } else {
      nb.alive = true;
      nb.misses = 0;
      nb.window.length = 0;
    }
    if (nb.pending === null) this.#probe(now, nb, fx);
    this.#reselect(now, this.#originator(id));
    this.#refresh(id, fx, []);
    this.#tableDump(id, fx);
  }

  /**
   * Table dump to a new or revived neighbour: our own last OGM and our route to every originator (a restarted or
   * newly linked node converges in one round trip instead of one hello interval).
   */
  #tableDump(id: NodeAddress, fx: RoutingEffect[]): void {
    const unicast: RoutingEffect[] = [];
    if (this.#nextOgmAt > -Infinity) unicast.push({ type: 'send', to: id, message: { ...this.#ownOgm(), seq: (this.#seq - 1) >>> 0 } });
    for (const o of this.#originators.values()) {
      if (o.id !== id && o.primary !== null && o.primary !== id) this.#announce(o, unicast);
    }
    for (const e of unicast) fx.push(e.type === 'send' ? { ...e, to: id } : e);
  }

  #probe(now: number, nb: Neighbour, fx: RoutingEffect[]): void {
    nb.probeSeq = (nb.probeSeq + 1) >>> 0;
    nb.pending = { seq: nb.probeSeq, sentAt: now, deadline: now + probeTimeoutMs(this.config, nb.srtt) };
    fx.push({ type: 'send', to: nb.id, message: { type: 'probe', seq: nb.probeSeq, timestamp: Math.floor(now) % 2 ** 32 } });
  }

  #record(nb: Neighbour, answered: boolean): void {
    nb.window.push(answered);
    if (nb.window.length > this.config.probeWindow) nb.window.shift();
  }

  #delivery(nb: Neighbour): number {
    return nb.window.length === 0 ? 1 : nb.window.filter(Boolean).length / nb.window.length;
  }

  #linkTq(nb: Neighbour): number {
    if (!nb.alive) return 0;
    return Math.round((255 * this.#delivery(nb)) / (1 + (nb.srtt ?? 0) / this.config.rttHalfMs));
  }

  #isAlive(id: NodeAddress): boolean {
    return this.#neighbours.get(id)?.alive === true;
  }

  #onCounters(now: number, id: NodeAddress, rx: number, tx: number, fx: RoutingEffect[]): void {
    const nb = this.#neighbours.get(id);
    if (nb === undefined) return;
    // Traffic went out but nothing came back since the last reading: probe now instead of at the next hello.
    const stalled = nb.rx !== null && nb.tx !== null && rx === nb.rx && tx > nb.tx;
    nb.rx = rx;
    nb.tx = tx;
    if (stalled && nb.alive && nb.pending === null) this.#probe(now, nb, fx);
  }

  // ---- messages ----

  #onMessage(now: number, from: NodeAddress, m: RoutingMessage, fx: RoutingEffect[], lost: NodeAddress[]): void {
    const nb = this.#neighbours.get(from);
    if (nb === undefined) return; // only neighbours the node announced (neighbour-up) are heard
    switch (m.type) {
      case 'probe':
        fx.push({ type: 'send', to: from, message: { type: 'probe-reply', seq: m.seq, timestamp: m.timestamp } });
        return;
      case 'probe-reply': {
        if (nb.pending === null || nb.pending.seq !== m.seq) return; // late: already counted as a miss
        const rtt = now - nb.pending.sentAt;
        nb.srtt = nb.srtt === null ? rtt : 0.875 * nb.srtt + 0.125 * rtt;
        nb.pending = null;
        nb.misses = 0;
        this.#record(nb, true);
        if (!nb.alive) {
          nb.alive = true;
          // The misses of the dead period say nothing about the link now (as on neighbour-up, the history starts
          // over): kept, they would hold a recovered link below the switch margin for a whole probe window.
          nb.window.length = 0;
          nb.window.push(true);
          this.#reselect(now, this.#originator(from));
          this.#refresh(from, fx, lost);
          this.#tableDump(from, fx);
        }
        return;
      }
    }
    if (!nb.alive) return; // a dead neighbour's routing information is not used until its probes answer again
    switch (m.type) {
      case 'ogm': this.#onOgm(now, from, m, fx, lost); return;
      case 'rreq': this.#onRreq(now, from, m, fx); return;
      case 'rrep': this.#onRrep(now, from, m, fx); return;
      case 'rerr':
        for (const dest of m.unreachable) {
          if (dest === from || dest === this.self) continue;
          const e = this.#originators.get(dest)?.paths.get(from);
          if (e !== undefined) e.tq = 0;
          if (this.#aodv.get(dest)?.nextHop === from) this.#aodv.delete(dest);
          const o = this.#originators.get(dest);
          if (o !== undefined) {
            const failedOver = o.primary === from;
            this.#reselect(now, o);
            if (failedOver && o.primary !== null) this.#announce(o, fx);
          }
          this.#refresh(dest, fx, lost);
        }
        return;
    }
  }

  #originator(id: NodeAddress): Originator {
    let o = this.#originators.get(id);
    if (o === undefined) {
      o = { id, lastSeq: null, lastTtl: 0, lastAcceptedAt: -Infinity, gatewayClass: 0, paths: new Map(), primary: null, backup: null, primaryTq: 0, primaryHops: 0, challenger: null, feasible: null, suspect: false };
      this.#originators.set(id, o);
    }
    return o;
  }

  #onOgm(now: number, from: NodeAddress, m: OgmMessage, fx: RoutingEffect[], lost: NodeAddress[]): void {
    if (m.originator === this.self) return;
    if (m.prevSender === this.self) {
      // The neighbour's path now runs through this node: what it said before no longer holds.
      const o = this.#originators.get(m.originator);
      const e = o?.paths.get(from);
      if (o !== undefined && e !== undefined && seqDiff(m.seq, e.seq) >= 0) {
        o.paths.delete(from);
        this.#reselect(now, o);
        this.#refresh(o.id, fx, lost);
      }
      return;
    }
    const o = this.#originator(m.originator);
    if (o.lastSeq !== null && seqDiff(m.seq, o.lastSeq) < -this.config.seqWindow) {
      if (now - o.lastAcceptedAt < this.config.restartAfterMs) return; // old
      o.paths.clear(); // nothing in-window for a while: the originator restarted with a new sequence
      o.lastSeq = null;
    }
    const e = o.paths.get(from);
    if (e !== undefined) {
      const d = seqDiff(m.seq, e.seq);
      if (d < 0) return; // older copy via this neighbour
      // Same sequence: a duplicate (identical copy) is ignored; a different copy is the neighbour's triggered update
      // after its own failover (or it replaces a path its RERR revoked).
      if (d === 0 && e.tq !== 0 && e.tq === m.tq && e.prevSender === m.prevSender) return;
    }
    // A same-seq update keeps the time the seq was first heard, so paths age out when the originator falls silent
    // (triggered updates alone cannot keep a path to a vanished node alive).
    o.paths.set(from, { seq: m.seq, prevSender: m.prevSender, tq: m.tq, hops: m.hops + 1, at: e !== undefined && e.seq === m.seq ? e.at : now });
    const isNew = o.lastSeq === null || seqDiff(m.seq, o.lastSeq) > 0;
    if (isNew && o.suspect) {
      // The first copy of a new sequence number after a failover came over a working path; copies of older ones
      // may describe paths through the failure (or through this node, in a loop): forget them.
      for (const [n, p] of o.paths) if (seqDiff(m.seq, p.seq) > 0) o.paths.delete(n);
      o.suspect = false;
    }
    if (isNew) {
      o.lastSeq = m.seq;
      o.lastTtl = m.ttl - 1;
      o.gatewayClass = m.gatewayClass;
    }
    o.lastAcceptedAt = now;
    const before = o.primary;
    this.#reselect(now, o);
    this.#refresh(o.id, fx, lost);
    if (isNew) this.#announce(o, fx);
    else if (before === null && o.primary !== null) this.#announce(o, fx); // a route regained from a triggered update
  }

  /** Rebroadcasts the originator's newest OGM with this node's route (TQ × hop penalty, prevSender = its primary). */
  #announce(o: Originator, fx: RoutingEffect[]): void {
    if (o.lastTtl < 1 || o.primary === null || o.lastSeq === null) return;
    fx.push({
      type: 'send', to: 'neighbours',
      message: {
        type: 'ogm', originator: o.id, seq: o.lastSeq, ttl: o.lastTtl, tq: Math.floor((o.primaryTq * (255 - this.config.hopPenalty)) / 255),
        hops: Math.min(255, o.primaryHops), prevSender: o.primary, gatewayClass: o.gatewayClass,
      },
    });
  }

  /** An extra OGM with a new sequence number after a neighbour loss: routes to this node re-converge at once. */
  #floodOwnOgm(fx: RoutingEffect[]): void {
    if (this.#nextOgmAt === -Infinity) return;
    fx.push({ type: 'send', to: 'neighbours', message: this.#ownOgm() });
    this.#seq = (this.#seq + 1) >>> 0;
  }

  #ownOgm(): OgmMessage {
    return { type: 'ogm', originator: this.self, seq: this.#seq, ttl: this.config.ogmTtl, tq: 255, hops: 0, prevSender: this.self, gatewayClass: this.#gatewayClass };
  }

  // ---- route selection ----

  /** Calls `f` for every usable path to `o` (direct link from probes, OGM copies that are fresh and not revoked). */
  #eachCandidate(now: number, o: Originator, f: (x: Candidate) => void): void {
    const c = this.config;
    const direct = this.#neighbours.get(o.id);
    if (direct !== undefined && direct.alive) f({ n: o.id, score: this.#linkTq(direct), hops: 1 });
    for (const [n, e] of o.paths) {
      if (n === o.id || e.tq === 0) continue; // the direct link is scored from probes above
      const nb = this.#neighbours.get(n);
      if (nb === undefined || !nb.alive) continue;
      if (o.lastSeq !== null && seqDiff(o.lastSeq, e.seq) > c.maxSeqLag) continue;
      if (now - e.at > c.originatorTimeoutMs) continue;
      const score = Math.floor((e.tq * this.#linkTq(nb)) / 255);
      if (score > 0) f({ n, score, hops: e.hops });
    }
  }

  #reselect(now: number, o: Originator): void {
    let best: Candidate | null = null;
    let current: Candidate | null = null;
    const all: Candidate[] = [];
    if (o.feasible !== null && (now >= o.feasible.until || (o.lastSeq !== null && (o.feasible.seq === null || seqDiff(o.lastSeq, o.feasible.seq) > 0)))) o.feasible = null;
    let primaryGone = o.primary !== null;
    this.#eachCandidate(now, o, (x) => { if (x.n === o.primary) primaryGone = false; });
    if (primaryGone) {
      o.feasible = { hops: o.primaryHops, seq: o.lastSeq, until: now + this.config.feasibilityHoldMs };
      o.suspect = true;
    }
    const f = o.feasible;
    this.#eachCandidate(now, o, (x) => {
      if (f !== null && x.n !== o.id && x.n !== o.primary && x.hops > f.hops + 1) return;
      all.push(x);
      if (best === null || better(x, best)) best = x;
      if (x.n === o.primary) current = x;
    });
    const b = best as Candidate | null;
    const cur = current as Candidate | null;
    if (b === null) {
      o.primary = null;
      o.challenger = null;
    } else if (cur === null) {
      o.primary = b.n; // no primary, or it is gone: take the best at once
      o.challenger = null;
    } else if (b.n !== cur.n && (b.score >= cur.score + this.config.switchMarginTq || (b.score > cur.score && b.hops < cur.hops))) {
      // A shorter path that is also better takes over after the hold even within the margin: one hop's penalty
      // (~13 TQ on clean links) is below the margin, so otherwise a longer path picked first would be kept forever.
      if (o.challenger?.n !== b.n) o.challenger = { n: b.n, since: now };
      else if (now - o.challenger.since >= this.config.switchHoldMs) {
        o.primary = b.n;
        o.challenger = null;
      }
    } else {
      o.challenger = null;
    }
    let primary: Candidate | null = null;
    let backup: Candidate | null = null;
    for (const x of all) {
      if (x.n === o.primary) primary = x;
      else if (backup === null || better(x, backup)) backup = x;
    }
    o.primaryTq = primary?.score ?? 0;
    o.primaryHops = primary?.hops ?? 0;
    o.backup = backup?.n ?? null;
  }

  /** Removes every path through `n` (gone or dead) and fails routes over in this step. */
  #dropVia(now: number, n: NodeAddress, fx: RoutingEffect[], lost: NodeAddress[]): void {
    for (const o of this.#originators.values()) {
      o.paths.delete(n);
      const failedOver = o.primary === n;
      if (failedOver || o.backup === n || o.id === n) this.#reselect(now, o);
      // Triggered update: neighbours that ignored our copies (their path was ours) learn the new one now.
      if (failedOver && o.primary !== null) this.#announce(o, fx);
    }
    for (const [dest, r] of [...this.#aodv]) if (r.nextHop === n) this.#aodv.delete(dest);
    this.#refreshAll(fx, lost);
  }

  #refresh(dest: NodeAddress, fx: RoutingEffect[], lost: NodeAddress[]): void {
    const now = this.nextHops(dest);
    const before = this.#reported.get(dest) ?? [];
    if (sameHops(now, before)) return;
    if (now.length === 0) {
      this.#reported.delete(dest);
      fx.push({ type: 'route-lost', dest });
      lost.push(dest);
    } else {
      this.#reported.set(dest, now);
      fx.push({ type: 'route-changed', dest, nextHops: now });
    }
  }

  #refreshAll(fx: RoutingEffect[], lost: NodeAddress[]): void {
    const dests = new Set([...this.#reported.keys(), ...this.#originators.keys(), ...this.#aodv.keys()]);
    for (const d of dests) this.#refresh(d, fx, lost);
  }

  #sendRerr(lost: NodeAddress[], fx: RoutingEffect[]): void {
    for (let i = 0; i < lost.length; i += 255) fx.push({ type: 'send', to: 'neighbours', message: { type: 'rerr', unreachable: lost.slice(i, i + 255) } });
  }

  #selectGateway(): void {
    if (this.#gatewayClass > 0) return;
    let best: { id: NodeAddress; score: number } | null = null;
    let current: number | null = null;
    for (const o of this.#originators.values()) {
      if (o.gatewayClass === 0 || o.primary === null) continue;
      const score = o.primaryTq * o.gatewayClass;
      if (o.id === this.#gateway) current = score;
      if (best === null || score > best.score || (score === best.score && o.id < best.id)) best = { id: o.id, score };
    }
    if (best === null) this.#gateway = null;
    else if (current === null || best.score > current * (1 + this.config.gatewaySwitchFraction)) this.#gateway = best.id;
  }

  // ---- on-demand discovery ----

  #rreq(dest: NodeAddress): RoutingMessage {
    this.#requestId = (this.#requestId + 1) >>> 0;
    this.#seenRreq.set(`${this.self}:${this.#requestId}`, Infinity);
    return { type: 'rreq', requestId: this.#requestId, originator: this.self, dest, hops: 0, ttl: this.config.rreqTtl };
  }

  #needRoute(now: number, dest: NodeAddress, fx: RoutingEffect[]): void {
    if (dest === this.self || this.nextHops(dest).length > 0 || this.#discoveries.has(dest)) return;
    this.#discoveries.set(dest, { deadline: now + this.config.rreqTimeoutMs, retriesLeft: this.config.rreqRetries });
    fx.push({ type: 'send', to: 'neighbours', message: this.#rreq(dest) });
  }

  #setAodv(now: number, dest: NodeAddress, nextHop: NodeAddress, hops: number, fx: RoutingEffect[]): void {
    if (dest === this.self) return;
    const r = this.#aodv.get(dest);
    const expiresAt = now + this.config.aodvRouteLifetimeMs;
    if (r === undefined || r.nextHop === nextHop || hops < r.hops || !this.#isAlive(r.nextHop)) this.#aodv.set(dest, { nextHop, hops, expiresAt });
    this.#refresh(dest, fx, []);
  }

  #onRreq(now: number, from: NodeAddress, m: Extract<RoutingMessage, { type: 'rreq' }>, fx: RoutingEffect[]): void {
    const key = `${m.originator}:${m.requestId}`;
    if (m.originator === this.self || this.#seenRreq.has(key)) return;
    this.#seenRreq.set(key, now + 2 * this.config.rreqTimeoutMs * (this.config.rreqRetries + 1));
    this.#setAodv(now, m.originator, from, m.hops + 1, fx);
    if (m.dest === this.self) {
      fx.push({ type: 'send', to: from, message: { type: 'rrep', requestId: m.requestId, originator: m.originator, dest: this.self, hops: 0 } });
      return;
    }
    const known = this.nextHops(m.dest);
    if (known.length > 0 && known[0] !== from) {
      const hops = this.#originators.get(m.dest)?.primary != null ? this.#originators.get(m.dest)!.primaryHops : this.#aodv.get(m.dest)!.hops;
      fx.push({ type: 'send', to: from, message: { type: 'rrep', requestId: m.requestId, originator: m.originator, dest: m.dest, hops: Math.min(255, hops) } });
      return;
    }
    if (m.ttl > 1) fx.push({ type: 'send', to: 'neighbours', message: { ...m, hops: Math.min(255, m.hops + 1), ttl: m.ttl - 1 } });
  }

  #onRrep(now: number, from: NodeAddress, m: Extract<RoutingMessage, { type: 'rrep' }>, fx: RoutingEffect[]): void {
    this.#setAodv(now, m.dest, from, m.hops + 1, fx);
    if (m.originator === this.self) {
      this.#discoveries.delete(m.dest);
      return;
    }
    const back = this.nextHops(m.originator)[0];
    if (back !== undefined && back !== from) fx.push({ type: 'send', to: back, message: { ...m, hops: Math.min(255, m.hops + 1) } });
  }
}
