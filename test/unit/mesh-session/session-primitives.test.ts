// The pieces under the session layer: the X25519 KEM, the replay window (against a reference model), the sealed
// channel's nonce/AAD discipline, and totality of every session-layer decoder under random input (fast-check).
import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { x25519 } from '../../../host/crypto/curve25519.js';
import { X25519Kem } from '../../../host/crypto/x25519-kem.js';
import { CodecError, CryptoInputError } from '../../../host/errors/index.js';
import {
  decodeIdentity, decodeIdentityRequest, decodeInit, decodeInitPayload, decodeResp, decodeRespPayload, encodeIdentity,
  encodeIdentityRequest, peekSuiteId,
} from '../../../host/mesh/session/handshake-messages.js';
import { decodePinnedKey, encodePinnedKey } from '../../../host/mesh/session/pinned-key-verifier.js';
import { ReplayWindow } from '../../../host/mesh/session/replay-window.js';
import { SealedChannel } from '../../../host/mesh/session/sealed-channel.js';
import { SUITES } from '../../../host/mesh/session/session-suite.js';

const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('X25519 KEM', () => {
  const kem = new X25519Kem();
  test('encapsulation and decapsulation agree; the secret is HKDF-SHA3-256 of dh with enc ‖ pk as info', async () => {
    const { publicKey, secretKey } = await kem.keygen();
    const r = bytes(32);
    const { ciphertext, sharedSecret } = await kem.encapsulate(publicKey, r);
    assert.equal(hex(await kem.decapsulate(secretKey, ciphertext)), hex(sharedSecret));
    // Written out independently of x25519-kem.ts.
    const dh = x25519(r, publicKey);
    const expected = hkdfSync('sha3-256', dh, Buffer.from('x0t-x25519-kem-v1'), Buffer.concat([ciphertext, publicKey]), 32);
    assert.equal(hex(sharedSecret), Buffer.from(expected).toString('hex'));
    // A second encapsulation gives another secret; another key pair decapsulates to something else.
    assert.notEqual(hex((await kem.encapsulate(publicKey)).sharedSecret), hex(sharedSecret));
    const other = await kem.keygen();
    assert.notEqual(hex(await kem.decapsulate(other.secretKey, ciphertext)), hex(sharedSecret));
    // The same secret key given as fresh bytes (a static key read from a file) decapsulates alike.
    assert.equal(hex(await kem.decapsulate(secretKey.slice(), ciphertext)), hex(sharedSecret));
    // A seeded key pair (DER path) against a fresh ephemeral (generated path).
    const seeded = await kem.keygen(bytes(32));
    const e2 = await kem.encapsulate(seeded.publicKey);
    assert.equal(hex(await kem.decapsulate(seeded.secretKey, e2.ciphertext)), hex(e2.sharedSecret));
  });

  test('keygen from a seed is deterministic; a low-order public key and wrong lengths are refused', async () => {
    const seed = bytes(32);
    assert.equal(hex((await kem.keygen(seed)).publicKey), hex((await kem.keygen(seed)).publicKey));
    await assert.rejects(kem.encapsulate(new Uint8Array(32)), CryptoInputError); // u = 0: low order
    await assert.rejects(kem.encapsulate(new Uint8Array(31)), CryptoInputError);
    await assert.rejects(kem.decapsulate(bytes(32), new Uint8Array(33)), CryptoInputError);
  });
});

describe('replay window', () => {
  test('accepts each counter once, within the window, in any order (model check)', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.bigInt({ min: 0n, max: 9000n }), fc.bigInt({ min: 0n, max: 1n << 62n })), { maxLength: 400 }), (counters) => {
      const w = new ReplayWindow(2048);
      const seen = new Set<bigint>();
      let top = -1n;
      for (const c of counters) {
        const expected = !seen.has(c) && (c > top || top - c < 2048n);
        assert.equal(w.check(c), expected, `check ${c} (top ${top})`);
        assert.equal(w.mark(c), expected);
        if (expected) {
          seen.add(c);
          if (c > top) top = c;
        }
      }
    }), { numRuns: 300 });
  });

  test('a window of 2048 keeps the last 2048 counters and forgets older ones', () => {
    const w = new ReplayWindow(2048);
    for (let i = 0n; i < 5000n; i += 2n) assert.ok(w.mark(i));
    assert.equal(w.check(4998n - 2047n), true); // odd, inside the window, never seen
    assert.equal(w.check(4998n - 2048n), false); // just outside
    assert.equal(w.check(4996n), false); // seen
    assert.throws(() => new ReplayWindow(100), RangeError);
  });
});

