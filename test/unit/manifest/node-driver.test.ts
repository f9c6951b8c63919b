// The node manifest's `driver` section: defaults filled, frozen, absent when not given; every bad value named by its
// field path; the schema's enum and defaults in step with the TypeScript constants; quarantineFile resolved against the
// manifest's folder like knowledge.dir (absolute kept); the shipped node manifests: default.json has no driver (the
// demo runs unprivileged), rpi.json and openwrt.json name one and keep their quarantine in /var/lib/x0tta6bl4.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NODE_MANIFEST_SCHEMA, parseNodeManifest } from '../../../host/core/manifest/index.js';
import { DEFAULT_DRIVER, DRIVER_ATTACH_MODES } from '../../../host/core/manifest/node-spec.js';
import { loadNodeSpec } from '../../../host/runtime/load-manifest.js';
import { assertInvalidAt, getAt, validNode } from './arbitraries.js';

const CTX = { manifestPath: '/etc/x0t/nodes/a.json', baseDir: '/etc/x0t/nodes' } as const;
const withDriver = (driver: unknown) => parseNodeManifest({ ...validNode(), driver }, CTX);
const NODES = fileURLToPath(new URL('../../../../manifests/nodes/', import.meta.url));

describe('node manifest: driver', () => {
  it('is absent from the spec when the manifest has none', () => {
    const spec = parseNodeManifest(validNode(), CTX);
    assert.equal(Object.hasOwn(spec, 'driver'), false);
    assert.equal(spec.driver, undefined);
  });

  it('fills the defaults around the interface, frozen', () => {
    const spec = withDriver({ interface: 'eth0' });
    assert.deepEqual(spec.driver, { interface: 'eth0', mode: 'auto', eventsPerSecond: 1000, pinRoot: null, required: false, quarantineFile: null });
    assert.ok(Object.isFrozen(spec.driver));
  });

  it('carries every field; pinRoot is normalised', () => {
    const spec = withDriver({
      interface: 'veth-b.10@x', mode: 'generic', eventsPerSecond: 1, pinRoot: '/sys/fs/bpf//x0t/./a/', required: true, quarantineFile: 'q.json',
    });
    assert.deepEqual(spec.driver, {
      interface: 'veth-b.10@x', mode: 'generic', eventsPerSecond: 1, pinRoot: '/sys/fs/bpf/x0t/a/', required: true, quarantineFile: '/etc/x0t/nodes/q.json',
    });
    for (const mode of DRIVER_ATTACH_MODES) assert.equal(withDriver({ interface: 'wlan0', mode }).driver?.mode, mode);
    // The longest name Linux allows (IFNAMSIZ 16 with the NUL) and the largest event rate.
    assert.equal(withDriver({ interface: 'a'.repeat(15), eventsPerSecond: 1_000_000 }).driver?.interface, 'a'.repeat(15));
  });

  it('quarantineFile is resolved against the manifest\'s folder; an absolute path is kept (normalised)', () => {
    const at = (quarantineFile: string) => withDriver({ interface: 'eth0', quarantineFile }).driver?.quarantineFile;
    assert.equal(at('state/quarantine.json'), '/etc/x0t/nodes/state/quarantine.json');
    assert.equal(at('../../var/q.json'), '/etc/var/q.json');
    assert.equal(at('/var/lib/x0tta6bl4//quarantine.json'), '/var/lib/x0tta6bl4/quarantine.json');
    assert.equal(at('/var/lib/x0tta6bl4/./a/../quarantine.json'), '/var/lib/x0tta6bl4/quarantine.json');
    assert.equal(parseNodeManifest({ ...validNode(), driver: { interface: 'eth0', quarantineFile: 'q.json' } }, {
      manifestPath: '/srv/node/n.json', baseDir: '/srv/node',
    }).driver?.quarantineFile, '/srv/node/q.json');
  });

  const cases: [string, unknown, string][] = [
    ['not an object', 'eth0', 'driver'],
    ['an array', ['eth0'], 'driver'],
    ['interface missing', { mode: 'auto' }, 'driver.interface'],
    ['interface empty', { interface: '' }, 'driver.interface'],
    ['interface over 15 characters', { interface: 'a'.repeat(16) }, 'driver.interface'],
    ['interface with a slash', { interface: 'eth/0' }, 'driver.interface'],
    ['interface with a colon (an alias)', { interface: 'eth0:1' }, 'driver.interface'],
    ['interface with a space', { interface: 'eth 0' }, 'driver.interface'],
    ['interface with a NUL', { interface: 'eth\u00000' }, 'driver.interface'],
    ['interface non-ASCII', { interface: 'ethé' }, 'driver.interface'],
    ['interface "."', { interface: '.' }, 'driver.interface'],
    ['interface ".."', { interface: '..' }, 'driver.interface'],
    ['interface not a string', { interface: 3 }, 'driver.interface'],
    ['unknown mode', { interface: 'eth0', mode: 'offload' }, 'driver.mode'],
    ['eventsPerSecond 0', { interface: 'eth0', eventsPerSecond: 0 }, 'driver.eventsPerSecond'],
    ['eventsPerSecond negative', { interface: 'eth0', eventsPerSecond: -5 }, 'driver.eventsPerSecond'],
    ['eventsPerSecond fractional', { interface: 'eth0', eventsPerSecond: 1.5 }, 'driver.eventsPerSecond'],
    ['eventsPerSecond too large', { interface: 'eth0', eventsPerSecond: 1_000_001 }, 'driver.eventsPerSecond'],
    ['eventsPerSecond a string', { interface: 'eth0', eventsPerSecond: '100' }, 'driver.eventsPerSecond'],
    ['pinRoot relative', { interface: 'eth0', pinRoot: 'bpf/x0t' }, 'driver.pinRoot'],
    ['pinRoot "/" alone', { interface: 'eth0', pinRoot: '/' }, 'driver.pinRoot'],
    ['pinRoot with a NUL', { interface: 'eth0', pinRoot: '/sys/fs/bpf/\u0000' }, 'driver.pinRoot'],
    ['required not a boolean', { interface: 'eth0', required: 'yes' }, 'driver.required'],
    ['quarantineFile empty', { interface: 'eth0', quarantineFile: '' }, 'driver.quarantineFile'],
    ['quarantineFile a folder (trailing slash)', { interface: 'eth0', quarantineFile: '/var/lib/x0tta6bl4/' }, 'driver.quarantineFile'],
    ['quarantineFile with a NUL', { interface: 'eth0', quarantineFile: 'q\u0000.json' }, 'driver.quarantineFile'],
    ['quarantineFile not a string', { interface: 'eth0', quarantineFile: true }, 'driver.quarantineFile'],
    ['quarantineFile over 4096 characters', { interface: 'eth0', quarantineFile: 'q'.repeat(4097) }, 'driver.quarantineFile'],
    ['unknown field', { interface: 'eth0', objectPath: '/x.o' }, 'driver.objectPath'],
  ];
  for (const [what, driver, path] of cases) {
    it(`${what} → ${JSON.stringify(path)}`, () => {
      assertInvalidAt(() => withDriver(driver), path);
    });
  }

  it('the schema agrees with the TypeScript constants', () => {
    const props = (...p: string[]) => getAt(NODE_MANIFEST_SCHEMA, ['properties', 'driver', 'properties', ...p]);
    assert.deepEqual(props('mode', 'enum'), [...DRIVER_ATTACH_MODES]);
    assert.equal(props('mode', 'default'), DEFAULT_DRIVER.mode);
    assert.equal(props('eventsPerSecond', 'default'), DEFAULT_DRIVER.eventsPerSecond);
    assert.equal(props('required', 'default'), DEFAULT_DRIVER.required);
  });

  it('default.json has no driver section; rpi.json and openwrt.json name an interface, do not require XDP and keep their quarantine', async () => {
    const raw = JSON.parse(await readFile(`${NODES}default.json`, 'utf8')) as Record<string, unknown>;
    assert.equal(Object.hasOwn(raw, 'driver'), false);
    assert.equal((await loadNodeSpec(`${NODES}default.json`)).driver, undefined);
    assert.equal((await loadNodeSpec(`${NODES}rpi.json`)).driver?.interface, 'wlan0');
    assert.equal((await loadNodeSpec(`${NODES}openwrt.json`)).driver?.interface, 'br-lan');
    for (const name of ['rpi', 'openwrt']) {
      const driver = (await loadNodeSpec(`${NODES}${name}.json`)).driver;
      assert.equal(driver?.required, false, name);
      assert.equal(driver?.quarantineFile, '/var/lib/x0tta6bl4/quarantine.json', name);
    }
  });
});
