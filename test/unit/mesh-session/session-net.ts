// Test support (not a test): SessionManagers wired back to back through encodeFrame/decodeFrame, no sockets. Every
// frame a manager sends is encoded, then decoded and handed to the manager listening at the destination endpoint —
// unless the test's `intercept` holds, drops or rewrites it. Delivery order can be shuffled (reordering).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Ed25519Signer } from '../../../host/crypto/ed25519-signer.js';
import type { LocalIdentity, PeerCredentials } from '../../../host/crypto/peer-credentials.js';
import type { Kem, SignatureScheme } from '../../../host/crypto/primitives.js';
import { X25519Kem } from '../../../host/crypto/x25519-kem.js';
import { pinnedIdentity, PinnedKeyVerifier, type PinnedKey } from '../../../host/mesh/session/pinned-key-verifier.js';
import { SessionManager, type SessionManagerOptions } from '../../../host/mesh/session/session-manager.js';
import type { SuiteName } from '../../../host/mesh/session/session-suite.js';
import type { SessionEvent } from '../../../host/mesh/session/session-types.js';
import { endpointKey, type UdpEndpoint } from '../../../host/mesh/transport/udp-endpoint.js';
import { decodeFrame, encodeFrame, type Frame } from '../../../host/mesh/wire/frame.js';

export const TRUST_DOMAIN = 'test.mesh';

export interface Wire {
  readonly from: UdpEndpoint;
  readonly to: UdpEndpoint;
  readonly bytes: Uint8Array;
}

/** What the test decides for one datagram: deliver as is, drop, keep for later, or deliver other bytes. */
export type Verdict = 'deliver' | 'drop' | 'hold' | Uint8Array;

export interface Crypto {
  readonly suite: SuiteName;
  readonly kem: Kem;
  readonly signer: SignatureScheme;
}

export const classicCrypto = (): Crypto => ({ suite: 'classic', kem: new X25519Kem(), signer: new Ed25519Signer() });

export async function makeIdentity(c: Crypto): Promise<LocalIdentity & { pinned: PinnedKey }> {
  const s = await c.signer.keygen();
  const k = await c.kem.keygen();
  const pinned: PinnedKey = { signingAlgorithm: c.signer.algorithm, signingPublicKey: s.publicKey, kemAlgorithm: c.kem.algorithm, kemPublicKey: k.publicKey };
  return { ...pinnedIdentity({ ...pinned, signingSecretKey: s.secretKey, kemSecretKey: k.secretKey }, TRUST_DOMAIN), pinned };
}

export interface TestNode {
  readonly endpoint: UdpEndpoint;
  readonly identity: LocalIdentity;
  readonly fp: string;
  manager: SessionManager;
  readonly events: SessionEvent[];
  readonly delivered: { peer: PeerCredentials; plaintext: Uint8Array }[];
}

export class SessionNet {
  readonly nodes = new Map<string, TestNode>();
  readonly held: Wire[] = [];
  readonly log: { wire: Wire; frame: Frame }[] = [];
  intercept: (w: Wire, f: Frame) => Verdict = () => 'deliver';
  /** Shuffle each batch of queued datagrams (reordering). */
  reorder = false;
  clock = 1_000_000;
  #queue: Wire[] = [];
  #inFlight = new Set<Promise<void>>();
  #port = 40000;

  now = (): number => this.clock;

  add(identity: LocalIdentity, crypto: Crypto, verifier: PinnedKeyVerifier, opts: Partial<SessionManagerOptions> = {}, endpoint?: UdpEndpoint): TestNode {
    const ep = endpoint ?? { address: '127.0.0.1', port: this.#port++ };
    const node: TestNode = {
      endpoint: ep, identity, fp: identity.credentials.fingerprint, events: [], delivered: [],
      manager: undefined as unknown as SessionManager,
    };
    node.manager = new SessionManager({
      suite: crypto.suite, kem: crypto.kem, signer: crypto.signer, identity: () => identity, verifier,
      send: (to, frame) => this.#send(ep, to, frame),
      deliver: (peer, plaintext) => node.delivered.push({ peer, plaintext: plaintext.slice() }),
      onEvent: (e) => node.events.push(e),
      now: this.now,
      ...opts,
    });
    this.nodes.set(endpointKey(ep), node);
    return node;
  }

  /** Replaces the manager at `node`'s endpoint by a fresh one (a restart: same keys, no state). */
  restart(node: TestNode, crypto: Crypto, verifier: PinnedKeyVerifier, opts: Partial<SessionManagerOptions> = {}): TestNode {
    node.manager.close();
    this.nodes.delete(endpointKey(node.endpoint));
    return this.add(node.identity, crypto, verifier, opts, node.endpoint);
  }

  #send(from: UdpEndpoint, to: UdpEndpoint, frame: Frame): void {
    const wire = { from, to, bytes: encodeFrame(frame) };
    this.log.push({ wire, frame });
    this.#queue.push(wire);
  }

