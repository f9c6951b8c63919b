// The session layer of a mesh node: learns peers' credentials (identity-request / identity frames), runs the
// handshake of handshake.ts as initiator and responder, seals and opens traffic (sealed-channel.ts), rekeys, and
// recovers when a peer restarts. Time comes from `now()` and `tick(nowMs)`; I/O is the `send` and `deliver`
// callbacks, so tests wire two managers back to back without sockets.
//
// Per peer (keyed by fingerprint) up to three sessions, as in WireGuard: `current` (sends and receives),
// `previous` (receive only, for packets still in flight after a rekey, kept for a grace time) and `next` (the
// responder's new session, used for sending only once the initiator's first packet arrived on it — the initiator
// sends an empty keepalive right after msg2 for that — so a lost msg2 never strands the responder's traffic).
// The initiator of the current session rekeys after rekeyAfterMs (minus up to 10 % jitter); the responder steps in
// at 1.2 × rekeyAfterMs if that does not happen; a session dies at 1.5 × rekeyAfterMs or after 2^60 packets.
//
// DoS sense, cheapest checks first: version and suite byte; an exact replay of a msg1 (hash of its cleartext) is
// refused before any KEM operation; per-source token buckets and a bound on handshakes being processed at once;
// the timestamp of a msg1 is checked against that initiator's last accepted one before any signature or
// credential verification; verified credential chains are cached; identity requests must be padded to 1 KB.
import { randomBytes } from 'node:crypto';
import { CodecError, IdentityError, SessionError } from '../../errors/index.js';
import { sha3_256 } from '../../crypto/curve25519.js';
import type { CredentialVerifier, LocalIdentity, PeerCredentials } from '../../crypto/peer-credentials.js';
import type { Kem, SignatureScheme } from '../../crypto/primitives.js';
import { endpointKey, type UdpEndpoint } from '../transport/udp-endpoint.js';
import type { Frame, FrameKind } from '../wire/frame.js';
import {
  createInit, createResp, decodeInit, finishInit, openInit, verifyInit, type InitiatorState, type Primitives,
} from './handshake.js';
import {
  decodeIdentity, decodeIdentityRequest, encodeIdentity, encodeIdentityRequest, IDENTITY_NONCE_BYTES, peekSuiteId, toHex,
  BOOT_ID_BYTES,
} from './handshake-messages.js';
import { RateLimiter } from './rate-limiter.js';
import { REKEY_AFTER_MESSAGES, SealedChannel } from './sealed-channel.js';
import { checkSuitePrimitives, suiteById, SUITES, type SessionSuite, type SuiteName } from './session-suite.js';
import type { RejectReason, SessionEvent, SessionInfo, SessionStats } from './session-types.js';

export const DEFAULT_REKEY_AFTER_MS = 120_000;
export const MAX_REKEY_AFTER_MS = 120_000;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface SessionLimits {
  /** Handshake and identity frames accepted per source endpoint: sustained rate and burst. */
  readonly handshakesPerSecond?: number;
  readonly handshakeBurst?: number;
  /** Handshake messages being processed (awaiting crypto) at once; more are refused. */
  readonly maxInFlight?: number;
  /** Handshakes started because of a sealed packet for an unknown index, per source: at most one per this. */
  readonly unknownIndexHandshakeMs?: number;
  /** How long a replaced session still receives. */
  readonly previousGraceMs?: number;
  /** msg1 retransmission interval while waiting for msg2. */
  readonly retryMs?: number;
}

export interface SessionManagerOptions {
  readonly suite: SuiteName;
  readonly kem: Kem;
  readonly signer: SignatureScheme;
  /** Re-read for every handshake (SVID rotation). */
  identity(): LocalIdentity;
  readonly verifier: CredentialVerifier;
  send(to: UdpEndpoint, frame: Frame): void;
  deliver(peer: PeerCredentials, plaintext: Uint8Array, from: UdpEndpoint): void;
  onEvent?(e: SessionEvent): void;
  now?: () => number;
  /** ≤ 120 000 (the default). */
  readonly rekeyAfterMs?: number;
  readonly handshakeTimeoutMs?: number;
  readonly limits?: SessionLimits;
}

class Session {
  txPackets = 0;
  rxPackets = 0;
  txBytes = 0;
  rxBytes = 0;
  demotedAt: number | null = null;

