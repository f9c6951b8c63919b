import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePluginManifest, MAX_IN_THREAD_TIMEOUT_MS } from '../../../host/core/manifest/index.js';
import { DEFAULT_LIMITS } from '../../../host/core/plugin-spec.js';
import { ManifestInvalidError } from '../../../host/errors/index.js';
import { assertInvalidAt, BASE_DIR, CTX, SHA, validPlugin } from './arbitraries.js';

const parse = (json: unknown) => parsePluginManifest(json, CTX);
const withField = (patch: Record<string, unknown>) => ({ ...validPlugin(), ...patch });

describe('parsePluginManifest: a valid manifest', () => {
  it('fills every default and resolves wasm.path against baseDir', () => {
    const spec = parse(validPlugin());
    assert.deepEqual(spec, {
      name: 'fedavg',
      version: '1.2.3',
      capability: 'aggregator',
      abi: { min: 1, max: 1 },
      wasm: { path: '/srv/x0t/wasm/fedavg.wasm', sha256: SHA },
      limits: { ...DEFAULT_LIMITS },
      isolation: 'worker',
      permissions: { host: [] },
      config: {},
      signature: null,
      description: '',
      manifestPath: CTX.manifestPath,
    });
  });

  it('keeps given fields, merges partial limits with the defaults and carries the signature', () => {
    const spec = parse(
      withField({
        $schema: '../schema/plugin-manifest.v1.json',
        description: 'weighted mean',
        limits: { maxMemoryPages: 32, callTimeoutMs: 20 },
        isolation: 'in-thread',
        permissions: { host: ['log', 'clock'] },
        config: { mode: 'fast' },
        signature: { algorithm: 'ml-dsa-65', publicKey: 'cGs=', value: 'c2ln' },
      }),
    );
    assert.deepEqual(spec.limits, { ...DEFAULT_LIMITS, maxMemoryPages: 32, callTimeoutMs: 20 });
    assert.equal(spec.isolation, 'in-thread');
    assert.deepEqual(spec.permissions.host, ['log', 'clock']);
    assert.deepEqual(spec.config, { mode: 'fast' });
    assert.deepEqual(spec.signature, { algorithm: 'ml-dsa-65', publicKey: 'cGs=', value: 'c2ln' });
    assert.equal(spec.description, 'weighted mean');
  });

  it('accepts an explicit null signature, an absolute wasm path and a null manifestPath', () => {
    const spec = parsePluginManifest(withField({ signature: null, wasm: { path: '/opt/p.wasm', sha256: SHA } }), {
      manifestPath: null,
      baseDir: BASE_DIR,
    });
    assert.equal(spec.signature, null);
    assert.equal(spec.wasm.path, '/opt/p.wasm');
    assert.equal(spec.manifestPath, null);
  });

  it('keeps a "__proto__" config key as plain data', () => {
    const json: unknown = JSON.parse(JSON.stringify(validPlugin()).replace(/}$/, ',"config":{"__proto__":"x"}}'));
    const spec = parse(json);
    assert.equal(Object.getPrototypeOf(spec.config), Object.prototype);
    assert.deepEqual(Object.entries(spec.config), [['__proto__', 'x']]);
  });

  it('is frozen all the way down and leaves the input unfrozen', () => {
    const input = withField({ limits: { maxMemoryPages: 2 }, permissions: { host: ['log'] }, config: { a: 'b' } });
    const spec = parse(input);
    assert.throws(() => {
      (spec.limits as { maxMemoryPages: number }).maxMemoryPages = 9;
    }, TypeError);
    assert.throws(() => (spec.permissions.host as string[]).push('var'), TypeError);
    assert.throws(() => {
      (spec.config as Record<string, string>)['a'] = 'c';
    }, TypeError);
    assert.ok(!Object.isFrozen(input));
    assert.ok(!Object.isFrozen(input['limits']));
  });
});

