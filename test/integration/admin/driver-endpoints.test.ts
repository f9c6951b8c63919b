// The packet driver inside a running node (NodeRuntime in this process, admin API on an ephemeral port) with the
// user-space driver, fed here the way the node's transport will feed it (issue 7): GET /driver states the fallback
// and its reason, /driver/peers and /driver/quarantine show exact counts, quarantine add/delete through the API,
// typed errors for bad addresses and wrong methods, driver events reach the node's event stream, /metrics carries
// the driver families and passes `promtool check metrics`, and stopping the node closes the driver.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { NodeRuntime, type NodeEvent } from '../../../host/node/node-runtime.js';
import type { UserspaceDriver } from '../../../host/driver/userspace-driver.js';
import { admin, tempNodeManifest, type NodeManifestJson } from '../cli/harness.js';
import { parseExposition } from './prometheus.js';

/** Only the selftest slot: the driver is what is under test, and fewer slots start faster. */
function selftestOnly(m: NodeManifestJson): void {
  for (const name of Object.keys(m.slots)) if (name !== 'selftest') delete m.slots[name];
}

/** Why promtool cannot check here, or null. */
function promtoolMissing(): string | null {
  const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return r.error ? `promtool is not installed (${(r.error as NodeJS.ErrnoException).code}); the exposition is still checked by the strict reader` : null;
}

