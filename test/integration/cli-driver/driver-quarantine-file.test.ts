// driver.quarantineFile with the real XDP driver: `x0t node start` inside network namespace B on B's veth. A quarantine
// added with `x0t driver quarantine add` is in the file; after a graceful stop (which removes the driver's pins, so the
// kernel keeps nothing) a new node on the same manifest drops A's packets again, counted as drops. After a crash
// (SIGKILL: the pins stay and the next driver carries their entries over) the carried entries and the file's are
// merged — the union — and the file is rewritten to hold both. `quarantine del` rewrites the file. The pins live in a
// bpffs this test mounts in the host's mount namespace (each `ip netns exec` child has a mount namespace of its own,
// where a bpffs the node mounted would die with it). Skipped, with the reason, where namespaces cannot be made (not
// root, no iproute2).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { formatQuarantineFile } from '../../../host/node/quarantine-file.js';
import { TestBpffs } from '../../support/driver-lab.js';
import { netnsUnavailable, NetnsLab, type VethLink } from '../../support/netns.js';
import { CLI, ROOT, tempNodeManifest, type NodeManifestJson } from '../cli/harness.js';

const SUBNET = 118;
const skip = await netnsUnavailable();

interface QuarantineJson { quarantine: { address: string; family: number; drops: number }[] }

