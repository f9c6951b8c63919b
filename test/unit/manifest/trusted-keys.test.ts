// policies.trustedPluginKeys in node manifests, and the public-key files they name.
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  BASE64,
  NODE_MANIFEST_SCHEMA,
  parseNodeManifest,
  parsePublicKeyFile,
  PUBLIC_KEY_SCHEMA,
  SIGNATURE_ALGORITHM_NAMES,
  SIGNATURE_ALGORITHMS,
  type NodeManifestV1,
} from '../../../host/core/manifest/index.js';
import { IoError, ManifestInvalidError } from '../../../host/errors/index.js';
import { loadNodeSpec, loadNodeSpecSync } from '../../../host/runtime/load-manifest.js';
import { assertInvalidAt, getAt, validNode } from './arbitraries.js';

const DIR = '/etc/x0t/nodes';
const CTX = { manifestPath: `${DIR}/a.json`, baseDir: DIR } as const;

function keyOf(algorithm: string, fill: number): string {
  return Buffer.alloc(SIGNATURE_ALGORITHMS[algorithm]!.publicKeyBytes, fill).toString('base64');
}
const COMPOSITE = 'ed25519+ml-dsa-65';
const K1 = keyOf(COMPOSITE, 1);
const K2 = keyOf(COMPOSITE, 2);
const ML = keyOf('ml-dsa-65', 3);

function pubFile(publicKey = K1, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { kind: 'x0t-public-key', schemaVersion: 1, name: 'release', signing: { algorithm: COMPOSITE, publicKey }, ...extra };
}

function node(policies: NodeManifestV1['policies']): NodeManifestV1 {
  return { ...validNode(), policies };
}

const parse = (json: unknown, files: Record<string, string> = {}) =>
  parseNodeManifest(json, { ...CTX, files: new Map(Object.entries(files)) });

describe('policies.trustedPluginKeys', () => {
  it('defaults to none, and signatures to optional', () => {
    const spec = parse(validNode());
    assert.deepEqual(spec.policies.trustedPluginKeys, []);
    assert.equal(spec.policies.requireSignedPlugins, false);
  });

  it('takes inline keys of either algorithm', () => {
    const spec = parse(node({
      requireSignedPlugins: true,
      trustedPluginKeys: [{ name: 'ci', algorithm: COMPOSITE, publicKey: K1 }, { algorithm: 'ml-dsa-65', publicKey: ML }],
    }));
    assert.deepEqual(spec.policies.trustedPluginKeys, [
      { name: 'ci', algorithm: COMPOSITE, publicKey: K1, file: null },
      { name: null, algorithm: 'ml-dsa-65', publicKey: ML, file: null },
    ]);
    assert.ok(Object.isFrozen(spec.policies.trustedPluginKeys[0]));
  });

  it('reads public-key files relative to the manifest; the entry name wins over the file name', () => {
    const spec = parse(
      node({ trustedPluginKeys: [{ file: '../keys/release.pub.json' }, { file: '/abs/other.pub.json', name: 'mine' }] }),
      {
        '/etc/x0t/keys/release.pub.json': JSON.stringify(pubFile()),
        '/abs/other.pub.json': '\uFEFF' + JSON.stringify(pubFile(K2)),
      },
    );
    assert.deepEqual(spec.policies.trustedPluginKeys, [
      { name: 'release', algorithm: COMPOSITE, publicKey: K1, file: '/etc/x0t/keys/release.pub.json' },
      { name: 'mine', algorithm: COMPOSITE, publicKey: K2, file: '/abs/other.pub.json' },
    ]);
  });

  it('requireSignedPlugins without a trusted key is an error (nothing could load)', () => {
    const e = assertInvalidAt(() => parse(node({ requireSignedPlugins: true })), 'policies.trustedPluginKeys');
    assert.match(e.message, /at least one key/);
    assertInvalidAt(() => parse(node({ requireSignedPlugins: true, trustedPluginKeys: [] })), 'policies.trustedPluginKeys');
  });

  const invalid: [string, unknown, string][] = [
    ['file and inline together', { trustedPluginKeys: [{ file: 'k.json', algorithm: COMPOSITE, publicKey: K1 }] }, 'policies.trustedPluginKeys[0]'],
    ['inline without publicKey', { trustedPluginKeys: [{ algorithm: COMPOSITE }] }, 'policies.trustedPluginKeys[0].publicKey'],
    ['inline without algorithm', { trustedPluginKeys: [{ publicKey: K1 }] }, 'policies.trustedPluginKeys[0].algorithm'],
    ['empty entry', { trustedPluginKeys: [{}] }, 'policies.trustedPluginKeys[0].algorithm'],
    ['unknown algorithm', { trustedPluginKeys: [{ algorithm: 'rsa', publicKey: K1 }] }, 'policies.trustedPluginKeys[0].algorithm'],
    ['key of the other algorithm', { trustedPluginKeys: [{ algorithm: 'ml-dsa-65', publicKey: K1 }] }, 'policies.trustedPluginKeys[0].publicKey'],
    ['not base64', { trustedPluginKeys: [{ algorithm: COMPOSITE, publicKey: 'not base64!' }] }, 'policies.trustedPluginKeys[0].publicKey'],
    ['unknown field', { trustedPluginKeys: [{ algorithm: COMPOSITE, publicKey: K1, fingerprint: 'ab' }] }, 'policies.trustedPluginKeys[0].fingerprint'],
    ['the same key twice', {
      trustedPluginKeys: [{ algorithm: COMPOSITE, publicKey: K1 }, { algorithm: COMPOSITE, publicKey: K2 }, { algorithm: COMPOSITE, publicKey: K1, name: 'x' }],
    }, 'policies.trustedPluginKeys[2]'],
    ['not an array', { trustedPluginKeys: { algorithm: COMPOSITE, publicKey: K1 } }, 'policies.trustedPluginKeys'],
    ['a file that was not read', { trustedPluginKeys: [{ file: 'missing.json' }] }, 'policies.trustedPluginKeys[0].file'],
  ];
  for (const [what, policies, path] of invalid) {
    it(`refuses ${what} (at ${path})`, () => {
      assertInvalidAt(() => parse(node(policies as NodeManifestV1['policies'])), path);
    });
  }

  it('names the node field when a key file is unusable, and says why', () => {
    const at = 'policies.trustedPluginKeys[0].file';
    const cases: [string, string | Record<string, unknown>, RegExp][] = [
      ['not JSON', '{', /not valid JSON/],
      ['a secret key file', { kind: 'x0t-node-key', schemaVersion: 1 }, /secret node key file.*--public-out/],
      ['wrong kind', { ...pubFile(), kind: 'ssh-rsa' }, /kind/],
      ['short key', pubFile(keyOf('ml-dsa-65', 1)), /signing\.publicKey: must be a ed25519\+ml-dsa-65 public key of 1984 bytes, got 1952/],
      ['unknown field', pubFile(K1, { fingerprint: 'ab' }), /fingerprint/],
    ];
    for (const [what, content, why] of cases) {
      const e = assertInvalidAt(
        () => parse(node({ trustedPluginKeys: [{ file: 'k.json' }] }), {
          [`${DIR}/k.json`]: typeof content === 'string' ? content : JSON.stringify(content),
        }),
        at,
      );
      assert.match(e.message, why, what);
      assert.match(e.message, /\/etc\/x0t\/nodes\/k\.json/, what);
    }
  });
});

