// ml-kem-768 and ml-dsa-65: C plugins built from PQClean with the x0t C shim (sdk/c). They pass their capability's
// conformance kit through a real Slot in both isolations, import exactly the kernel functions they use plus
// `random_fill`, refuse malformed frames, and apply the FIPS 203 key checks PQClean leaves to the caller.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createPlugin } from '@extism/extism';
import { PluginReportedError } from '../../../host/errors/index.js';
import { loadPlugin } from '../../../host/runtime/instantiate.js';
import type { PluginInstance } from '../../../host/runtime/plugin-instance.js';
import { Slot } from '../../../host/runtime/slot.js';
import { runConformance } from '../../../sdk/abi/conformance/index.js';
import {
  CAPABILITIES, FAST_PATH_CORE_EXPORTS, decodeEncapsulation, decodeKemInfo, decodeKeyPair, decodeSignerInfo,
  encodeDecapsRequest, encodeEncapsRequest, encodeSignRequest, encodeVerifyRequest,
} from '../../../sdk/abi/generated/contract.js';
import { productSpec, ROOT } from '../../support/fixtures.js';

const ISOLATIONS = ['worker', 'in-thread'] as const;
const PLUGINS = [
  { name: 'ml-kem-768', capability: 'kem' },
  { name: 'ml-dsa-65', capability: 'signer' },
] as const;

const KYBER_Q = 3329;

async function withInstance<T>(name: string, isolation: 'worker' | 'in-thread', f: (i: PluginInstance) => Promise<T>): Promise<T> {
  const inst = await loadPlugin(await productSpec(name, { isolation }));
  try {
    return await f(inst);
  } finally {
    await inst.close();
  }
}

function seed(n: number, k: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + k * 17 + 5) & 255);
}

/** Sets 12-bit coefficient `index` of an ML-KEM encoded polynomial vector (ByteEncode12) to `value`. */
function setCoefficient(ek: Uint8Array, index: number, value: number): Uint8Array {
  const out = ek.slice();
  const at = Math.floor(index / 2) * 3;
  if (index % 2 === 0) {
    out[at] = value & 0xff;
    out[at + 1] = (out[at + 1]! & 0xf0) | (value >> 8);
  } else {
    out[at + 1] = (out[at + 1]! & 0x0f) | ((value & 0x0f) << 4);
    out[at + 2] = value >> 4;
  }
  return out;
}

function encapsFrame(publicKey: Uint8Array, randomness: Uint8Array = new Uint8Array(0)): Uint8Array {
  return encodeEncapsRequest({ publicKeyLen: publicKey.length, randomnessLen: randomness.length, publicKey, randomness });
}

function decapsFrame(secretKey: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return encodeDecapsRequest({ secretKeyLen: secretKey.length, ciphertextLen: ciphertext.length, secretKey, ciphertext });
}

async function refused(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof PluginReportedError, `expected X0T_PLUGIN_ERROR, got ${String(e)}`);
    assert.equal(e.code, 'X0T_PLUGIN_ERROR');
    assert.match(e.message, message);
    return true;
  });
}

describe('PQClean plugins pass their conformance kit through a slot', () => {
  for (const { name, capability } of PLUGINS) {
    for (const isolation of ISOLATIONS) {
      test(`${name} (${isolation})`, async (t) => {
        // Slot.open runs the kit as the self-test; running it again reports the per-case times.
        const slot = await Slot.open(capability, capability, await productSpec(name, { isolation }));
        try {
          const report = await runConformance(capability, (fn, input) => slot.call(fn, input));
          const total = report.cases.reduce((s, c) => s + c.ms, 0);
          t.diagnostic(`${name} ${isolation}: ${report.cases.length} cases in ${total.toFixed(0)} ms`);
          for (const c of report.cases) assert.ok(c.ms < 1000, `${c.name}: ${c.ms.toFixed(0)} ms`);
        } finally {
          await slot.close();
        }
      });
    }
  }
});