describe('sealed channel', () => {
  test('counters count from 0, the AAD binds receiver index and counter, and each packet opens once', () => {
    const k1 = bytes(32);
    const k2 = bytes(32);
    const a = new SealedChannel({ sendKey: k1, recvKey: k2, localIndex: 1, remoteIndex: 2 });
    const b = new SealedChannel({ sendKey: k2, recvKey: k1, localIndex: 2, remoteIndex: 1 });
    const p = a.seal(new TextEncoder().encode('x'))!;
    const q = a.seal(new Uint8Array(0))!;
    assert.deepEqual([p.counter, q.counter, p.receiver], [0n, 1n, 2]);
    assert.equal(q.ciphertext.length, 16);
    const wrongIndex = new SealedChannel({ sendKey: k2, recvKey: k1, localIndex: 3, remoteIndex: 1 });
    assert.equal(wrongIndex.open(p.counter, p.ciphertext), 'decrypt');
    assert.equal(b.open(1n, p.ciphertext), 'decrypt'); // counter is in the nonce and the AAD
    assert.equal(new TextDecoder().decode(b.open(0n, p.ciphertext) as Uint8Array), 'x');
    assert.equal(b.open(0n, p.ciphertext), 'replayed');
    assert.equal(b.open(2n, new Uint8Array(5)), 'decrypt');
    assert.equal((b.open(1n, q.ciphertext) as Uint8Array).length, 0);
  });
});

describe('session-layer decoders are total', () => {
  const total = (decode: (b: Uint8Array) => unknown) => (b: Uint8Array): void => {
    try {
      decode(b);
    } catch (e) {
      assert.ok(e instanceof CodecError, `only CodecError escapes, got ${String(e)}`);
    }
  };
  for (const suite of Object.values(SUITES)) {
    const decoders: [string, (b: Uint8Array) => unknown][] = [
      ['peekSuiteId', (b) => peekSuiteId(b, 'handshake-init')], ['decodeInit', (b) => decodeInit(b, suite)],
      ['decodeResp', (b) => decodeResp(b, suite)], ['decodeInitPayload', (b) => decodeInitPayload(b, suite)],
      ['decodeRespPayload', (b) => decodeRespPayload(b, suite)], ['decodeIdentity', decodeIdentity],
      ['decodeIdentityRequest', decodeIdentityRequest], ['decodePinnedKey', decodePinnedKey],
    ];
    for (const [name, decode] of decoders) {
      test(`${name} (${suite.name}) on random and mutated bytes`, () => {
        const valid = encodeIdentity(bytes(16), [bytes(40), bytes(3)]);
        fc.assert(fc.property(fc.oneof(
          fc.uint8Array({ maxLength: 3000 }),
          fc.uint8Array({ minLength: 1, maxLength: 8 }).map((p) => Uint8Array.of(1, suite.id, ...p, ...bytes(Math.floor(Math.random() * 2600)))),
          fc.nat({ max: valid.length - 1 }).map((i) => { const c = valid.slice(); c[i]! ^= 0xff; return c; }),
          fc.nat({ max: valid.length }).map((n) => valid.subarray(0, n)),
        ), total(decode)), { numRuns: 200 });
      });
    }
  }

  test('identity frames and pinned-key records round-trip', () => {
    const chain = [bytes(100), bytes(1)];
    const nonce = bytes(16);
    const d = decodeIdentity(encodeIdentity(nonce, chain));
    assert.deepEqual([hex(d.nonce), ...d.chain.map(hex)], [hex(nonce), ...chain.map(hex)]);
    assert.equal(hex(decodeIdentityRequest(encodeIdentityRequest(nonce)).nonce), hex(nonce));
    assert.throws(() => decodeIdentityRequest(encodeIdentityRequest(nonce).subarray(0, 100)), CodecError); // unpadded
    const k = { signingAlgorithm: 'ed25519', signingPublicKey: bytes(32), kemAlgorithm: 'x25519', kemPublicKey: bytes(32) };
    const r = decodePinnedKey(encodePinnedKey(k));
    assert.deepEqual([r.signingAlgorithm, hex(r.signingPublicKey), r.kemAlgorithm, hex(r.kemPublicKey)], [k.signingAlgorithm, hex(k.signingPublicKey), k.kemAlgorithm, hex(k.kemPublicKey)]);
  });
});