  constructor(
    readonly channel: SealedChannel,
    readonly peer: PeerCredentials,
    readonly role: 'initiator' | 'responder',
    readonly createdAt: number,
    readonly rekeyAt: number,
    readonly expiresAt: number,
  ) {}
}

interface Pending {
  readonly localIndex: number;
  readonly firstStartedAt: number;
  sentAt: number;
  state: InitiatorState | null;
}

interface Peer {
  creds: PeerCredentials;
  endpoint: UdpEndpoint;
  current: Session | null;
  previous: Session | null;
  next: Session | null;
  pending: Pending | null;
  /** Their boot id as last authenticated (hex). */
  bootId: string | null;
  /** Timestamp of the last msg1 accepted from them. */
  lastInitTimestamp: bigint;
  rekeys: number;
}

interface IdentityFetch {
  readonly nonce: Uint8Array;
  readonly expected: string | undefined;
  readonly firstSentAt: number;
  sentAt: number;
}

const MAX_SEEN_INITS = 8192;
const MAX_CHAIN_CACHE = 1024;

export class SessionManager {
  readonly suite: SessionSuite;
  readonly #o: SessionManagerOptions;
  readonly #p: Primitives;
  readonly #now: () => number;
  readonly #rekeyAfterMs: number;
  readonly #handshakeTimeoutMs: number;
  readonly #retryMs: number;
  readonly #graceMs: number;
  readonly #unknownIndexMs: number;
  readonly #maxInFlight: number;
  readonly #limiter: RateLimiter;
  readonly #unknownIndexLimiter = new RateLimiter(10, 10, 1);
  readonly #bootId = new Uint8Array(randomBytes(BOOT_ID_BYTES));

  readonly #peers = new Map<string, Peer>();
  readonly #byIndex = new Map<number, Session>();
  readonly #pendingByIndex = new Map<number, Peer>();
  readonly #fetches = new Map<string, IdentityFetch>();
  readonly #fetchEndpoints = new Map<string, UdpEndpoint>();
  readonly #endpointPeer = new Map<string, string>();
  readonly #credentialCache = new Map<string, PeerCredentials>();
  readonly #chainCache = new Map<string, PeerCredentials>();
  readonly #seenInits = new Set<string>();
  /** Hashes of our own recent ephemeral keys: a msg1 carrying one is ours, reflected back. */
  readonly #ownEphemerals = new Set<string>();
  readonly #reserved = new Set<number>();
  readonly #lastUnknownIndexHandshake = new Map<string, number>();
  #inFlight = 0;
  #lastTimestamp = 0n;
  #closed = false;

  #handshakesInitiated = 0;
  #handshakesCompleted = 0;
  #handshakesAccepted = 0;
  #rekeys = 0;
  #peerRestarts = 0;
  #sealedSent = 0;
  #sealedReceived = 0;
  readonly #rejects: Record<string, number> = {};

  constructor(o: SessionManagerOptions) {
    const suite = SUITES[o.suite];
    if (suite === undefined) throw new SessionError(`unknown session suite ${String(o.suite)}`, { reason: 'suite', suite: o.suite });
    checkSuitePrimitives(suite, o.kem.algorithm, o.signer.algorithm);
    const rekey = o.rekeyAfterMs ?? DEFAULT_REKEY_AFTER_MS;
    if (!(rekey > 0 && rekey <= MAX_REKEY_AFTER_MS)) {
      throw new SessionError(`rekeyAfterMs must be in (0, ${MAX_REKEY_AFTER_MS}], got ${rekey}`, { reason: 'config', field: 'rekeyAfterMs' });
    }
    this.suite = suite;
    this.#o = o;
    this.#p = { suite, kem: o.kem, signer: o.signer };
    this.#now = o.now ?? Date.now;
    this.#rekeyAfterMs = rekey;
    this.#handshakeTimeoutMs = o.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const l = o.limits ?? {};
    this.#retryMs = l.retryMs ?? Math.min(1000, this.#handshakeTimeoutMs / 3);
    this.#graceMs = l.previousGraceMs ?? 10_000;
    this.#unknownIndexMs = l.unknownIndexHandshakeMs ?? 1000;
    this.#maxInFlight = l.maxInFlight ?? 16;
    this.#limiter = new RateLimiter(l.handshakesPerSecond ?? 20, l.handshakeBurst ?? 40);
  }