describe('PQClean plugin modules', () => {
  const KERNEL_USED = ['input_length', 'input_load_u8', 'input_load_u64', 'alloc', 'store_u8', 'store_u64', 'output_set', 'error_set'];
  for (const { name, capability } of PLUGINS) {
    test(`${name}: imports exactly the kernel functions it uses and random_fill; exports exactly the ABI`, async () => {
      const spec = await productSpec(name);
      assert.deepEqual(spec.permissions.host, ['random']);
      assert.equal(spec.isolation, 'worker');
      const mod = await WebAssembly.compile(readFileSync(spec.wasm.path));
      const imports = WebAssembly.Module.imports(mod).map((i) => `${i.kind} ${i.module}.${i.name}`).sort();
      const expected = [...KERNEL_USED.map((n) => `function extism:host/env.${n}`), 'function x0t:host/env.random_fill'].sort();
      assert.deepEqual(imports, expected);
      const fns = Object.keys(CAPABILITIES[capability].functions);
      const exports = WebAssembly.Module.exports(mod).map((e) => e.name).sort();
      assert.deepEqual(exports, ['memory', ...FAST_PATH_CORE_EXPORTS, ...fns.map((f) => `x0t_call_${f}`), ...fns].sort());
    });
  }
});

describe('ml-kem-768', () => {
  for (const isolation of ISOLATIONS) {
    test(`${isolation}: malformed frames are refused with the codec's reason`, () => withInstance('ml-kem-768', isolation, async (inst) => {
      const kp = decodeKeyPair(await inst.call('keygen_from_seed', seed(64, 1)));
      const frame = encapsFrame(kp.publicKey);
      await refused(inst.call('encaps', frame.subarray(0, 12)), /EncapsRequest: frame is 12 bytes, shorter than its 16-byte header/);
      await refused(inst.call('encaps', frame.subarray(0, frame.length - 8)),
        /EncapsRequest: frame is 1192 bytes but its header \(publicKeyLen=1184, randomnessLen=0\) describes 1200/);
      const wrongMagic = frame.slice();
      wrongMagic[0] = 0;
      await refused(inst.call('encaps', wrongMagic), /EncapsRequest: bad magic, expected KENC/);
      const hostile = frame.slice();
      new DataView(hostile.buffer).setUint32(4, 0xffffffff, true);
      await refused(inst.call('encaps', hostile), /describes 4294967312/);
      await refused(inst.call('decaps', new Uint8Array(0)), /DecapsRequest: frame is 0 bytes/);
      await refused(inst.call('keygen_from_seed', seed(63, 1)), /keygen_from_seed: seed \(d \|\| z\) is 63 bytes, expected 64/);
      await refused(inst.call('encaps', encapsFrame(kp.publicKey, seed(31, 1))), /encaps: randomness is 31 bytes, expected 0 \(host CSPRNG\) or 32/);
      // still healthy
      const e = decodeEncapsulation(await inst.call('encaps', frame));
      assert.deepEqual(await inst.call('decaps', decapsFrame(kp.secretKey, e.ciphertext)), e.sharedSecret);
    }));

    test(`${isolation}: encaps refuses an encapsulation key with a coefficient >= q (FIPS 203 modulus check)`, () => withInstance('ml-kem-768', isolation, async (inst) => {
      const kp = decodeKeyPair(await inst.call('keygen_from_seed', seed(64, 2)));
      const m = seed(32, 3);
      for (const index of [0, 1, 255, 256, 767]) {
        for (const value of [KYBER_Q, KYBER_Q + 1, 4095]) {
          await refused(inst.call('encaps', encapsFrame(setCoefficient(kp.publicKey, index, value), m)),
            /encaps: public key fails the FIPS 203 modulus check/);
          await refused(inst.call('encaps', encapsFrame(setCoefficient(kp.publicKey, index, value))), /modulus check/);
        }
        // q - 1 is a valid coefficient: the (altered) key is accepted.
        const ok = decodeEncapsulation(await inst.call('encaps', encapsFrame(setCoefficient(kp.publicKey, index, KYBER_Q - 1), m)));
        assert.equal(ok.ciphertext.length, 1088);
      }
      // The 32-byte seed rho after the polynomial vector is not checked.
      const rhoChanged = kp.publicKey.slice();
      rhoChanged[1184 - 1] = rhoChanged[1184 - 1]! ^ 0xff;
      await inst.call('encaps', encapsFrame(rhoChanged, m));
    }));

    test(`${isolation}: decaps refuses a decapsulation key whose H(ek) does not match (FIPS 203 hash check)`, () => withInstance('ml-kem-768', isolation, async (inst) => {
      const kp = decodeKeyPair(await inst.call('keygen_from_seed', seed(64, 4)));
      const e = decodeEncapsulation(await inst.call('encaps', encapsFrame(kp.publicKey, seed(32, 5))));
      const hAt = 1152 + 1184; // dk = dk_PKE (1152) || ek (1184) || H(ek) (32) || z (32)
      for (const at of [hAt, hAt + 31, 1152, 1152 + 1183]) {
        const bad = kp.secretKey.slice();
        bad[at] = bad[at]! ^ 1;
        await refused(inst.call('decaps', decapsFrame(bad, e.ciphertext)), /decaps: secret key fails the FIPS 203 hash check/);
      }
      // z is not covered by the check: a changed z still decapsulates a valid ciphertext correctly.
      const zChanged = kp.secretKey.slice();
      zChanged[2400 - 1] = zChanged[2400 - 1]! ^ 1;
      assert.deepEqual(await inst.call('decaps', decapsFrame(zChanged, e.ciphertext)), e.sharedSecret);
      assert.deepEqual(await inst.call('decaps', decapsFrame(kp.secretKey, e.ciphertext)), e.sharedSecret);
    }));
  }

  test('kem_info', () => withInstance('ml-kem-768', 'worker', async (inst) => {
    assert.deepEqual({ ...decodeKemInfo(await inst.call('kem_info', new Uint8Array(0))) }, {
      publicKeyBytes: 1184, secretKeyBytes: 2400, ciphertextBytes: 1088, sharedSecretBytes: 32, seedBytes: 64, randomnessBytes: 32,
    });
  }));
});

