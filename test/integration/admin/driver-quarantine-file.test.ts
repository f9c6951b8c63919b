// driver.quarantineFile in a running node (NodeRuntime in this process, admin API on an ephemeral port) with the
// user-space driver: quarantine added through the admin API is in the file (canonical text) before the reply; after
// the node stops, a new node started on the same manifest has the same quarantine and enforces it (`record` refuses
// the address's packets); a delete rewrites the file; a malformed file fails the start with X0T_IO naming it; a file
// that cannot be written fails the request and leaves the driver as it was. XDP is made unavailable by a pinRoot
// where no bpffs can be made (under /dev/null, ENOTDIR), so the node runs the user-space driver whether or not this
// process is root.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { X0tError } from '../../../host/errors/index.js';
import { formatQuarantineFile } from '../../../host/node/quarantine-file.js';
import { NodeRuntime } from '../../../host/node/node-runtime.js';
import { admin, tempNodeManifest, type NodeManifestJson } from '../cli/harness.js';

const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

function userspaceWithFile(m: NodeManifestJson): void {
  for (const name of Object.keys(m.slots)) if (name !== 'selftest') delete m.slots[name];
  m['driver'] = { interface: 'lo', pinRoot: '/dev/null/x0t-no-bpffs', quarantineFile: 'state/quarantine.json' };
}

