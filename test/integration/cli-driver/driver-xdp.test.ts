// The XDP driver in a real node on the real kernel: `x0t node start` runs inside network namespace B with a manifest
// whose driver.interface is B's veth; A sends exact numbers of UDP datagrams (IPv4 and IPv6) and pings; then
// `x0t driver peers --json`, run inside B as well, shows exactly those packets and bytes (whole Ethernet frames, as
// the program counts them); `x0t driver quarantine add` drops A's packets (counted as drops, not as traffic, and
// reported as drop events on the node's event stream) and `quarantine del` restores them; /metrics carries the same
// counts and passes `promtool check metrics`; stopping the node detaches the program. A driver interface that does
// not exist fails the start with DriverError (exit 60) instead of falling back: a real failure is not degraded.
// Skipped, with the reason, where namespaces cannot be made (not root, no iproute2).
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { netnsUnavailable, NetnsLab, type VethLink } from '../../support/netns.js';
import { CLI, ROOT, tempNodeManifest, type NodeManifestJson } from '../cli/harness.js';
import { parseExposition } from '../admin/prometheus.js';

const SUBNET = 112;
const skip = await netnsUnavailable();
const PAYLOAD = 200;
/** Ethernet + IPv4/IPv6 + UDP headers around a UDP payload: the frame length the XDP program counts. */
const UDP4_FRAME = 14 + 20 + 8 + PAYLOAD;
const UDP6_FRAME = 14 + 40 + 8 + PAYLOAD;
/** `ping` sends 56 bytes of data by default: ICMP echo of 64 bytes in IPv4 in Ethernet. */
const PING4_FRAME = 14 + 20 + 8 + 56;

function selftestOnly(m: NodeManifestJson): void {
  for (const name of Object.keys(m.slots)) if (name !== 'selftest') delete m.slots[name];
}

interface PeerJson { address: string; family: number; packets: number; bytes: number; quarantined: boolean }

