// Two SessionManagers (classic suite: X25519-KEM + Ed25519, pinned keys) wired back to back through the real frame
// codec: establishment, traffic, and every refusal the handshake and the sealed transport must make, each checked
// for its SessionError reason and for having delivered nothing and formed no session.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PinnedKeyVerifier } from '../../../host/mesh/session/pinned-key-verifier.js';
import { createInit, decodeInit, openInit } from '../../../host/mesh/session/handshake.js';
import { SessionError } from '../../../host/errors/index.js';
import { SUITES } from '../../../host/mesh/session/session-suite.js';
import { decodeFrame, encodeFrame, type Frame } from '../../../host/mesh/wire/frame.js';
import { classicCrypto, flip, makeIdentity, rejects, SessionNet, TRUST_DOMAIN, verifierFor, type Wire } from './session-net.js';

const crypto = classicCrypto();
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

async function pair(opts = {}) {
  const ia = await makeIdentity(crypto);
  const ib = await makeIdentity(crypto);
  const net = new SessionNet();
  const v = verifierFor(ia, ib);
  const a = net.add(ia, crypto, v, opts);
  const b = net.add(ib, crypto, v, opts);
  return { net, a, b, ia, ib, v };
}

async function established() {
  const x = await pair();
  x.a.manager.connect(x.b.endpoint, x.b.fp);
  await x.net.settle();
  assert.ok(x.a.manager.hasSession(x.b.fp) && x.b.manager.hasSession(x.a.fp), 'session formed');
  return x;
}

const body = (f: Frame): Uint8Array => ('body' in f ? f.body : assert.fail('no body'));
const withBody = (w: Wire, kind: 'handshake-init' | 'handshake-resp', b: Uint8Array): Wire =>
  ({ ...w, bytes: encodeFrame({ kind, body: b }) });