describe('parsePublicKeyFile', () => {
  it('parses the signing key and an optional KEM key', () => {
    const kem = { algorithm: 'x-wing', publicKey: Buffer.alloc(1216, 9).toString('base64') };
    const spec = parsePublicKeyFile(pubFile(K1, { kem }), CTX);
    assert.deepEqual(spec, { name: 'release', signing: { algorithm: COMPOSITE, publicKey: K1 }, kem });
    assert.ok(Object.isFrozen(spec.signing));
    assert.deepEqual(parsePublicKeyFile({ kind: 'x0t-public-key', schemaVersion: 1, signing: { algorithm: 'ml-dsa-65', publicKey: ML } }, CTX).name, null);
  });

  it('refuses other versions and missing parts at their field', () => {
    assertInvalidAt(() => parsePublicKeyFile({ ...pubFile(), schemaVersion: 2 }, CTX), 'schemaVersion');
    assertInvalidAt(() => parsePublicKeyFile({ kind: 'x0t-public-key', schemaVersion: 1 }, CTX), 'signing');
    assertInvalidAt(() => parsePublicKeyFile(pubFile('AAAA'), CTX), 'signing.publicKey');
  });
});

describe('the schemas agree with the TypeScript constants', () => {
  it('trusted key and public-key file algorithms are SIGNATURE_ALGORITHM_NAMES; base64 is BASE64', () => {
    const trusted = getAt(NODE_MANIFEST_SCHEMA, ['$defs', 'trustedKey', 'properties']) as Record<string, Record<string, unknown>>;
    assert.deepEqual(trusted['algorithm']?.['enum'], [...SIGNATURE_ALGORITHM_NAMES]);
    assert.equal(trusted['publicKey']?.['pattern'], BASE64.source);
    assert.deepEqual(getAt(PUBLIC_KEY_SCHEMA, ['properties', 'signing', 'properties', 'algorithm', 'enum']), [...SIGNATURE_ALGORITHM_NAMES]);
    assert.equal(getAt(PUBLIC_KEY_SCHEMA, ['$defs', 'base64', 'pattern']), BASE64.source);
    assert.equal(PUBLIC_KEY_SCHEMA['$id'], 'https://x0tta6bl4.dev/schema/public-key.v1.json');
    assert.deepEqual(getAt(NODE_MANIFEST_SCHEMA, ['properties', 'policies', 'properties', 'trustedPluginKeys', 'default']), []);
  });
});

describe('loadNodeSpec reads the key files a node manifest names', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'x0t-trusted-'));
    await mkdir(join(dir, 'nodes'));
    await mkdir(join(dir, 'keys'));
    await writeFile(join(dir, 'keys', 'release.pub.json'), JSON.stringify(pubFile()));
    await writeFile(join(dir, 'nodes', 'ok.json'), JSON.stringify(node({
      requireSignedPlugins: true, trustedPluginKeys: [{ file: '../keys/release.pub.json' }],
    })));
    await writeFile(join(dir, 'nodes', 'missing.json'), JSON.stringify(node({ trustedPluginKeys: [{ file: '../keys/gone.pub.json' }] })));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('resolves them against the manifest folder (async and sync)', async () => {
    for (const spec of [await loadNodeSpec(join(dir, 'nodes', 'ok.json')), loadNodeSpecSync(join(dir, 'nodes', 'ok.json'))]) {
      assert.deepEqual(spec.policies.trustedPluginKeys, [
        { name: 'release', algorithm: COMPOSITE, publicKey: K1, file: join(dir, 'keys', 'release.pub.json') },
      ]);
    }
  });

  it('an unreadable key file is an IoError naming it', async () => {
    const e = await loadNodeSpec(join(dir, 'nodes', 'missing.json')).catch((x: unknown) => x);
    assert.ok(e instanceof IoError, String(e));
    assert.equal(e.details['path'], join(dir, 'keys', 'gone.pub.json'));
    assert.throws(() => loadNodeSpecSync(join(dir, 'nodes', 'missing.json')), IoError);
    assert.ok(!(e instanceof ManifestInvalidError));
  });
});
