// Node key files (secret, 0600) and public-key files: format, round trip, and the checks made when reading them.
// The ML-DSA-65 half comes from a stand-in with the FIPS 204 key layout (pk = rho ‖ t1, sk = rho ‖ K ‖ tr ‖ …,
// tr = SHAKE256(pk, 64)); the real plugin is exercised in test/integration/signed-plugins.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseNodeManifest, parsePublicKeyFile } from '../../../host/core/manifest/index.js';
import { CompositeSigner } from '../../../host/crypto/composite-signature.js';
import { shake256 } from '../../../host/crypto/curve25519.js';
import {
  generateNodeKeys, keyFileText, nodeIdOf, nodeKeyFileJson, parseKeyFile, publicKeyFileJson, readKeyFile, readNodeKeys,
  writeKeyFile, fingerprintOf, type NodeKeys,
} from '../../../host/crypto/identity-keys.js';
import type { Kem, KeyPair, SignatureScheme } from '../../../host/crypto/primitives.js';
import { CryptoInputError, IoError, ManifestInvalidError } from '../../../host/errors/index.js';
import { assertInvalidAt, validNode } from './arbitraries.js';

const expand = (seed: Uint8Array, label: string, n: number): Uint8Array => {
  const out = new Uint8Array(n);
  for (let i = 0, off = 0; off < n; i++) {
    const block = createHash('sha256').update(label).update(Uint8Array.of(i)).update(seed).digest();
    out.set(block.subarray(0, Math.min(32, n - off)), off);
    off += 32;
  }
  return out;
};

/** ML-DSA-65 key shapes without the lattice: enough for the key file's consistency checks. */
const fakeMlDsa: SignatureScheme = {
  algorithm: 'ml-dsa-65',
  sizes: { publicKeyBytes: 1952, secretKeyBytes: 4032, signatureBytes: 3309, seedBytes: 32, maxContextBytes: 255 },
  keygen(seed?: Uint8Array): Promise<KeyPair> {
    const s = seed ?? new Uint8Array(32);
    const pk = expand(s, 'pk', 1952);
    const sk = new Uint8Array(4032);
    sk.set(pk.subarray(0, 32), 0);
    sk.set(expand(s, 'K', 32), 32);
    sk.set(shake256(pk, 64), 64);
    sk.set(expand(s, 'rest', 4032 - 128), 128);
    return Promise.resolve({ publicKey: pk, secretKey: sk });
  },
  sign: () => Promise.reject(new Error('unused')),
  verify: () => Promise.reject(new Error('unused')),
};

/** X-Wing key shapes: sk is the 32-byte seed, the last 32 bytes of pk its X25519 public key. */
const fakeXWing: Kem = {
  algorithm: 'x-wing',
  sizes: { publicKeyBytes: 1216, secretKeyBytes: 32, ciphertextBytes: 1120, sharedSecretBytes: 32, seedBytes: 32, randomnessBytes: 64 },
  async keygen(seed?: Uint8Array): Promise<KeyPair> {
    const { x25519Public } = await import('../../../host/crypto/curve25519.js');
    const sk = seed ?? new Uint8Array(32);
    const pk = new Uint8Array(1216);
    pk.set(expand(sk, 'mlkem', 1184), 0);
    pk.set(x25519Public(shake256(sk, 96).subarray(64, 96)), 1184);
    return { publicKey: pk, secretKey: sk.slice() };
  },
  encapsulate: () => Promise.reject(new Error('unused')),
  decapsulate: () => Promise.reject(new Error('unused')),
};

const SEED = new Uint8Array(32).fill(7);
const gen = (seed = SEED, kem: Kem | null = fakeXWing): Promise<NodeKeys> =>
  generateNodeKeys({ signer: new CompositeSigner(fakeMlDsa), kem, seed, name: 'node-a', now: new Date(0) });

describe('generateNodeKeys', () => {
  it('derives every key from the seed: same seed, same keys; another seed, other keys', async () => {
    const a = await gen();
    const b = await gen();
    const c = await gen(new Uint8Array(32).fill(8));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.signing.publicKey, c.signing.publicKey);
    assert.notDeepEqual(a.kem!.publicKey, c.kem!.publicKey);
    assert.equal(a.signing.algorithm, 'ed25519+ml-dsa-65');
    assert.equal(a.signing.publicKey.length, 1984);
    assert.equal(a.signing.secretKey.length, 4064);
    assert.equal(a.kem!.algorithm, 'x-wing');
    assert.equal((await gen(SEED, null)).kem, null);
  });

  it('refuses a seed of the wrong length and a signer that is not the composite', async () => {
    await assert.rejects(generateNodeKeys({ signer: new CompositeSigner(fakeMlDsa), seed: new Uint8Array(31) }), CryptoInputError);
    await assert.rejects(generateNodeKeys({ signer: fakeMlDsa }), CryptoInputError);
  });

  it('fingerprint and id name the signing public key', async () => {
    const k = await gen();
    const fp = createHash('sha256').update(k.signing.publicKey).digest('hex').slice(0, 32);
    assert.equal(fingerprintOf(k), fp);
    assert.equal(nodeIdOf(k), `spiffe://local.x0tta6bl4.dev/node/${fp}`);
    assert.equal(nodeIdOf(k, 'mesh.example.org'), `spiffe://mesh.example.org/node/${fp}`);
  });
});

