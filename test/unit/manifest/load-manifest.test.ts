import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { IoError, ManifestInvalidError } from '../../../host/errors/index.js';
import {
  adHocSpec,
  loadNodeSpec,
  loadNodeSpecSync,
  loadPluginSpec,
  loadPluginSpecSync,
} from '../../../host/runtime/load-manifest.js';
import { DEFAULT_LIMITS } from '../../../host/core/plugin-spec.js';
import { assertInvalidAt, validNode, validPlugin } from './arbitraries.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'x0t-manifest-'));
  await mkdir(join(dir, 'plugins'));
  await mkdir(join(dir, 'nodes'));
  await writeFile(join(dir, 'plugins', 'fedavg.json'), JSON.stringify(validPlugin()));
  await writeFile(join(dir, 'plugins', 'bom.json'), '\uFEFF' + JSON.stringify(validPlugin()));
  await writeFile(join(dir, 'plugins', 'broken.json'), '{"schemaVersion": 1,');
  await writeFile(join(dir, 'plugins', 'bad-name.json'), JSON.stringify({ ...validPlugin(), name: 'Bad Name' }));
  await writeFile(join(dir, 'nodes', 'a.json'), JSON.stringify(validNode()));
  await writeFile(join(dir, 'My_Echo.v2.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadPluginSpec / loadNodeSpec', () => {
  it('reads a plugin manifest and resolves wasm.path against its folder', async () => {
    const file = join(dir, 'plugins', 'fedavg.json');
    for (const spec of [await loadPluginSpec(file), loadPluginSpecSync(file)]) {
      assert.equal(spec.manifestPath, file);
      assert.equal(spec.wasm.path, join(dir, '..', 'wasm', 'fedavg.wasm'));
      assert.ok(Object.isFrozen(spec));
    }
  });

  it('tolerates a UTF-8 byte order mark', async () => {
    assert.equal((await loadPluginSpec(join(dir, 'plugins', 'bom.json'))).name, 'fedavg');
  });

  it('reads a node manifest and resolves slot plugins against its folder', async () => {
    const file = join(dir, 'nodes', 'a.json');
    for (const spec of [await loadNodeSpec(file), loadNodeSpecSync(file)]) {
      assert.equal(spec.manifestPath, file);
      assert.equal(spec.slots['aggregator']?.plugin, join(dir, 'plugins', 'fedavg.json'));
    }
  });

  it('a missing file is an IoError naming the file', async () => {
    const file = join(dir, 'nope.json');
    for (const attempt of [() => loadPluginSpec(file), () => loadNodeSpec(file)]) {
      await assert.rejects(attempt(), (e: unknown) => {
        assert.ok(e instanceof IoError);
        assert.equal(e.details['path'], file);
        assert.equal(e.details['code'], 'ENOENT');
        return true;
      });
    }
    assert.throws(() => loadPluginSpecSync(file), IoError);
  });

  it('a directory is an IoError too', async () => {
    await assert.rejects(loadPluginSpec(dir), IoError);
  });

  it('bad JSON is a ManifestInvalidError at path "" naming the file', async () => {
    const file = join(dir, 'plugins', 'broken.json');
    await assert.rejects(loadPluginSpec(file), (e: unknown) => {
      assert.ok(e instanceof ManifestInvalidError);
      assert.equal(e.details['path'], '');
      assert.ok(e.message.includes(file), e.message);
      return true;
    });
    assert.throws(() => loadNodeSpecSync(file), ManifestInvalidError);
  });

  it('an invalid manifest names the field and the file', async () => {
    const file = join(dir, 'plugins', 'bad-name.json');
    const e = assertInvalidAt(() => loadPluginSpecSync(file), 'name');
    assert.equal(e.details['file'], file);
    await assert.rejects(loadPluginSpec(file), ManifestInvalidError);
  });
});

describe('shipped node configs', () => {
  for (const name of ['default', 'rpi', 'openwrt']) {
    it(`manifests/nodes/${name}.json is valid and names the selftest and fedavg plugins`, async () => {
      const spec = await loadNodeSpec(join(REPO, 'manifests', 'nodes', `${name}.json`));
      assert.equal(spec.slots['selftest']?.plugin, join(REPO, 'manifests', 'plugins', 'selftest.json'));
      assert.equal(spec.slots['selftest']?.capability, 'selftest');
      assert.equal(spec.slots['aggregator']?.plugin, join(REPO, 'manifests', 'plugins', 'fedavg.json'));
      assert.equal(spec.slots['aggregator']?.capability, 'aggregator');
      if (name === 'default') assert.equal(spec.listen.admin.address, '127.0.0.1:9470');
      else assert.equal(spec.listen.mesh[0]?.host, '0.0.0.0');
    });
  }
});

describe('adHocSpec', () => {
  const wasm = () => join(dir, 'My_Echo.v2.wasm');

  it('hashes the file and uses safe defaults', () => {
    const spec = adHocSpec(wasm(), {});
    assert.equal(spec.wasm.path, wasm());
    assert.equal(spec.wasm.sha256, createHash('sha256').update(Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0])).digest('hex'));
    assert.equal(spec.name, 'my-echo-v2');
    assert.equal(spec.capability, 'selftest');
    assert.deepEqual(spec.permissions.host, []);
    assert.deepEqual(spec.limits, DEFAULT_LIMITS);
    assert.equal(spec.isolation, 'worker');
    assert.equal(spec.manifestPath, null);
    assert.ok(Object.isFrozen(spec.limits));
  });

  it('applies overrides, checked like a manifest', () => {
    const spec = adHocSpec(wasm(), { capability: 'aggregator', name: 'agg', maxMemoryPages: 8, callTimeoutMs: 10, isolation: 'in-thread' });
    assert.equal(spec.capability, 'aggregator');
    assert.equal(spec.name, 'agg');
    assert.deepEqual(spec.limits, { ...DEFAULT_LIMITS, maxMemoryPages: 8, callTimeoutMs: 10 });
    assertInvalidAt(() => adHocSpec(wasm(), { capability: 'nope' }), 'capability');
    assertInvalidAt(() => adHocSpec(wasm(), { maxMemoryPages: 0 }), 'limits.maxMemoryPages');
    assertInvalidAt(() => adHocSpec(wasm(), { isolation: 'in-thread' }), 'limits.callTimeoutMs');
  });

  it('falls back to "plugin" when the file name has no letters', async () => {
    const file = join(dir, '123.wasm');
    await writeFile(file, 'x');
    assert.equal(adHocSpec(file).name, 'plugin');
  });

  it('a missing wasm file is an IoError', () => {
    assert.throws(() => adHocSpec(join(dir, 'missing.wasm')), (e: unknown) => {
      assert.ok(e instanceof IoError);
      assert.equal(e.details['path'], join(dir, 'missing.wasm'));
      return true;
    });
  });
});