  /** This instance's boot id (hex): peers notice a restart by a new one. */
  get bootId(): string {
    return toHex(this.#bootId);
  }

  // ---------------------------------------------------------------- public API

  /** Starts a session with whoever listens at `to` (fetching its credentials first unless cached). */
  connect(to: UdpEndpoint, expected?: string): void {
    if (this.#closed) return;
    const known = expected ?? this.#endpointPeer.get(endpointKey(to));
    // Idempotent: discovery may call this on every beacon; a working or starting session is left alone.
    const peer = known === undefined ? undefined : this.#peers.get(known);
    if (peer !== undefined && (peer.pending !== null || this.hasSession(peer.creds.fingerprint))) return;
    const creds = known === undefined ? undefined : this.#credentialCache.get(known);
    if (creds !== undefined && creds.notAfter > this.#now()) {
      this.#startHandshake(creds, to);
      return;
    }
    this.#fetchIdentity(to, expected);
  }

  /** Frames other than beacons. Never throws: refusals become 'rejected' events and counters. */
  async handleFrame(frame: Frame, from: UdpEndpoint): Promise<void> {
    if (this.#closed) return;
    try {
      switch (frame.kind) {
        case 'sealed':
          this.#onSealed(frame.receiver, frame.counter, frame.ciphertext, from);
          return;
        case 'handshake-init':
          await this.#limited(from, 'handshake-init', () => this.#onInit(frame.body, from));
          return;
        case 'handshake-resp':
          await this.#limited(from, 'handshake-resp', () => this.#onResp(frame.body, from));
          return;
        case 'identity-request':
          await this.#limited(from, 'identity-request', async () => this.#onIdentityRequest(frame.body, from));
          return;
        case 'identity':
          await this.#limited(from, 'identity', () => this.#onIdentity(frame.body, from));
          return;
        default:
          return; // beacons belong to discovery
      }
    } catch (e) {
      // A body that does not decode is a tampered (or garbage) message; anything unforeseen is counted apart.
      const reason = e instanceof SessionError ? String(e.details.reason) as RejectReason : e instanceof CodecError ? 'tampered' : 'internal';
      this.#reject(frame.kind, from, reason);
    }
  }

  /** Seals `plaintext` for `peer` on its current session; false when there is none (call connect). */
  send(peer: string, plaintext: Uint8Array): boolean {
    const p = this.#peers.get(peer);
    const s = p?.current;
    if (p === undefined || s === null || s === undefined || this.#closed) return false;
    if (this.#now() >= s.expiresAt) return false;
    const sealed = s.channel.seal(plaintext);
    if (sealed === null) return false;
    s.txPackets++;
    s.txBytes += plaintext.length;
    this.#sealedSent++;
    this.#o.send(p.endpoint, { kind: 'sealed', receiver: sealed.receiver, counter: sealed.counter, ciphertext: sealed.ciphertext });
    return true;
  }

  /** True when `send(peer, …)` would seal. */
  hasSession(peer: string): boolean {
    const s = this.#peers.get(peer)?.current;
    return s !== null && s !== undefined && this.#now() < s.expiresAt;
  }

  /** Rekeys, retransmissions, timeouts and expiries due at `nowMs`. */
  tick(nowMs: number): void {
    if (this.#closed) return;
    for (const [key, f] of this.#fetches) {
      const to = this.#fetchEndpoints.get(key)!;
      if (nowMs - f.firstSentAt >= this.#handshakeTimeoutMs) {
        this.#fetches.delete(key);
        this.#fetchEndpoints.delete(key);
        this.#emit({ type: 'handshake-failed', peer: f.expected ?? null, endpoint: to });
      } else if (nowMs - f.sentAt >= this.#retryMs) {
        f.sentAt = nowMs;
        this.#o.send(to, { kind: 'identity-request', body: encodeIdentityRequest(f.nonce) });
      }
    }
    for (const p of this.#peers.values()) {
      this.#expire(p, nowMs);
      const pend = p.pending;
      if (pend !== null) {
        if (nowMs - pend.firstStartedAt >= this.#handshakeTimeoutMs) {
          this.#dropPending(p);
          // Perhaps the peer's keys changed: forget them unless a session proves them, so connect() refetches.
          if (p.current === null) this.#credentialCache.delete(p.creds.fingerprint);
          this.#emit({ type: 'handshake-failed', peer: p.creds.fingerprint, endpoint: p.endpoint });
        } else if (pend.state !== null && nowMs - pend.sentAt >= this.#retryMs) {
          const first = pend.firstStartedAt;
          this.#dropPending(p);
          this.#startHandshake(p.creds, p.endpoint, first);
        }
        continue;
      }
      const c = p.current;
      if (c === null) continue;
      const age = nowMs - c.createdAt;
      const due = c.role === 'initiator' ? nowMs >= c.rekeyAt : age >= this.#rekeyAfterMs * 1.2;
      if (!due && c.channel.sent < REKEY_AFTER_MESSAGES) continue;
      // Credentials past their notAfter (an SVID not renewed) are fetched and verified again before rekeying.
      if (p.creds.notAfter <= nowMs) this.#fetchIdentity(p.endpoint, p.creds.fingerprint);
      else this.#startHandshake(p.creds, p.endpoint);
    }
  }

  sessions(): SessionInfo[] {
    const now = this.#now();
    const out: SessionInfo[] = [];
    for (const p of this.#peers.values()) {
      for (const [slot, s] of [['current', p.current], ['previous', p.previous], ['next', p.next]] as const) {
        if (s === null) continue;
        out.push({
          peer: p.creds.fingerprint, spiffeId: s.peer.spiffeId, endpoint: p.endpoint, suite: this.suite.name, role: s.role, slot,
          localIndex: s.channel.localIndex, remoteIndex: s.channel.remoteIndex, establishedAtMs: s.createdAt, ageMs: now - s.createdAt,
          rekeys: p.rekeys, txPackets: s.txPackets, rxPackets: s.rxPackets, txBytes: s.txBytes, rxBytes: s.rxBytes,
        });
      }
    }
    return out;
  }

  stats(): SessionStats {
    return {
      handshakesInitiated: this.#handshakesInitiated, handshakesCompleted: this.#handshakesCompleted,
      handshakesAccepted: this.#handshakesAccepted, rekeys: this.#rekeys, peerRestarts: this.#peerRestarts,
      rejects: { ...this.#rejects }, sealedSent: this.#sealedSent, sealedReceived: this.#sealedReceived,
    };
  }

  /** Credentials learnt for `fingerprint` (identity exchange or handshake), if any. */
  credentials(fingerprint: string): PeerCredentials | undefined {
    return this.#peers.get(fingerprint)?.creds ?? this.#credentialCache.get(fingerprint);
  }

  close(): void {
    if (this.#closed) return;
    for (const p of this.#peers.values()) {
      if (p.current !== null) this.#emit({ type: 'down', peer: p.creds.fingerprint, reason: 'closed' });
    }
    this.#closed = true;
    this.#peers.clear();
    this.#byIndex.clear();
    this.#pendingByIndex.clear();
    this.#fetches.clear();
  }

  // ---------------------------------------------------------------- helpers

  #emit(e: SessionEvent): void {
    try {
      this.#o.onEvent?.(e);
    } catch {
      // an observer's failure must not break the session layer
    }
  }

  #reject(kind: FrameKind, from: UdpEndpoint, reason: RejectReason, peer?: string): void {
    this.#rejects[reason] = (this.#rejects[reason] ?? 0) + 1;
    this.#emit(peer === undefined ? { type: 'rejected', reason, kind, from } : { type: 'rejected', reason, kind, from, peer });
  }

  async #limited(from: UdpEndpoint, kind: FrameKind, run: () => Promise<void>): Promise<void> {
    if (this.#inFlight >= this.#maxInFlight || !this.#limiter.take(endpointKey(from), this.#now())) {
      this.#reject(kind, from, 'rate-limited');
      return;
    }
    this.#inFlight++;
    try {
      await run();
    } finally {
      this.#inFlight--;
    }
  }

  #freeIndex(): number {
    for (;;) {
      const i = randomBytes(4).readUInt32LE(0);
      if (!this.#byIndex.has(i) && !this.#pendingByIndex.has(i) && !this.#reserved.has(i)) return i;
    }
  }

  #nextTimestamp(): bigint {
    const t = BigInt(Math.floor(this.#now())) * 1_000_000n;
    this.#lastTimestamp = t > this.#lastTimestamp ? t : this.#lastTimestamp + 1n;
    return this.#lastTimestamp;
  }

  #peerFor(creds: PeerCredentials, endpoint: UdpEndpoint): Peer {
    let p = this.#peers.get(creds.fingerprint);
    if (p === undefined) {
      p = { creds, endpoint, current: null, previous: null, next: null, pending: null, bootId: null, lastInitTimestamp: -1n, rekeys: 0 };
      this.#peers.set(creds.fingerprint, p);
    } else {
      p.creds = creds;
    }
    this.#credentialCache.set(creds.fingerprint, creds);
    return p;
  }

  /** Credentials of a presented chain, through the verifier with a cache keyed by the chain's hash. */
  async #verifyChain(chain: readonly Uint8Array[]): Promise<PeerCredentials> {
    const now = this.#now();
    const key = toHex(sha3_256(...chain.flatMap((c) => [Uint8Array.of(c.length & 0xff, (c.length >>> 8) & 0xff, (c.length >>> 16) & 0xff), c])));
    const hit = this.#chainCache.get(key);
    if (hit !== undefined && hit.notAfter > now) return hit;
    const creds = await this.#o.verifier.verify(chain, now);
    if (this.#chainCache.size >= MAX_CHAIN_CACHE) this.#chainCache.clear();
    this.#chainCache.set(key, creds);
    return creds;
  }

  /** The credentials must carry this suite's algorithms: a hybrid node refuses classic keys as a downgrade. */
  #checkAlgorithms(creds: PeerCredentials): void {
    if (creds.kemAlgorithm === this.suite.kemAlgorithm && creds.signingAlgorithm === this.suite.signingAlgorithm) {
      if (creds.kemPublicKey.length === this.#p.kem.sizes.publicKeyBytes && creds.signingPublicKey.length === this.#p.signer.sizes.publicKeyBytes) return;
      throw new SessionError(`peer ${creds.fingerprint} has keys of the wrong length`, { reason: 'identity', peer: creds.fingerprint });
    }
    const reason = this.suite.name === 'hybrid' ? 'downgrade' : 'suite';
    throw new SessionError(`peer ${creds.fingerprint} has ${creds.kemAlgorithm} + ${creds.signingAlgorithm} keys, this node speaks ${this.suite.name}`, {
      reason, peer: creds.fingerprint,
    });
  }

  /** Version and suite byte of a handshake message: a hybrid node calls a classic offer a downgrade. */
  #checkSuiteByte(body: Uint8Array, kind: 'handshake-init' | 'handshake-resp'): void {
    const id = peekSuiteId(body, kind);
    if (id === this.suite.id) return;
    const offered = suiteById(id);
    const reason = offered !== undefined && this.suite.name === 'hybrid' ? 'downgrade' : 'suite';
    throw new SessionError(`${kind} offers suite ${offered?.name ?? id}, this node speaks ${this.suite.name}`, { reason, offered: id });
  }

  #install(s: Session): void {
    this.#byIndex.set(s.channel.localIndex, s);
  }

  #forget(s: Session | null): void {
    if (s !== null) this.#byIndex.delete(s.channel.localIndex);
  }

  #dropPending(p: Peer): void {
    if (p.pending !== null) this.#pendingByIndex.delete(p.pending.localIndex);
    p.pending = null;
  }

  /** A new boot id from an authenticated handshake: the peer restarted and forgot every session with us. */
  #checkBoot(p: Peer, bootId: Uint8Array): void {
    const id = toHex(bootId);
    if (p.bootId !== null && p.bootId !== id) {
      const hadSession = p.current !== null || p.previous !== null || p.next !== null;
      for (const s of [p.current, p.previous, p.next]) this.#forget(s);
      p.current = p.previous = p.next = null;
      this.#peerRestarts++;
      if (hadSession) this.#emit({ type: 'peer-restarted', peer: p.creds.fingerprint });
    }
    p.bootId = id;
  }