describe('parsePluginManifest: each kind of error names its field', () => {
  const cases: [string, unknown, string][] = [
    ['root not an object', [], ''],
    ['root null', null, ''],
    ['type: string field', withField({ name: 42 }), 'name'],
    ['type: nested integer', withField({ abi: { min: '1', max: 1 } }), 'abi.min'],
    ['type: integer, not a fraction', withField({ limits: { callTimeoutMs: 2.5 } }), 'limits.callTimeoutMs'],
    ['type: object field', withField({ limits: 'small' }), 'limits'],
    ['type: config value', withField({ config: { level: 3 } }), 'config.level'],
    ['type: config key that needs quoting', withField({ config: { 'a.b c': false } }), 'config["a.b c"]'],
    ['type: signature neither object nor null', withField({ signature: 'abc' }), 'signature'],
    ['required: top level', (({ version: _v, ...rest }) => rest)(validPlugin()), 'version'],
    ['required: nested', withField({ wasm: { path: 'x.wasm' } }), 'wasm.sha256'],
    ['required: in signature', withField({ signature: { algorithm: 'ml-dsa-65', value: 'x' } }), 'signature.publicKey'],
    ['additional: top level', withField({ extra: true }), 'extra'],
    ['additional: nested', withField({ limits: { maxMemoryPages: 1, stackPages: 2 } }), 'limits.stackPages'],
    ['additional: odd key', withField({ abi: { min: 1, max: 1, 'x y': 1 } }), 'abi["x y"]'],
    ['enum: isolation', withField({ isolation: 'process' }), 'isolation'],
    ['enum: host permission', withField({ permissions: { host: ['log', 'http'] } }), 'permissions.host[1]'],
    ['unique: host permission twice', withField({ permissions: { host: ['log', 'clock', 'log'] } }), 'permissions.host[2]'],
    ['const: schemaVersion', withField({ schemaVersion: 2 }), 'schemaVersion'],
    ['pattern: name not a slug', withField({ name: 'FedAvg' }), 'name'],
    ['pattern: version not semver', withField({ version: '1.2' }), 'version'],
    ['pattern: sha256 uppercase', withField({ wasm: { path: 'x.wasm', sha256: SHA.toUpperCase() } }), 'wasm.sha256'],
    ['range: memory pages 0', withField({ limits: { maxMemoryPages: 0 } }), 'limits.maxMemoryPages'],
    ['range: memory pages > 65536', withField({ limits: { maxMemoryPages: 65537 } }), 'limits.maxMemoryPages'],
    ['range: timeout > 600000', withField({ limits: { callTimeoutMs: 600_001 } }), 'limits.callTimeoutMs'],
    ['range: output > 1 GiB', withField({ limits: { maxOutputBytes: 2 ** 30 + 1 } }), 'limits.maxOutputBytes'],
    ['range: abi.min 0', withField({ abi: { min: 0, max: 1 } }), 'abi.min'],
    ['cross-field: abi.min > abi.max', withField({ abi: { min: 3, max: 2 } }), 'abi.max'],
    ['unknown capability', withField({ capability: 'teleporter' }), 'capability'],
    ['in-thread with the default timeout', withField({ isolation: 'in-thread' }), 'limits.callTimeoutMs'],
    [
      'in-thread with a long timeout',
      withField({ isolation: 'in-thread', limits: { callTimeoutMs: MAX_IN_THREAD_TIMEOUT_MS + 1 } }),
      'limits.callTimeoutMs',
    ],
  ];
  for (const [what, json, path] of cases) {
    it(`${what} → ${JSON.stringify(path)}`, () => {
      assertInvalidAt(() => parse(json), path);
    });
  }

  it('accepts in-thread isolation at exactly the limit', () => {
    const spec = parse(withField({ isolation: 'in-thread', limits: { callTimeoutMs: MAX_IN_THREAD_TIMEOUT_MS } }));
    assert.equal(spec.limits.callTimeoutMs, MAX_IN_THREAD_TIMEOUT_MS);
  });

  it('names the manifest file in the message and details', () => {
    const e = assertInvalidAt(() => parse(withField({ name: 'X' })), 'name');
    assert.ok(e.message.includes(CTX.manifestPath), e.message);
    assert.equal(e.details['file'], CTX.manifestPath);
    assert.equal(e.code, 'X0T_MANIFEST_INVALID');
  });

  it('throws ManifestInvalidError, not TypeError, for primitives', () => {
    for (const v of [undefined, 0, 'x', true, 1.5]) {
      assert.throws(() => parse(v), ManifestInvalidError);
    }
  });
});
