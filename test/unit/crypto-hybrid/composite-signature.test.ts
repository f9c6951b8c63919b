// The composite Ed25519 + ML-DSA-65 signature over the real ML-DSA-65 plugin (PqcSuite, worker isolation). Each half
// is checked on its own with independent implementations (noble's Ed25519 and ML-DSA-65 over M' written out from the
// draft's definition), every way of breaking one half must reject, and the draft's own test vector must verify.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { COMPOSITE_SIZES, CompositeSigner } from '../../../host/crypto/composite-signature.js';
import { PqcSuite } from '../../../host/crypto/pqc-suite.js';
import type { SignatureScheme } from '../../../host/crypto/primitives.js';
import { CryptoInputError } from '../../../host/errors/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const cat = (...p: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(p));

// draft-ietf-lamps-pq-composite-sigs, written out independently of host/crypto.
const PREFIX = Buffer.from('436f6d706f73697465416c676f726974686d5369676e61747572657332303235', 'hex'); // "CompositeAlgorithmSignatures2025"
const LABEL = utf8('COMPSIG-MLDSA65-Ed25519-SHA512');
const representative = (m: Uint8Array, ctx: Uint8Array): Uint8Array =>
  cat(PREFIX, LABEL, Uint8Array.of(ctx.length), ctx, createHash('sha512').update(m).digest());

let suite: PqcSuite;
let cs: SignatureScheme;

before(async () => {
  suite = await PqcSuite.open();
  cs = suite.composite;
});
after(async () => {
  await suite?.close();
});

function flip(b: Uint8Array, i: number): Uint8Array {
  const c = b.slice();
  c[i]! ^= 0x01;
  return c;
}

describe('composite Ed25519 + ML-DSA-65: layout', () => {
  test('sizes: pk 32 + 1952, sk 32 + 4032, sig 64 + 3309, seed 32 + 32, context ≤ 255', () => {
    assert.equal(cs.algorithm, 'ed25519+ml-dsa-65');
    assert.deepEqual({ ...cs.sizes }, {
      publicKeyBytes: 1984, secretKeyBytes: 4064, signatureBytes: 3373, seedBytes: 64, maxContextBytes: 255,
    });
    assert.deepEqual({ ...cs.sizes }, { ...COMPOSITE_SIZES });
  });

  test('keygen(seed) = Ed25519 key of seed[0:32] ‖ ML-DSA-65 key of ξ = seed[32:64] (checked with noble)', async () => {
    for (let i = 0; i < 5; i++) {
      const seed = bytes(64);
      const kp = await cs.keygen(seed);
      const ml = ml_dsa65.keygen(seed.subarray(32));
      assert.equal(hex(kp.publicKey), hex(cat(ed25519.getPublicKey(seed.subarray(0, 32)), ml.publicKey)));
      assert.equal(hex(kp.secretKey), hex(cat(seed.subarray(0, 32), ml.secretKey)));
      assert.equal(hex((await cs.keygen(seed)).publicKey), hex(kp.publicKey), 'deterministic');
    }
    const a = await cs.keygen();
    const b = await cs.keygen();
    assert.notEqual(hex(a.publicKey.subarray(0, 32)), hex(b.publicKey.subarray(0, 32)));
    assert.notEqual(hex(a.publicKey.subarray(32)), hex(b.publicKey.subarray(32)));
  });
});

