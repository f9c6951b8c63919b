// The hybrid suite with the real primitives: X-Wing over the ML-KEM-768 plugin and composite Ed25519 + ML-DSA-65
// over the ML-DSA-65 plugin (PqcSuite, in-thread). Establishment, message sizes, downgrade refusals, tampering, and
// rekeys under traffic.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PqcSuite } from '../../../host/crypto/pqc-suite.js';
import { SUITES } from '../../../host/mesh/session/session-suite.js';
import { decodeFrame, encodeFrame } from '../../../host/mesh/wire/frame.js';
import { classicCrypto, continuousTraffic, flip, makeIdentity, rejects, SessionNet, verifierFor, type Crypto } from './session-net.js';

let pqc: PqcSuite;
let hybrid: Crypto;

before(async () => {
  pqc = await PqcSuite.open({ isolation: 'in-thread' });
  hybrid = { suite: 'hybrid', kem: pqc.xwing, signer: pqc.composite };
});
after(async () => {
  await pqc?.close();
});

async function hybridPair(opts = {}) {
  const ia = await makeIdentity(hybrid);
  const ib = await makeIdentity(hybrid);
  const net = new SessionNet();
  const v = verifierFor(ia, ib);
  return { net, ia, ib, v, a: net.add(ia, hybrid, v, opts), b: net.add(ib, hybrid, v, opts) };
}

describe('hybrid sessions (X-Wing + Ed25519/ML-DSA-65)', () => {
  test('handshake over the frame codec; msg1 and msg2 are several KB (the transport fragments them)', async () => {
    const { net, a, b } = await hybridPair();
    a.manager.connect(b.endpoint, b.fp);
    await net.settle();
    assert.ok(a.manager.hasSession(b.fp) && b.manager.hasSession(a.fp));
    const size = (k: string): number => net.log.find((l) => l.frame.kind === k)!.wire.bytes.length;
    const pinnedRecord = 4 + 1 + 1 + 17 + 2 + 1984 + 1 + 6 + 2 + 1216;
    assert.equal(size('handshake-init'), 4 + 2358 + 33 + 4 + pinnedRecord + 3373 + 16);
    assert.equal(size('handshake-resp'), 4 + 2250 + 8 + 3373 + 16);
    a.manager.send(b.fp, new TextEncoder().encode('post-quantum hello'));
    await net.settle();
    assert.equal(new TextDecoder().decode(b.delivered[0]!.plaintext), 'post-quantum hello');
    assert.equal(b.manager.sessions()[0]!.suite, 'hybrid');
  });

  test('downgrade: a classic offer, a changed suite byte and classic credentials are refused by a hybrid node', async () => {
    const { net, a, b, ib } = await hybridPair();
    // A classic pair's genuine msg1, delivered to the hybrid node.
    const classic = classicCrypto();
    const ic = await makeIdentity(classic);
    const id = await makeIdentity(classic);
    const vc = verifierFor(ic, id);
    const c = net.add(ic, classic, vc);
    const d = net.add(id, classic, vc);
    net.intercept = (_w, f) => (f.kind === 'handshake-init' ? 'hold' : 'deliver');
    c.manager.connect(d.endpoint, d.fp);
    a.manager.connect(b.endpoint, b.fp);
    await net.settle();
    const classicInit = net.held.find((w) => w.from === c.endpoint)!;
    const hybridInit = net.held.find((w) => w.from === a.endpoint)!;
    await net.inject({ ...classicInit, to: b.endpoint });
    assert.deepEqual(rejects(b), ['downgrade']);
    // The hybrid msg1 with its suite byte changed to classic.
    const body = (decodeFrame(hybridInit.bytes) as { body: Uint8Array }).body;
    const changed = body.slice();
    changed[1] = SUITES.classic.id;
    await net.inject({ ...hybridInit, bytes: encodeFrame({ kind: 'handshake-init', body: changed }) });
    assert.deepEqual(rejects(b), ['downgrade', 'downgrade']);
    // Any other suite byte.
    await net.inject({ ...hybridInit, bytes: encodeFrame({ kind: 'handshake-init', body: flip(body, 1) }) });
    assert.equal(rejects(b).at(-1), 'suite');
    // A classic node trusted by the hybrid node's verifier still cannot get its classic keys accepted.
    const vMixed = verifierFor(ib, ic);
    const e = net.add(ib, hybrid, vMixed);
    net.intercept = () => 'deliver';
    e.manager.connect(c.endpoint, c.fp);
    await net.settle();
    assert.equal(rejects(e).at(-1), 'downgrade');
    assert.equal(b.manager.sessions().length, 0);
    assert.equal(e.manager.sessions().length, 0);
    // The genuine hybrid msg1 still works.
    await net.inject(hybridInit);
    await net.settle();
    assert.ok(a.manager.hasSession(b.fp));
  });

  test('tampered hybrid msg1 (ephemeral key, X-Wing ciphertext, payload) is refused', async () => {
    const { net, a, b } = await hybridPair();
    net.intercept = (_w, f) => (f.kind === 'handshake-init' ? 'hold' : 'deliver');
    a.manager.connect(b.endpoint, b.fp);
    await net.settle();
    const w = net.held.pop()!;
    const body = (decodeFrame(w.bytes) as { body: Uint8Array }).body;
    for (const i of [22 + 100, 22 + 1216 + 1, 22 + 1216 + 1119, 2358 + 10, body.length - 100]) {
      await net.inject({ ...w, bytes: encodeFrame({ kind: 'handshake-init', body: flip(body, i) }) });
    }
    assert.deepEqual(rejects(b), ['tampered', 'tampered', 'tampered', 'tampered', 'tampered']);
    assert.equal(b.manager.sessions().length, 0);
  });

  test('rekeys under continuous traffic drop nothing', async () => {
    const { net, a, b } = await hybridPair({ rekeyAfterMs: 300 });
    a.manager.connect(b.endpoint, b.fp);
    await net.settle();
    await continuousTraffic(net, a, b, 160, 10);
    assert.ok(a.manager.stats().rekeys >= 4, `rekeyed ${a.manager.stats().rekeys} times`);
    assert.deepEqual(rejects(a), []);
    assert.deepEqual(rejects(b), []);
  });
});
