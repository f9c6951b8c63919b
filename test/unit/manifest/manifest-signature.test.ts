// The bytes a plugin manifest signature covers, and the order of checks when a node verifies one. The real
// ML-DSA-65 / composite cryptography is exercised in test/integration/signed-plugins; here a stand-in scheme
// (a keyed hash) keeps these tests pure and fast.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SIGNATURE_ALGORITHMS, type TrustedKey } from '../../../host/core/manifest/index.js';
import {
  canonicalJson,
  MANIFEST_SIGNATURE_CONTEXT,
  signedManifestBytes,
  signManifest,
  verifyManifestSignature,
  withSignature,
} from '../../../host/crypto/manifest-signature.js';
import type { SignatureScheme } from '../../../host/crypto/primitives.js';
import { CryptoInputError, SignatureError } from '../../../host/errors/index.js';
import { asJson, validPlugin } from './arbitraries.js';

const text = (b: Uint8Array) => Buffer.from(b).toString('utf8');

describe('canonicalJson', () => {
  it('sorts members by key, drops whitespace, keeps array order', () => {
    assert.equal(canonicalJson({ b: [3, 1, { z: true, a: null }], a: 'x', A: 1.5, é: -0 }), '{"A":1.5,"a":"x","b":[3,1,{"a":null,"z":true}],"é":0}');
  });

  it('orders keys by UTF-16 code units (RFC 8785), not by locale', () => {
    assert.equal(canonicalJson({ '\u{1F600}': 1, '\uFB01': 2, a: 3, Z: 4, '': 5 }), '{"":5,"Z":4,"a":3,"\u{1F600}":1,"\uFB01":2}');
  });

  it('escapes strings as JSON.stringify does and keeps "__proto__" as data', () => {
    const v = JSON.parse('{"__proto__":{"x":1},"s":"a\\"b\\\\c\\n\\u0001\\ud800"}') as unknown;
    assert.equal(canonicalJson(v), '{"__proto__":{"x":1},"s":"a\\"b\\\\c\\n\\u0001\\ud800"}');
  });

  it('refuses what JSON cannot hold', () => {
    for (const v of [undefined, () => 1, Number.NaN, Infinity, 1n, Symbol('s'), { a: undefined }]) {
      assert.throws(() => canonicalJson(v), CryptoInputError, String(v));
    }
  });

  it('is a JSON text of the same value, the same for every key order and formatting', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 4 }), (v, indent) => {
        const c = canonicalJson(v);
        assert.deepEqual(JSON.parse(c), JSON.parse(JSON.stringify(v)));
        const reordered = JSON.parse(JSON.stringify(v, null, indent), function reverse(_k, x: unknown) {
          if (x === null || typeof x !== 'object' || Array.isArray(x)) return x;
          return Object.fromEntries(Object.entries(x).reverse());
        }) as unknown;
        assert.equal(canonicalJson(reordered), c);
        assert.equal(canonicalJson(JSON.parse(c)), c);
      }),
      { numRuns: 300 },
    );
  });
});

describe('signedManifestBytes', () => {
  const m = { ...validPlugin(), $schema: '../schema/plugin-manifest.v1.json', limits: { maxMemoryPages: 16 } };

  it('is the canonical JSON without signature and $schema', () => {
    const want = '{"abi":{"max":1,"min":1},"capability":"aggregator","limits":{"maxMemoryPages":16},"name":"fedavg",' +
      '"schemaVersion":1,"version":"1.2.3","wasm":{"path":"../../wasm/fedavg.wasm","sha256":"' + 'ab'.repeat(32) + '"}}';
    assert.equal(text(signedManifestBytes(m)), want);
    const signed = { ...m, signature: { algorithm: 'x', publicKey: 'AAAA', value: 'AAAA' }, $schema: 'elsewhere.json' };
    assert.equal(text(signedManifestBytes(signed)), want);
  });

  it('changes with every covered field (limits, hash, config, description, permissions …)', () => {
    const base = text(signedManifestBytes(m));
    const edits: Record<string, unknown>[] = [
      { limits: { maxMemoryPages: 17 } },
      { wasm: { ...m.wasm, sha256: 'cd'.repeat(32) } },
      { wasm: { ...m.wasm, path: 'other.wasm' } },
      { config: { k: 'v' } },
      { description: '' },
      { permissions: { host: ['log'] } },
      { isolation: 'worker' },
    ];
    for (const e of edits) assert.notEqual(text(signedManifestBytes({ ...m, ...e })), base, JSON.stringify(e));
  });

  it('refuses a manifest that is not an object', () => {
    for (const v of [null, [], 'x', 1]) assert.throws(() => signedManifestBytes(v), CryptoInputError);
  });
});

describe('withSignature', () => {
  it('adds the block last, or replaces it where it is, keeping the other members in order', () => {
    const sig = { algorithm: 'ml-dsa-65', publicKey: 'AAAA', value: 'BBBB' };
    assert.deepEqual(Object.keys(withSignature({ b: 1, a: 2 }, sig)), ['b', 'a', 'signature']);
    const replaced = withSignature({ b: 1, signature: null, a: 2 }, sig);
    assert.deepEqual(Object.keys(replaced), ['b', 'signature', 'a']);
    assert.deepEqual(replaced['signature'], sig);
  });
});

// ------------------------------------------------------------------------------------------------ verification

const ALG = 'ed25519+ml-dsa-65';
const PK_BYTES = SIGNATURE_ALGORITHMS[ALG]!.publicKeyBytes;