describe('composite: both halves must verify', () => {
  test('each half verifies on its own over M\' (Ed25519 pure; ML-DSA-65 with context = Label), and only so', async () => {
    const kp = await cs.keygen();
    const msg = utf8('route update 42');
    for (const ctx of [new Uint8Array(0), utf8('x0t/manifest'), bytes(255)]) {
      const sig = await cs.sign(kp.secretKey, msg, { context: ctx });
      assert.equal(sig.length, 3373);
      assert.equal(await cs.verify(kp.publicKey, msg, sig, { context: ctx }), true);
      const m = representative(msg, ctx);
      const edSig = sig.subarray(0, 64);
      const mlSig = sig.subarray(64);
      assert.equal(ed25519.verify(edSig, m, kp.publicKey.subarray(0, 32)), true, 'Ed25519 half over M\'');
      assert.equal(ml_dsa65.verify(mlSig, m, kp.publicKey.subarray(32), { context: LABEL }), true, 'ML-DSA half, ctx = Label');
      // Separated halves do not pass as plain signatures of the message (weak non-separability).
      assert.equal(ed25519.verify(edSig, msg, kp.publicKey.subarray(0, 32)), false);
      assert.equal(ml_dsa65.verify(mlSig, m, kp.publicKey.subarray(32)), false, 'ML-DSA half with empty context');
      assert.equal(ml_dsa65.verify(mlSig, msg, kp.publicKey.subarray(32), { context: ctx }), false);
    }
  });

  test('flipping any byte of either half, or of the message, rejects', async () => {
    const kp = await cs.keygen();
    const msg = bytes(100);
    const sig = await cs.sign(kp.secretKey, msg);
    const positions = [0, 31, 32, 63, /* ML-DSA half: */ 64, 64 + 32, 64 + 1000, 64 + 3000, 3372];
    for (const i of positions) assert.equal(await cs.verify(kp.publicKey, msg, flip(sig, i)), false, `signature byte ${i}`);
    assert.equal(await cs.verify(kp.publicKey, flip(msg, 7), sig), false, 'message');
    assert.equal(await cs.verify(flip(kp.publicKey, 3), msg, sig), false, 'Ed25519 public key half');
    assert.equal(await cs.verify(flip(kp.publicKey, 500), msg, sig), false, 'ML-DSA public key half');
    assert.equal(await cs.verify(kp.publicKey, msg, sig), true, 'the original still verifies');
  });

  test('a half taken from another key\'s signature of the same message rejects', async () => {
    const a = await cs.keygen();
    const b = await cs.keygen();
    const msg = utf8('same message');
    const sa = await cs.sign(a.secretKey, msg);
    const sb = await cs.sign(b.secretKey, msg);
    const edFromB = cat(sb.subarray(0, 64), sa.subarray(64));
    const mlFromB = cat(sa.subarray(0, 64), sb.subarray(64));
    for (const [name, sig] of [['Ed25519 half from B', edFromB], ['ML-DSA half from B', mlFromB]] as const) {
      assert.equal(await cs.verify(a.publicKey, msg, sig), false, `${name} under A`);
      assert.equal(await cs.verify(b.publicKey, msg, sig), false, `${name} under B`);
    }
    assert.equal(await cs.verify(a.publicKey, msg, sb), false, 'B\'s signature under A');
  });

  test('a half of a valid signature on another message rejects', async () => {
    const kp = await cs.keygen();
    const s1 = await cs.sign(kp.secretKey, utf8('one'));
    const s2 = await cs.sign(kp.secretKey, utf8('two'));
    assert.equal(await cs.verify(kp.publicKey, utf8('one'), cat(s1.subarray(0, 64), s2.subarray(64))), false);
    assert.equal(await cs.verify(kp.publicKey, utf8('one'), cat(s2.subarray(0, 64), s1.subarray(64))), false);
  });

  test('the context binds both halves', async () => {
    const kp = await cs.keygen();
    const msg = utf8('ctx');
    const sig = await cs.sign(kp.secretKey, msg, { context: utf8('a') });
    assert.equal(await cs.verify(kp.publicKey, msg, sig, { context: utf8('a') }), true);
    assert.equal(await cs.verify(kp.publicKey, msg, sig, { context: utf8('b') }), false);
    assert.equal(await cs.verify(kp.publicKey, msg, sig), false, 'empty context');
    assert.equal(await cs.verify(kp.publicKey, msg, sig, { context: utf8('a\0') }), false);
    const noCtx = await cs.sign(kp.secretKey, msg);
    assert.equal(await cs.verify(kp.publicKey, msg, noCtx, { context: new Uint8Array(0) }), true);
    // Mixing halves signed under different contexts fails too.
    assert.equal(await cs.verify(kp.publicKey, msg, cat(sig.subarray(0, 64), noCtx.subarray(64)), { context: utf8('a') }), false);
    assert.equal(await cs.verify(kp.publicKey, msg, cat(noCtx.subarray(0, 64), sig.subarray(64)), { context: utf8('a') }), false);
  });

  test('deterministic signing repeats; hedged signing varies only the ML-DSA half', async () => {
    const kp = await cs.keygen();
    const msg = utf8('determinism');
    const d1 = await cs.sign(kp.secretKey, msg, { deterministic: true });
    const d2 = await cs.sign(kp.secretKey, msg, { deterministic: true });
    assert.equal(hex(d1), hex(d2));
    const h1 = await cs.sign(kp.secretKey, msg);
    const h2 = await cs.sign(kp.secretKey, msg);
    assert.equal(hex(h1.subarray(0, 64)), hex(h2.subarray(0, 64)), 'Ed25519 is deterministic');
    assert.notEqual(hex(h1.subarray(64)), hex(h2.subarray(64)), 'ML-DSA hedged');
    for (const s of [d1, h1, h2]) assert.equal(await cs.verify(kp.publicKey, msg, s), true);
  });
});