describe('key file format', () => {
  it('secret file: round trip, versioned, base64 fields, the KEM key optional', async () => {
    const k = await gen();
    const json = nodeKeyFileJson(k);
    assert.deepEqual(Object.keys(json), ['kind', 'schemaVersion', 'name', 'created', 'signing', 'kem']);
    assert.equal(json.kind, 'x0t-node-key');
    assert.equal(json.schemaVersion, 1);
    assert.equal(json.created, '1970-01-01T00:00:00.000Z');
    assert.deepEqual(parseKeyFile(keyFileText(json), null), k);
    const noKem = await gen(SEED, null);
    assert.deepEqual(parseKeyFile(keyFileText(nodeKeyFileJson(noKem)), null), noKem);
  });

  it('public file: no secret in it, read back as public, accepted by a node manifest', async () => {
    const k = await gen();
    const json = publicKeyFileJson(k);
    const t = keyFileText(json);
    assert.ok(!t.includes('secretKey'));
    assert.ok(!t.includes(Buffer.from(k.signing.secretKey).toString('base64').slice(0, 40)));
    const back = parseKeyFile(t, null);
    assert.equal(back.kind, 'public');
    assert.deepEqual(back.signing, { algorithm: k.signing.algorithm, publicKey: k.signing.publicKey });
    assert.deepEqual(back.kem, { algorithm: 'x-wing', publicKey: k.kem!.publicKey });
    assert.equal(parsePublicKeyFile(json, { manifestPath: null, baseDir: '/' }).signing.publicKey, json.signing.publicKey);
    const spec = parseNodeManifest(
      { ...validNode(), policies: { requireSignedPlugins: true, trustedPluginKeys: [{ file: 'k.pub.json' }] } },
      { manifestPath: '/n/a.json', baseDir: '/n', files: new Map([['/n/k.pub.json', t]]) },
    );
    assert.equal(spec.policies.trustedPluginKeys[0]!.name, 'node-a');
  });

  it('refuses a secret key that does not belong to its public key', async () => {
    const k = await gen();
    const other = await gen(new Uint8Array(32).fill(9));
    const mix = (patch: Partial<NodeKeys>) => keyFileText(nodeKeyFileJson({ ...k, ...patch }));
    const edSwapped = new Uint8Array(k.signing.secretKey);
    edSwapped.set(other.signing.secretKey.subarray(0, 32), 0);
    const mlSwapped = new Uint8Array(k.signing.secretKey);
    mlSwapped.set(other.signing.secretKey.subarray(32), 32);
    for (const secretKey of [edSwapped, mlSwapped]) {
      assert.throws(() => parseKeyFile(mix({ signing: { ...k.signing, secretKey } }), '/k.json'), CryptoInputError);
    }
    assert.throws(() => parseKeyFile(mix({ kem: { ...k.kem!, secretKey: other.kem!.secretKey } }), '/k.json'), CryptoInputError);
  });

  it('names the field of anything else wrong', async () => {
    const json = nodeKeyFileJson(await gen()) as unknown as Record<string, unknown>;
    const signing = json['signing'] as Record<string, unknown>;
    const cases: [Record<string, unknown>, string][] = [
      [{ ...json, schemaVersion: 2 }, 'schemaVersion'],
      [{ ...json, extra: 1 }, 'extra'],
      [{ ...json, kind: 'x0t-other' }, 'kind'],
      [{ ...json, name: '' }, 'name'],
      [{ ...json, signing: 'x' }, 'signing'],
      [{ ...json, signing: { ...signing, algorithm: 'ml-dsa-65' } }, 'signing.algorithm'],
      [{ ...json, signing: { ...signing, secretKey: 'AAAA' } }, 'signing.secretKey'],
      [{ ...json, signing: { ...signing, publicKey: undefined } }, 'signing.publicKey'],
      [{ ...json, signing: { ...signing, seed: 'AAAA' } }, 'signing.seed'],
      [{ ...json, kem: { ...(json['kem'] as object), algorithm: 'ml-kem-768' } }, 'kem.algorithm'],
    ];
    for (const [j, path] of cases) assertInvalidAt(() => parseKeyFile(JSON.stringify(j), '/k.json'), path);
    assertInvalidAt(() => parseKeyFile('{', '/k.json'), '');
  });
});

describe('key files on disk', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'x0t-keys-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('a secret file is written 0600, never over an existing file unless forced', async () => {
    const k = await gen();
    const file = join(dir, 'node.key.json');
    await writeKeyFile(file, keyFileText(nodeKeyFileJson(k)), { secret: true });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(await readNodeKeys(file), k);
    const e = await writeKeyFile(file, 'x', { secret: true }).catch((x: unknown) => x);
    assert.ok(e instanceof IoError && /EEXIST.*--force/.test(e.message), String(e));
    const k2 = await gen(new Uint8Array(32).fill(1));
    await writeKeyFile(file, keyFileText(nodeKeyFileJson(k2)), { secret: true, force: true });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual((await readKeyFile(file)).signing.publicKey, k2.signing.publicKey);
  });

  it('signing needs the secret file, not the public one', async () => {
    const pub = join(dir, 'node.pub.json');
    await writeFile(pub, keyFileText(publicKeyFileJson(await gen())));
    await assert.rejects(readNodeKeys(pub), ManifestInvalidError);
    await assert.rejects(readKeyFile(join(dir, 'absent.json')), IoError);
    assert.equal(JSON.parse(await readFile(pub, 'utf8')).kind, 'x0t-public-key');
  });
});