/** A node running inside namespace B; resolves its admin URL from the `started` event. */
class NodeInNamespace {
  #out = '';
  #err = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (c: Buffer) => (this.#out += c.toString('utf8')));
    child.stderr!.on('data', (c: Buffer) => (this.#err += c.toString('utf8')));
    this.exited = new Promise((r) => child.once('exit', (code, signal) => r(code ?? (signal === null ? null : -1))));
  }

  get stderr(): string {
    return this.#err;
  }

  async started(timeoutMs = 60_000): Promise<{ admin: string; driver: { mode: string } }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.#out.split('\n').find((l) => l.includes('"started"'));
      if (line) return JSON.parse(line) as { admin: string; driver: { mode: string } };
      if (this.child.exitCode !== null) throw new Error(`node exited ${this.child.exitCode}; stderr:\n${this.#err}`);
      if (Date.now() > deadline) throw new Error(`node did not start in ${timeoutMs} ms; stderr:\n${this.#err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('driver.quarantineFile with the XDP driver in a node inside a network namespace', { skip: skip ?? false }, () => {
  const lab = new NetnsLab('nodeqf');
  let veth: VethLink;
  let manifest: Awaited<ReturnType<typeof tempNodeManifest>>;
  let file: string;
  let bpffs: TestBpffs | null = null;
  let node: NodeInNamespace | null = null;
  let url = '';

  const x0t = (...args: string[]) => lab.exec('b', [process.execPath, CLI, ...args, '--admin', url]);
  const list = async (): Promise<QuarantineJson> => JSON.parse(await x0t('driver', 'quarantine', 'ls', '--json')) as QuarantineJson;

  const startNode = async (): Promise<void> => {
    node = new NodeInNamespace(lab.spawn('b', [
      process.execPath, CLI, 'node', 'start', '--json', '--no-watch', '--config', manifest.file, '--admin', '127.0.0.1:0',
    ], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    const started = await node.started();
    assert.ok(started.driver.mode === 'xdp-native' || started.driver.mode === 'xdp-generic', JSON.stringify(started.driver));
    url = started.admin;
  };
  const stopNode = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<number | null> => {
    const n = node!;
    n.child.kill(signal);
    const code = await n.exited;
    node = null;
    return code;
  };

  /** Sends `count` UDP datagrams from A to B's IPv4 address. */
  const sendUdp = (count: number): Promise<string> => {
    const code = `const s=require('node:dgram').createSocket('udp4');const b=Buffer.alloc(64,7);` +
      `(async()=>{for(let i=0;i<${count};i++)await new Promise((r,j)=>s.send(b,9999,${JSON.stringify(veth.b.ipv4)},(e)=>e?j(e):r()));s.close();})()` +
      `.catch((e)=>{console.error(e);process.exit(1);});`;
    return lab.exec('a', [process.execPath, '-e', code]);
  };

  /** Polls until A's IPv4 entry shows `drops` drops, then checks no more arrive. */
  const settleDrops = async (drops: number): Promise<void> => {
    const deadline = Date.now() + 10_000;
    const current = async () => (await list()).quarantine.find((q) => q.address === veth.a.ipv4)?.drops ?? -1;
    while ((await current()) < drops && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await current(), drops);
  };

  before(async () => {
    await lab.addNamespace('a');
    await lab.addNamespace('b');
    veth = await lab.link('a', 'b', SUBNET);
    bpffs = await TestBpffs.mount();
    const pinRoot = bpffs.path;
    // Permanent neighbours: no ARP or neighbour solicitation needed, so only the datagrams sent here reach B.
    const macA = (await lab.exec('a', ['cat', `/sys/class/net/${veth.a.dev}/address`])).trim();
    const macB = (await lab.exec('b', ['cat', `/sys/class/net/${veth.b.dev}/address`])).trim();
    await lab.exec('a', ['ip', 'neigh', 'replace', veth.b.ipv4, 'lladdr', macB, 'dev', veth.a.dev, 'nud', 'permanent']);
    await lab.exec('b', ['ip', 'neigh', 'replace', veth.a.ipv4, 'lladdr', macA, 'dev', veth.b.dev, 'nud', 'permanent']);
    manifest = await tempNodeManifest(undefined, (m: NodeManifestJson) => {
      for (const name of Object.keys(m.slots)) if (name !== 'selftest') delete m.slots[name];
      m['driver'] = { interface: veth.b.dev, pinRoot, quarantineFile: 'state/quarantine.json' };
    });
    file = join(manifest.dir, 'state', 'quarantine.json');
    await startNode();
  });
  after(async () => {
    try {
      // A graceful stop removes the pins (a killed node would leave them in the shared bpffs).
      if (node && node.child.exitCode === null) await stopNode('SIGTERM');
    } finally {
      await lab.close();
      await bpffs?.unmount();
      await manifest?.cleanup();
    }
  });

  test('quarantine add writes the file and the kernel drops A\'s packets', async () => {
    assert.deepEqual(JSON.parse(await x0t('driver', 'quarantine', 'add', veth.a.ipv4, '--json')), {
      entry: { address: veth.a.ipv4, family: 4, drops: 0 }, added: true,
    });
    assert.equal(await readFile(file, 'utf8'), formatQuarantineFile([veth.a.ipv4]));
    await sendUdp(5);
    await settleDrops(5);
  });

  test('after a graceful stop (pins removed) a new node drops A\'s packets again', async () => {
    assert.equal(await stopNode('SIGTERM'), 0);
    assert.equal(await readFile(file, 'utf8'), formatQuarantineFile([veth.a.ipv4]));
    await startNode();
    assert.deepEqual(await list(), { quarantine: [{ address: veth.a.ipv4, family: 4, drops: 0 }] });
    await sendUdp(7);
    await settleDrops(7);
    const peers = JSON.parse(await x0t('driver', 'peers', '--json')) as { peers: { address: string; packets: number }[] };
    assert.equal(peers.peers.find((p) => p.address === veth.a.ipv4)?.packets ?? 0, 0, 'dropped packets are not counted as traffic');
  });

  test('after a crash the carried-over entries and the file\'s are merged (union) and the file holds both', async () => {
    assert.notEqual(await stopNode('SIGKILL'), 0);
    // While the node is down the operator's file names only A's IPv6 address; the kernel still holds A's IPv4 entry.
    await writeFile(file, JSON.stringify({ version: 1, addresses: [veth.a.ipv6] }));
    await startNode();
    assert.deepEqual(await list(), { quarantine: [
      { address: veth.a.ipv4, family: 4, drops: 7 }, // carried over with its drop count
      { address: veth.a.ipv6, family: 6, drops: 0 },
    ] });
    assert.equal(await readFile(file, 'utf8'), formatQuarantineFile([veth.a.ipv4, veth.a.ipv6]));
  });

  test('quarantine del rewrites the file; A\'s packets pass again', async () => {
    assert.equal(await x0t('driver', 'quarantine', 'del', veth.a.ipv4), `released ${veth.a.ipv4}\n`);
    assert.equal(await readFile(file, 'utf8'), formatQuarantineFile([veth.a.ipv6]));
    await sendUdp(3);
    const deadline = Date.now() + 10_000;
    let packets = 0;
    while (packets < 3 && Date.now() < deadline) {
      const peers = JSON.parse(await x0t('driver', 'peers', '--json')) as { peers: { address: string; packets: number }[] };
      packets = peers.peers.find((p) => p.address === veth.a.ipv4)?.packets ?? 0;
      if (packets < 3) await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(packets, 3);
    assert.equal(await stopNode('SIGTERM'), 0);
    assert.equal(await readFile(file, 'utf8'), formatQuarantineFile([veth.a.ipv6]));
    assert.deepEqual(bpffs!.leftovers(), [], 'the graceful stop removed the pins');
  });
});