  /** Delivers one datagram now (bypassing `intercept`). */
  async inject(w: Wire): Promise<void> {
    const node = this.nodes.get(endpointKey(w.to));
    if (node === undefined) return;
    await node.manager.handleFrame(decodeFrame(w.bytes), w.from);
  }

  /** Delivers everything queued, repeatedly, until nothing is queued or running for a while. */
  async settle(maxRounds = 10_000): Promise<void> {
    let idle = 0;
    for (let round = 0; round < maxRounds; round++) {
      if (this.#queue.length > 0) {
        idle = 0;
        const batch = this.#queue;
        this.#queue = [];
        if (this.reorder) batch.sort(() => randomBytes(1)[0]! - 128);
        for (const w of batch) {
          const frame = decodeFrame(w.bytes);
          const v = this.intercept(w, frame);
          if (v === 'drop') continue;
          if (v === 'hold') {
            this.held.push(w);
            continue;
          }
          const bytes = v === 'deliver' ? w.bytes : v;
          const p = this.inject({ ...w, bytes }).finally(() => this.#inFlight.delete(p));
          this.#inFlight.add(p);
        }
      } else if (this.#inFlight.size > 0) {
        idle = 0;
        await Promise.race(this.#inFlight);
      } else {
        if (++idle > 30) return;
        await new Promise((r) => setImmediate(r));
      }
    }
  }

  /** Advances the shared clock and ticks every manager. */
  advance(ms: number): void {
    this.clock += ms;
    for (const n of this.nodes.values()) n.manager.tick(this.clock);
  }
}

/** A verifier pinning all of `ids`. */
export function verifierFor(...ids: { pinned: PinnedKey }[]): PinnedKeyVerifier {
  return new PinnedKeyVerifier(ids.map((i) => i.pinned), TRUST_DOMAIN);
}

export const rejects = (n: TestNode): string[] => n.events.flatMap((e) => (e.type === 'rejected' ? [e.reason] : []));

export function flip(b: Uint8Array, i: number): Uint8Array {
  const c = b.slice();
  c[i]! ^= 0x01;
  return c;
}

const seqOf = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, true);
const packet = (seq: number): Uint8Array => {
  const b = new Uint8Array(4 + (seq % 50));
  new DataView(b.buffer).setUint32(0, seq, true);
  return b;
};

/** Runs `steps` steps of `stepMs`, each sending one packet each way and delaying ~20 % of sealed packets a step. */
export async function continuousTraffic(net: SessionNet, a: TestNode, b: TestNode, steps: number, stepMs: number): Promise<void> {
  net.reorder = true;
  let delayed: Wire[] = [];
  net.intercept = (_w, f) => (f.kind === 'sealed' && Math.random() < 0.2 ? 'hold' : 'deliver');
  let seq = 0;
  for (let i = 0; i < steps; i++) {
    assert.ok(a.manager.send(b.fp, packet(seq)), `a → b packet ${seq} had a session`);
    assert.ok(b.manager.send(a.fp, packet(seq)), `b → a packet ${seq} had a session`);
    seq++;
    await net.settle();
    const late = delayed.sort(() => Math.random() - 0.5);
    delayed = net.held.splice(0);
    for (const w of late) await net.inject(w);
    net.advance(stepMs);
    await net.settle();
  }
  for (const w of [...delayed, ...net.held.splice(0)]) await net.inject(w);
  await net.settle();
  for (const [to, from] of [[b, a], [a, b]] as const) {
    const got = to.delivered.filter((d) => d.peer.fingerprint === from.fp).map((d) => seqOf(d.plaintext));
    const counts = new Map<number, number>();
    for (const s of got) counts.set(s, (counts.get(s) ?? 0) + 1);
    const missing = [...Array(seq).keys()].filter((s) => counts.get(s) !== 1);
    assert.deepEqual(missing, [], `${from.fp.slice(0, 6)} → ${to.fp.slice(0, 6)}: every packet exactly once`);
    assert.equal(got.length, seq);
  }
}