describe('ml-dsa-65', () => {
  for (const isolation of ISOLATIONS) {
    test(`${isolation}: malformed frames and unknown flags are refused; long messages are signed`, () => withInstance('ml-dsa-65', isolation, async (inst) => {
      const kp = decodeKeyPair(await inst.call('keygen_from_seed', seed(32, 6)));
      const sign = (flags: number, message: Uint8Array, context: Uint8Array = new Uint8Array(0)) => encodeSignRequest({
        flags, secretKeyLen: kp.secretKey.length, contextLen: context.length, messageLen: message.length, secretKey: kp.secretKey, context, message,
      });
      const frame = sign(1, seed(5, 7));
      await refused(inst.call('sign', frame.subarray(0, 23)), /SignRequest: frame is 23 bytes, shorter than its 24-byte header/);
      await refused(inst.call('sign', frame.subarray(0, frame.length - 8)),
        /SignRequest: frame is 4056 bytes but its header \(flags=1, secretKeyLen=4032, contextLen=0, messageLen=5\) describes 4064/);
      await refused(inst.call('sign', sign(2, seed(5, 7))), /failed \(status -3\): sign: unsupported flags 2/);
      await refused(inst.call('sign', sign(1, seed(5, 7), seed(256, 8))), /sign: context is 256 bytes, at most 255 allowed/);
      await refused(inst.call('keygen_from_seed', seed(33, 1)), /keygen_from_seed: seed \(xi\) is 33 bytes, expected 32/);
      const message = seed(1_000_000, 9);
      const sig = await inst.call('sign', sign(0, message, seed(255, 10)));
      const verify = (s: Uint8Array, msg: Uint8Array) => inst.call('verify', encodeVerifyRequest({
        publicKeyLen: kp.publicKey.length, contextLen: 255, messageLen: msg.length, signatureLen: s.length,
        publicKey: kp.publicKey, context: seed(255, 10), message: msg, signature: s,
      }));
      assert.deepEqual(await verify(sig, message), Uint8Array.of(1));
      message[999_999] = message[999_999]! ^ 1;
      assert.deepEqual(await verify(sig, message), Uint8Array.of(0));
    }));
  }

  test('signer_info', () => withInstance('ml-dsa-65', 'worker', async (inst) => {
    assert.deepEqual({ ...decodeSignerInfo(await inst.call('signer_info', new Uint8Array(0))) }, {
      publicKeyBytes: 1952, secretKeyBytes: 4032, signatureBytes: 3309, seedBytes: 32, maxContextBytes: 255,
    });
  }));
});