describe('driver.quarantineFile with the user-space driver: the quarantine survives a restart', () => {
  let manifest: Awaited<ReturnType<typeof tempNodeManifest>>;
  let file: string;
  let node: NodeRuntime | null = null;
  const start = () => NodeRuntime.start({ manifestPath: manifest.file, admin: '127.0.0.1:0', watch: false });

  before(async () => {
    manifest = await tempNodeManifest(undefined, userspaceWithFile);
    file = join(manifest.dir, 'state', 'quarantine.json');
  });
  after(async () => {
    await node?.stop();
    await manifest?.cleanup();
  });

  test('the first start runs the user-space driver, names the file and writes nothing while the quarantine is empty', async () => {
    node = await start();
    assert.equal(node.driver.status().mode, 'userspace');
    assert.match(node.driver.status().reason ?? '', /^XDP on lo is unavailable: /);
    assert.equal(node.driver.quarantineFile, file);
    await assert.rejects(readFile(file), { code: 'ENOENT' });
  });

  test('quarantine added through the admin API is in the file (canonical text) when the reply arrives', async () => {
    const url = node!.adminUrl;
    const a = await admin(url, '/driver/quarantine', json({ address: '10.110.0.9' }));
    assert.equal(a.status, 200, JSON.stringify(a.json));
    assert.deepEqual(a.json, { entry: { address: '10.110.0.9', family: 4, drops: 0 }, added: true });
    assert.equal(await readFile(file, 'utf8'), '{\n  "version": 1,\n  "addresses": [\n    "10.110.0.9"\n  ]\n}\n');
    const b = await admin(url, '/driver/quarantine', json({ address: 'FD00:110:0:0::0009' }));
    assert.equal(b.status, 200, JSON.stringify(b.json));
    assert.equal(await readFile(file, 'utf8'), formatQuarantineFile(['10.110.0.9', 'fd00:110::9']));
    // The drops are counted while it runs, but not written: the file holds the list only.
    const feed = node!.driver.userspace!;
    assert.equal(feed.record('10.110.0.9', 100), false);
    const again = await admin(url, '/driver/quarantine', json({ address: '10.110.0.9' }));
    assert.deepEqual(again.json, { entry: { address: '10.110.0.9', family: 4, drops: 1 }, added: false });
    assert.equal(await readFile(file, 'utf8'), formatQuarantineFile(['10.110.0.9', 'fd00:110::9']));
  });

  test('a new node on the same manifest has the quarantine back and enforces it', async () => {
    await node!.stop();
    node = null;
    assert.equal(await readFile(file, 'utf8'), formatQuarantineFile(['10.110.0.9', 'fd00:110::9']));
    node = await start();
    const ls = await admin(node.adminUrl, '/driver/quarantine');
    assert.deepEqual(ls.json, { quarantine: [
      { address: '10.110.0.9', family: 4, drops: 0 },
      { address: 'fd00:110::9', family: 6, drops: 0 },
    ] });
    const feed = node.driver.userspace!;
    assert.equal(feed.record('10.110.0.9', 120), false, 'a quarantined IPv4 peer is refused');
    assert.equal(feed.record('::ffff:10.110.0.9', 120), false, 'also as a dual-stack socket reports it');
    assert.equal(feed.record('fd00:110::9', 80), false, 'a quarantined IPv6 peer is refused');
    assert.equal(feed.record('10.110.0.10', 64), true, 'another peer passes');
    assert.deepEqual(node.driver.quarantineList(), [
      { address: '10.110.0.9', family: 4, drops: 2 },
      { address: 'fd00:110::9', family: 6, drops: 1 },
    ]);
  });

  test('a delete rewrites the file; deleting what is not quarantined (404) leaves it', async () => {
    const url = node!.adminUrl;
    const del = await admin(url, '/driver/quarantine/10.110.0.9', { method: 'DELETE' });
    assert.equal(del.status, 200, JSON.stringify(del.json));
    assert.deepEqual(del.json, { address: '10.110.0.9', removed: true });
    assert.equal(await readFile(file, 'utf8'), formatQuarantineFile(['fd00:110::9']));
    const none = await admin(url, '/driver/quarantine/10.110.0.9', { method: 'DELETE' });
    assert.equal(none.status, 404);
    assert.equal(await readFile(file, 'utf8'), formatQuarantineFile(['fd00:110::9']));
    assert.equal(node!.driver.userspace!.record('10.110.0.9', 64), true, 'the released peer passes');
    const last = await admin(url, '/driver/quarantine/fd00:110::9', { method: 'DELETE' });
    assert.equal(last.status, 200, JSON.stringify(last.json));
    assert.equal(await readFile(file, 'utf8'), formatQuarantineFile([]));
  });

  test('a file that cannot be written fails the request (X0T_IO, 422) and leaves the quarantine as it was', async () => {
    const url = node!.adminUrl;
    assert.equal((await admin(url, '/driver/quarantine', json({ address: '10.110.0.5' }))).status, 200);
    // The state folder replaced by a plain file: nothing can be written under it.
    await rm(join(manifest.dir, 'state'), { recursive: true });
    await writeFile(join(manifest.dir, 'state'), 'not a folder');
    const add = await admin(url, '/driver/quarantine', json({ address: '10.110.0.6' }));
    assert.equal(add.status, 422, JSON.stringify(add.json));
    assert.equal(add.json.error.code, 'X0T_IO');
    assert.equal(add.json.error.details.path, file);
    const del = await admin(url, '/driver/quarantine/10.110.0.5', { method: 'DELETE' });
    assert.equal(del.status, 422, JSON.stringify(del.json));
    assert.equal(del.json.error.code, 'X0T_IO');
    // Neither change took effect: 10.110.0.6 is not quarantined, 10.110.0.5 still is.
    assert.deepEqual((await admin(url, '/driver/quarantine')).json, { quarantine: [{ address: '10.110.0.5', family: 4, drops: 0 }] });
    assert.equal(node!.driver.userspace!.record('10.110.0.5', 64), false);
    assert.equal(node!.driver.userspace!.record('10.110.0.6', 64), true);
    await rm(join(manifest.dir, 'state'));
    await node!.stop();
    node = null;
  });

  test('a malformed file fails the start with X0T_IO naming the file; nothing is left running', async () => {
    await mkdir(join(manifest.dir, 'state'), { recursive: true });
    for (const [text, field] of [
      ['{"version": 1, "addresses": ["10.110.0.9",', ''],
      ['{"version": 2, "addresses": ["10.110.0.9"]}', 'version'],
      ['{"version": 1, "addresses": ["10.110.0.9", "10.110.0.300"]}', 'addresses[1]'],
    ] as const) {
      await writeFile(file, text);
      await assert.rejects(start(), (e: unknown) => {
        assert.ok(e instanceof X0tError, String(e));
        assert.equal(e.code, 'X0T_IO');
        assert.equal(e.details['path'], file);
        assert.equal(e.details['field'], field);
        assert.ok(e.message.includes(file), e.message);
        return true;
      });
      // The file is the operator's: a failed start leaves it exactly as it was.
      assert.equal(await readFile(file, 'utf8'), text);
    }
    // Fixed, the node starts with the list in the file.
    await writeFile(file, '{"version": 1, "addresses": ["10.110.0.4"]}');
    node = await start();
    assert.deepEqual(node.driver.quarantineList(), [{ address: '10.110.0.4', family: 4, drops: 0 }]);
  });
});
