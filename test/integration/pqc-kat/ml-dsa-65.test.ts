// ML-DSA-65 (FIPS 204) through the shipped plugin in its slot (PqcSuite, worker isolation) against
// @noble/post-quantum 0.7.1 and @oqs/liboqs-js 0.15.1: seeded keygen and deterministic signing (with and without a
// context string) byte-identical to noble for every seed; hedged signatures cross-verified both ways; tampered and
// malformed signatures rejected by all three (false, never an error); wrong lengths refused as FIPS 204 says.
// liboqs-js 0.15.1 exposes neither seeded keygen nor context strings (its wasm exports only OQS_SIG_sign/verify),
// so it takes part with the empty context only. noble signs ~70/s here: ours runs in its worker meanwhile.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ml_dsa65 as noble } from '@noble/post-quantum/ml-dsa.js';
import { createMLDSA65, type MLDSA65 } from '@oqs/liboqs-js';
import { PqcSuite } from '../../../host/crypto/pqc-suite.js';
import type { KeyPair, SignatureScheme } from '../../../host/crypto/primitives.js';
import {
  differentBytes, drbg, drbgInt, DSA, flipBit, getZPacked, hintCounts, rejectsInput, replay, sameBytes, SEEDS, setZPacked,
} from './support.js';

const u8 = (b: Uint8Array): Uint8Array => new Uint8Array(b);
const EMPTY = new Uint8Array(0);

/** Message i of a case: 0 … 512 random bytes (0 and 1 byte long ones included). */
const message = (label: string, i: number): Uint8Array => drbg(`${label}-msg`, i, i < 2 ? i : drbgInt(`${label}-msglen`, i, 0, 512));
/** Context i: 1 … 255 random bytes, exactly 255 for every tenth. */
const context = (label: string, i: number): Uint8Array => drbg(`${label}-ctx`, i, i % 10 === 0 ? 255 : drbgInt(`${label}-ctxlen`, i, 1, 255));