describe('Extism twins under the stock @extism/extism host', () => {
  // The seeded functions draw no randomness, so a random_fill that refuses to run proves it is not called.
  const functions = { 'x0t:host/env': { random_fill: () => { throw new Error('random_fill called'); } } };
  const load = (name: string) => createPlugin({ wasm: [{ data: readFileSync(join(ROOT, 'wasm', `${name}.wasm`)) }] }, { useWasi: false, functions });

  test('ml-kem-768: keygen_from_seed, deterministic encaps and decaps agree with the fast path', () => withInstance('ml-kem-768', 'worker', async (fast) => {
    const plugin = await load('ml-kem-768');
    try {
      const call = async (fn: string, input: Uint8Array) => (await plugin.call(fn, input.slice()))!.bytes().slice();
      const s = seed(64, 11);
      const kp = await call('keygen_from_seed', s);
      assert.deepEqual(kp, await fast.call('keygen_from_seed', s));
      const { publicKey, secretKey } = decodeKeyPair(kp);
      const req = encapsFrame(publicKey, seed(32, 12));
      const enc = await call('encaps', req);
      assert.deepEqual(enc, await fast.call('encaps', req));
      const e = decodeEncapsulation(enc);
      assert.deepEqual(await call('decaps', decapsFrame(secretKey, e.ciphertext)), e.sharedSecret);
      await assert.rejects(plugin.call('encaps', req.slice(0, 12)), /badInput: EncapsRequest: frame is 12 bytes, shorter than its 16-byte header/);
      await assert.rejects(plugin.call('encaps', encapsFrame(setCoefficient(publicKey, 0, 4095), seed(32, 12))), /badInput: encaps: public key fails/);
    } finally {
      await plugin.close();
    }
  }));

  test('ml-dsa-65: keygen_from_seed, deterministic sign and verify agree with the fast path', () => withInstance('ml-dsa-65', 'worker', async (fast) => {
    const plugin = await load('ml-dsa-65');
    try {
      const call = async (fn: string, input: Uint8Array) => (await plugin.call(fn, input.slice()))!.bytes().slice();
      const kp = await call('keygen_from_seed', seed(32, 13));
      assert.deepEqual(kp, await fast.call('keygen_from_seed', seed(32, 13)));
      const { publicKey, secretKey } = decodeKeyPair(kp);
      const message = seed(100, 14);
      const req = encodeSignRequest({ flags: 1, secretKeyLen: secretKey.length, contextLen: 0, messageLen: 100, secretKey, context: new Uint8Array(0), message });
      const sig = await call('sign', req);
      assert.deepEqual(sig, await fast.call('sign', req));
      const verifyReq = encodeVerifyRequest({
        publicKeyLen: publicKey.length, contextLen: 0, messageLen: 100, signatureLen: sig.length, publicKey, context: new Uint8Array(0), message, signature: sig,
      });
      assert.deepEqual(await call('verify', verifyReq), Uint8Array.of(1));
      await assert.rejects(plugin.call('sign', Uint8Array.of(1, 2, 3)), /badInput: SignRequest: frame is 3 bytes/);
    } finally {
      await plugin.close();
    }
  }));
});
