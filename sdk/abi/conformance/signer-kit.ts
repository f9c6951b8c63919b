// What every signature scheme with context strings must do, whatever the algorithm: sizes come from signer_info, so
// the same kit serves ML-DSA-44/65/87 or any other scheme. Known-answer tests for a specific algorithm live with its
// plugin.
import {
  decodeKeyPair, decodeSignerInfo, encodeSignRequest, encodeVerifyRequest, type KeyPair, type SignerInfo,
} from '../generated/contract.js';
import { expectFailure, seededRandom, type ConformanceCase, type PluginCall } from './kit-types.js';

const EMPTY = new Uint8Array(0);
const DETERMINISTIC = 1;
const HEDGED = 0;

function bytes(n: number, seed: number): Uint8Array {
  const rnd = seededRandom(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function flip(b: Uint8Array, at: number): Uint8Array {
  const c = b.slice();
  c[at] = c[at]! ^ 1;
  return c;
}

async function info(call: PluginCall): Promise<SignerInfo> {
  const i = decodeSignerInfo(await call('signer_info', EMPTY));
  for (const k of ['publicKeyBytes', 'secretKeyBytes', 'signatureBytes', 'seedBytes'] as const) {
    if (!(i[k] > 0 && i[k] <= 1 << 20)) throw new Error(`signer_info.${k} = ${i[k]} is not a plausible size`);
  }
  if (i.maxContextBytes > 65535) throw new Error(`signer_info.maxContextBytes = ${i.maxContextBytes} is not plausible`);
  return i;
}

function checkKeyPair(kp: KeyPair, i: SignerInfo, what: string): void {
  if (kp.publicKey.length !== i.publicKeyBytes || kp.secretKey.length !== i.secretKeyBytes) {
    throw new Error(`${what}: key sizes ${kp.publicKey.length}/${kp.secretKey.length}, signer_info says ${i.publicKeyBytes}/${i.secretKeyBytes}`);
  }
}

async function keygenFromSeed(call: PluginCall, i: SignerInfo, seed: Uint8Array): Promise<KeyPair> {
  const kp = decodeKeyPair(await call('keygen_from_seed', seed));
  checkKeyPair(kp, i, 'keygen_from_seed');
  return kp;
}

function signRequest(flags: number, secretKey: Uint8Array, context: Uint8Array, message: Uint8Array): Uint8Array {
  return encodeSignRequest({ flags, secretKeyLen: secretKey.length, contextLen: context.length, messageLen: message.length, secretKey, context, message });
}

async function sign(call: PluginCall, i: SignerInfo, flags: number, secretKey: Uint8Array, context: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  const sig = await call('sign', signRequest(flags, secretKey, context, message));
  if (sig.length === 0 || sig.length > i.signatureBytes) throw new Error(`sign returned ${sig.length} bytes, signer_info says at most ${i.signatureBytes}`);
  return sig;
}

function verifyRequest(publicKey: Uint8Array, context: Uint8Array, message: Uint8Array, signature: Uint8Array): Uint8Array {
  return encodeVerifyRequest({
    publicKeyLen: publicKey.length, contextLen: context.length, messageLen: message.length, signatureLen: signature.length,
    publicKey, context, message, signature,
  });
}

async function verify(call: PluginCall, publicKey: Uint8Array, context: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  const out = await call('verify', verifyRequest(publicKey, context, message, signature));
  if (out.length !== 1 || (out[0] !== 0 && out[0] !== 1)) throw new Error(`verify returned ${out.length} bytes [${Array.from(out.subarray(0, 4)).join(', ')}], expected one byte 0 or 1`);
  return out[0] === 1;
}

export const signerKit: readonly ConformanceCase[] = [
  {
    name: 'signer_info reports plausible sizes; keygen gives fresh key pairs of those sizes',
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
      const seed = bytes(i.seedBytes, 21);
      const a = await keygenFromSeed(call, i, seed);
      const b = await keygenFromSeed(call, i, seed);
      if (!equal(a.publicKey, b.publicKey) || !equal(a.secretKey, b.secretKey)) throw new Error('the same seed gave different key pairs');
      for (const at of [0, i.seedBytes - 1]) {
        if (equal(a.publicKey, (await keygenFromSeed(call, i, flip(seed, at))).publicKey)) {
          throw new Error(`flipping seed byte ${at} did not change the public key`);
        }
      }
    },
  },
  {
    name: 'signatures verify, for empty and long messages and contexts',
    run: async (call) => {
      const i = await info(call);
      const kp = decodeKeyPair(await call('keygen', EMPTY));
      const contexts = [EMPTY, bytes(Math.min(i.maxContextBytes, 7), 22), bytes(i.maxContextBytes, 23)];
      for (const [n, message] of [EMPTY, bytes(1, 24), bytes(3000, 25)].entries()) {
        const context = contexts[n % contexts.length]!;
        for (const flags of [HEDGED, DETERMINISTIC]) {
          const sig = await sign(call, i, flags, kp.secretKey, context, message);
          if (!(await verify(call, kp.publicKey, context, message, sig))) {
            throw new Error(`a ${flags === HEDGED ? 'hedged' : 'deterministic'} signature on ${message.length} bytes (context ${context.length}) does not verify`);
          }
        }
      }
    },
  },
  {
    name: 'deterministic signing is reproducible; hedged signing differs between calls',
    run: async (call) => {
      const i = await info(call);
      const kp = await keygenFromSeed(call, i, bytes(i.seedBytes, 26));
      const message = bytes(100, 27);
      const context = bytes(Math.min(i.maxContextBytes, 5), 28);
      const d1 = await sign(call, i, DETERMINISTIC, kp.secretKey, context, message);
      const d2 = await sign(call, i, DETERMINISTIC, kp.secretKey, context, message);
      if (!equal(d1, d2)) throw new Error('two deterministic signatures of the same message differ');
      const h1 = await sign(call, i, HEDGED, kp.secretKey, context, message);
      const h2 = await sign(call, i, HEDGED, kp.secretKey, context, message);
      if (equal(h1, h2) || equal(h1, d1)) throw new Error('hedged signing repeated a signature (no fresh randomness?)');
    },
  },
  {
    name: 'a changed message, context, signature or key does not verify',
    run: async (call) => {
      const i = await info(call);
      const kp = await keygenFromSeed(call, i, bytes(i.seedBytes, 29));
      const other = await keygenFromSeed(call, i, bytes(i.seedBytes, 30));
      const message = bytes(64, 31);
      const context = bytes(Math.min(i.maxContextBytes, 3), 32);
      const sig = await sign(call, i, DETERMINISTIC, kp.secretKey, context, message);
      const rejects = async (pk: Uint8Array, ctx: Uint8Array, msg: Uint8Array, s: Uint8Array, what: string) => {
        if (await verify(call, pk, ctx, msg, s)) throw new Error(`${what} still verifies`);
      };
      await rejects(kp.publicKey, context, flip(message, 0), sig, 'a signature on a changed message');
      await rejects(kp.publicKey, context, Uint8Array.from([...message, 0]), sig, 'a signature on a longer message');
      if (context.length > 0) await rejects(kp.publicKey, flip(context, 0), message, sig, 'a signature under a changed context');
      if (context.length > 0) await rejects(kp.publicKey, EMPTY, message, sig, 'a signature under another (empty) context');
      for (const at of [0, Math.floor(sig.length / 2), sig.length - 1]) await rejects(kp.publicKey, context, message, flip(sig, at), `a signature with byte ${at} flipped`);
      await rejects(other.publicKey, context, message, sig, 'a signature checked against another key');
      // A signature of the wrong length is simply invalid.
      await rejects(kp.publicKey, context, message, sig.slice(0, sig.length - 1), 'a signature one byte short');
      await rejects(kp.publicKey, context, message, Uint8Array.from([...sig, 0]), 'a signature one byte long');
      await rejects(kp.publicKey, context, message, EMPTY, 'an empty signature');
      if (!(await verify(call, kp.publicKey, context, message, sig))) throw new Error('the original signature no longer verifies');
    },
  },
  {
    name: 'keys and contexts of the wrong length are refused, and the plugin stays healthy',
    run: async (call) => {
      const i = await info(call);
      const seed = bytes(i.seedBytes, 33);
      const kp = await keygenFromSeed(call, i, seed);
      const message = bytes(10, 34);
      const sig = await sign(call, i, DETERMINISTIC, kp.secretKey, EMPTY, message);
      const refuse = (fn: string, input: Uint8Array, what: string) => expectFailure(call(fn, input), ['X0T_PLUGIN_ERROR'], what);
      const tooLong = bytes(i.maxContextBytes + 1, 35);
      await refuse('keygen', Uint8Array.of(1), 'keygen with input');
      await refuse('keygen_from_seed', seed.slice(1), 'a seed one byte short');
      await refuse('keygen_from_seed', Uint8Array.from([...seed, 0]), 'a seed one byte long');
      await refuse('sign', signRequest(DETERMINISTIC, kp.secretKey, tooLong, message), `sign with a ${tooLong.length}-byte context`);
      await refuse('verify', verifyRequest(kp.publicKey, tooLong, message, sig), `verify with a ${tooLong.length}-byte context`);
      await refuse('sign', signRequest(DETERMINISTIC, kp.secretKey.slice(1), EMPTY, message), 'a secret key one byte short');
      await refuse('sign', signRequest(DETERMINISTIC, Uint8Array.from([...kp.secretKey, 0]), EMPTY, message), 'a secret key one byte long');
      await refuse('verify', verifyRequest(kp.publicKey.slice(1), EMPTY, message, sig), 'a public key one byte short');
      await refuse('verify', verifyRequest(Uint8Array.from([...kp.publicKey, 0]), EMPTY, message, sig), 'a public key one byte long');
      const frame = signRequest(DETERMINISTIC, kp.secretKey, EMPTY, message);
      await refuse('sign', frame.subarray(0, frame.length - 8), 'a truncated frame');
      await refuse('sign', Uint8Array.from([...frame, 0, 0, 0, 0, 0, 0, 0, 0]), 'a frame with trailing bytes');
      await refuse('verify', frame, 'a SignRequest sent to verify (wrong magic)');
      await refuse('sign', Uint8Array.of(1, 2, 3), 'a 3-byte frame');
      // still healthy afterwards
      if (!equal(await sign(call, i, DETERMINISTIC, kp.secretKey, EMPTY, message), sig)) throw new Error('deterministic signature changed after refusals');
      if (!(await verify(call, kp.publicKey, EMPTY, message, sig))) throw new Error('verify wrong after refusals');
    },
  },
];
