// Two NodeRuntimes in this process trusting each other by pinned keys (no CA): sessions form, an echo goes through,
// a node that pins nobody refuses the session (and says why), and an rtnetlink link-down on the interface a
// neighbour is reached over takes that neighbour down at once with the kernel's reason (a synthetic event on `lo`,
// the interface of 127.0.0.1; skipped where the node has no link watcher).
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateNodeKeys, fingerprintOf, keyFileText, nodeKeyFileJson, publicKeyFileJson } from '../../../host/crypto/identity-keys.js';
import { keyFingerprint } from '../../../host/crypto/key-fingerprint.js';
import { PqcSuite } from '../../../host/crypto/pqc-suite.js';
import type { MeshEvent } from '../../../host/node/mesh/mesh-service.js';
import { NodeRuntime } from '../../../host/node/node-runtime.js';
import { eventually, pluginManifest } from '../cli/harness.js';

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('pinned-key mesh of two in-process nodes', { timeout: 180_000 }, () => {
  let dir: string;
  const runtimes: NodeRuntime[] = [];
  const events: MeshEvent[][] = [[], [], []];
  const fps: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'x0t-pinned-'));
    const suite = await PqcSuite.open();
    try {
      for (const name of ['a', 'b', 'c']) {
        const keys = await generateNodeKeys({ signer: suite.composite, kem: suite.xwing, name });
        fps.push(fingerprintOf(keys));
        await writeFile(join(dir, `${name}.key.json`), keyFileText(nodeKeyFileJson(keys)), { mode: 0o600 });
        await writeFile(join(dir, `${name}.pub.json`), keyFileText(publicKeyFileJson(keys)));
      }
    } finally {
      await suite.close();
    }
    const ports = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()];
    const names = ['a', 'b', 'c'];
    // a and b pin each other; c pins a, but a does not pin c.
    const pins = [['b.pub.json'], ['a.pub.json'], ['a.pub.json']];
    const peers = [[1, 2], [0], [0]];
    for (let i = 0; i < 3; i++) {
      const file = join(dir, `${names[i]}.json`);
      await writeFile(file, JSON.stringify({
        schemaVersion: 1,
        identity: { name: names[i], trustDomain: 'pinned.test', keyFile: `${names[i]}.key.json` },
        listen: { admin: '127.0.0.1:0', mesh: [`127.0.0.1:${ports[i]}`] },
        peers: peers[i]!.map((j) => ({ name: names[j], address: `127.0.0.1:${ports[j]}` })),
        // c also asks for the kernel's batman-adv tables of `lo`, which no kernel has (and this one has no batman-adv).
        mesh: { helloMs: 200, trust: { pinned: pins[i] }, ...(i === 2 ? { batman: { interface: 'lo' } } : {}) },
        slots: {
          kem: { capability: 'kem', plugin: pluginManifest('ml-kem-768') },
          signer: { capability: 'signer', plugin: pluginManifest('ml-dsa-65') },
        },
      }));
      runtimes.push(await NodeRuntime.start({
        manifestPath: file, watch: false, onEvent: (e) => {
          if (e.type === 'mesh') events[i]!.push(e.mesh);
        },
      }));
    }
  });

  after(async () => {
    for (const r of runtimes) await r.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('sessions form between pinned nodes and an echo goes through; an unpinned node is refused', async () => {
    const [a, b, c] = runtimes as [NodeRuntime, NodeRuntime, NodeRuntime];
    assert.equal(a.mesh!.fingerprint, fps[0]);
    await eventually(async () => a.mesh!.routes().some((r) => r.dest === fps[1]), 20_000, 'a route from a to b');
    const status = a.mesh!.status();
    assert.equal((status.trust as { mode: string }).mode, 'pinned');
    assert.deepEqual((status.trust as { pinned: string[] }).pinned, [fps[1]]);
    const ping = await b.mesh!.ping({ to: fps[0]!, count: 3, intervalMs: 20, timeoutMs: 2000, size: 100 });
    assert.equal(ping.received, 3, JSON.stringify(ping));
    // The packet driver's per-peer counters reach the router once per hello (the user-space driver here).
    await eventually(async () => (a.mesh!.status().neighbours.find((n) => n.fingerprint === fps[1])?.driverRxPackets ?? 0) > 0,
      10_000, "a's router reading the driver's count of packets from b");
    // c trusts a, but a does not trust c: no session between them, ever, and a says why.
    await eventually(async () => events[0]!.some((e) => e.kind === 'session-rejected'), 20_000, 'a refusing c');
    assert.equal(c.mesh!.status().neighbours.filter((n) => n.session).length, 0);
    assert.ok(!a.mesh!.status().neighbours.some((n) => n.fingerprint === fps[2] && n.session));
  });

  it('asked for batman-adv tables it cannot have, a node says why, answers 501, and routes by itself', async () => {
    const [a, , c] = runtimes as [NodeRuntime, NodeRuntime, NodeRuntime];
    assert.equal(a.mesh!.status().batman, null, 'a asks for no batman-adv tables');
    const batman = c.mesh!.status().batman!;
    assert.equal(batman.interface, 'lo');
    assert.equal(batman.available, false);
    assert.match(batman.reason!, /batman-adv/);
    const res = await fetch(`${c.adminUrl}/mesh/batman`);
    assert.equal(res.status, 501);
    const body = await res.json() as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'X0T_UNSUPPORTED');
    assert.equal(body.error.message, batman.reason);
    assert.ok(c.mesh!.routes() !== undefined && typeof c.mesh!.status().routes === 'number', 'its own router runs');
  });

  it('a link-down on the neighbour\'s interface takes it down at once with the kernel\'s reason', async (t) => {
    const a = runtimes[0]!;
    if (a.driver.links.links() === null) {
      t.skip(`no link watcher here: ${a.driver.links.reason}`);
      return;
    }
    const lo = a.driver.links.links()!.find((l) => l.addresses.some((x) => x.address === '127.0.0.1'));
    assert.ok(lo, 'an interface holds 127.0.0.1');
    const before = events[0]!.length;
    a.mesh!.onLinkEvent({
      event: { kind: 'link-down', reason: 'carrier', link: { ...lo, up: false, carrier: false }, atNs: process.hrtime.bigint() },
      interface: lo.name,
      driverInterface: false,
    });
    const downs = events[0]!.slice(before).filter((e) => e.kind === 'neighbour-down');
    assert.deepEqual(downs.map((e) => e.kind === 'neighbour-down' && [e.neighbour, e.reason]), [[fps[1], 'carrier']]);
    assert.match(a.mesh!.metrics(), /^x0t_mesh_neighbour_down_total\{reason="carrier"\} 1$/m);
    // The link was not really down: probes bring the neighbour back.
    await eventually(async () => a.mesh!.status().neighbours.some((n) => n.fingerprint === fps[1] && n.up), 20_000, 'b back up');
  });
});

