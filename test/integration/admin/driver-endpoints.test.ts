// The packet driver inside a running node (NodeRuntime in this process, admin API on an ephemeral port) with the
// user-space driver, fed here the way the node's transport will feed it (issue 7): GET /driver states the fallback
// and its reason, /driver/peers and /driver/quarantine show exact counts, quarantine add/delete through the API,
// typed errors for bad addresses and wrong methods, driver events reach the node's event stream, /metrics carries
// the driver families and passes `promtool check metrics`, and stopping the node closes the driver. The link state
// beside it: GET /driver and GET /driver/links list this namespace's interfaces and addresses exactly as `ip -j addr`
// does, batman-adv's absence is stated with the reason (checked against /sys/module), the link families are on
// /metrics; as root, a veth pair made and changed here produces link events (NodeEvent 'link') with names and causes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { LinkView } from '../../../host/node/node-driver.js';
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

/**
 * The interfaces and addresses of this namespace as `ip -j addr` reports them. `ip` prints neither RUNNING nor the
 * carrier of a link that is set down (IFF_LOWER_UP is only set while up), so those are compared where it shows them.
 */
function ipLinks(): IpLink[] {
  const r = spawnSync('ip', ['-j', 'addr', 'show'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const rows = JSON.parse(r.stdout) as { ifindex: number; ifname: string; flags: string[]; operstate: string;
    addr_info: { family: string; local: string; prefixlen: number }[] }[];
  return rows.sort((x, y) => x.ifindex - y.ifindex).map((row) => {
    const adminUp = row.flags.includes('UP');
    const lowerUp = row.flags.includes('LOWER_UP');
    return {
      ifindex: row.ifindex, name: row.ifname, adminUp, carrierWhileUp: adminUp ? lowerUp : null,
      operstate: row.operstate.toLowerCase(), up: adminUp && lowerUp, driverInterface: false,
      addresses: row.addr_info
        .map((a) => ({ family: a.family === 'inet' ? 4 as const : 6 as const, address: a.local, prefixLength: a.prefixlen }))
        .sort((p, q) => p.family - q.family || (p.address < q.address ? -1 : p.address > q.address ? 1 : p.prefixLength - q.prefixLength)),
    };
  });
}

interface IpLink {
  ifindex: number; name: string; adminUp: boolean; carrierWhileUp: boolean | null; operstate: string; up: boolean; driverInterface: boolean;
  addresses: { family: 4 | 6; address: string; prefixLength: number }[];
}

/** What of a LinkView `ip` can confirm. */
function asIp(links: readonly LinkView[] | null): IpLink[] | null {
  return links === null ? null : links.map((l) => ({
    ifindex: l.ifindex, name: l.name, adminUp: l.adminUp, carrierWhileUp: l.adminUp ? l.carrier : null, operstate: l.operstate,
    up: l.up, driverInterface: l.driverInterface, addresses: [...l.addresses],
  }));
}

/** batman-adv is there exactly when its module is loaded (built in, it shows under /sys/module too). */
function expectedBatman(): { available: boolean; reason?: string } {
  return existsSync('/sys/module/batman_adv') ? { available: true } : { available: false, reason: 'batman-adv is not available in this kernel' };
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

  test('GET /driver states the fallback and its reason, the links and batman-adv', async () => {
    const r = await admin(node.adminUrl, '/driver');
    assert.equal(r.status, 200);
    const { links, linksReason, batman, ...status } = r.json as { links: LinkView[] | null; linksReason: string | null; batman: unknown };
    assert.deepEqual(status, {
      mode: 'userspace', interface: null, ifindex: null, programId: null, pinDir: null,
      reason: 'no driver interface configured', eventsDelivered: 0, eventsSuppressed: 0, objectSha256: null, peerTableFull: 0,
    });
    assert.equal(linksReason, null);
    assert.deepEqual(asIp(links), ipLinks());
    assert.deepEqual(batman, expectedBatman());
  });

  test('GET /driver/links: every interface with state and addresses, as `ip -j addr` lists them; event counts by kind', async () => {
    const r = await admin(node.adminUrl, '/driver/links');
    assert.equal(r.status, 200);
    const body = r.json as { links: LinkView[]; reason: string | null; events: Record<string, number>; watcher: Record<string, number> };
    assert.deepEqual(asIp(body.links), ipLinks());
    assert.equal(body.reason, null);
    assert.deepEqual(Object.keys(body.events).sort(), ['address-added', 'address-removed', 'link-added', 'link-down', 'link-removed', 'link-up']);
    for (const v of Object.values(body.events)) assert.ok(Number.isInteger(v) && v >= 0);
    assert.deepEqual(Object.keys(body.watcher).sort(), ['decodeErrors', 'eventsDelivered', 'overruns']);
    const lo = body.links.find((l) => l.name === 'lo')!;
    assert.equal(lo.up, true);
    assert.equal(lo.driverInterface, false);
    assert.ok(lo.addresses.some((a) => a.family === 4 && a.address === '127.0.0.1' && a.prefixLength === 8), JSON.stringify(lo));
    for (const [path, init, status] of [['/driver/links', { method: 'POST' }, 405], ['/driver/links/lo', {}, 404]] as const) {
      const bad = await admin(node.adminUrl, path, init);
      assert.equal(bad.status, status, `${path}: ${JSON.stringify(bad.json)}`);
      assert.equal(bad.json.error.code, 'X0T_USAGE');
    }
  });

  test('a veth pair made and changed here: link events with names and causes reach the node, /driver/links follows', async (t) => {
    if (process.getuid?.() !== 0) return t.skip('making a veth pair needs root');
    const a = `x0tda${process.pid % 100000}`;
    const b = `x0tdb${process.pid % 100000}`;
    const linkEvents = () => events.filter((e): e is Extract<NodeEvent, { type: 'link' }> => e.type === 'link' && (e.interface === a || e.interface === b));
    const waitFor = async (what: string, pred: (e: Extract<NodeEvent, { type: 'link' }>) => boolean) => {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const found = linkEvents().find(pred);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no ${what}; link events: ${JSON.stringify(linkEvents(), (_k, v: unknown) => typeof v === 'bigint' ? String(v) : v)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const viewOf = async (name: string) => ((await admin(node.adminUrl, '/driver/links')).json as { links: LinkView[] }).links.find((l) => l.name === name);
    const before = (await admin(node.adminUrl, '/driver/links')).json as { events: Record<string, number> };
    spawnSync('ip', ['link', 'del', a]); // left over from a killed run with the same pid
    try {
      assert.equal(spawnSync('ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b]).status, 0);
      const added = await waitFor(`link-added ${a}`, (e) => e.event.kind === 'link-added' && e.interface === a);
      assert.equal(added.driverInterface, false);
      assert.equal(typeof added.event.atNs, 'bigint');
      assert.equal(spawnSync('ip', ['addr', 'add', '10.117.0.1/24', 'dev', a]).status, 0);
      const addr = await waitFor('address-added', (e) => e.event.kind === 'address-added' && e.event.address.address === '10.117.0.1');
      assert.equal(addr.interface, a);
      assert.deepEqual(addr.event.kind === 'address-added' && addr.event.address, { ifindex: (await viewOf(a))!.ifindex, family: 4, address: '10.117.0.1', prefixLength: 24 });
      // Both ends up: a has carrier. Then b down: a loses its carrier (reason carrier), b is set down (reason admin).
      assert.equal(spawnSync('ip', ['link', 'set', a, 'up']).status, 0);
      assert.equal(spawnSync('ip', ['link', 'set', b, 'up']).status, 0);
      await waitFor(`link-up ${a}`, (e) => e.event.kind === 'link-up' && e.interface === a);
      assert.deepEqual((await viewOf(a))?.addresses, [{ family: 4, address: '10.117.0.1', prefixLength: 24 }]);
      assert.equal(spawnSync('ip', ['link', 'set', b, 'down']).status, 0);
      const lost = await waitFor(`link-down ${a}`, (e) => e.event.kind === 'link-down' && e.interface === a);
      assert.equal(lost.event.kind === 'link-down' && lost.event.reason, 'carrier');
      const setDown = await waitFor(`link-down ${b}`, (e) => e.event.kind === 'link-down' && e.interface === b);
      assert.equal(setDown.event.kind === 'link-down' && setDown.event.reason, 'admin');
      const view = await viewOf(a);
      assert.equal(view?.up, false);
      assert.equal(view?.adminUp, true);
      assert.equal(view?.carrier, false);
      const after = (await admin(node.adminUrl, '/driver/links')).json as { events: Record<string, number> };
      assert.ok(after.events['link-down']! >= before.events['link-down']! + 2, JSON.stringify(after.events));
      assert.ok(after.events['link-added']! >= before.events['link-added']! + 2, JSON.stringify(after.events));
    } finally {
      spawnSync('ip', ['link', 'del', a]);
    }
    await waitFor(`link-removed ${a}`, (e) => e.event.kind === 'link-removed' && e.interface === a);
    assert.equal(await viewOf(a), undefined);
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
    // The link families: every interface `ip` lists, up and carrier as it says; events by kind; batman-adv.
    assert.equal(value('x0t_link_watch_available'), 1);
    for (const l of ipLinks()) {
      assert.equal(value('x0t_link_up', { interface: l.name }), l.up ? 1 : 0, l.name);
      if (l.carrierWhileUp !== null) assert.equal(value('x0t_link_carrier', { interface: l.name }), l.carrierWhileUp ? 1 : 0, l.name);
      else assert.equal(typeof value('x0t_link_carrier', { interface: l.name }), 'number', l.name);
    }
    assert.equal(families.get('x0t_link_events_total')?.samples.length, 6);
    assert.equal(value('x0t_batman_available'), expectedBatman().available ? 1 : 0);

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

  test('stopping the node closes the driver and the link watcher: no more events reach the node', async () => {
    const before = events.length;
    await node.stop();
    feed.record('10.110.0.77', 1);
    assert.equal(events.length, before);
    assert.equal(node.driver.links.watching, false);
    assert.equal(node.driver.links.links(), null);
    assert.equal(node.driver.links.reason, 'the node stopped watching its links');
  });
});
