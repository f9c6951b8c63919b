// `x0t driver status | peers | quarantine add|del|ls` (the real CLI in a child process) against a node running in
// this process with the user-space driver, fed here as its transport will feed it: the fallback and its reason stated
// plainly, the links and batman-adv's availability, exact counts in the table and in --json, quarantine managed
// through the CLI, exit codes for a bad address
// (2), an address that is not quarantined (2) and a node that cannot be reached (4).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { DriverReport } from '../../../host/node/node-driver.js';
import type { UserspaceDriver } from '../../../host/driver/userspace-driver.js';
import { NodeRuntime } from '../../../host/node/node-runtime.js';
import { jsonError, runCli, tempNodeManifest, type NodeManifestJson } from '../cli/harness.js';

function selftestOnly(m: NodeManifestJson): void {
  for (const name of Object.keys(m.slots)) if (name !== 'selftest') delete m.slots[name];
}

describe('x0t driver against a node with the user-space driver', () => {
  let node: NodeRuntime;
  let manifest: Awaited<ReturnType<typeof tempNodeManifest>>;
  let feed: UserspaceDriver;
  const x0t = (...args: string[]) => runCli([...args, '--admin', node.adminUrl]);
  const stdout = (r: { stdout: Buffer }) => r.stdout.toString('utf8');

  before(async () => {
    manifest = await tempNodeManifest(undefined, selftestOnly);
    node = await NodeRuntime.start({ manifestPath: manifest.file, admin: '127.0.0.1:0', watch: false });
    feed = node.driver.userspace!;
    for (let i = 0; i < 12; i++) feed.record('10.111.0.1', 98);
    for (let i = 0; i < 3; i++) feed.record('fd00:111::1', 118);
  });
  after(async () => {
    await node?.stop();
    await manifest?.cleanup();
  });

  test('status says userspace and why, in text and in --json', async () => {
    const text = await x0t('driver', 'status');
    assert.equal(text.code, 0, text.stderr);
    const lines = stdout(text).split('\n');
    assert.equal(lines[0], 'driver: userspace fallback, the XDP program is not running: no driver interface configured');
    assert.match(stdout(text), /^ {2}mode {8}userspace \(fallback/m);
    assert.match(stdout(text), /^ {2}reason {6}no driver interface configured$/m);
    assert.match(stdout(text), /^ {2}peers {7}2 seen$/m);
    assert.match(stdout(text), /^ {2}quarantine {2}0 addresses$/m);
    const json = await x0t('driver', 'status', '--json');
    assert.equal(json.code, 0, json.stderr);
    const s = JSON.parse(stdout(json));
    assert.equal(s.mode, 'userspace');
    assert.equal(s.reason, 'no driver interface configured');
    assert.equal(s.interface, null);
  });

  test('status shows the links (rtnetlink) and batman-adv: rows, a links table, and the same in --json', async () => {
    const json = await x0t('driver', 'status', '--json');
    assert.equal(json.code, 0, json.stderr);
    const s = JSON.parse(stdout(json)) as DriverReport;
    assert.ok(s.links !== null, JSON.stringify(s));
    assert.equal(s.linksReason, null);
    const lo = s.links.find((l) => l.name === 'lo');
    assert.ok(lo, JSON.stringify(s.links));
    assert.deepEqual(s.batman, existsSync('/sys/module/batman_adv')
      ? { available: true }
      : { available: false, reason: 'batman-adv is not available in this kernel' });

    const text = stdout(await x0t('driver', 'status'));
    const n = s.links.length;
    assert.match(text, new RegExp(`^ {2}links {7}${n} interface${n === 1 ? '' : 's'}, watched through rtnetlink$`, 'm'));
    assert.match(text, s.batman.available ? /^ {2}batman-adv {2}available$/m : /^ {2}batman-adv {2}not available: batman-adv is not available in this kernel$/m);
    const lines = text.split('\n');
    const header = lines.findIndex((l) => /^ {2}INTERFACE +STATE +CARRIER +ADDRESSES$/.test(l));
    assert.ok(header > 0, text);
    const rows = lines.slice(header + 1, header + 1 + n).map((l) => l.trim().split(/ {2,}/));
    assert.deepEqual(rows.map((r) => r[0]), s.links.map((l) => l.name));
    const loRow = rows.find((r) => r[0] === 'lo')!;
    assert.equal(loRow[1], lo.up ? 'up' : lo.adminUp ? 'down (no carrier)' : 'down (set down)');
    assert.equal(loRow[2], lo.carrier ? 'yes' : 'no');
    assert.equal(loRow[3], lo.addresses.length === 0 ? '-' : lo.addresses.map((a) => `${a.address}/${a.prefixLength}`).join(', '));
  });

  test('peers: a table with address, family, packets, bytes, quarantined; --json the exact counters', async () => {
    const text = await x0t('driver', 'peers');
    assert.equal(text.code, 0, text.stderr);
    const rows = stdout(text).trimEnd().split('\n').map((l) => l.split(/\s+/));
    assert.deepEqual(rows, [
      ['ADDRESS', 'FAMILY', 'PACKETS', 'BYTES', 'QUARANTINED'],
      ['10.111.0.1', 'IPv4', '12', '1176', 'no'],
      ['fd00:111::1', 'IPv6', '3', '354', 'no'],
    ]);
    const json = await x0t('driver', 'peers', '--json');
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(stdout(json)), {
      peers: [
        { address: '10.111.0.1', family: 4, packets: 12, bytes: 1176, quarantined: false },
        { address: 'fd00:111::1', family: 6, packets: 3, bytes: 354, quarantined: false },
      ],
    });
  });

  test('quarantine add / ls / del through the CLI drops and restores', async () => {
    const add = await x0t('driver', 'quarantine', 'add', 'FD00:111:0::1');
    assert.equal(add.code, 0, add.stderr);
    assert.equal(stdout(add), 'quarantined fd00:111::1\n');
    for (let i = 0; i < 5; i++) assert.equal(feed.record('fd00:111::1', 118), false);
    const again = await x0t('driver', 'quarantine', 'add', 'fd00:111::1', '--json');
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(stdout(again)), { entry: { address: 'fd00:111::1', family: 6, drops: 5 }, added: false });

    const ls = await x0t('driver', 'quarantine', 'ls');
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual(stdout(ls).trimEnd().split('\n').map((l) => l.split(/\s+/)), [['ADDRESS', 'FAMILY', 'DROPS'], ['fd00:111::1', 'IPv6', '5']]);
    const lsJson = await x0t('driver', 'quarantine', 'ls', '--json');
    assert.deepEqual(JSON.parse(stdout(lsJson)), { quarantine: [{ address: 'fd00:111::1', family: 6, drops: 5 }] });
    const peers = JSON.parse(stdout(await x0t('driver', 'peers', '--json')));
    assert.equal(peers.peers[1].quarantined, true);
    assert.equal(peers.peers[1].packets, 3);

    const del = await x0t('driver', 'quarantine', 'del', 'fd00:111::1', '--json');
    assert.equal(del.code, 0, del.stderr);
    assert.deepEqual(JSON.parse(stdout(del)), { address: 'fd00:111::1', removed: true });
    assert.equal(feed.record('fd00:111::1', 118), true);
    const empty = await x0t('driver', 'quarantine', 'ls');
    assert.equal(stdout(empty), 'no address is quarantined\n');
  });

  test('exit codes: 2 for a bad address or one not quarantined, 4 for a node that cannot be reached', async () => {
    const bad = await x0t('driver', 'quarantine', 'add', '10.111.0.300', '--json');
    assert.equal(bad.code, 2);
    assert.equal(jsonError(bad.stderr).code, 'X0T_USAGE');
    const badDel = await x0t('driver', 'quarantine', 'del', 'peer-b');
    assert.equal(badDel.code, 2);
    assert.match(badDel.stderr, /^x0t: X0T_USAGE: .*peer-b/m);
    const notThere = await x0t('driver', 'quarantine', 'del', '10.111.0.1');
    assert.equal(notThere.code, 2);
    assert.match(notThere.stderr, /10\.111\.0\.1 is not quarantined/);
    const missingArg = await x0t('driver', 'quarantine', 'add');
    assert.equal(missingArg.code, 2);
    // A port nothing listens on: the node that was there is gone.
    const closed = await runCli(['driver', 'status', '--admin', 'http://127.0.0.1:1', '--json']);
    assert.equal(closed.code, 4);
    assert.equal(jsonError(closed.stderr).code, 'X0T_IO');
  });
});