describe('composite: lengths', () => {
  test('a signature of the wrong length is invalid (false), not an error', async () => {
    const kp = await cs.keygen();
    const sig = await cs.sign(kp.secretKey, utf8('m'));
    for (const s of [new Uint8Array(0), sig.subarray(0, 3372), cat(sig, Uint8Array.of(0)), sig.subarray(64), sig.subarray(0, 64)]) {
      assert.equal(await cs.verify(kp.publicKey, utf8('m'), s), false, `length ${s.length}`);
    }
  });

  test('keys, seeds and contexts of the wrong length are CryptoInputError (exit code 7)', async () => {
    const kp = await cs.keygen();
    const sig = await cs.sign(kp.secretKey, utf8('m'));
    const cases: [string, () => Promise<unknown>][] = [
      ['seed 32', () => cs.keygen(bytes(32))],
      ['seed 65', () => cs.keygen(bytes(65))],
      ['sk 4032 (bare ML-DSA)', () => cs.sign(kp.secretKey.subarray(32), utf8('m'))],
      ['sk 4065', () => cs.sign(cat(kp.secretKey, Uint8Array.of(0)), utf8('m'))],
      ['pk 1952 (bare ML-DSA)', () => cs.verify(kp.publicKey.subarray(32), utf8('m'), sig)],
      ['pk 32 (bare Ed25519)', () => cs.verify(kp.publicKey.subarray(0, 32), utf8('m'), sig)],
      ['context 256 (sign)', () => cs.sign(kp.secretKey, utf8('m'), { context: bytes(256) })],
      ['context 256 (verify)', () => cs.verify(kp.publicKey, utf8('m'), sig, { context: bytes(256) })],
    ];
    for (const [name, f] of cases) {
      await assert.rejects(f(), (e: unknown) => {
        assert.ok(e instanceof CryptoInputError, `${name}: ${String(e)}`);
        assert.equal(e.exitCode, 7);
        return true;
      }, name);
    }
  });

  test('the constructor refuses a signature scheme that is not ML-DSA-65', () => {
    const notMlDsa65: SignatureScheme = {
      algorithm: 'ml-dsa-44',
      sizes: { ...suite.signer.sizes, publicKeyBytes: 1312 },
      keygen: () => Promise.reject(new Error('unused')),
      sign: () => Promise.reject(new Error('unused')),
      verify: () => Promise.reject(new Error('unused')),
    };
    assert.throws(() => new CompositeSigner(notMlDsa65), CryptoInputError);
  });
});
