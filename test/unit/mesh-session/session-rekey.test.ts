// Rekeying under continuous traffic in both directions (with reordering and delayed packets across key changes)
// delivers every packet exactly once; a restarted peer is recovered from.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classicCrypto, continuousTraffic, makeIdentity, rejects, SessionNet, verifierFor, type Crypto, type TestNode } from './session-net.js';

async function rekeyRun(crypto: Crypto, rekeyAfterMs: number, steps: number, stepMs: number): Promise<{ a: TestNode; b: TestNode }> {
  const ia = await makeIdentity(crypto);
  const ib = await makeIdentity(crypto);
  const net = new SessionNet();
  const v = verifierFor(ia, ib);
  const a = net.add(ia, crypto, v, { rekeyAfterMs });
  const b = net.add(ib, crypto, v, { rekeyAfterMs });
  a.manager.connect(b.endpoint, b.fp);
  await net.settle();
  await continuousTraffic(net, a, b, steps, stepMs);
  assert.deepEqual(rejects(a), []);
  assert.deepEqual(rejects(b), []);
  return { a, b };
}

describe('rekeying and restarts', () => {
  test('classic: 30+ rekeys under continuous two-way traffic with reordering drop nothing', async () => {
    const { a, b } = await rekeyRun(classicCrypto(), 400, 1400, 10);
    const rekeys = a.manager.stats().rekeys;
    assert.ok(rekeys >= 30, `rekeyed ${rekeys} times`);
    assert.equal(b.manager.stats().rekeys, rekeys);
    assert.equal(a.events.filter((e) => e.type === 'up').length, 1);
    assert.equal(a.events.filter((e) => e.type === 'down').length, 0);
    assert.ok(a.manager.sessions().every((s) => s.ageMs < 600), 'sessions are young');
  });

  test('the default rekey interval is at most 2 minutes', async () => {
    const crypto = classicCrypto();
    const ia = await makeIdentity(crypto);
    const ib = await makeIdentity(crypto);
    const net = new SessionNet();
    const v = verifierFor(ia, ib);
    const a = net.add(ia, crypto, v);
    const b = net.add(ib, crypto, v);
    a.manager.connect(b.endpoint, b.fp);
    await net.settle();
    for (let t = 0; t < 24; t++) {
      net.advance(5000);
      await net.settle();
    }
    assert.equal(a.manager.stats().rekeys, 1);
    assert.ok(a.manager.hasSession(b.fp) && b.manager.hasSession(a.fp));
  });

  test('a restarted peer: sealed packets for forgotten indices trigger a handshake, the old sessions are replaced', async () => {
    const crypto = classicCrypto();
    const ia = await makeIdentity(crypto);
    const ib = await makeIdentity(crypto);
    const net = new SessionNet();
    const v = verifierFor(ia, ib);
    const a = net.add(ia, crypto, v);
    let b = net.add(ib, crypto, v);
    a.manager.connect(b.endpoint, b.fp);
    await net.settle();
    const oldBoot = b.manager.bootId;
    b = net.restart(b, crypto, v);
    assert.notEqual(b.manager.bootId, oldBoot);
    net.advance(10);
    assert.ok(a.manager.send(b.fp, new TextEncoder().encode('into the void'))); // a does not know yet
    await net.settle();
    assert.equal(b.delivered.length, 0);
    assert.ok(rejects(b).includes('no-session'));
    assert.ok(a.events.some((e) => e.type === 'peer-restarted' && e.peer === b.fp));
    assert.ok(b.manager.hasSession(a.fp));
    assert.ok(a.manager.send(b.fp, new TextEncoder().encode('again')));
    assert.ok(b.manager.send(a.fp, new TextEncoder().encode('back')));
    await net.settle();
    assert.deepEqual(b.delivered.map((d) => new TextDecoder().decode(d.plaintext)), ['again']);
    assert.deepEqual(a.delivered.map((d) => new TextDecoder().decode(d.plaintext)), ['back']);
    assert.equal(a.manager.sessions().filter((s) => s.peer === b.fp).length, 1, 'the old session is gone');
  });
});