/** A node running inside a namespace, its stdout JSON lines collected. */
class NodeInNamespace {
  readonly events: Record<string, unknown>[] = [];
  #stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line !== '') this.events.push(JSON.parse(line) as Record<string, unknown>);
      }
    });
    child.stderr!.on('data', (c: Buffer) => (this.#stderr += c.toString('utf8')));
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }

  get stderr(): string {
    return this.#stderr;
  }

  async waitFor(pred: (e: Record<string, unknown>) => boolean, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.find(pred);
      if (e) return e;
      if (this.child.exitCode !== null) throw new Error(`node exited ${this.child.exitCode}; stderr:\n${this.#stderr}`);
      if (Date.now() > deadline) throw new Error(`node did not print the expected event in ${timeoutMs} ms; stderr:\n${this.#stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('x0t driver with the XDP driver in a node inside a network namespace', { skip: skip ?? false }, () => {
  const lab = new NetnsLab('nodexdp');
  let veth: VethLink;
  let manifest: Awaited<ReturnType<typeof tempNodeManifest>>;
  let node: NodeInNamespace;
  let url: string;
  let programId: number;

  /** `x0t …` inside namespace B against the node; resolves with its stdout (rejects on a non-zero exit). */
  const x0t = (...args: string[]) => lab.exec('b', [process.execPath, CLI, ...args, '--admin', url]);
  const peers = async (): Promise<PeerJson[]> => (JSON.parse(await x0t('driver', 'peers', '--json')) as { peers: PeerJson[] }).peers;
  const peer = async (address: string): Promise<PeerJson | undefined> => (await peers()).find((p) => p.address === address);

  /** Sends `count` UDP datagrams of PAYLOAD bytes from A to B's address, one after the other. */
  const sendUdp = (to: string, count: number): Promise<string> => {
    const family = to.includes(':') ? 'udp6' : 'udp4';
    const code = `const s=require('node:dgram').createSocket(${JSON.stringify(family)});const b=Buffer.alloc(${PAYLOAD},7);` +
      `(async()=>{for(let i=0;i<${count};i++)await new Promise((r,j)=>s.send(b,9999,${JSON.stringify(to)},(e)=>e?j(e):r()));s.close();})()` +
      `.catch((e)=>{console.error(e);process.exit(1);});`;
    return lab.exec('a', [process.execPath, '-e', code]);
  };

  /** Polls until `address` has exactly `packets` packets, then checks no more arrive (an exact count, not a minimum). */
  const settle = async (address: string, packets: number): Promise<PeerJson> => {
    const deadline = Date.now() + 10_000;
    let p = await peer(address);
    while ((p?.packets ?? 0) < packets && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      p = await peer(address);
    }
    await new Promise((r) => setTimeout(r, 300));
    const final = await peer(address);
    assert.equal(final?.packets, packets, `${address}: ${JSON.stringify(final)}`);
    return final!;
  };

  before(async () => {
    await lab.addNamespace('a');
    await lab.addNamespace('b');
    veth = await lab.link('a', 'b', SUBNET);
    // Permanent neighbours both ways: no neighbour solicitation from fd00:112::1 may add packets to its count.
    const macA = (await lab.exec('a', ['cat', `/sys/class/net/${veth.a.dev}/address`])).trim();
    const macB = (await lab.exec('b', ['cat', `/sys/class/net/${veth.b.dev}/address`])).trim();
    await lab.exec('a', ['ip', '-6', 'neigh', 'replace', veth.b.ipv6, 'lladdr', macB, 'dev', veth.a.dev, 'nud', 'permanent']);
    await lab.exec('b', ['ip', '-6', 'neigh', 'replace', veth.a.ipv6, 'lladdr', macA, 'dev', veth.b.dev, 'nud', 'permanent']);
    await lab.exec('a', ['ip', 'neigh', 'replace', veth.b.ipv4, 'lladdr', macB, 'dev', veth.a.dev, 'nud', 'permanent']);
    await lab.exec('b', ['ip', 'neigh', 'replace', veth.a.ipv4, 'lladdr', macA, 'dev', veth.b.dev, 'nud', 'permanent']);

    manifest = await tempNodeManifest(undefined, (m) => {
      selftestOnly(m);
      m['driver'] = { interface: veth.b.dev, mode: 'auto', eventsPerSecond: 1000 };
    });
    node = new NodeInNamespace(lab.spawn('b', [
      process.execPath, CLI, 'node', 'start', '--json', '--no-watch', '--config', manifest.file, '--admin', '127.0.0.1:0',
    ], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    const started = await node.waitFor((e) => e['event'] === 'started');
    url = started['admin'] as string;
    const driver = started['driver'] as { mode: string; interface: string; programId: number };
    assert.ok(driver.mode === 'xdp-native' || driver.mode === 'xdp-generic', JSON.stringify(driver));
    assert.equal(driver.interface, veth.b.dev);
    programId = driver.programId;
  });
  after(async () => {
    try {
      if (node && node.child.exitCode === null) {
        node.child.kill('SIGTERM');
        await node.exited;
      }
    } finally {
      await lab.close();
      await manifest?.cleanup();
    }
  });

  test('x0t driver status names the XDP mode, the interface and the program', async (t) => {
    const s = JSON.parse(await x0t('driver', 'status', '--json')) as Record<string, unknown>;
    t.diagnostic(`mode ${String(s['mode'])}, reason ${String(s['reason'])}`);
    assert.ok(s['mode'] === 'xdp-native' || s['mode'] === 'xdp-generic');
    assert.equal(s['interface'], veth.b.dev);
    assert.equal(s['programId'], programId);
    assert.match(String(s['objectSha256']), /^[0-9a-f]{64}$/);
    const text = await x0t('driver', 'status');
    assert.match(text, new RegExp(`^driver: xdp-(native|generic) on ${veth.b.dev} \\(ifindex \\d+\\)`));
  });

  test('x0t driver peers --json counts exactly the datagrams and pings A sent, IPv4 and IPv6', async () => {
    await sendUdp(veth.b.ipv4, 150);
    await lab.exec('a', ['ping', '-c', '3', '-i', '0.05', '-q', veth.b.ipv4]);
    await sendUdp(veth.b.ipv6, 40);
    const v4 = await settle(veth.a.ipv4, 153);
    assert.deepEqual(v4, { address: veth.a.ipv4, family: 4, packets: 153, bytes: 150 * UDP4_FRAME + 3 * PING4_FRAME, quarantined: false });
    const v6 = await settle(veth.a.ipv6, 40);
    assert.deepEqual(v6, { address: veth.a.ipv6, family: 6, packets: 40, bytes: 40 * UDP6_FRAME, quarantined: false });
    // The kernel's new-peer events reached the node's event stream.
    await node.waitFor((e) => e['event'] === 'driver' && (e['driver'] as { kind: string; address: string }).address === veth.a.ipv4 &&
      (e['driver'] as { kind: string }).kind === 'new-peer');
  });

  test('quarantine add drops A\'s packets (as drops, with drop events); quarantine del restores them', async () => {
    const before = await settle(veth.a.ipv4, 153);
    assert.deepEqual(JSON.parse(await x0t('driver', 'quarantine', 'add', veth.a.ipv4, '--json')), {
      entry: { address: veth.a.ipv4, family: 4, drops: 0 }, added: true,
    });
    await sendUdp(veth.b.ipv4, 25);
    const deadline = Date.now() + 10_000;
    let ls = JSON.parse(await x0t('driver', 'quarantine', 'ls', '--json')) as { quarantine: { address: string; drops: number }[] };
    while ((ls.quarantine[0]?.drops ?? 0) < 25 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      ls = JSON.parse(await x0t('driver', 'quarantine', 'ls', '--json')) as typeof ls;
    }
    assert.deepEqual(ls, { quarantine: [{ address: veth.a.ipv4, family: 4, drops: 25 }] });
    assert.deepEqual(await peer(veth.a.ipv4), { ...before, quarantined: true });
    const dropEvents = () => node.events.filter((e) => e['event'] === 'driver' && (e['driver'] as { kind: string }).kind === 'drop').length;
    const until = Date.now() + 5_000;
    while (dropEvents() < 25 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.equal(dropEvents(), 25);

    assert.equal(await x0t('driver', 'quarantine', 'del', veth.a.ipv4), `released ${veth.a.ipv4}\n`);
    await sendUdp(veth.b.ipv4, 10);
    const after = await settle(veth.a.ipv4, 163);
    assert.equal(after.bytes, before.bytes + 10 * UDP4_FRAME);
    assert.equal(after.quarantined, false);
    assert.equal(await x0t('driver', 'quarantine', 'ls'), 'no address is quarantined\n');
  });

  test('/metrics (read inside B) carries the kernel counts and passes promtool check metrics', async (t) => {
    const code = `fetch(${JSON.stringify(url + '/metrics')}).then((r)=>r.text()).then((t)=>process.stdout.write(t))` +
      `.catch((e)=>{console.error(e);process.exit(1);});`;
    const text = await lab.exec('b', [process.execPath, '-e', code]);
    const families = parseExposition(text);
    const sample = (name: string, labels: Record<string, string>) =>
      families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    assert.ok(sample('x0t_driver_info', { interface: veth.b.dev }) === 1);
    assert.equal(sample('x0t_driver_peer_packets_total', { peer: veth.a.ipv4, family: '4' }), 163);
    assert.equal(sample('x0t_driver_peer_bytes_total', { peer: veth.a.ipv6, family: '6' }), 40 * UDP6_FRAME);
    assert.equal(sample('x0t_driver_quarantined_peers', {}), 0);
    assert.ok((sample('x0t_driver_events_total', { kind: 'drop' }) ?? 0) >= 25);

    if (spawnSync('promtool', ['--version']).error) return t.skip('promtool is not installed');
    const own = spawnSync('promtool', ['check', 'metrics'], { input: text.slice(text.indexOf('# HELP x0t_driver_info')), encoding: 'utf8' });
    assert.equal(own.status, 0, `promtool (driver families):\n${own.stdout}${own.stderr}`);
    const all = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(all.status, 0, `promtool (whole page):\n${all.stdout}${all.stderr}`);
  });

  test('a start that fails after the driver attached (admin address taken) detaches it again', async () => {
    const second = await lab.link('a', 'b', SUBNET + 1);
    const other = await tempNodeManifest(undefined, (m) => {
      selftestOnly(m);
      m['driver'] = { interface: second.b.dev };
    });
    try {
      const taken = new URL(url).host; // the running node's admin address, inside the same namespace
      const r = spawnSync('ip', ['netns', 'exec', lab.ns('b'), process.execPath, CLI, 'node', 'start', '--json', '--no-watch',
        '--config', other.file, '--admin', taken], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 4, r.stderr);
      assert.equal((JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { error: { code: string } }).error.code, 'X0T_IO');
      const link = JSON.parse(await lab.exec('b', ['ip', '-j', '-d', 'link', 'show', second.b.dev])) as Record<string, unknown>[];
      assert.equal(link[0]?.['xdp'], undefined, JSON.stringify(link[0]?.['xdp']));
    } finally {
      await other.cleanup();
    }
  });

  test('stopping the node detaches the program: the interface carries no XDP and the program is gone', async () => {
    node.child.kill('SIGTERM');
    assert.equal(await node.exited, 0, node.stderr);
    const link = JSON.parse(await lab.exec('b', ['ip', '-j', '-d', 'link', 'show', veth.b.dev])) as Record<string, unknown>[];
    assert.equal(link[0]?.['xdp'], undefined, JSON.stringify(link[0]?.['xdp']));
    const show = spawnSync('bpftool', ['prog', 'show', 'id', String(programId)], { encoding: 'utf8' });
    assert.notEqual(show.status, 0, `program ${programId} still loaded: ${show.stdout}`);
  });

  test('a driver interface that does not exist fails the start with DriverError (exit 60), not a fallback', async () => {
    const bad = await tempNodeManifest(undefined, (m) => {
      selftestOnly(m);
      m['driver'] = { interface: 'x0t-nosuch0' };
    });
    try {
      const r = spawnSync('ip', ['netns', 'exec', lab.ns('b'), process.execPath, CLI, 'node', 'start', '--json', '--no-watch',
        '--config', bad.file, '--admin', '127.0.0.1:0'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 60, r.stderr);
      const err = (JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { error: { code: string; details: { errno?: number } } }).error;
      assert.equal(err.code, 'X0T_DRIVER');
    } finally {
      await bad.cleanup();
    }
  });
});