const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('the packet driver in a node without a driver section (user-space fallback)', () => {
  let node: NodeRuntime;
  let manifest: Awaited<ReturnType<typeof tempNodeManifest>>;
  let feed: UserspaceDriver;
  const events: NodeEvent[] = [];

  before(async () => {
    manifest = await tempNodeManifest(undefined, selftestOnly);
    node = await NodeRuntime.start({ manifestPath: manifest.file, admin: '127.0.0.1:0', watch: false, onEvent: (e) => events.push(e) });
    assert.ok(node.driver.userspace, 'a node without a driver section runs the user-space driver');
    feed = node.driver.userspace;
  });
  after(async () => {
    await node?.stop();
    await manifest?.cleanup();
  });

  test('GET /driver states the fallback and its reason', async () => {
    const r = await admin(node.adminUrl, '/driver');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      mode: 'userspace', interface: null, ifindex: null, programId: null, pinDir: null,
      reason: 'no driver interface configured', eventsDelivered: 0, eventsSuppressed: 0, objectSha256: null,
    });
  });

  test('GET /driver/peers shows exactly what the transport recorded', async () => {
    for (let i = 0; i < 25; i++) feed.record('10.110.0.1', 100);
    for (let i = 0; i < 4; i++) feed.record('fd00:110::1', 1280);
    feed.record('::ffff:10.110.0.1', 60);
    const r = await admin(node.adminUrl, '/driver/peers');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, {
      peers: [
        { address: '10.110.0.1', family: 4, packets: 26, bytes: 2560, quarantined: false },
        { address: 'fd00:110::1', family: 6, packets: 4, bytes: 5120, quarantined: false },
      ],
    });
    const newPeers = events.filter((e) => e.type === 'driver' && e.driver.kind === 'new-peer');
    assert.deepEqual(newPeers.map((e) => e.type === 'driver' && e.driver.address), ['10.110.0.1', 'fd00:110::1']);
  });

  test('POST /driver/quarantine adds (canonical form, idempotent); refused packets count as drops; DELETE releases', async () => {
    const add = await admin(node.adminUrl, '/driver/quarantine', json({ address: 'FD00:110:0::0001' }));
    assert.equal(add.status, 200, JSON.stringify(add.json));
    assert.deepEqual(add.json, { entry: { address: 'fd00:110::1', family: 6, drops: 0 }, added: true });
    assert.equal(feed.isQuarantined('fd00:110::1'), true);
    for (let i = 0; i < 6; i++) assert.equal(feed.record('fd00:110::1', 1280), false);
    const again = await admin(node.adminUrl, '/driver/quarantine', json({ address: 'fd00:110::1' }));
    assert.deepEqual(again.json, { entry: { address: 'fd00:110::1', family: 6, drops: 6 }, added: false });

    const ls = await admin(node.adminUrl, '/driver/quarantine');
    assert.equal(ls.status, 200);
    assert.deepEqual(ls.json, { quarantine: [{ address: 'fd00:110::1', family: 6, drops: 6 }] });
    const peers = await admin(node.adminUrl, '/driver/peers');
    assert.deepEqual(peers.json.peers[1], { address: 'fd00:110::1', family: 6, packets: 4, bytes: 5120, quarantined: true });
    const drops = events.filter((e) => e.type === 'driver' && e.driver.kind === 'drop');
    assert.equal(drops.length, 6);

    const del = await admin(node.adminUrl, `/driver/quarantine/${encodeURIComponent('fd00:110:0::1')}`, { method: 'DELETE' });
    assert.equal(del.status, 200, JSON.stringify(del.json));
    assert.deepEqual(del.json, { address: 'fd00:110::1', removed: true });
    assert.equal(feed.record('fd00:110::1', 1280), true);
    assert.deepEqual((await admin(node.adminUrl, '/driver/quarantine')).json, { quarantine: [] });

    const gone = await admin(node.adminUrl, '/driver/quarantine/fd00:110::1', { method: 'DELETE' });
    assert.equal(gone.status, 404);
    assert.equal(gone.json.error.code, 'X0T_USAGE');
    assert.equal(gone.json.error.details.value, 'fd00:110::1');
  });

  test('bad requests are typed errors: 400 for a bad address or body, 405 for a wrong method, 404 for no such endpoint', async () => {
    const cases: [string, RequestInit, number, string][] = [
      ['/driver/quarantine', json({ address: '10.110.0.256' }), 400, 'X0T_USAGE'],
      ['/driver/quarantine', json({ address: 'node-b.mesh' }), 400, 'X0T_USAGE'],
      ['/driver/quarantine', json({ address: 7 }), 400, 'X0T_USAGE'],
      ['/driver/quarantine', json({}), 400, 'X0T_USAGE'],
      ['/driver/quarantine', { method: 'POST', body: '{"address": ' }, 400, 'X0T_USAGE'],
      ['/driver/quarantine/not-an-address', { method: 'DELETE' }, 400, 'X0T_USAGE'],
      ['/driver', { method: 'POST' }, 405, 'X0T_USAGE'],
      ['/driver/peers', { method: 'DELETE' }, 405, 'X0T_USAGE'],
      ['/driver/quarantine', { method: 'PUT' }, 405, 'X0T_USAGE'],
      ['/driver/quarantine/10.0.0.1', { method: 'GET' }, 405, 'X0T_USAGE'],
      ['/driver/counters', {}, 404, 'X0T_USAGE'],
    ];
    for (const [path, init, status, code] of cases) {
      const r = await admin(node.adminUrl, path, init);
      assert.equal(r.status, status, `${init.method ?? 'GET'} ${path}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, code, path);
    }
    const bad = await admin(node.adminUrl, '/driver/quarantine', json({ address: '10.110.0.256' }));
    assert.equal(bad.json.error.details.path, 'address');
    assert.deepEqual((await admin(node.adminUrl, '/driver/quarantine')).json, { quarantine: [] });
  });

  test('/metrics carries the driver families with the exact counts, and promtool accepts the whole page', async (t) => {
    feed.quarantineAdd('10.110.0.9');
    for (let i = 0; i < 3; i++) feed.record('10.110.0.9', 64);
    const r = await admin(node.adminUrl, '/metrics');
    assert.equal(r.status, 200);
    const text = Buffer.from(r.bytes).toString('utf8');
    const families = parseExposition(text);
    const value = (name: string, labels: Record<string, string> = {}) =>
      families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    assert.equal(value('x0t_driver_info', { mode: 'userspace', interface: '' }), 1);
    assert.equal(value('x0t_driver_peer_packets_total', { peer: '10.110.0.1', family: '4' }), 26);
    assert.equal(value('x0t_driver_peer_bytes_total', { peer: '10.110.0.1', family: '4' }), 2560);
    assert.equal(value('x0t_driver_peer_packets_total', { peer: 'fd00:110::1', family: '6' }), 5);
    assert.equal(value('x0t_driver_quarantined_peers'), 1);
    assert.equal(value('x0t_driver_quarantine_drops_total', { peer: '10.110.0.9' }), 3);
    assert.equal(value('x0t_driver_events_total', { kind: 'new-peer' }), 2);
    assert.equal(value('x0t_driver_events_total', { kind: 'drop' }), 9);
    assert.equal(value('x0t_driver_events_suppressed_total'), 0);
    // The slot families are still there, before the driver's.
    assert.ok(families.has('x0t_slot_calls_total'));

    const missing = promtoolMissing();
    if (missing) return t.skip(missing);
    // The driver's families alone: no parse error, no lint problem.
    const driverPart = text.slice(text.indexOf('# HELP x0t_driver_info'));
    const own = spawnSync('promtool', ['check', 'metrics'], { input: driverPart, encoding: 'utf8' });
    assert.equal(own.status, 0, `promtool check metrics (driver families):\n${own.stdout}${own.stderr}`);
    // The whole page, slot and knowledge-base families included: no parse error and no lint problem either.
    const all = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(all.status, 0, `promtool check metrics (whole page):\n${all.stdout}${all.stderr}`);
  });

  test('stopping the node closes the driver: no more events reach the node', async () => {
    const before = events.length;
    await node.stop();
    feed.record('10.110.0.77', 1);
    assert.equal(events.length, before);
  });
});