describe('the classic suite on pinned keys (X25519 + Ed25519 halves of the same keys)', { timeout: 120_000 }, () => {
  let dir: string;
  const runtimes: NodeRuntime[] = [];
  const classicFps: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'x0t-classic-'));
    const suite = await PqcSuite.open();
    try {
      for (const name of ['a', 'b']) {
        const keys = await generateNodeKeys({ signer: suite.composite, kem: suite.xwing, name });
        classicFps.push(keyFingerprint(keys.signing.publicKey.slice(0, 32)));
        await writeFile(join(dir, `${name}.key.json`), keyFileText(nodeKeyFileJson(keys)), { mode: 0o600 });
        await writeFile(join(dir, `${name}.pub.json`), keyFileText(publicKeyFileJson(keys)));
      }
    } finally {
      await suite.close();
    }
    const ports = [await freeUdpPort(), await freeUdpPort()];
    for (const [i, name] of ['a', 'b'].entries()) {
      const other = 1 - i;
      const file = join(dir, `${name}.json`);
      await writeFile(file, JSON.stringify({
        schemaVersion: 1,
        identity: { name, trustDomain: 'classic.test', keyFile: `${name}.key.json` },
        listen: { admin: '127.0.0.1:0', mesh: [`127.0.0.1:${ports[i]}`] },
        peers: [{ name: ['a', 'b'][other], address: `127.0.0.1:${ports[other]}` }],
        mesh: { helloMs: 200, suite: 'classic', trust: { pinned: [`${['a', 'b'][other]}.pub.json`] } },
        slots: {
          kem: { capability: 'kem', plugin: pluginManifest('ml-kem-768') },
          signer: { capability: 'signer', plugin: pluginManifest('ml-dsa-65') },
        },
      }));
      runtimes.push(await NodeRuntime.start({ manifestPath: file, watch: false }));
    }
  });

  after(async () => {
    for (const r of runtimes) await r.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('forms classic sessions, addresses nodes by their Ed25519 fingerprint, and carries an echo', async () => {
    const [a, b] = runtimes as [NodeRuntime, NodeRuntime];
    assert.equal(a.mesh!.fingerprint, classicFps[0]);
    assert.equal(a.mesh!.status().suite, 'classic');
    await eventually(async () => a.mesh!.routes().some((r) => r.dest === classicFps[1]), 20_000, 'a route from a to b');
    const sessions = b.mesh!.sessions() as { peer: string; suite: string }[];
    assert.ok(sessions.length > 0 && sessions.every((s) => s.suite === 'classic' && s.peer === classicFps[0]), JSON.stringify(sessions));
    const ping = await a.mesh!.ping({ to: classicFps[1]!, count: 2, intervalMs: 20, timeoutMs: 2000, size: 0 });
    assert.equal(ping.received, 2);
  });
});
