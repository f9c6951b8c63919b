// Discovery on loopback: two nodes with each other as static peers find each other through their transports, a
// restart (new boot id) is reported again, own and foreign-domain beacons are ignored; and link-local multicast
// beacons on `lo` (IPv4 224.0.0.x, IP_MULTICAST_LOOP) when the kernel allows it, else the test skips with why.
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { describe, it } from 'node:test';
import { Discovery, type PeerSighting } from '../../../host/mesh/transport/discovery.js';
import { sameEndpoint } from '../../../host/mesh/transport/udp-endpoint.js';
import { UdpTransport } from '../../../host/mesh/transport/udp-transport.js';
import { SUITE_BITS } from '../../../host/mesh/wire/beacon.js';

const FP_A = 'aa'.repeat(16);
const FP_B = 'bb'.repeat(16);

function until(cond: () => boolean, ms = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      if (cond()) { clearInterval(poll); resolve(); } else if (Date.now() - t0 > ms) { clearInterval(poll); reject(new Error('timed out waiting')); }
    }, 10);
  });
}

/** A transport whose beacon frames feed a discovery, as the node wires them. */
async function node(fingerprint: string, opts: { trustDomain?: string; bootId?: number; multicastPort?: number; staticPeers?: UdpTransport[] } = {}) {
  const seen: PeerSighting[] = [];
  let discovery: Discovery | undefined;
  const transport = await UdpTransport.open({
    listen: [{ address: '127.0.0.1', port: 0 }],
    onFrame: (f, from) => { if (f.kind === 'beacon') discovery?.handleBeacon(f.beacon, from); },
  });
  discovery = await Discovery.start({
    transport, fingerprint, trustDomain: opts.trustDomain ?? 'mesh.test', suites: SUITE_BITS.hybrid | SUITE_BITS.classic,
    ...(opts.bootId !== undefined ? { bootId: opts.bootId } : {}),
    staticPeers: (opts.staticPeers ?? []).map((t) => t.endpoints[0]!),
    intervalMs: 100,
    ...(opts.multicastPort !== undefined ? { multicast: { interfaces: ['lo'], families: [4] as const, port: opts.multicastPort } } : {}),
    onPeer: (p) => seen.push(p),
  });
  return { transport, discovery, seen, close: async () => { await discovery!.close(); await transport.close(); } };
}

