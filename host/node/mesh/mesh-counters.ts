// The mesh's counters and their Prometheus families (`x0t_mesh_*`). The service bumps the counters; gauges are read
// from the live tables when the page is rendered.
import { familyLines, type MetricSample } from '../prometheus-text.js';

/** Bytes a sealed frame adds around its plaintext on the wire: outer header 4, receiver 4, counter 8, tag 16. */
export const SEALED_OVERHEAD_BYTES = 32;

export class MeshCounters {
  /** Copied from the session layer's statistics when read. */
  handshakes = 0;
  rekeys = 0;
  /** Handshakes (or identity fetches) that got no answer in time. */
  handshakeTimeouts = 0;
  sessionsUp = 0;
  sessionsDown = 0;
  peerRestarts = 0;
  /** Frames the session layer refused, by reason (copied from its statistics when read). */
  readonly rejects = new Map<string, number>();
  /** Routing messages: UDP payload bytes of their sealed frames. */
  controlBytesSent = 0;
  controlBytesReceived = 0;
  controlMessagesSent = 0;
  controlMessagesReceived = 0;
  /** Forward messages sent on towards their destination by this node (not originated here). */
  dataForwarded = 0;
  /** Forward messages that reached this node as their destination. */
  dataDelivered = 0;
  dataOriginated = 0;
  readonly dataDropped = new Map<string, number>();
  /** Datagrams that did not decode (transport drops). */
  undecodable = 0;
  sendErrors = 0;
  neighbourDowns = new Map<string, number>();
  routeChanges = 0;

  reject(reason: string): void {
    this.rejects.set(reason, (this.rejects.get(reason) ?? 0) + 1);
  }

  drop(reason: string): void {
    this.dataDropped.set(reason, (this.dataDropped.get(reason) ?? 0) + 1);
  }

  neighbourDown(reason: string): void {
    this.neighbourDowns.set(reason, (this.neighbourDowns.get(reason) ?? 0) + 1);
  }

  toJSON(): Record<string, unknown> {
    return {
      handshakes: this.handshakes, rekeys: this.rekeys, sessionsUp: this.sessionsUp, sessionsDown: this.sessionsDown,
      peerRestarts: this.peerRestarts, handshakeTimeouts: this.handshakeTimeouts, rejects: Object.fromEntries(this.rejects),
      controlBytesSent: this.controlBytesSent, controlBytesReceived: this.controlBytesReceived,
      controlMessagesSent: this.controlMessagesSent, controlMessagesReceived: this.controlMessagesReceived,
      dataOriginated: this.dataOriginated, dataForwarded: this.dataForwarded, dataDelivered: this.dataDelivered,
      dataDropped: Object.fromEntries(this.dataDropped), undecodable: this.undecodable, sendErrors: this.sendErrors,
      neighbourDowns: Object.fromEntries(this.neighbourDowns), routeChanges: this.routeChanges,
    };
  }
}

export interface MeshGauges {
  readonly neighboursUp: number;
  readonly neighboursDown: number;
  readonly routes: number;
  readonly sessions: number;
}

const byLabel = (label: string, m: ReadonlyMap<string, number>): MetricSample[] =>
  [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => ({ labels: { [label]: k }, value: v }));

export function renderMeshMetrics(c: MeshCounters, g: MeshGauges): string {
  const lines = [
    ...familyLines('x0t_mesh_neighbours', 'gauge', 'Mesh neighbours known to the router, by state.', [
      { labels: { state: 'up' }, value: g.neighboursUp }, { labels: { state: 'down' }, value: g.neighboursDown },
    ]),
    ...familyLines('x0t_mesh_routes', 'gauge', 'Destinations the router has a route to.', [{ value: g.routes }]),
    ...familyLines('x0t_mesh_sessions', 'gauge', 'Established sessions with neighbours.', [{ value: g.sessions }]),
    ...familyLines('x0t_mesh_handshakes_total', 'counter', 'Session handshakes completed (either side).', [{ value: c.handshakes }]),
    ...familyLines('x0t_mesh_rekeys_total', 'counter', 'Session rekeys completed.', [{ value: c.rekeys }]),
    ...familyLines('x0t_mesh_handshake_timeouts_total', 'counter', 'Handshakes that got no valid answer in time.', [{ value: c.handshakeTimeouts }]),
    ...familyLines('x0t_mesh_session_rejects_total', 'counter', 'Handshakes and frames the session layer refused, by reason.', byLabel('reason', c.rejects)),
    ...familyLines('x0t_mesh_control_bytes_total', 'counter', 'UDP payload bytes of sealed routing frames, by direction.', [
      { labels: { direction: 'sent' }, value: c.controlBytesSent }, { labels: { direction: 'received' }, value: c.controlBytesReceived },
    ]),
    ...familyLines('x0t_mesh_control_messages_total', 'counter', 'Routing messages, by direction.', [
      { labels: { direction: 'sent' }, value: c.controlMessagesSent }, { labels: { direction: 'received' }, value: c.controlMessagesReceived },
    ]),
    ...familyLines('x0t_mesh_data_originated_total', 'counter', 'Mesh data messages this node sent as their source.', [{ value: c.dataOriginated }]),
    ...familyLines('x0t_mesh_data_forwarded_total', 'counter', 'Mesh data messages this node passed on towards their destination.', [{ value: c.dataForwarded }]),
    ...familyLines('x0t_mesh_data_delivered_total', 'counter', 'Mesh data messages that arrived here as their destination.', [{ value: c.dataDelivered }]),
    ...familyLines('x0t_mesh_data_dropped_total', 'counter', 'Mesh data messages dropped here, by reason (no-route, ttl, no-session, quarantined, malformed, unknown-service).', byLabel('reason', c.dataDropped)),
    ...familyLines('x0t_mesh_undecodable_total', 'counter', 'Datagrams on the mesh port that did not decode.', [{ value: c.undecodable }]),
    ...familyLines('x0t_mesh_send_errors_total', 'counter', 'UDP sends the kernel refused (e.g. ENETUNREACH).', [{ value: c.sendErrors }]),
    ...familyLines('x0t_mesh_neighbour_down_total', 'counter', 'Neighbours taken down, by reason (carrier, admin, session, send-error).', byLabel('reason', c.neighbourDowns)),
    ...familyLines('x0t_mesh_route_changes_total', 'counter', 'Route changes reported by the router.', [{ value: c.routeChanges }]),
  ];
  return lines.join('\n') + '\n';
}
