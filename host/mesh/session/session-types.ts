// What the SessionManager reports: events, per-session info and counters (the node turns them into metrics and the
// admin API's /mesh/sessions).
import type { FrameKind } from '../wire/frame.js';
import type { UdpEndpoint } from '../transport/udp-endpoint.js';
import type { SuiteName } from './session-suite.js';

/**
 * Why a frame was refused (SessionError details.reason): 'tampered' (does not decode, authenticate or verify),
 * 'replayed', 'reflected', 'downgrade', 'suite', 'identity' (credentials refused or for another fingerprint),
 * 'unknown-peer' (an identity frame nobody asked for), 'no-session' (unknown receiver index or handshake),
 * 'decrypt' (sealed packet fails its tag), 'stale' (session past its age), 'rate-limited', 'internal'.
 */
export type RejectReason =
  | 'tampered' | 'replayed' | 'reflected' | 'downgrade' | 'suite' | 'identity' | 'unknown-peer' | 'no-session'
  | 'decrypt' | 'stale' | 'rate-limited' | 'internal';

export type SessionEvent =
  /** The first usable session with a peer (after none). */
  | { readonly type: 'up'; readonly peer: string; readonly spiffeId: string; readonly endpoint: UdpEndpoint }
  /** The peer has no usable session any more: 'expired' (max age or counter space), 'closed' (close()). */
  | { readonly type: 'down'; readonly peer: string; readonly reason: 'expired' | 'closed' }
  /** A new session replaced a working one (rekey); `rekeys` counts them for this peer. */
  | { readonly type: 'rekeyed'; readonly peer: string; readonly rekeys: number }
  /** A frame was refused; nothing from it was delivered. */
  | { readonly type: 'rejected'; readonly reason: RejectReason; readonly kind: FrameKind; readonly from: UdpEndpoint; readonly peer?: string }
  /** The peer came back with a new boot id: its old sessions were dropped. */
  | { readonly type: 'peer-restarted'; readonly peer: string }
  /** A handshake (or the identity fetch before it) got no valid answer within handshakeTimeoutMs. */
  | { readonly type: 'handshake-failed'; readonly peer: string | null; readonly endpoint: UdpEndpoint };

export interface SessionInfo {
  readonly peer: string;
  readonly spiffeId: string;
  readonly endpoint: UdpEndpoint;
  readonly suite: SuiteName;
  /** Who started this session's handshake. */
  readonly role: 'initiator' | 'responder';
  /** 'current' sends; 'previous' still receives after a rekey; 'next' awaits the initiator's first packet. */
  readonly slot: 'current' | 'previous' | 'next';
  readonly localIndex: number;
  readonly remoteIndex: number;
  readonly establishedAtMs: number;
  readonly ageMs: number;
  /** Rekeys with this peer so far. */
  readonly rekeys: number;
  readonly txPackets: number;
  readonly rxPackets: number;
  readonly txBytes: number;
  readonly rxBytes: number;
}

export interface SessionStats {
  readonly handshakesInitiated: number;
  /** Completed as initiator (msg2 verified) and as responder (msg2 sent). */
  readonly handshakesCompleted: number;
  readonly handshakesAccepted: number;
  readonly rekeys: number;
  readonly peerRestarts: number;
  readonly rejects: Readonly<Record<string, number>>;
  readonly sealedSent: number;
  readonly sealedReceived: number;
}
