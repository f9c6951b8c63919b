// The packet driver's Prometheus families, appended to the node's /metrics: which driver runs (and on which
// interface), per-peer packet and byte counters, the quarantine, and the event counters; then the link families
// (rtnetlink link state and events, batman-adv presence). Pure: takes a snapshot, returns exposition text (0.0.4).
import type { LinkEvent, LinkState } from '../driver/netlink/index.js';
import type { DriverEvent, DriverStatus, PeerCounters, QuarantineEntry } from '../driver/packet-driver.js';
import { familyLines } from './prometheus-text.js';

export type DriverEventKind = DriverEvent['kind'];
export const DRIVER_EVENT_KINDS: readonly DriverEventKind[] = Object.freeze(['new-peer', 'drop'] as const);

/** One reading of the driver, taken at once so the families agree with each other. */
export interface DriverSnapshot {
  readonly status: DriverStatus;
  readonly peers: readonly PeerCounters[];
  readonly quarantine: readonly QuarantineEntry[];
  /** Events the node received from the driver, by kind. */
  readonly eventsByKind: Readonly<Record<DriverEventKind, number>>;
}

export function renderDriverMetrics(d: DriverSnapshot): string {
  const peer = (p: PeerCounters) => ({ peer: p.address, family: String(p.family) });
  const lines = [
    ...familyLines('x0t_driver_info', 'gauge',
      'The packet driver the node runs (mode xdp-native, xdp-generic or userspace) and its interface (empty in user space); always 1.',
      [{ labels: { mode: d.status.mode, interface: d.status.interface ?? '' }, value: 1 }]),
    ...familyLines('x0t_driver_peer_packets_total', 'counter',
      'Packets received from each peer address, as counted by the driver (dropped packets of a quarantined peer are not included).',
      d.peers.map((p) => ({ labels: peer(p), value: p.packets }))),
    ...familyLines('x0t_driver_peer_bytes_total', 'counter',
      'Bytes received from each peer address, as counted by the driver.',
      d.peers.map((p) => ({ labels: peer(p), value: p.bytes }))),
    ...familyLines('x0t_driver_quarantined_peers', 'gauge', 'Addresses in the driver\'s quarantine list.',
      [{ value: d.quarantine.length }]),
    ...familyLines('x0t_driver_quarantine_drops_total', 'counter',
      'Packets dropped from each quarantined address since it was quarantined.',
      d.quarantine.map((q) => ({ labels: { peer: q.address }, value: q.drops }))),
    ...familyLines('x0t_driver_events_total', 'counter', 'Driver events (new peer, drop) the node received, by kind.',
      DRIVER_EVENT_KINDS.map((kind) => ({ labels: { kind }, value: d.eventsByKind[kind] }))),
    ...familyLines('x0t_driver_events_suppressed_total', 'counter',
      'Driver events not sent because of the rate limit or lost to a full ring buffer.',
      [{ value: d.status.eventsSuppressed }]),
    ...familyLines('x0t_driver_peer_table_full_total', 'counter',
      'Packets from new sources not counted because the peer table was full (a spoofing flood or an oversized mesh).',
      [{ value: d.status.peerTableFull }]),
  ];
  return lines.join('\n') + '\n';
}

/** Link and address event kinds, as the link watcher reports them (see LinkEvent). */
export type LinkEventKind = LinkEvent['kind'];
export const LINK_EVENT_KINDS: readonly LinkEventKind[] = Object.freeze(
  ['link-up', 'link-down', 'link-added', 'link-removed', 'address-added', 'address-removed'] as const,
);

/** One reading of the node's link state (rtnetlink) and batman-adv presence. */
export interface LinkSnapshot {
  /** Whether the link watcher runs; false when netlink was unavailable at start or the watcher stopped. */
  readonly watching: boolean;
  /** The kernel's interfaces (empty when not watching). */
  readonly links: readonly Pick<LinkState, 'name' | 'up' | 'carrier'>[];
  /** Link events the node received since it started, by kind. */
  readonly eventsByKind: Readonly<Record<LinkEventKind, number>>;
  readonly batmanAvailable: boolean;
}

export function renderLinkMetrics(s: LinkSnapshot): string {
  const lines = [
    ...familyLines('x0t_link_watch_available', 'gauge',
      'Whether the node watches its links through rtnetlink (1), or runs without link events (0; GET /driver/links says why).',
      [{ value: s.watching ? 1 : 0 }]),
    ...familyLines('x0t_link_up', 'gauge', 'Whether each interface is usable: administratively up and with carrier (1) or not (0).',
      s.links.map((l) => ({ labels: { interface: l.name }, value: l.up ? 1 : 0 }))),
    ...familyLines('x0t_link_carrier', 'gauge', 'Whether each interface has carrier (physical layer or veth peer up).',
      s.links.map((l) => ({ labels: { interface: l.name }, value: l.carrier ? 1 : 0 }))),
    ...familyLines('x0t_link_events_total', 'counter', 'Link and address events the node received from rtnetlink, by kind.',
      LINK_EVENT_KINDS.map((kind) => ({ labels: { kind }, value: s.eventsByKind[kind] }))),
    ...familyLines('x0t_batman_available', 'gauge', 'Whether the kernel has batman-adv (its generic netlink family was found at start).',
      [{ value: s.batmanAvailable ? 1 : 0 }]),
  ];
  return lines.join('\n') + '\n';
}