/** A keyed hash in the shape of a signature scheme (secret key = public key): not secure, only for the flow. */
function standIn(calls: { verify: number; contexts: string[] }): SignatureScheme {
  const mac = (pk: Uint8Array, msg: Uint8Array, ctx: Uint8Array | undefined) =>
    new Uint8Array(createHash('sha256').update(ctx ?? new Uint8Array(0)).update(Uint8Array.of(0)).update(pk).update(msg).digest());
  return {
    algorithm: ALG,
    sizes: { publicKeyBytes: PK_BYTES, secretKeyBytes: PK_BYTES, signatureBytes: 32, seedBytes: 32, maxContextBytes: 255 },
    keygen: () => Promise.reject(new Error('unused')),
    sign: (sk, msg, opts) => {
      calls.contexts.push(Buffer.from(opts?.context ?? []).toString());
      return Promise.resolve(mac(sk, msg, opts?.context));
    },
    verify: (pk, msg, sig, opts) => {
      calls.verify++;
      calls.contexts.push(Buffer.from(opts?.context ?? []).toString());
      return Promise.resolve(Buffer.compare(mac(pk, msg, opts?.context), sig) === 0);
    },
  };
}

function keyPair(fill: number) {
  const pk = new Uint8Array(PK_BYTES).fill(fill);
  return { publicKey: pk, secretKey: pk };
}
const trusted = (...pairs: { publicKey: Uint8Array }[]): TrustedKey[] =>
  pairs.map((p, i) => ({ name: `k${i}`, algorithm: ALG, publicKey: Buffer.from(p.publicKey).toString('base64'), file: null }));
const SPEC = { name: 'fedavg', manifestPath: '/m/fedavg.json' };

async function rejection(p: Promise<unknown>): Promise<SignatureError> {
  const e = await p.then(() => null, (x: unknown) => x);
  assert.ok(e instanceof SignatureError, `expected SignatureError, got ${String(e)}`);
  return e;
}

describe('verifyManifestSignature', () => {
  it('accepts a signature by a trusted key, made under the manifest context', async () => {
    const calls = { verify: 0, contexts: [] as string[] };
    const scheme = standIn(calls);
    const a = keyPair(1);
    const doc = asJson({ ...validPlugin(), $schema: 'x.json' });
    const signed = withSignature(doc, await signManifest(scheme, a, doc));
    const who = await verifyManifestSignature({ ...signed, $schema: 'moved.json' }, SPEC, trusted(keyPair(2), a), () => Promise.resolve(scheme));
    assert.equal(who.algorithm, ALG);
    assert.equal(who.keyName, 'k1');
    assert.match(who.fingerprint, /^[0-9a-f]{32}$/);
    assert.deepEqual(calls.contexts, [MANIFEST_SIGNATURE_CONTEXT, MANIFEST_SIGNATURE_CONTEXT]);
  });

  it('refuses an untrusted key before any cryptography runs', async () => {
    const calls = { verify: 0, contexts: [] as string[] };
    const scheme = standIn(calls);
    const doc = asJson(validPlugin());
    const signed = withSignature(doc, await signManifest(scheme, keyPair(3), doc));
    let opened = 0;
    const e = await rejection(verifyManifestSignature(signed, SPEC, trusted(keyPair(1)), () => {
      opened++;
      return Promise.resolve(scheme);
    }));
    assert.equal(e.details['reason'], 'untrusted-key');
    assert.match(e.message, /does not trust \(trusted: [0-9a-f]{32} \(k0\)\)/);
    assert.equal(opened, 0);
    assert.equal(calls.verify, 0);
  });

  it('refuses a manifest changed after signing, and a damaged or malformed block', async () => {
    const scheme = standIn({ verify: 0, contexts: [] });
    const a = keyPair(1);
    const doc = asJson(validPlugin());
    const sig = await signManifest(scheme, a, doc);
    const signed = withSignature(doc, sig);
    const schemeFor = () => Promise.resolve(scheme);
    const cases: [string, unknown, string][] = [
      ['limits raised', { ...signed, limits: { maxMemoryPages: 65536 } }, 'invalid'],
      ['hash changed', { ...signed, wasm: { ...doc.wasm, sha256: 'cd'.repeat(32) } }, 'invalid'],
      ['value flipped', withSignature(doc, { ...sig, value: Buffer.alloc(32, 7).toString('base64') }), 'invalid'],
      ['value not base64', withSignature(doc, { ...sig, value: 'QQ=' }), 'malformed'],
      ['value with stray bits', withSignature(doc, { ...sig, value: 'QR==' }), 'malformed'],
      ['key too short', withSignature(doc, { ...sig, publicKey: 'AAAA' }), 'malformed'],
      ['unknown algorithm', withSignature(doc, { ...sig, algorithm: 'rsa-pss' }), 'unknown-algorithm'],
      ['no block', doc, 'unsigned'],
      ['null block', { ...doc, signature: null }, 'unsigned'],
    ];
    for (const [what, d, reason] of cases) {
      const e = await rejection(verifyManifestSignature(d, SPEC, trusted(a), schemeFor));
      assert.equal(e.details['reason'], reason, what);
      assert.match(e.message, /fedavg \(\/m\/fedavg\.json\)/, what);
    }
  });

  it('a key trusted for one algorithm is not trusted for another', async () => {
    const scheme = standIn({ verify: 0, contexts: [] });
    const a = keyPair(1);
    const doc = asJson(validPlugin());
    const signed = withSignature(doc, await signManifest(scheme, a, doc));
    const otherAlg: TrustedKey[] = [{ ...trusted(a)[0]!, algorithm: 'ml-dsa-65' }];
    const e = await rejection(verifyManifestSignature(signed, SPEC, otherAlg, () => Promise.resolve(scheme)));
    assert.equal(e.details['reason'], 'untrusted-key');
  });
});