describe('mesh discovery', () => {
  it('static peers: each side reports the other once, at its transport endpoint, with its beacon', async () => {
    const a = await node(FP_A);
    const b = await node(FP_B, { staticPeers: [a.transport] });
    a.discovery.addStaticPeer(b.transport.endpoints[0]!);
    try {
      await until(() => a.seen.length > 0 && b.seen.length > 0);
      // Several more intervals: no repeats while nothing changes.
      await new Promise((r) => setTimeout(r, 350));
      assert.equal(a.seen.length, 1);
      assert.equal(b.seen.length, 1);
      assert.equal(a.seen[0]!.fingerprint, FP_B);
      assert.ok(sameEndpoint(a.seen[0]!.endpoint, b.transport.endpoints[0]!));
      assert.deepEqual(a.seen[0]!.beacon.endpoints, b.transport.endpoints);
      assert.equal(a.seen[0]!.beacon.bootId, b.discovery.bootId);
      assert.equal(a.seen[0]!.beacon.suites, 3);
      assert.equal(b.seen[0]!.fingerprint, FP_A);
      assert.ok(sameEndpoint(b.seen[0]!.endpoint, a.transport.endpoints[0]!));
      assert.equal(a.discovery.peers().length, 1);
      assert.equal(a.discovery.peers()[0]!.via, 'static');

      // B restarts on the same endpoint with a new boot id: A reports it again.
      const oldBoot = b.discovery.bootId;
      await b.discovery.close();
      const b2 = await Discovery.start({
        transport: b.transport, fingerprint: FP_B, trustDomain: 'mesh.test', suites: 1, bootId: (oldBoot + 1) >>> 0,
        staticPeers: [a.transport.endpoints[0]!], intervalMs: 100, onPeer: () => undefined,
      });
      try {
        await until(() => a.seen.length === 2);
        assert.equal(a.seen[1]!.beacon.bootId, (oldBoot + 1) >>> 0);
      } finally {
        await b2.close();
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a static peer given by host name (localhost) is resolved and found', async () => {
    const a = await node(FP_A);
    const b = await node(FP_B);
    b.discovery.addStaticPeer({ address: 'localhost', port: a.transport.endpoints[0]!.port });
    try {
      await until(() => a.seen.length > 0);
      assert.equal(a.seen[0]!.fingerprint, FP_B);
      assert.ok(sameEndpoint(a.seen[0]!.endpoint, b.transport.endpoints[0]!));
      assert.throws(() => b.discovery.addStaticPeer({ address: 'bad name!', port: 1 }));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('ignores its own beacons and those of another trust domain; forgets silent peers', async () => {
    const a = await node(FP_A);
    const self = await node(FP_A, { staticPeers: [a.transport] });
    const foreign = await node(FP_B, { trustDomain: 'other.test', staticPeers: [a.transport] });
    try {
      await until(() => a.discovery.counters.ignoredOwn > 0 && a.discovery.counters.ignoredForeignDomain > 0);
      assert.equal(a.seen.length, 0);
    } finally {
      await self.close();
      await foreign.close();
      await a.close();
    }
    // Expiry: a path not heard from for expireAfterMs is dropped and reported lost.
    const lost: PeerSighting[] = [];
    const t = await UdpTransport.open({ listen: [{ address: '127.0.0.1', port: 0 }], onFrame: () => undefined });
    const d = await Discovery.start({ transport: t, fingerprint: FP_A, trustDomain: 'td', suites: 1, intervalMs: 50, expireAfterMs: 120, onPeer: () => undefined, onPeerLost: (p) => lost.push(p) });
    try {
      d.handleBeacon({ fingerprint: FP_B, bootId: 1, suites: 1, trustDomain: 'td', endpoints: [] }, { address: '127.0.0.1', port: 9 });
      assert.equal(d.peers().length, 1);
      await until(() => lost.length === 1);
      assert.equal(d.peers().length, 0);
      assert.equal(lost[0]!.fingerprint, FP_B);
    } finally {
      await d.close();
      await t.close();
    }
  });

  it('link-local multicast on lo (IPv4 224.0.0.x with multicast loop)', async (t) => {
    const port = 20000 + (process.pid % 20000);
    const a = await node(FP_A, { multicastPort: port });
    const status = a.discovery.multicastStatus();
    if (status.some((s) => s.error !== null)) {
      await a.close();
      t.skip(`multicast on lo unavailable: ${status.map((s) => `${s.interface}/IPv${s.family}: ${s.error}`).join(', ')}`);
      return;
    }
    const b = await node(FP_B, { multicastPort: port });
    try {
      await until(() => a.seen.some((p) => p.fingerprint === FP_B) && b.seen.some((p) => p.fingerprint === FP_A));
      const atA = a.seen.find((p) => p.fingerprint === FP_B)!;
      assert.ok(sameEndpoint(atA.endpoint, b.transport.endpoints[0]!), JSON.stringify(atA.endpoint));
      assert.equal(a.discovery.peers().find((p) => p.fingerprint === FP_B)!.via, 'multicast');
      assert.ok(a.discovery.counters.ignoredOwn > 0, 'own multicast beacons come back through the loop and are ignored');
      // The endpoint found by multicast really reaches B's transport.
      const probe = await UdpTransport.open({ listen: [{ address: '127.0.0.1', port: 0 }], onFrame: () => undefined });
      const seenBefore = b.transport.stats().framesIn;
      probe.send(atA.endpoint, { kind: 'identity-request', body: new Uint8Array(1) });
      await until(() => b.transport.stats().framesIn > seenBefore);
      await probe.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('link-local multicast over IPv6 (ff02::) on an interface with a fe80:: address; the zone is kept', async (t) => {
    const iface = Object.entries(networkInterfaces()).find(([name, addrs]) => name !== 'lo' && addrs?.some((a) => a.family === 'IPv6' && a.address.startsWith('fe80:')));
    if (!iface) { t.skip('no interface with an IPv6 link-local address'); return; }
    const [name, addrs] = iface;
    const ll = `${addrs!.find((a) => a.address.startsWith('fe80:'))!.address.split('%')[0]}%${name}`;
    const port = 20000 + ((process.pid + 7) % 20000);
    const mk = async (fp: string) => {
      const seen: PeerSighting[] = [];
      const transport = await UdpTransport.open({ listen: [{ address: ll, port: 0 }], onFrame: () => undefined });
      const discovery = await Discovery.start({
        transport, fingerprint: fp, trustDomain: 'mesh.test', suites: 1, intervalMs: 100,
        multicast: { interfaces: [name], families: [6], port }, onPeer: (p) => seen.push(p),
      });
      return { transport, discovery, seen };
    };
    const a = await mk(FP_A);
    const status = a.discovery.multicastStatus();
    if (status.some((s) => s.error !== null)) {
      await a.discovery.close(); await a.transport.close();
      t.skip(`IPv6 multicast on ${name} unavailable: ${status.map((s) => s.error).join(', ')}`);
      return;
    }
    const b = await mk(FP_B);
    try {
      assert.ok(a.transport.endpoints[0]!.address.endsWith(`%${name}`), a.transport.endpoints[0]!.address);
      try {
        await until(() => a.seen.length > 0 && b.seen.length > 0);
      } catch {
        t.skip(`IPv6 multicast beacons on ${name} did not arrive (kernel or network policy)`);
        return;
      }
      assert.ok(sameEndpoint(a.seen[0]!.endpoint, b.transport.endpoints[0]!), JSON.stringify(a.seen[0]!.endpoint));
    } finally {
      for (const n of [a, b]) { await n.discovery.close(); await n.transport.close(); }
    }
  });
});
