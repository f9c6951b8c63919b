// The routing core's vocabulary: addresses, the fully-defaulted configuration (validated once, at construction),
// the routing messages carried on the wire, the events a Router steps and the effects it returns, and the read-only
// views the node shows on its admin API. Pure data; no behaviour beyond config normalisation.
import { RoutingError } from '../../errors/index.js';

/** A node's mesh address: its key fingerprint, 32 lower-case hex characters (16 bytes on the wire). */
export type NodeAddress = string;

const ADDRESS_RE = /^[0-9a-f]{32}$/;
export function isNodeAddress(s: unknown): s is NodeAddress {
  return typeof s === 'string' && ADDRESS_RE.test(s);
}

/** Originator message (B.A.T.M.A.N.-style): flooded by its originator every hello, rebroadcast with TQ multiplied in. */
export interface OgmMessage {
  readonly type: 'ogm';
  readonly originator: NodeAddress;
  /** u32, wraps; newer = (seq - last) as i32 > 0. */
  readonly seq: number;
  /** Hops left; a node rebroadcasts only while ttl > 1. */
  readonly ttl: number;
  /** Transmit quality of the path from the originator to the sender, 0..255. */
  readonly tq: number;
  readonly hops: number;
  /** The sender's own next hop towards the originator (itself at the originator): a receiver that is this node ignores the copy (it is an echo of its own path). */
  readonly prevSender: NodeAddress;
  /** Bandwidth class 1..255 when the originator is a gateway (see gatewayClassOf), else 0. */
  readonly gatewayClass: number;
}

/** Link probe: the receiver answers at once with a probe-reply echoing seq and the sender's timestamp. */
export interface ProbeMessage {
  readonly type: 'probe';
  readonly seq: number;
  /** The sender's clock in ms, mod 2^32 (only the sender interprets it). */
  readonly timestamp: number;
}
export interface ProbeReplyMessage {
  readonly type: 'probe-reply';
  readonly seq: number;
  readonly timestamp: number;
}

/** AODV-style route request, flooded; each hop installs a reverse route to `originator`. */
export interface RreqMessage {
  readonly type: 'rreq';
  readonly requestId: number;
  readonly originator: NodeAddress;
  readonly dest: NodeAddress;
  readonly hops: number;
  readonly ttl: number;
}
/** Route reply, unicast back along the reverse path; each hop installs a forward route to `dest`. */
export interface RrepMessage {
  readonly type: 'rrep';
  readonly requestId: number;
  /** Who asked (where the reply is going). */
  readonly originator: NodeAddress;
  readonly dest: NodeAddress;
  /** Hops from the replying node to `dest`. */
  readonly hops: number;
}
/** Route error: the sender no longer has any route to these destinations. */
export interface RerrMessage {
  readonly type: 'rerr';
  readonly unreachable: readonly NodeAddress[];
}

export type RoutingMessage = OgmMessage | ProbeMessage | ProbeReplyMessage | RreqMessage | RrepMessage | RerrMessage;

export type NeighbourDownReason = 'carrier' | 'admin' | 'session' | 'send-error';

export type RoutingEvent =
  | { readonly type: 'neighbour-up'; readonly neighbour: NodeAddress }
  | { readonly type: 'neighbour-down'; readonly neighbour: NodeAddress; readonly reason: NeighbourDownReason }
  | { readonly type: 'message'; readonly from: NodeAddress; readonly message: RoutingMessage }
  /** Cumulative packet counters of the link to `neighbour` (XDP driver), as read now. */
  | { readonly type: 'link-counters'; readonly neighbour: NodeAddress; readonly rxPackets: number; readonly txPackets: number }
  /** Data for `dest` has no route: start on-demand discovery. */
  | { readonly type: 'need-route'; readonly dest: NodeAddress };

export type RoutingEffect =
  /**
   * Send `message` to one neighbour, or to every neighbour ('neighbours': at least those Router.liveNeighbours()
   * lists; sending to a neighbour the router declared dead is harmless). Probes go to dead neighbours by name.
   */
  | { readonly type: 'send'; readonly to: NodeAddress | 'neighbours'; readonly message: RoutingMessage }
  /** The next hops to `dest` changed (primary first, then the backup when there is one). */
  | { readonly type: 'route-changed'; readonly dest: NodeAddress; readonly nextHops: readonly NodeAddress[] }
  | { readonly type: 'route-lost'; readonly dest: NodeAddress }
  | { readonly type: 'discovery-failed'; readonly dest: NodeAddress };

