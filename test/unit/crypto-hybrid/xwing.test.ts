// X-Wing over the real ML-KEM-768 plugin (PqcSuite, worker isolation) against @noble/post-quantum's
// ml_kem768_x25519 byte for byte and at its edges (low-order X25519 points,
// forged ciphertexts, wrong lengths). noble is only ever the reference here, never a stand-in for our code.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sha3_256, shake256 } from '@noble/hashes/sha3.js';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { PqcSuite } from '../../../host/crypto/pqc-suite.js';
import type { Kem } from '../../../host/crypto/primitives.js';
import { XWING_LABEL, XWING_SIZES, XWing } from '../../../host/crypto/xwing.js';
import { CryptoInputError } from '../../../host/errors/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const same = (a: Uint8Array, b: Uint8Array, what: string): void => assert.equal(hex(a), hex(b), what);

let suite: PqcSuite;
let xwing: Kem;

before(async () => {
  suite = await PqcSuite.open();
  xwing = suite.xwing;
});
after(async () => {
  await suite?.close();
});

describe('X-Wing matches noble ml_kem768_x25519 byte for byte', () => {
  test('sizes: pk 1216, sk 32, ct 1120, ss 32, seed 32, randomness 64', () => {
    assert.equal(xwing.algorithm, 'x-wing');
    assert.deepEqual({ ...xwing.sizes }, {
      publicKeyBytes: 1216, secretKeyBytes: 32, ciphertextBytes: 1120, sharedSecretBytes: 32, seedBytes: 32, randomnessBytes: 64,
    });
    assert.deepEqual(
      [ml_kem768_x25519.lengths.publicKey, ml_kem768_x25519.lengths.secretKey, ml_kem768_x25519.lengths.cipherText,
        ml_kem768_x25519.lengths.msg, ml_kem768_x25519.lengths.seed, ml_kem768_x25519.lengths.msgRand],
      [1216, 32, 1120, 32, 32, 64],
    );
  });

  test('200 random seeds: same key pair; same ct and ss for the same randomness; each decapsulates the other', async () => {
    for (let i = 0; i < 200; i++) {
      const seed = bytes(32);
      const eseed = bytes(64);
      const ours = await xwing.keygen(seed);
      const ref = ml_kem768_x25519.keygen(seed);
      same(ours.publicKey, ref.publicKey, `public key, seed ${hex(seed)}`);
      same(ours.secretKey, ref.secretKey, `secret key, seed ${hex(seed)}`);
      same(ours.secretKey, seed, 'the secret key is the seed');

      const enc = await xwing.encapsulate(ours.publicKey, eseed);
      const refEnc = ml_kem768_x25519.encapsulate(ref.publicKey, eseed);
      same(enc.ciphertext, refEnc.cipherText, `ciphertext, seed ${hex(seed)}, eseed ${hex(eseed)}`);
      same(enc.sharedSecret, refEnc.sharedSecret, `shared secret, seed ${hex(seed)}, eseed ${hex(eseed)}`);

      // Cross decapsulation with fresh randomness on each side.
      const fresh = await xwing.encapsulate(ours.publicKey);
      same(ml_kem768_x25519.decapsulate(fresh.ciphertext, ref.secretKey), fresh.sharedSecret, 'noble decapsulates ours');
      const refFresh = ml_kem768_x25519.encapsulate(ref.publicKey);
      same(await xwing.decapsulate(ours.secretKey, refFresh.cipherText), refFresh.sharedSecret, 'we decapsulate noble\'s');
    }
  });

  test('unseeded keygen gives working, distinct keys that noble accepts', async () => {
    const a = await xwing.keygen();
    const b = await xwing.keygen();
    assert.notEqual(hex(a.secretKey), hex(b.secretKey));
    same(ml_kem768_x25519.getPublicKey(a.secretKey), a.publicKey, 'noble derives the same public key');
    const enc = ml_kem768_x25519.encapsulate(a.publicKey);
    same(await xwing.decapsulate(a.secretKey, enc.cipherText), enc.sharedSecret, 'round trip');
  });

  test('a forged ML-KEM ciphertext half: both reject implicitly to the same secret', async () => {
    for (let i = 0; i < 10; i++) {
      const kp = await xwing.keygen(bytes(32));
      const enc = await xwing.encapsulate(kp.publicKey);
      const forged = enc.ciphertext.slice();
      forged.set(bytes(1088), 0);
      const ss = await xwing.decapsulate(kp.secretKey, forged);
      assert.notEqual(hex(ss), hex(enc.sharedSecret));
      same(ss, ml_kem768_x25519.decapsulate(forged, kp.secretKey), 'implicit-rejection secret');
    }
  });

  test('a tampered X25519 half changes the secret the same way in both', async () => {
    const kp = await xwing.keygen(bytes(32));
    const enc = await xwing.encapsulate(kp.publicKey);
    const tampered = enc.ciphertext.slice();
    tampered[1100]! ^= 0x01;
    const ss = await xwing.decapsulate(kp.secretKey, tampered);
    assert.notEqual(hex(ss), hex(enc.sharedSecret));
    same(ss, ml_kem768_x25519.decapsulate(tampered, kp.secretKey), 'same secret as noble');
  });
});