  /** Makes `s` the sending session of `p`; the one it replaces keeps receiving for the grace time. */
  #promote(p: Peer, s: Session, now: number): void {
    const old = p.current;
    if (p.previous !== null) this.#forget(p.previous);
    if (old !== null) old.demotedAt = now;
    p.previous = old;
    p.current = s;
    if (old === null) {
      this.#emit({ type: 'up', peer: p.creds.fingerprint, spiffeId: p.creds.spiffeId, endpoint: p.endpoint });
    } else {
      p.rekeys++;
      this.#rekeys++;
      this.#emit({ type: 'rekeyed', peer: p.creds.fingerprint, rekeys: p.rekeys });
    }
  }

  #newSession(channel: SealedChannel, creds: PeerCredentials, role: 'initiator' | 'responder', now: number): Session {
    const jitter = role === 'initiator' ? Math.random() * Math.min(10_000, this.#rekeyAfterMs * 0.1) : 0;
    return new Session(channel, creds, role, now, now + this.#rekeyAfterMs - jitter, now + this.#rekeyAfterMs * 1.5);
  }

  #expire(p: Peer, now: number): void {
    if (p.previous !== null && (now >= p.previous.expiresAt || (p.previous.demotedAt !== null && now - p.previous.demotedAt >= this.#graceMs))) {
      this.#forget(p.previous);
      p.previous = null;
    }
    if (p.next !== null && now - p.next.createdAt >= this.#handshakeTimeoutMs * 1.5) {
      this.#forget(p.next);
      p.next = null;
    }
    const c = p.current;
    if (c !== null && (now >= c.expiresAt || c.channel.exhausted)) {
      this.#forget(c);
      p.current = null;
      this.#emit({ type: 'down', peer: p.creds.fingerprint, reason: 'expired' });
    }
  }

  // ---------------------------------------------------------------- identity exchange

  #fetchIdentity(to: UdpEndpoint, expected: string | undefined): void {
    const key = endpointKey(to);
    if (this.#fetches.has(key)) return;
    const now = this.#now();
    const f: IdentityFetch = { nonce: new Uint8Array(randomBytes(IDENTITY_NONCE_BYTES)), expected, firstSentAt: now, sentAt: now };
    this.#fetches.set(key, f);
    this.#fetchEndpoints.set(key, to);
    this.#o.send(to, { kind: 'identity-request', body: encodeIdentityRequest(f.nonce) });
  }

  #onIdentityRequest(body: Uint8Array, from: UdpEndpoint): void {
    let nonce: Uint8Array;
    try {
      ({ nonce } = decodeIdentityRequest(body));
    } catch (e) {
      if (e instanceof CodecError) throw new SessionError('identity-request does not decode', { reason: 'tampered' });
      throw e;
    }
    this.#o.send(from, { kind: 'identity', body: encodeIdentity(nonce, this.#o.identity().credentials.chain) });
  }

  async #onIdentity(body: Uint8Array, from: UdpEndpoint): Promise<void> {
    let msg: { nonce: Uint8Array; chain: Uint8Array[] };
    try {
      msg = decodeIdentity(body);
    } catch (e) {
      if (e instanceof CodecError) throw new SessionError('identity does not decode', { reason: 'tampered' });
      throw e;
    }
    const key = endpointKey(from);
    const f = this.#fetches.get(key);
    if (f === undefined || toHex(f.nonce) !== toHex(msg.nonce)) throw new SessionError('identity frame nobody asked for', { reason: 'unknown-peer' });
    let creds: PeerCredentials;
    try {
      creds = await this.#verifyChain(msg.chain);
    } catch (e) {
      if (e instanceof IdentityError) throw new SessionError('identity refused by the verifier', { reason: 'identity', identity: e.details });
      throw e;
    }
    if (f.expected !== undefined && creds.fingerprint !== f.expected) {
      throw new SessionError(`identity at ${key} is ${creds.fingerprint}, expected ${f.expected}`, { reason: 'identity' });
    }
    if (creds.fingerprint === this.#o.identity().credentials.fingerprint) throw new SessionError('identity is our own', { reason: 'reflected' });
    this.#checkAlgorithms(creds);
    if (this.#fetches.get(key) !== f) return; // answered twice
    this.#fetches.delete(key);
    this.#fetchEndpoints.delete(key);
    this.#endpointPeer.set(key, creds.fingerprint);
    this.#credentialCache.set(creds.fingerprint, creds);
    this.#startHandshake(creds, from);
  }

  // ---------------------------------------------------------------- initiator

  #startHandshake(creds: PeerCredentials, to: UdpEndpoint, firstStartedAt?: number): void {
    const p = this.#peerFor(creds, to);
    if (p.pending !== null) return;
    p.endpoint = to;
    const now = this.#now();
    const localIndex = this.#freeIndex();
    const pend: Pending = { localIndex, firstStartedAt: firstStartedAt ?? now, sentAt: now, state: null };
    p.pending = pend;
    this.#pendingByIndex.set(localIndex, p);
    this.#handshakesInitiated++;
    const local = this.#o.identity();
    void createInit(this.#p, { local, remote: creds, senderIndex: localIndex, timestamp: this.#nextTimestamp(), bootId: this.#bootId })
      .then(({ body, state }) => {
        if (p.pending !== pend || this.#closed) return;
        pend.state = state;
        this.#rememberIn(this.#ownEphemerals, toHex(sha3_256(state.ephemeralPublicKey)), 1024);
        pend.sentAt = this.#now();
        this.#o.send(p.endpoint, { kind: 'handshake-init', body });
      })
      .catch(() => {
        if (p.pending !== pend) return;
        this.#dropPending(p);
        this.#emit({ type: 'handshake-failed', peer: creds.fingerprint, endpoint: to });
      });
  }

  async #onResp(body: Uint8Array, from: UdpEndpoint): Promise<void> {
    this.#checkSuiteByte(body, 'handshake-resp');
    let receiver: number;
    try {
      receiver = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(6, true);
    } catch {
      throw new SessionError('handshake-resp too short', { reason: 'tampered' });
    }
    const p = this.#pendingByIndex.get(receiver);
    const pend = p?.pending;
    if (p === undefined || pend === null || pend === undefined || pend.state === null || pend.localIndex !== receiver) {
      throw new SessionError('handshake-resp for no pending handshake', { reason: 'no-session' });
    }
    const state = pend.state;
    let done;
    try {
      done = await finishInit(this.#p, state, body);
    } catch (e) {
      if (e instanceof CodecError) throw new SessionError('handshake-resp does not decode', { reason: 'tampered', codec: e.details });
      throw e;
    }
    if (p.pending !== pend) throw new SessionError('handshake-resp for a handshake already finished', { reason: 'replayed' });
    this.#dropPending(p);
    this.#checkBoot(p, done.bootId);
    const now = this.#now();
    p.endpoint = from;
    const channel = new SealedChannel({ ...done.keys, localIndex: pend.localIndex, remoteIndex: done.remoteIndex });
    const s = this.#newSession(channel, state.remote, 'initiator', now);
    this.#install(s);
    this.#handshakesCompleted++;
    this.#promote(p, s, now);
    this.send(p.creds.fingerprint, new Uint8Array(0)); // confirms the session to the responder
  }

  // ---------------------------------------------------------------- responder

  async #onInit(body: Uint8Array, from: UdpEndpoint): Promise<void> {
    this.#checkSuiteByte(body, 'handshake-init');
    let m;
    try {
      m = decodeInit(body, this.suite);
    } catch (e) {
      if (e instanceof CodecError) throw new SessionError('handshake-init does not decode', { reason: 'tampered', codec: e.details });
      throw e;
    }
    // An exact replay (same ephemeral key and ciphertext) is refused before any KEM operation.
    const seenKey = toHex(sha3_256(m.cleartext));
    if (this.#seenInits.has(seenKey)) throw new SessionError('handshake-init seen before', { reason: 'replayed' });
    // Our own msg1 sent back to us.
    if (this.#ownEphemerals.has(toHex(sha3_256(m.ephemeralPublicKey)))) throw new SessionError('handshake-init is our own', { reason: 'reflected' });
    const local = this.#o.identity();
    const opened = await openInit(this.#p, local, m);
    this.#rememberIn(this.#seenInits, seenKey, MAX_SEEN_INITS);
    const claimed = opened.head.initiatorFingerprint;
    if (claimed === local.credentials.fingerprint) throw new SessionError('handshake-init claims our own identity', { reason: 'reflected' });
    const known = this.#peers.get(claimed);
    if (known !== undefined && opened.head.timestamp <= known.lastInitTimestamp) {
      throw new SessionError(`handshake-init from ${claimed} is not newer than the last one`, { reason: 'replayed' });
    }
    let creds: PeerCredentials;
    try {
      creds = await this.#verifyChain(opened.head.chain);
    } catch (e) {
      if (e instanceof IdentityError) throw new SessionError('initiator credentials refused', { reason: 'identity', identity: e.details });
      throw e;
    }
    if (creds.fingerprint !== claimed) throw new SessionError(`credentials of ${creds.fingerprint} in a handshake claiming ${claimed}`, { reason: 'identity' });
    this.#checkAlgorithms(creds);
    if (!(await verifyInit(this.#p, opened, creds))) throw new SessionError('handshake-init signature does not verify', { reason: 'tampered' });
    const p = this.#peerFor(creds, from);
    if (opened.head.timestamp <= p.lastInitTimestamp) throw new SessionError('handshake-init overtaken by a newer one', { reason: 'replayed' });
    this.#checkBoot(p, opened.head.bootId);
    p.lastInitTimestamp = opened.head.timestamp;
    const localIndex = this.#freeIndex();
    this.#reserved.add(localIndex); // while msg2 is built
    let resp;
    try {
      resp = await createResp(this.#p, { opened, initiator: creds, local, senderIndex: localIndex, bootId: this.#bootId });
    } finally {
      this.#reserved.delete(localIndex);
    }
    if (this.#closed) return;
    const now = this.#now();
    p.endpoint = from;
    this.#endpointPeer.set(endpointKey(from), creds.fingerprint);
    const channel = new SealedChannel({ ...resp.keys, localIndex, remoteIndex: m.senderIndex });
    const s = this.#newSession(channel, creds, 'responder', now);
    this.#forget(p.next);
    p.next = s;
    this.#install(s);
    this.#handshakesAccepted++;
    this.#o.send(from, { kind: 'handshake-resp', body: resp.body });
  }

  /** Adds to a bounded set; when full, the older half goes (Set order = insertion). */
  #rememberIn(set: Set<string>, key: string, max: number): void {
    if (set.size >= max) {
      let n = max / 2;
      for (const k of set) {
        if (n-- <= 0) break;
        set.delete(k);
      }
    }
    set.add(key);
  }

  // ---------------------------------------------------------------- transport

  #onSealed(receiver: number, counter: bigint, ciphertext: Uint8Array, from: UdpEndpoint): void {
    const s = this.#byIndex.get(receiver);
    if (s === undefined) {
      this.#reject('sealed', from, 'no-session');
      this.#handshakeForUnknownIndex(from);
      return;
    }
    const p = this.#peers.get(s.peer.fingerprint);
    if (p === undefined) {
      this.#reject('sealed', from, 'no-session');
      return;
    }
    const now = this.#now();
    if (now >= s.expiresAt) {
      this.#reject('sealed', from, 'stale', p.creds.fingerprint);
      return;
    }
    const plain = s.channel.open(counter, ciphertext);
    if (typeof plain === 'string') {
      this.#reject('sealed', from, plain, p.creds.fingerprint);
      return;
    }
    s.rxPackets++;
    s.rxBytes += plain.length;
    this.#sealedReceived++;
    p.endpoint = from; // roaming: answer where authenticated traffic comes from
    if (p.next === s) {
      p.next = null;
      this.#promote(p, s, now);
    }
    if (plain.length > 0) this.#o.deliver(s.peer, plain, from);
  }

  /** A peer that restarted sends with indices we no longer know: start a handshake to it (rate-limited). */
  #handshakeForUnknownIndex(from: UdpEndpoint): void {
    const key = endpointKey(from);
    const known = this.#endpointPeer.get(key);
    if (known !== undefined && this.hasSession(known)) return; // a stale index of a live session, not a restart
    const now = this.#now();
    const last = this.#lastUnknownIndexHandshake.get(key);
    if (last !== undefined && now - last < this.#unknownIndexMs) return;
    // Also bounded overall: spoofed sources must not turn us into a source of identity requests.
    if (!this.#unknownIndexLimiter.take('all', now)) return;
    if (this.#lastUnknownIndexHandshake.size >= 4096) this.#lastUnknownIndexHandshake.clear();
    this.#lastUnknownIndexHandshake.set(key, now);
    this.connect(from);
  }
}
