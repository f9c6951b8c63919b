// ML-KEM-768 (FIPS 203) through the shipped plugin in its slot (PqcSuite, worker isolation) against
// @noble/post-quantum 0.7.1 and @oqs/liboqs-js 0.15.1: seeded keygen and deterministic encapsulation byte-identical
// to noble for every seed, decapsulation cross-checked both ways with both peers, and the FIPS 203 input checks
// (modulus check, hash check, implicit rejection, lengths). Every random value comes from support.ts's seeded
// SHAKE256 stream; a failure prints the PQC_KAT_SEED / case / index that replays it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ml_kem768 as noble } from '@noble/post-quantum/ml-kem.js';
import { createMLKEM768, type MLKEM768 } from '@oqs/liboqs-js';
import { PqcSuite } from '../../../host/crypto/pqc-suite.js';
import type { Kem } from '../../../host/crypto/primitives.js';
import {
  differentBytes, drbg, flipBit, getEkCoefficient, implicitRejection, KEM, rejectsInput, replay, sameBytes, SEEDS,
  setEkCoefficient, thrown,
} from './support.js';

// Plain Uint8Array views of noble's results (noble may hand out subarrays of one buffer).
const u8 = (b: Uint8Array): Uint8Array => new Uint8Array(b);

describe('ML-KEM-768: ours (plugin in a slot) vs @noble/post-quantum and @oqs/liboqs-js', () => {
  let suite: PqcSuite;
  let kem: Kem;
  let oqs: MLKEM768;

  before(async () => {
    suite = await PqcSuite.open();
    kem = suite.kem;
    oqs = await createMLKEM768();
  });
  after(async () => {
    oqs?.destroy();
    await suite?.close();
  });

  test('sizes are FIPS 203 ML-KEM-768 and match both peers', () => {
    assert.deepEqual({ ...kem.sizes }, {
      publicKeyBytes: KEM.PK, secretKeyBytes: KEM.SK, ciphertextBytes: KEM.CT, sharedSecretBytes: KEM.SS,
      seedBytes: KEM.SEED, randomnessBytes: KEM.M,
    });
    assert.equal(noble.lengths.publicKey, KEM.PK);
    assert.equal(noble.lengths.secretKey, KEM.SK);
    assert.equal(noble.lengths.cipherText, KEM.CT);
    assert.equal(noble.lengths.seed, KEM.SEED);
    assert.equal(oqs.info.keySize.publicKey, KEM.PK);
    assert.equal(oqs.info.keySize.secretKey, KEM.SK);
  });

  test(`seeded keygen (d ‖ z): public and secret key byte-identical to noble for ${SEEDS} seeds`, async () => {
    for (let i = 0; i < SEEDS; i++) {
      const seed = drbg('kem-keygen', i, KEM.SEED);
      const ours = kem.keygen(seed); // runs in the plugin's worker while noble runs here
      const peer = noble.keygen(seed);
      const kp = await ours;
      const where = replay('kem-keygen', i, seed);
      sameBytes(kp.publicKey, peer.publicKey, 'ML-KEM keygen public key', where);
      sameBytes(kp.secretKey, peer.secretKey, 'ML-KEM keygen secret key', where);
    }
  });

  test(`deterministic encapsulation (m): ciphertext and secret byte-identical to noble for ${SEEDS} seeds; ours decapsulates it`, async () => {
    for (let i = 0; i < SEEDS; i++) {
      const seed = drbg('kem-encaps-key', i, KEM.SEED);
      const m = drbg('kem-encaps-m', i, KEM.M);
      const { publicKey, secretKey } = noble.keygen(seed);
      const ours = kem.encapsulate(u8(publicKey), m);
      const peer = noble.encapsulate(publicKey, m);
      const enc = await ours;
      const where = `${replay('kem-encaps', i, seed)} m=${Buffer.from(m).toString('hex')}`;
      sameBytes(enc.ciphertext, peer.cipherText, 'ML-KEM encapsulation ciphertext', where);
      sameBytes(enc.sharedSecret, peer.sharedSecret, 'ML-KEM encapsulation shared secret', where);
      sameBytes(await kem.decapsulate(u8(secretKey), enc.ciphertext), peer.sharedSecret, 'ML-KEM decapsulation of our ciphertext', where);
    }
  });

  test(`noble ↔ ours, ${SEEDS} key pairs: ours decapsulates noble's (hedged) ciphertexts and noble decapsulates ours`, async () => {
    for (let i = 0; i < SEEDS; i++) {
      const seed = drbg('kem-x-noble', i, KEM.SEED);
      const where = replay('kem-x-noble', i, seed);
      const { publicKey, secretKey } = await kem.keygen(seed);
      // noble → ours: noble picks m itself.
      const theirs = noble.encapsulate(publicKey);
      sameBytes(await kem.decapsulate(secretKey, u8(theirs.cipherText)), theirs.sharedSecret, 'ours decapsulating noble', where);
      // ours → noble: our plugin draws m from the host CSPRNG.
      const ours = await kem.encapsulate(publicKey);
      sameBytes(ours.sharedSecret, noble.decapsulate(ours.ciphertext, secretKey), 'noble decapsulating ours', where);
    }
  });

  test(`liboqs ↔ ours, ${SEEDS} rounds: each decapsulates the other's ciphertexts, under either side's key pair`, async () => {
    for (let i = 0; i < SEEDS; i++) {
      const seed = drbg('kem-x-liboqs', i, KEM.SEED);
      const where = replay('kem-x-liboqs', i, seed);
      const ours = await kem.keygen(seed);
      const ourKeys = { publicKey: u8(ours.publicKey), secretKey: u8(ours.secretKey) };
      const oqsKeys = oqs.generateKeyPair();
      // liboqs encapsulates to our key; we decapsulate. We encapsulate to our key; liboqs decapsulates with our sk.
      const a = oqs.encapsulate(ourKeys.publicKey);
      sameBytes(await kem.decapsulate(ourKeys.secretKey, a.ciphertext), a.sharedSecret, 'ours decapsulating liboqs (our keys)', where);
      const b = await kem.encapsulate(ourKeys.publicKey);
      sameBytes(oqs.decapsulate(u8(b.ciphertext), ourKeys.secretKey), b.sharedSecret, 'liboqs decapsulating ours (our keys)', where);
      // The same with liboqs's key pair.
      const c = await kem.encapsulate(oqsKeys.publicKey);
      sameBytes(oqs.decapsulate(u8(c.ciphertext), oqsKeys.secretKey), c.sharedSecret, 'liboqs decapsulating ours (liboqs keys)', where);
      const d = oqs.encapsulate(oqsKeys.publicKey);
      sameBytes(await kem.decapsulate(oqsKeys.secretKey, d.ciphertext), d.sharedSecret, 'ours decapsulating liboqs (liboqs keys)', where);
    }
  });

  test('modulus check (FIPS 203 §7.2): an encapsulation key with a coefficient ≥ q is refused with CryptoInputError, as noble and liboqs refuse it; q − 1 is accepted', async () => {
    const positions = [0, 1, 254, 255, 256, 511, 512, 766, 767];
    for (let i = 0; i < 12; i++) {
      const seed = drbg('kem-modulus', i, KEM.SEED);
      const { publicKey } = noble.keygen(seed);
      const m = drbg('kem-modulus-m', i, KEM.M);
      for (const k of positions) {
        const where = `${replay('kem-modulus', i, seed)} coefficient=${k}`;
        for (const value of [KEM.Q, KEM.Q + 1, 4095]) {
          const bad = setEkCoefficient(u8(publicKey), k, value);
          assert.equal(getEkCoefficient(bad, k), value);
          const err = await rejectsInput(kem.encapsulate(bad, m), `ours, coefficient ${k} = ${value}; ${where}`);
          assert.match(err.message, /ml-kem-768/i);
          await rejectsInput(kem.encapsulate(bad), `ours (fresh m), coefficient ${k} = ${value}; ${where}`);
          assert.ok(thrown(() => noble.encapsulate(bad, m)) instanceof Error, `noble accepted coefficient ${k} = ${value}; ${where}`);
          assert.ok(thrown(() => oqs.encapsulate(bad)) instanceof Error, `liboqs accepted coefficient ${k} = ${value}; ${where}`);
        }
        // q − 1 is a valid coefficient: the edited key is accepted and ours still matches noble byte for byte.
        const edge = setEkCoefficient(u8(publicKey), k, KEM.Q - 1);
        const ours = await kem.encapsulate(edge, m);
        const peer = noble.encapsulate(edge, m);
        sameBytes(ours.ciphertext, peer.cipherText, `ciphertext for coefficient ${k} = q − 1`, where);
        sameBytes(ours.sharedSecret, peer.sharedSecret, `secret for coefficient ${k} = q − 1`, where);
      }
    }
  });

  test('implicit rejection (FIPS 203 §6.3): a tampered ciphertext yields J(z ‖ c), the same as noble and liboqs, never the real secret', async () => {
    for (let i = 0; i < 200; i++) {
      const seed = drbg('kem-implicit', i, KEM.SEED);
      const kp = await kem.keygen(seed);
      const publicKey = u8(kp.publicKey);
      const secretKey = u8(kp.secretKey);
      const m = drbg('kem-implicit-m', i, KEM.M);
      const { ciphertext, sharedSecret } = await kem.encapsulate(publicKey, m);
      // One bit flipped: in u (the first 960 bytes), in v (the last 128), the first and the last bit.
      const bits = [0, KEM.CT * 8 - 1, (drbg('kem-implicit-bit', i, 2)[0]! * 256 + drbg('kem-implicit-bit', i, 2)[1]!) % (KEM.CT * 8)];
      for (const bit of bits) {
        const where = `${replay('kem-implicit', i, seed)} bit=${bit}`;
        const forged = flipBit(ciphertext, bit);
        const ours = await kem.decapsulate(secretKey, forged);
        sameBytes(ours, implicitRejection(secretKey, forged), 'implicit-rejection secret vs J(z ‖ c)', where);
        sameBytes(ours, noble.decapsulate(forged, secretKey), 'implicit-rejection secret vs noble', where);
        sameBytes(ours, oqs.decapsulate(forged, secretKey), 'implicit-rejection secret vs liboqs', where);
        differentBytes(ours, sharedSecret, 'implicit-rejection secret and the real secret', where);
      }
      // Nothing was cached: the genuine ciphertext still gives the real secret.
      sameBytes(await kem.decapsulate(secretKey, ciphertext), sharedSecret, 'real secret after forgeries', replay('kem-implicit', i, seed));
    }
  });

  test('hash check (FIPS 203 §7.3): a decapsulation key whose H(ek) does not match its ek is refused with CryptoInputError, as noble refuses it', async () => {
    for (let i = 0; i < 20; i++) {
      const seed = drbg('kem-hash-check', i, KEM.SEED);
      const where = replay('kem-hash-check', i, seed);
      const { publicKey, secretKey } = await kem.keygen(seed);
      const { ciphertext } = await kem.encapsulate(publicKey, drbg('kem-hash-check-m', i, KEM.M));
      const edits: Array<[string, number]> = [
        ['H(ek), first byte', KEM.SK_H_OFFSET],
        ['H(ek), last byte', KEM.SK_Z_OFFSET - 1],
        ['ek inside dk, first byte', KEM.SK_EK_OFFSET],
        ['ek inside dk, ρ (last byte)', KEM.SK_H_OFFSET - 1],
      ];
      for (const [what, at] of edits) {
        const bad = flipBit(secretKey, at * 8 + (i & 7));
        await rejectsInput(kem.decapsulate(bad, ciphertext), `ours with ${what} changed; ${where}`);
        assert.ok(thrown(() => noble.decapsulate(ciphertext, bad)) instanceof Error, `noble accepted ${what} changed; ${where}`);
      }
      // Changing z (not covered by the hash) is accepted: only the implicit-rejection value depends on it.
      const otherZ = flipBit(secretKey, KEM.SK_Z_OFFSET * 8);
      sameBytes(await kem.decapsulate(otherZ, ciphertext), noble.decapsulate(ciphertext, otherZ), 'secret under a changed z', where);
    }
  });

  test('wrong lengths of every input → CryptoInputError (nothing reaches the plugin)', async () => {
    const { publicKey, secretKey } = await kem.keygen(drbg('kem-lengths', 0, KEM.SEED));
    const { ciphertext } = await kem.encapsulate(publicKey);
    const cut = (b: Uint8Array, n: number): Uint8Array => (n <= b.length ? b.slice(0, n) : Uint8Array.from([...b, ...new Uint8Array(n - b.length)]));
    for (const n of [0, 1, 32, KEM.SEED - 1, KEM.SEED + 1, 128]) {
      await rejectsInput(kem.keygen(new Uint8Array(n)), `keygen seed of ${n} bytes`);
    }
    for (const n of [0, KEM.PK - 1, KEM.PK + 1, 800, 1568]) {
      await rejectsInput(kem.encapsulate(cut(publicKey, n)), `encapsulation key of ${n} bytes`);
    }
    for (const n of [0, 16, KEM.M - 1, KEM.M + 1, 64]) {
      await rejectsInput(kem.encapsulate(publicKey, new Uint8Array(n)), `encapsulation randomness of ${n} bytes`);
    }
    for (const n of [0, KEM.SK - 1, KEM.SK + 1, 1632, 3168]) {
      await rejectsInput(kem.decapsulate(cut(secretKey, n), ciphertext), `decapsulation key of ${n} bytes`);
    }
    for (const n of [0, KEM.CT - 1, KEM.CT + 1, 768, 1568]) {
      await rejectsInput(kem.decapsulate(secretKey, cut(ciphertext, n)), `ciphertext of ${n} bytes`);
    }
    // Not bytes at all.
    await rejectsInput(kem.encapsulate('x'.repeat(KEM.PK) as unknown as Uint8Array), 'a string as the encapsulation key');
    // The slot still serves after all these refusals.
    const again = await kem.encapsulate(publicKey);
    sameBytes(await kem.decapsulate(secretKey, again.ciphertext), again.sharedSecret, 'round trip after refusals', 'kem-lengths');
  });
});