describe('low-order X25519 points follow the draft (X25519 = 0, no error); noble 0.7.1 refuses them', () => {
  // u = 0, 1, p - 1 and the two points of order 8 (RFC 7748 / libsodium blocklist), plus p and p + 1 (non-canonical).
  const LOW_ORDER = [
    '0000000000000000000000000000000000000000000000000000000000000000',
    '0100000000000000000000000000000000000000000000000000000000000000',
    'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
    '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
    'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  ];

  /** The draft's Decapsulate, written out with noble's ML-KEM-768 and SHA-3 and ss_X = 0. */
  function draftDecapsulateZeroX(sk: Uint8Array, ct: Uint8Array): Uint8Array {
    const e = shake256(sk, { dkLen: 96 });
    const m = ml_kem768.keygen(e.subarray(0, 64));
    const pkX = ml_kem768_x25519.getPublicKey(sk).subarray(1184);
    const ssM = ml_kem768.decapsulate(ct.subarray(0, 1088), m.secretKey);
    return sha3_256(Uint8Array.from([...ssM, ...new Uint8Array(32), ...ct.subarray(1088), ...pkX, ...XWING_LABEL]));
  }

  test('decapsulation of a ciphertext whose X25519 half is low order returns the draft value', async () => {
    const kp = await xwing.keygen(bytes(32));
    const enc = await xwing.encapsulate(kp.publicKey);
    for (const u of LOW_ORDER) {
      const ct = enc.ciphertext.slice();
      ct.set(unhex(u), 1088);
      const ss = await xwing.decapsulate(kp.secretKey, ct);
      same(ss, draftDecapsulateZeroX(kp.secretKey, ct), `u = ${u}`);
      assert.throws(() => ml_kem768_x25519.decapsulate(ct, kp.secretKey), `noble refuses u = ${u}`);
    }
  });

  test('encapsulation to a public key whose X25519 half is low order succeeds', async () => {
    const kp = await xwing.keygen(bytes(32));
    const pk = kp.publicKey.slice();
    pk.set(unhex(LOW_ORDER[0]!), 1184);
    const enc = await xwing.encapsulate(pk, bytes(64));
    assert.equal(enc.ciphertext.length, 1120);
    assert.equal(enc.sharedSecret.length, 32);
  });
});

describe('X-Wing input checks', () => {
  test('wrong lengths are CryptoInputError (exit code 7), before anything reaches the plugin', async () => {
    const kp = await xwing.keygen(bytes(32));
    const enc = await xwing.encapsulate(kp.publicKey);
    const cases: [string, () => Promise<unknown>][] = [
      ['seed 31', () => xwing.keygen(bytes(31))],
      ['seed 64', () => xwing.keygen(bytes(64))],
      ['pk 1215', () => xwing.encapsulate(kp.publicKey.subarray(0, 1215))],
      ['pk 1184 (bare ML-KEM key)', () => xwing.encapsulate(kp.publicKey.subarray(0, 1184))],
      ['randomness 32', () => xwing.encapsulate(kp.publicKey, bytes(32))],
      ['sk 2400', () => xwing.decapsulate(bytes(2400), enc.ciphertext)],
      ['ct 1088', () => xwing.decapsulate(kp.secretKey, enc.ciphertext.subarray(0, 1088))],
      ['ct 1121', () => xwing.decapsulate(kp.secretKey, Uint8Array.from([...enc.ciphertext, 0]))],
    ];
    for (const [name, f] of cases) {
      await assert.rejects(f(), (e: unknown) => {
        assert.ok(e instanceof CryptoInputError, `${name}: ${String(e)}`);
        assert.equal(e.exitCode, 7);
        assert.equal(e.details['algorithm'], 'x-wing');
        return true;
      }, name);
    }
  });

  test('the constructor refuses a KEM that is not ML-KEM-768', () => {
    const notMlKem768: Kem = {
      algorithm: 'ml-kem-512',
      sizes: { ...suite.kem.sizes, publicKeyBytes: 800 },
      keygen: () => Promise.reject(new Error('unused')),
      encapsulate: () => Promise.reject(new Error('unused')),
      decapsulate: () => Promise.reject(new Error('unused')),
    };
    assert.throws(() => new XWing(notMlKem768), CryptoInputError);
    assert.deepEqual({ ...new XWing(suite.kem).sizes }, { ...XWING_SIZES });
  });
});