describe('classic sessions over the frame codec', () => {
  test('connect fetches the identity, handshakes, and carries traffic both ways exactly once', async () => {
    const { net, a, b } = await established();
    assert.deepEqual(net.log.map((l) => l.frame.kind).slice(0, 5), ['identity-request', 'identity', 'handshake-init', 'handshake-resp', 'sealed']);
    assert.ok(a.manager.send(b.fp, utf8('hello b')));
    assert.ok(b.manager.send(a.fp, utf8('hello a')));
    await net.settle();
    assert.deepEqual(b.delivered.map((d) => [d.peer.fingerprint, text(d.plaintext)]), [[a.fp, 'hello b']]);
    assert.deepEqual(a.delivered.map((d) => [d.peer.fingerprint, text(d.plaintext)]), [[b.fp, 'hello a']]);
    assert.equal(b.delivered[0]!.peer.spiffeId, `spiffe://${TRUST_DOMAIN}/node/${a.fp}`);
    assert.deepEqual(a.events.filter((e) => e.type === 'up').map((e) => e.type === 'up' && e.peer), [b.fp]);
    assert.deepEqual(b.events.filter((e) => e.type === 'up').map((e) => e.type === 'up' && e.peer), [a.fp]);
    const sa = a.manager.sessions();
    assert.equal(sa.length, 1);
    assert.equal(sa[0]!.role, 'initiator');
    assert.equal(sa[0]!.suite, 'classic');
    assert.equal(sa[0]!.txPackets, 2); // the confirming keepalive and 'hello b'
    assert.equal(b.manager.sessions()[0]!.role, 'responder');
    assert.deepEqual(rejects(a), []);
    assert.deepEqual(rejects(b), []);
  });

  test('both sides connecting at once end with working sessions; connect on a live session is a no-op', async () => {
    const { net, a, b } = await pair();
    a.manager.connect(b.endpoint, b.fp);
    b.manager.connect(a.endpoint, a.fp);
    await net.settle();
    assert.ok(a.manager.send(b.fp, utf8('1')) && b.manager.send(a.fp, utf8('2')));
    await net.settle();
    assert.deepEqual([a.delivered.map((d) => text(d.plaintext)), b.delivered.map((d) => text(d.plaintext))], [['2'], ['1']]);
    const handshakes = a.manager.stats().handshakesInitiated;
    a.manager.connect(b.endpoint, b.fp);
    a.manager.connect(b.endpoint);
    await net.settle();
    assert.equal(a.manager.stats().handshakesInitiated, handshakes);
    assert.deepEqual([...rejects(a), ...rejects(b)], []);
  });

  test('send is refused without a session', async () => {
    const { a, b } = await pair();
    assert.equal(a.manager.send(b.fp, utf8('x')), false);
  });

  test('tampered msg1: every region is refused with its reason, nothing forms', async () => {
    const { net, a, b } = await pair();
    net.intercept = (_w, f) => (f.kind === 'handshake-init' ? 'hold' : 'deliver');
    a.manager.connect(b.endpoint, b.fp);
    await net.settle();
    const w = net.held.pop()!;
    const m = body(decodeFrame(w.bytes));
    const s = SUITES.classic;
    const at = { version: 0, suite: 1, sender: 2, responder: 6, ephemeral: 22, ciphertext: 22 + s.kemPublicKeyBytes };
    const sealed = at.ciphertext + s.kemCiphertextBytes;
    const cases: [string, number, string][] = [
      ['version', at.version, 'tampered'], ['suite', at.suite, 'suite'], ['sender index', at.sender, 'tampered'],
      ['responder fingerprint', at.responder + 3, 'identity'], ['ephemeral key', at.ephemeral + 5, 'tampered'],
      ['kem ciphertext', at.ciphertext + 7, 'tampered'], ['sealed fingerprint', sealed, 'tampered'],
      ['sealed timestamp', sealed + 17, 'tampered'], ['sealed chain', sealed + 40, 'tampered'],
      ['sealed signature', m.length - 30, 'tampered'], ['tag', m.length - 1, 'tampered'],
    ];
    for (const [region, i, reason] of cases) {
      const before = b.events.length;
      await net.inject(withBody(w, 'handshake-init', flip(m, i)));
      const got = b.events.slice(before).flatMap((e) => (e.type === 'rejected' ? [e.reason] : []));
      assert.deepEqual(got, [reason], `flipping the ${region} (byte ${i})`);
    }
    // Truncated and extended.
    await net.inject(withBody(w, 'handshake-init', m.subarray(0, 40)));
    await net.inject(withBody(w, 'handshake-init', m.subarray(0, m.length - 1)));
    await net.inject(withBody(w, 'handshake-init', new Uint8Array([...m, 0])));
    assert.deepEqual(rejects(b).slice(-3), ['tampered', 'tampered', 'tampered']);
    await net.settle();
    assert.equal(b.manager.sessions().length, 0);
    assert.equal(a.manager.sessions().length, 0);
    assert.equal(b.delivered.length, 0);
    // The genuine msg1 is still accepted afterwards: forgeries did not poison the replay state.
    net.intercept = () => 'deliver';
    await net.inject(w);
    await net.settle();
    assert.ok(a.manager.hasSession(b.fp));
  });

  test('tampered msg2: every region is refused, the handshake survives the forgeries', async () => {
    const { net, a, b } = await pair();
    net.intercept = (_w, f) => (f.kind === 'handshake-resp' ? 'hold' : 'deliver');
    a.manager.connect(b.endpoint, b.fp);
    await net.settle();
    const w = net.held.pop()!;
    const m = body(decodeFrame(w.bytes));
    const s = SUITES.classic;
    const ctE = 10;
    const ctS = ctE + s.kemCiphertextBytes;
    const sealed = ctS + s.kemCiphertextBytes;
    const cases: [string, number, string][] = [
      ['version', 0, 'tampered'], ['suite', 1, 'suite'], ['sender index', 2, 'tampered'], ['receiver index', 6, 'no-session'],
      ['ephemeral ciphertext', ctE + 1, 'tampered'], ['static ciphertext', ctS + 1, 'tampered'], ['boot id', sealed + 2, 'tampered'],
      ['signature', sealed + 20, 'tampered'], ['tag', m.length - 1, 'tampered'],
    ];
    for (const [region, i, reason] of cases) {
      const before = a.events.length;
      await net.inject(withBody(w, 'handshake-resp', flip(m, i)));
      const got = a.events.slice(before).flatMap((e) => (e.type === 'rejected' ? [e.reason] : []));
      assert.deepEqual(got, [reason], `flipping the ${region} (byte ${i})`);
      assert.equal(a.manager.hasSession(b.fp), false);
    }
    await net.inject(w);
    await net.settle();
    assert.ok(a.manager.hasSession(b.fp) && b.manager.hasSession(a.fp));
    // The same msg2 again: its handshake is finished.
    await net.inject(w);
    assert.equal(rejects(a).at(-1), 'no-session');
  });

  test('the suite and version bytes are bound by the transcript, not only checked up front', async () => {
    const { net, a, b, ib } = await pair();
    net.intercept = (_w, f) => (f.kind === 'handshake-init' ? 'hold' : 'deliver');
    a.manager.connect(b.endpoint, b.fp);
    await net.settle();
    const m = decodeInit(body(decodeFrame(net.held.pop()!.bytes)), SUITES.classic);
    const p = { suite: SUITES.classic, kem: crypto.kem, signer: crypto.signer };
    await openInit(p, ib, m); // genuine: opens
    for (const i of [0, 1]) {
      // As if a peer's cheap checks had let another suite or version byte through: the keys no longer match.
      await assert.rejects(openInit(p, ib, { ...m, cleartext: flip(m.cleartext, i) }), (e: SessionError) => e.details.reason === 'tampered');
    }
  });

  test('replayed msg1: an exact copy and an older one are refused', async () => {
    const { net, a, b } = await pair();
    net.intercept = (_w, f) => (f.kind === 'handshake-init' ? 'hold' : 'deliver');
    a.manager.connect(b.endpoint, b.fp);
    await net.settle();
    net.advance(1500); // past the retry interval: a second msg1 with a newer timestamp
    await net.settle();
    assert.equal(net.held.length, 2);
    const [older, newer] = net.held as [Wire, Wire];
    net.intercept = () => 'deliver';
    await net.inject(newer);
    await net.settle();
    assert.ok(a.manager.hasSession(b.fp));
    const sessions = b.manager.sessions().length;
    await net.inject(newer);
    await net.inject(older);
    assert.deepEqual(rejects(b), ['replayed', 'replayed']);
    assert.equal(b.manager.sessions().length, sessions);
    assert.equal(b.manager.stats().handshakesAccepted, 1);
  });

  test('reflected msg1 (sent back to its initiator) is refused', async () => {
    const { net, a, b } = await pair();
    net.intercept = (_w, f) => (f.kind === 'handshake-init' ? 'hold' : 'deliver');
    a.manager.connect(b.endpoint, b.fp);
    await net.settle();
    const w = net.held.pop()!;
    await net.inject({ from: b.endpoint, to: a.endpoint, bytes: w.bytes });
    assert.deepEqual(rejects(a), ['reflected']);
    assert.equal(a.manager.sessions().length, 0);
  });

  test('wrong identity: another node\'s chain, an unpinned key, a msg1 for someone else', async () => {
    const { net, a, b, ia, ib } = await pair();
    const ic = await makeIdentity(crypto); // not pinned by b
    const vAll = verifierFor(ia, ib, ic);
    const c = net.add(ic, crypto, vAll);
    // c is unknown to b's verifier.
    c.manager.connect(b.endpoint, b.fp);
    await net.settle();
    assert.deepEqual(rejects(b), ['identity']);
    assert.equal(b.manager.sessions().length, 0);
    // A malicious initiator presenting a's credentials but signing with its own key.
    const p = { suite: SUITES.classic, kem: crypto.kem, signer: crypto.signer };
    const forged = { credentials: ia.credentials, signingSecretKey: ic.signingSecretKey, kemSecretKey: ic.kemSecretKey };
    const m1 = await createInit(p, { local: forged, remote: ib.credentials, senderIndex: 7, timestamp: BigInt(net.clock) * 1_000_000n, bootId: new Uint8Array(8) });
    await net.inject({ from: c.endpoint, to: b.endpoint, bytes: encodeFrame({ kind: 'handshake-init', body: m1.body }) });
    assert.equal(rejects(b).at(-1), 'tampered'); // the signature does not verify under a's key
    // Claiming fingerprint c while presenting a's chain.
    const mixed = { credentials: { ...ic.credentials, chain: ia.credentials.chain }, signingSecretKey: ic.signingSecretKey, kemSecretKey: ic.kemSecretKey };
    const m2 = await createInit(p, { local: mixed, remote: ib.credentials, senderIndex: 8, timestamp: BigInt(net.clock) * 1_000_000n + 5n, bootId: new Uint8Array(8) });
    await net.inject({ from: c.endpoint, to: b.endpoint, bytes: encodeFrame({ kind: 'handshake-init', body: m2.body }) });
    assert.equal(rejects(b).at(-1), 'identity');
    // connect() expecting a fingerprint that is not the one answering at that endpoint.
    a.manager.connect(b.endpoint, c.fp);
    await net.settle();
    assert.equal(rejects(a).at(-1), 'identity');
    assert.equal(b.manager.sessions().length, 0);
    assert.equal(a.manager.sessions().length, 0);
    assert.equal(b.delivered.length, 0);
  });

  test('replayed, duplicated and forged sealed packets are refused; each packet is delivered once', async () => {
    const { net, a, b } = await established();
    net.intercept = (_w, f) => (f.kind === 'sealed' ? 'hold' : 'deliver');
    for (let i = 0; i < 3; i++) a.manager.send(b.fp, utf8(`p${i}`));
    await net.settle();
    const [p0, p1, p2] = net.held.splice(0) as [Wire, Wire, Wire];
    await net.inject(p2);
    await net.inject(p0);
    await net.inject(p0); // duplicate
    await net.inject(p2); // duplicate
    const f1 = decodeFrame(p1.bytes) as Extract<Frame, { kind: 'sealed' }>;
    await net.inject({ ...p1, bytes: encodeFrame({ ...f1, ciphertext: flip(f1.ciphertext, 0) }) });
    await net.inject({ ...p1, bytes: encodeFrame({ ...f1, counter: f1.counter + 100n }) });
    await net.inject({ ...p1, bytes: encodeFrame({ ...f1, receiver: (f1.receiver + 1) >>> 0 }) });
    await net.inject(p1);
    await net.inject(p1);
    assert.deepEqual(b.delivered.map((d) => text(d.plaintext)), ['p2', 'p0', 'p1']);
    assert.deepEqual(rejects(b), ['replayed', 'replayed', 'decrypt', 'decrypt', 'no-session', 'replayed']);
  });

  test('an identity frame nobody asked for is refused', async () => {
    const { net, a, b, ib } = await pair();
    const { encodeIdentity } = await import('../../../host/mesh/session/handshake-messages.js');
    await net.inject({ from: b.endpoint, to: a.endpoint, bytes: encodeFrame({ kind: 'identity', body: encodeIdentity(new Uint8Array(16), ib.credentials.chain) }) });
    assert.deepEqual(rejects(a), ['unknown-peer']);
  });

  test('a flood of handshake messages from one source is rate limited', async () => {
    const { net, a, b } = await pair({ limits: { handshakesPerSecond: 5, handshakeBurst: 5 } });
    net.intercept = (_w, f) => (f.kind === 'handshake-init' ? 'hold' : 'deliver');
    a.manager.connect(b.endpoint, b.fp);
    await net.settle();
    const w = net.held.pop()!;
    for (let i = 0; i < 10; i++) await net.inject(w);
    // The identity request took one of the 5 tokens: 1 accepted, 3 exact replays, 6 refused unread.
    const r = rejects(b);
    assert.equal(r.filter((x) => x === 'rate-limited').length, 6);
    assert.equal(r.filter((x) => x === 'replayed').length, 3);
    assert.equal(b.manager.stats().handshakesAccepted, 1);
  });

  test('a handshake nobody answers fails after the timeout', async () => {
    const { net, a, b } = await pair({ handshakeTimeoutMs: 3000 });
    net.intercept = () => 'drop';
    a.manager.connect(b.endpoint, b.fp);
    for (let t = 0; t < 8; t++) {
      net.advance(500);
      await net.settle();
    }
    assert.ok(a.events.some((e) => e.type === 'handshake-failed'));
    const requests = net.log.filter((l) => l.frame.kind === 'identity-request').length;
    assert.ok(requests >= 3, `retransmitted the identity request (${requests})`);
  });

  test('a session that is never rekeyed dies at 1.5 × rekeyAfterMs', async () => {
    const { net, a, b } = await pair({ rekeyAfterMs: 10_000 });
    a.manager.connect(b.endpoint, b.fp);
    await net.settle();
    net.intercept = (_w, f) => (f.kind === 'sealed' ? 'deliver' : 'drop');
    for (let t = 0; t < 16; t++) {
      net.advance(1000);
      await net.settle();
    }
    assert.equal(a.manager.send(b.fp, utf8('late')), false);
    assert.ok(a.events.some((e) => e.type === 'down' && e.reason === 'expired'));
    assert.ok(b.events.some((e) => e.type === 'down' && e.reason === 'expired'));
  });

  test('the pinned-key verifier refuses a record whose KEM key differs from the pinned one', async () => {
    const ia = await makeIdentity(crypto);
    const other = await crypto.kem.keygen();
    const v = new PinnedKeyVerifier([ia.pinned], TRUST_DOMAIN);
    const { encodePinnedKey } = await import('../../../host/mesh/session/pinned-key-verifier.js');
    await assert.rejects(v.verify([encodePinnedKey({ ...ia.pinned, kemPublicKey: other.publicKey })], 0), (e: Error & { details?: { reason?: string } }) => e.details?.reason === 'key-mismatch');
    await assert.rejects(v.verify([], 0), (e: Error & { details?: { reason?: string } }) => e.details?.reason === 'malformed');
    await assert.rejects(v.verify([new Uint8Array(10)], 0), (e: Error & { details?: { reason?: string } }) => e.details?.reason === 'malformed');
    assert.equal((await v.verify(ia.credentials.chain, 0)).fingerprint, ia.credentials.fingerprint);
  });
});