describe('ML-DSA-65: ours (plugin in a slot) vs @noble/post-quantum and @oqs/liboqs-js', () => {
  let suite: PqcSuite;
  let dsa: SignatureScheme;
  let oqs: MLDSA65;
  const keys = async (label: string, i: number): Promise<KeyPair> => {
    const kp = await dsa.keygen(drbg(label, i, DSA.SEED));
    return { publicKey: u8(kp.publicKey), secretKey: u8(kp.secretKey) };
  };

  before(async () => {
    suite = await PqcSuite.open();
    dsa = suite.signer;
    oqs = await createMLDSA65();
  });
  after(async () => {
    oqs?.destroy();
    await suite?.close();
  });

  test('sizes are FIPS 204 ML-DSA-65 and match both peers', () => {
    assert.deepEqual({ ...dsa.sizes }, {
      publicKeyBytes: DSA.PK, secretKeyBytes: DSA.SK, signatureBytes: DSA.SIG, seedBytes: DSA.SEED, maxContextBytes: DSA.MAX_CONTEXT,
    });
    assert.equal(noble.lengths.publicKey, DSA.PK);
    assert.equal(noble.lengths.secretKey, DSA.SK);
    assert.equal(noble.lengths.signature, DSA.SIG);
    assert.equal(oqs.info.keySize.signature, DSA.SIG);
  });

  test(`seeded keygen (ξ): public and secret key byte-identical to noble for ${SEEDS} seeds`, async () => {
    for (let i = 0; i < SEEDS; i++) {
      const seed = drbg('dsa-keygen', i, DSA.SEED);
      const ours = dsa.keygen(seed);
      const peer = noble.keygen(seed);
      const kp = await ours;
      const where = replay('dsa-keygen', i, seed);
      sameBytes(kp.publicKey, peer.publicKey, 'ML-DSA keygen public key', where);
      sameBytes(kp.secretKey, peer.secretKey, 'ML-DSA keygen secret key', where);
    }
  });

  for (const withContext of [false, true]) {
    const label = withContext ? 'dsa-det-ctx' : 'dsa-det';
    test(`deterministic signing ${withContext ? 'with a 1–255-byte context' : 'with the empty context'}: byte-identical to noble for ${SEEDS} seeds; ours verifies it`, async () => {
      for (let i = 0; i < SEEDS; i++) {
        const seed = drbg(label, i, DSA.SEED);
        const where = replay(label, i, seed);
        const { publicKey, secretKey } = await keys(label, i);
        const msg = message(label, i);
        const ctx = withContext ? context(label, i) : EMPTY;
        const ours = dsa.sign(secretKey, msg, withContext ? { context: ctx, deterministic: true } : { deterministic: true });
        const peer = noble.sign(msg, secretKey, withContext ? { context: ctx, extraEntropy: false } : { extraEntropy: false });
        const sig = await ours;
        sameBytes(sig, peer, `ML-DSA deterministic signature (message ${msg.length} B, context ${ctx.length} B)`, where);
        assert.equal(await dsa.verify(publicKey, msg, sig, { context: ctx }), true, `ours rejects its own signature; ${where}`);
      }
    });
  }

  test('deterministic signing is deterministic, hedged signing is not', async () => {
    const { secretKey } = await keys('dsa-hedge', 0);
    const msg = message('dsa-hedge', 5);
    sameBytes(await dsa.sign(secretKey, msg, { deterministic: true }), await dsa.sign(secretKey, msg, { deterministic: true }), 'two deterministic signatures', 'dsa-hedge');
    differentBytes(await dsa.sign(secretKey, msg), await dsa.sign(secretKey, msg), 'two hedged signatures', 'dsa-hedge');
  });

  test('our hedged signatures verify under noble (any context) and liboqs (empty context)', async () => {
    for (let i = 0; i < 60; i++) {
      const { publicKey, secretKey } = await keys('dsa-hedged', i);
      const where = replay('dsa-hedged', i);
      const msg = message('dsa-hedged', i);
      const ctx = context('dsa-hedged', i);
      const sig = u8(await dsa.sign(secretKey, msg));
      assert.equal(noble.verify(sig, msg, publicKey), true, `noble rejects our hedged signature; ${where}`);
      assert.equal(oqs.verify(msg, sig, publicKey), true, `liboqs rejects our hedged signature; ${where}`);
      const sigCtx = u8(await dsa.sign(secretKey, msg, { context: ctx }));
      assert.equal(noble.verify(sigCtx, msg, publicKey, { context: ctx }), true, `noble rejects our hedged signature with context; ${where}`);
      assert.equal(noble.verify(sigCtx, msg, publicKey), false, `noble accepts it without the context; ${where}`);
    }
  });

  test("noble's hedged and liboqs's signatures verify under ours", async () => {
    for (let i = 0; i < 60; i++) {
      const where = replay('dsa-peer-sigs', i);
      const msg = message('dsa-peer-sigs', i);
      const ctx = context('dsa-peer-sigs', i);
      // noble, keys from a seed, hedged, with and without context.
      const nk = noble.keygen(drbg('dsa-peer-sigs', i, DSA.SEED));
      assert.equal(await dsa.verify(nk.publicKey, msg, noble.sign(msg, nk.secretKey)), true, `ours rejects noble's signature; ${where}`);
      assert.equal(await dsa.verify(nk.publicKey, msg, noble.sign(msg, nk.secretKey, { context: ctx }), { context: ctx }), true,
        `ours rejects noble's signature with context; ${where}`);
      // liboqs: its own random keys, empty context.
      const ok = oqs.generateKeyPair();
      const sig = oqs.sign(msg, ok.secretKey);
      assert.equal(await dsa.verify(ok.publicKey, msg, sig), true, `ours rejects liboqs's signature; ${where}`);
      // And ours signs with liboqs's secret key (same FIPS 204 encoding): liboqs verifies.
      assert.equal(oqs.verify(msg, u8(await dsa.sign(ok.secretKey, msg)), ok.publicKey), true, `liboqs rejects ours made with its key; ${where}`);
    }
  });

  test('a tampered signature, message or context is rejected by ours, noble and liboqs', async () => {
    for (let i = 0; i < 8; i++) {
      const { publicKey, secretKey } = await keys('dsa-tamper', i);
      const msg = drbg('dsa-tamper-msg', i, 1 + 37 * i); // never empty: one bit of it gets flipped
      const ctx = context('dsa-tamper', i);
      const sig = u8(await dsa.sign(secretKey, msg));
      const sigCtx = u8(await dsa.sign(secretKey, msg, { context: ctx }));
      const all = async (s: Uint8Array, m: Uint8Array, what: string): Promise<void> => {
        const where = `${replay('dsa-tamper', i)} ${what}`;
        assert.equal(await dsa.verify(publicKey, m, s), false, `ours accepts ${where}`);
        assert.equal(noble.verify(s, m, publicKey), false, `noble accepts ${where}`);
        assert.equal(oqs.verify(m, s, publicKey), false, `liboqs accepts ${where}`);
      };
      // One flipped bit in c̃, in z, in the hint indices, in the hint counts; the message changed or extended.
      for (const bit of [0, 8 * 47 + 7, 8 * DSA.Z_OFFSET, 8 * (DSA.Z_OFFSET + 1000) + 3, 8 * DSA.H_OFFSET, 8 * (DSA.SIG - 1)]) {
        await all(flipBit(sig, bit), msg, `signature bit ${bit}`);
      }
      await all(sig, flipBit(msg, 0), 'message bit 0');
      await all(sig, Uint8Array.from([...msg, 0]), 'message with a byte appended');
      // Context: changed, dropped, or added where there was none.
      const where = replay('dsa-tamper', i);
      assert.equal(await dsa.verify(publicKey, msg, sigCtx, { context: flipBit(ctx, 0) }), false, `ours accepts a changed context; ${where}`);
      assert.equal(noble.verify(sigCtx, msg, publicKey, { context: flipBit(ctx, 0) }), false, `noble accepts a changed context; ${where}`);
      assert.equal(await dsa.verify(publicKey, msg, sigCtx), false, `ours accepts a dropped context; ${where}`);
      assert.equal(oqs.verify(msg, sigCtx, publicKey), false, `liboqs accepts a signature made with a context; ${where}`);
      assert.equal(await dsa.verify(publicKey, msg, sig, { context: ctx }), false, `ours accepts an added context; ${where}`);
      assert.equal(noble.verify(sig, msg, publicKey, { context: ctx }), false, `noble accepts an added context; ${where}`);
      // Under another key.
      const other = await keys('dsa-tamper-other', i);
      assert.equal(await dsa.verify(other.publicKey, msg, sig), false, `ours accepts under another key; ${where}`);
    }
  });

  test('malformed signatures (hint encoding invalid, z out of range) → false from ours, noble and liboqs, never an error', async () => {
    let cases = 0;
    for (let i = 0; i < 12; i++) {
      const { publicKey, secretKey } = await keys('dsa-malformed', i);
      const msg = message('dsa-malformed', i + 2);
      const sig = u8(await dsa.sign(secretKey, msg, { deterministic: true }));
      const where = replay('dsa-malformed', i);
      // Our z packing helpers agree with the signature: every coefficient decodes within ±(γ1 − β).
      for (let k = 0; k < 256 * DSA.L; k++) {
        const z = DSA.GAMMA1 - getZPacked(sig, k);
        assert.ok(Math.abs(z) < DSA.GAMMA1 - DSA.BETA, `z[${k}] = ${z} out of range in a valid signature; ${where}`);
      }
      assert.deepEqual(setZPacked(sig, 7, getZPacked(sig, 7)), sig);
      const bad: Array<[string, Uint8Array]> = [];
      // z: ‖z‖∞ ≥ γ1 − β is rejected (FIPS 204 Algorithm 8, step 13). Packed p decodes to γ1 − p.
      for (const k of [0, 1, 255, 256 * DSA.L - 1]) {
        bad.push([`z[${k}] = γ1`, setZPacked(sig, k, 0)]);
        bad.push([`z[${k}] = γ1 − β`, setZPacked(sig, k, DSA.BETA)]);
        bad.push([`z[${k}] = −(γ1 − β)`, setZPacked(sig, k, 2 * DSA.GAMMA1 - DSA.BETA)]);
        bad.push([`z[${k}] = −(γ1 − 1)`, setZPacked(sig, k, (1 << 20) - 1)]);
      }
      // h: HintBitUnpack (FIPS 204 Algorithm 21) returns ⊥.
      const counts = hintCounts(sig);
      const H = DSA.H_OFFSET;
      const total = counts[DSA.K - 1]!;
      const withByte = (at: number, value: number): Uint8Array => { const s = sig.slice(); s[at] = value; return s; };
      bad.push(['last hint count > ω', withByte(H + DSA.OMEGA + DSA.K - 1, DSA.OMEGA + 1)]);
      bad.push(['first hint count = 255', withByte(H + DSA.OMEGA, 255)]);
      const firstNonEmpty = counts.findIndex((c) => c > 0);
      if (firstNonEmpty >= 0 && firstNonEmpty < DSA.K - 1) {
        // counts[j] > counts[j+1]: a decreasing cumulative count.
        bad.push(['hint counts decreasing', withByte(H + DSA.OMEGA + firstNonEmpty + 1, counts[firstNonEmpty]! - 1)]);
      }
      const poly = counts.findIndex((c, j) => c - (j === 0 ? 0 : counts[j - 1]!) >= 2);
      if (poly >= 0) {
        const start = poly === 0 ? 0 : counts[poly - 1]!;
        const a = sig[H + start]!;
        const b = sig[H + start + 1]!;
        bad.push(['hint indices swapped (not increasing)', (() => { const s = sig.slice(); s[H + start] = b; s[H + start + 1] = a; return s; })()]);
        bad.push(['hint index repeated', withByte(H + start + 1, a)]);
      }
      if (total < DSA.OMEGA) bad.push(['non-zero padding after the last hint index', withByte(H + DSA.OMEGA - 1, 1)]);
      for (const [what, s] of bad) {
        assert.equal(s.length, DSA.SIG);
        assert.equal(await dsa.verify(publicKey, msg, s), false, `ours accepts ${what}; ${where}`);
        assert.equal(noble.verify(s, msg, publicKey), false, `noble accepts ${what}; ${where}`);
        assert.equal(oqs.verify(msg, s, publicKey), false, `liboqs accepts ${what}; ${where}`);
        cases++;
      }
      // The untouched signature still verifies everywhere.
      assert.equal(await dsa.verify(publicKey, msg, sig), true);
      assert.equal(noble.verify(sig, msg, publicKey), true);
      assert.equal(oqs.verify(msg, sig, publicKey), true);
    }
    assert.ok(cases >= 12 * 20, `only ${cases} malformed cases were built`);
  });

  test('a signature of the wrong length is not valid (false); keys, seeds and contexts of the wrong length → CryptoInputError', async () => {
    const { publicKey, secretKey } = await keys('dsa-lengths', 0);
    const msg = message('dsa-lengths', 3);
    const sig = u8(await dsa.sign(secretKey, msg));
    const resized = (b: Uint8Array, n: number): Uint8Array => { const out = new Uint8Array(n); out.set(b.subarray(0, Math.min(n, b.length))); return out; };
    for (const n of [0, 1, DSA.SIG - 1, DSA.SIG + 1, 2420, 4627, 2 * DSA.SIG]) {
      assert.equal(await dsa.verify(publicKey, msg, resized(sig, n)), false, `a ${n}-byte signature verified`);
      assert.equal(noble.verify(resized(sig, n), msg, publicKey), false, `noble: a ${n}-byte signature verified`);
    }
    for (const n of [0, 16, DSA.SEED - 1, DSA.SEED + 1, 64]) {
      await rejectsInput(dsa.keygen(new Uint8Array(n)), `keygen seed of ${n} bytes`);
    }
    for (const n of [0, DSA.SK - 1, DSA.SK + 1, 2560, 4896]) {
      await rejectsInput(dsa.sign(resized(secretKey, n), msg), `signing key of ${n} bytes`);
    }
    for (const n of [0, DSA.PK - 1, DSA.PK + 1, 1312, 2592]) {
      await rejectsInput(dsa.verify(resized(publicKey, n), msg, sig), `verification key of ${n} bytes`);
    }
    // Context: 255 bytes is the limit; 256 or more is refused when signing and when verifying.
    const ctx255 = drbg('dsa-lengths-ctx', 0, 255);
    const sig255 = u8(await dsa.sign(secretKey, msg, { context: ctx255 }));
    assert.equal(await dsa.verify(publicKey, msg, sig255, { context: ctx255 }), true);
    assert.equal(noble.verify(sig255, msg, publicKey, { context: ctx255 }), true);
    for (const n of [256, 257, 1024]) {
      const ctx = drbg('dsa-lengths-ctx', n, n);
      await rejectsInput(dsa.sign(secretKey, msg, { context: ctx }), `signing context of ${n} bytes`);
      await rejectsInput(dsa.sign(secretKey, msg, { context: ctx, deterministic: true }), `deterministic signing context of ${n} bytes`);
      await rejectsInput(dsa.verify(publicKey, msg, sig, { context: ctx }), `verification context of ${n} bytes`);
      assert.throws(() => noble.sign(msg, secretKey, { context: ctx }), `noble signs with a ${n}-byte context`);
    }
    // The slot still serves after all these refusals.
    assert.equal(await dsa.verify(publicKey, msg, sig), true);
  });
});