export interface RouteView {
  readonly dest: NodeAddress;
  readonly nextHops: readonly NodeAddress[];
  /** Path quality via the primary, 0..255. */
  readonly tq: number;
  readonly hops: number;
  /** 'ogm' = proactive table, 'aodv' = found by on-demand discovery. */
  readonly source: 'ogm' | 'aodv';
  /** The destination announces itself as a gateway (bandwidth class > 0). */
  readonly gatewayClass: number;
}

export interface NeighbourView {
  readonly neighbour: NodeAddress;
  /** False once probes declared it dead (it is still probed, at the hello interval, to notice recovery). */
  readonly up: boolean;
  /** Link quality from probe loss and RTT, 0..255. */
  readonly tq: number;
  /** Smoothed RTT, null before the first reply. */
  readonly rttMs: number | null;
  /** Fraction of the last probes answered (1 before any probe completed). */
  readonly delivery: number;
  readonly consecutiveMisses: number;
  readonly rxPackets: number | null;
  readonly txPackets: number | null;
}

export interface GatewayConfig {
  readonly bandwidthKbps: number;
}

/** Every knob, defaulted. Times in ms. */
export interface RoutingConfig {
  /** OGM and probe interval. */
  readonly helloIntervalMs: number;
  /** Hops an OGM travels; destinations farther away are found by on-demand discovery. */
  readonly ogmTtl: number;
  /** TQ lost per rebroadcast, out of 255. */
  readonly hopPenalty: number;
  /** OGM sequence numbers older than the newest by more than this are ignored (unless the originator restarted). */
  readonly seqWindow: number;
  /** A neighbour's copy of an originator's OGM counts only while its seq lags the newest by at most this. */
  readonly maxSeqLag: number;
  /** Path entries not refreshed for this long are dropped; an originator with none left is lost. */
  readonly originatorTimeoutMs: number;
  /** An out-of-window (older) seq is taken as a restart when nothing in-window was heard for this long. */
  readonly restartAfterMs: number;
  /** Hysteresis: a challenger replaces the primary only when better by this TQ margin … */
  readonly switchMarginTq: number;
  /** … continuously for this long. */
  readonly switchHoldMs: number;
  /**
   * After losing a primary, only neighbours advertising no more hops than this node had are eligible for this
   * long (or until a newer OGM): longer paths may still run through this node on stale information.
   */
  readonly feasibilityHoldMs: number;
  /** Probe outcomes remembered for the loss estimate. */
  readonly probeWindow: number;
  /** A probe reply is expected within max(probeTimeoutRttFactor × srtt, probeTimeoutFloorMs) … */
  readonly probeTimeoutFloorMs: number;
  readonly probeTimeoutRttFactor: number;
  /** … capped here. */
  readonly probeTimeoutMaxMs: number;
  /** Consecutive missed probes after which the neighbour is declared dead. */
  readonly deadAfterMisses: number;
  /** RTT at which the link TQ is halved (TQ × 1/(1 + srtt/rttHalfMs)). */
  readonly rttHalfMs: number;
  /** This node announces itself as an Internet gateway. */
  readonly gateway: GatewayConfig | null;
  /** Gateway hysteresis: a new gateway must score this fraction better than the current one. */
  readonly gatewaySwitchFraction: number;
  readonly rreqTimeoutMs: number;
  readonly rreqRetries: number;
  readonly rreqTtl: number;
  /** An on-demand route lives this long after it was set up or last confirmed. */
  readonly aodvRouteLifetimeMs: number;
  /** First OGM sequence number (pass a random one at each boot, so a restart is noticed sooner). */
  readonly initialSeq: number;
}

