// What every key-encapsulation mechanism must do, whatever the algorithm: sizes come from kem_info, so the same kit
// serves ML-KEM-512/768/1024 or any other KEM. Known-answer tests for a specific algorithm live with its plugin.
import {
  decodeEncapsulation, decodeKemInfo, decodeKeyPair, encodeDecapsRequest, encodeEncapsRequest,
  type KemInfo, type KeyPair,
} from '../generated/contract.js';
import { expectFailure, seededRandom, type ConformanceCase, type PluginCall } from './kit-types.js';

const EMPTY = new Uint8Array(0);

function bytes(n: number, seed: number): Uint8Array {
  const rnd = seededRandom(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex(b: Uint8Array, n = 8): string {
  return Array.from(b.subarray(0, n), (x) => x.toString(16).padStart(2, '0')).join('');
}

async function info(call: PluginCall): Promise<KemInfo> {
  const i = decodeKemInfo(await call('kem_info', EMPTY));
  for (const k of ['publicKeyBytes', 'secretKeyBytes', 'ciphertextBytes', 'sharedSecretBytes', 'seedBytes', 'randomnessBytes'] as const) {
    if (!(i[k] > 0 && i[k] <= 1 << 20)) throw new Error(`kem_info.${k} = ${i[k]} is not a plausible size`);
  }
  if (i.sharedSecretBytes < 16) throw new Error(`kem_info.sharedSecretBytes = ${i.sharedSecretBytes}: a shared secret under 128 bits`);
  return i;
}

function checkKeyPair(kp: KeyPair, i: KemInfo, what: string): void {
  if (kp.publicKey.length !== i.publicKeyBytes || kp.secretKey.length !== i.secretKeyBytes) {
    throw new Error(`${what}: key sizes ${kp.publicKey.length}/${kp.secretKey.length}, kem_info says ${i.publicKeyBytes}/${i.secretKeyBytes}`);
  }
}

async function keygenFromSeed(call: PluginCall, i: KemInfo, seed: Uint8Array): Promise<KeyPair> {
  const kp = decodeKeyPair(await call('keygen_from_seed', seed));
  checkKeyPair(kp, i, 'keygen_from_seed');
  return kp;
}

async function encaps(call: PluginCall, i: KemInfo, publicKey: Uint8Array, randomness: Uint8Array = EMPTY) {
  const e = decodeEncapsulation(await call('encaps', encodeEncapsRequest({
    publicKeyLen: publicKey.length, randomnessLen: randomness.length, publicKey, randomness,
  })));
  if (e.ciphertext.length !== i.ciphertextBytes || e.sharedSecret.length !== i.sharedSecretBytes) {
    throw new Error(`encaps: sizes ${e.ciphertext.length}/${e.sharedSecret.length}, kem_info says ${i.ciphertextBytes}/${i.sharedSecretBytes}`);
  }
  return e;
}

async function decaps(call: PluginCall, i: KemInfo, secretKey: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
  const ss = await call('decaps', encodeDecapsRequest({ secretKeyLen: secretKey.length, ciphertextLen: ciphertext.length, secretKey, ciphertext }));
  if (ss.length !== i.sharedSecretBytes) throw new Error(`decaps returned ${ss.length} bytes, kem_info says ${i.sharedSecretBytes}`);
  return ss;
}

/** `b` with one extra byte, or one byte fewer. */
const longer = (b: Uint8Array): Uint8Array => Uint8Array.from([...b, 0]);
const shorter = (b: Uint8Array): Uint8Array => b.slice(0, b.length - 1);

export const kemKit: readonly ConformanceCase[] = [
  {
    name: 'kem_info reports plausible sizes; keygen gives fresh key pairs of those sizes',
    run: async (call) => {
      const i = await info(call);
      const a = decodeKeyPair(await call('keygen', EMPTY));
      const b = decodeKeyPair(await call('keygen', EMPTY));
      checkKeyPair(a, i, 'keygen');
      checkKeyPair(b, i, 'keygen');
      if (equal(a.publicKey, b.publicKey) || equal(a.secretKey, b.secretKey)) throw new Error('two keygen calls gave the same key pair');
    },
  },
  {
    name: 'keygen_from_seed is reproducible and depends on every seed',
    run: async (call) => {
      const i = await info(call);
      const seed = bytes(i.seedBytes, 11);
      const a = await keygenFromSeed(call, i, seed);
      const b = await keygenFromSeed(call, i, seed);
      if (!equal(a.publicKey, b.publicKey) || !equal(a.secretKey, b.secretKey)) throw new Error('the same seed gave different key pairs');
      for (const at of [0, i.seedBytes - 1]) {
        const other = seed.slice();
        other[at] = other[at]! ^ 1;
        const c = await keygenFromSeed(call, i, other);
        if (equal(a.secretKey, c.secretKey)) throw new Error(`flipping seed byte ${at} did not change the secret key`);
      }
    },
  },
  {
    name: 'encaps and decaps agree on the shared secret',
    run: async (call) => {
      const i = await info(call);
      for (const kp of [decodeKeyPair(await call('keygen', EMPTY)), await keygenFromSeed(call, i, bytes(i.seedBytes, 12))]) {
        const a = await encaps(call, i, kp.publicKey);
        const b = await encaps(call, i, kp.publicKey);
        if (equal(a.ciphertext, b.ciphertext)) throw new Error('two encaps calls without randomness gave the same ciphertext');
        for (const e of [a, b]) {
          const ss = await decaps(call, i, kp.secretKey, e.ciphertext);
          if (!equal(ss, e.sharedSecret)) throw new Error(`decaps gave ${hex(ss)}…, encaps ${hex(e.sharedSecret)}…`);
        }
      }
    },
  },
  {
    name: 'encaps with given randomness is reproducible and depends on it',
    run: async (call) => {
      const i = await info(call);
      const kp = await keygenFromSeed(call, i, bytes(i.seedBytes, 13));
      const m = bytes(i.randomnessBytes, 14);
      const a = await encaps(call, i, kp.publicKey, m);
      const b = await encaps(call, i, kp.publicKey, m);
      if (!equal(a.ciphertext, b.ciphertext) || !equal(a.sharedSecret, b.sharedSecret)) throw new Error('the same randomness gave different encapsulations');
      const m2 = m.slice();
      m2[0] = m2[0]! ^ 1;
      const c = await encaps(call, i, kp.publicKey, m2);
      if (equal(a.ciphertext, c.ciphertext) || equal(a.sharedSecret, c.sharedSecret)) throw new Error('different randomness gave the same encapsulation');
      if (!equal(await decaps(call, i, kp.secretKey, a.ciphertext), a.sharedSecret)) throw new Error('decaps disagrees with deterministic encaps');
    },
  },
  {
    name: 'a tampered ciphertext gives a different, reproducible secret (implicit rejection), not an error',
    run: async (call) => {
      const i = await info(call);
      const kp = await keygenFromSeed(call, i, bytes(i.seedBytes, 15));
      const e = await encaps(call, i, kp.publicKey, bytes(i.randomnessBytes, 16));
      for (const at of [0, Math.floor(i.ciphertextBytes / 2), i.ciphertextBytes - 1]) {
        const bad = e.ciphertext.slice();
        bad[at] = bad[at]! ^ 0x55;
        const r1 = await decaps(call, i, kp.secretKey, bad);
        const r2 = await decaps(call, i, kp.secretKey, bad);
        if (equal(r1, e.sharedSecret)) throw new Error(`flipping ciphertext byte ${at} still gave the real shared secret`);
        if (!equal(r1, r2)) throw new Error(`decaps of the same tampered ciphertext (byte ${at}) is not reproducible`);
      }
    },
  },
  {
    name: 'inputs of the wrong length or shape are refused, and the plugin stays healthy',
    run: async (call) => {
      const i = await info(call);
      const seed = bytes(i.seedBytes, 17);
      const kp = await keygenFromSeed(call, i, seed);
      const e = await encaps(call, i, kp.publicKey, bytes(i.randomnessBytes, 18));
      const refuse = (fn: string, input: Uint8Array, what: string) => expectFailure(call(fn, input), ['X0T_PLUGIN_ERROR'], what);
      await refuse('keygen', Uint8Array.of(1), 'keygen with input');
      await refuse('keygen_from_seed', shorter(seed), 'a seed one byte short');
      await refuse('keygen_from_seed', longer(seed), 'a seed one byte long');
      await refuse('keygen_from_seed', EMPTY, 'an empty seed');
      const encReq = (publicKey: Uint8Array, randomness: Uint8Array) =>
        encodeEncapsRequest({ publicKeyLen: publicKey.length, randomnessLen: randomness.length, publicKey, randomness });
      await refuse('encaps', encReq(shorter(kp.publicKey), EMPTY), 'a public key one byte short');
      await refuse('encaps', encReq(longer(kp.publicKey), EMPTY), 'a public key one byte long');
      await refuse('encaps', encReq(kp.publicKey, bytes(i.randomnessBytes - 1, 19)), 'randomness one byte short');
      await refuse('encaps', encReq(kp.publicKey, bytes(i.randomnessBytes + 1, 19)), 'randomness one byte long');
      const decReq = (secretKey: Uint8Array, ciphertext: Uint8Array) =>
        encodeDecapsRequest({ secretKeyLen: secretKey.length, ciphertextLen: ciphertext.length, secretKey, ciphertext });
      await refuse('decaps', decReq(shorter(kp.secretKey), e.ciphertext), 'a secret key one byte short');
      await refuse('decaps', decReq(longer(kp.secretKey), e.ciphertext), 'a secret key one byte long');
      await refuse('decaps', decReq(kp.secretKey, shorter(e.ciphertext)), 'a ciphertext one byte short');
      await refuse('decaps', decReq(kp.secretKey, longer(e.ciphertext)), 'a ciphertext one byte long');
      const frame = decReq(kp.secretKey, e.ciphertext);
      await refuse('decaps', frame.subarray(0, frame.length - 8), 'a truncated frame');
      await refuse('decaps', Uint8Array.from([...frame, 0, 0, 0, 0, 0, 0, 0, 0]), 'a frame with trailing bytes');
      await refuse('encaps', frame, 'a DecapsRequest sent to encaps (wrong magic)');
      await refuse('decaps', Uint8Array.of(1, 2, 3), 'a 3-byte frame');
      // still healthy afterwards
      if (!equal(await decaps(call, i, kp.secretKey, e.ciphertext), e.sharedSecret)) throw new Error('decaps wrong after refusals');
      const again = await keygenFromSeed(call, i, seed);
      if (!equal(again.secretKey, kp.secretKey)) throw new Error('keygen_from_seed changed after refusals');
    },
  },
];