export const DEFAULT_ROUTING_CONFIG: RoutingConfig = Object.freeze({
  helloIntervalMs: 1000,
  ogmTtl: 32,
  hopPenalty: 15,
  seqWindow: 64,
  maxSeqLag: 2,
  originatorTimeoutMs: 4000,
  restartAfterMs: 1500,
  switchMarginTq: 20,
  switchHoldMs: 2000,
  feasibilityHoldMs: 100,
  probeWindow: 16,
  probeTimeoutFloorMs: 150,
  probeTimeoutRttFactor: 4,
  probeTimeoutMaxMs: 400,
  deadAfterMisses: 3,
  rttHalfMs: 500,
  gateway: null,
  gatewaySwitchFraction: 0.2,
  rreqTimeoutMs: 1000,
  rreqRetries: 2,
  rreqTtl: 64,
  aodvRouteLifetimeMs: 30_000,
  initialSeq: 0,
});

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Fills defaults and checks every field; throws RoutingError with `details.field` naming the bad one. */
export function routingConfig(partial: Partial<RoutingConfig> = {}): RoutingConfig {
  const c: Mutable<RoutingConfig> = { ...DEFAULT_ROUTING_CONFIG };
  for (const [k, v] of Object.entries(partial)) {
    if (v === undefined) continue;
    if (!(k in DEFAULT_ROUTING_CONFIG)) throw new RoutingError(`unknown routing option '${k}'`, { field: k });
    (c as Record<string, unknown>)[k] = v;
  }
  const int = (field: keyof RoutingConfig, min: number, max: number): void => {
    const v = c[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new RoutingError(`routing option '${field}' must be an integer from ${min} to ${max} (got ${String(v)})`, { field });
    }
  };
  int('helloIntervalMs', 10, 3_600_000);
  int('ogmTtl', 1, 255);
  int('hopPenalty', 0, 254);
  int('seqWindow', 1, 1 << 20);
  int('maxSeqLag', 0, 1 << 20);
  int('originatorTimeoutMs', 1, 86_400_000);
  int('restartAfterMs', 0, 86_400_000);
  int('switchMarginTq', 0, 255);
  int('switchHoldMs', 0, 86_400_000);
  int('feasibilityHoldMs', 0, 86_400_000);
  int('probeWindow', 1, 1024);
  int('probeTimeoutFloorMs', 1, 3_600_000);
  int('probeTimeoutMaxMs', 1, 3_600_000);
  int('deadAfterMisses', 1, 1000);
  int('rttHalfMs', 1, 3_600_000);
  int('rreqTimeoutMs', 1, 3_600_000);
  int('rreqRetries', 0, 100);
  int('rreqTtl', 1, 255);
  int('aodvRouteLifetimeMs', 1, 86_400_000);
  int('initialSeq', 0, 0xffffffff);
  const ratio = (field: 'probeTimeoutRttFactor' | 'gatewaySwitchFraction', min: number, max: number): void => {
    const v = c[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new RoutingError(`routing option '${field}' must be a number from ${min} to ${max} (got ${String(v)})`, { field });
    }
  };
  ratio('probeTimeoutRttFactor', 1, 100);
  ratio('gatewaySwitchFraction', 0, 100);
  if (c.probeTimeoutFloorMs > c.probeTimeoutMaxMs) {
    throw new RoutingError('probeTimeoutFloorMs must not exceed probeTimeoutMaxMs', { field: 'probeTimeoutFloorMs' });
  }
  if (c.gateway !== null) {
    const g = c.gateway as unknown;
    const kbps = typeof g === 'object' && g !== null ? (g as { bandwidthKbps?: unknown }).bandwidthKbps : undefined;
    if (typeof kbps !== 'number' || !Number.isFinite(kbps) || kbps <= 0) {
      throw new RoutingError('routing option gateway.bandwidthKbps must be a positive number', { field: 'gateway.bandwidthKbps' });
    }
    c.gateway = Object.freeze({ bandwidthKbps: kbps });
  }
  return Object.freeze(c);
}

/**
 * Bandwidth class of a gateway on the wire (u8, log scale): class 1 is 64 kbit/s and every 8 classes double it,
 * so 255 covers ~2^31.75 × 64 kbit/s. 0 means "not a gateway".
 */
export function gatewayClassOf(kbps: number): number {
  return Math.max(1, Math.min(255, 1 + Math.round(8 * Math.log2(Math.max(kbps, 64) / 64))));
}
export function kbpsOfGatewayClass(cls: number): number {
  return cls === 0 ? 0 : Math.round(64 * 2 ** ((cls - 1) / 8));
}
