// The XDP driver on the real kernel: lab A – B – C (subnets 90 and 91), the driver in a child process inside B,
// attached to B's interface facing A. Exact UDP and ICMP counts from A (IPv4 and IPv6) equal the driver's
// counters; quarantine drops exactly and un-quarantine restores counting; new-peer and drop events reach the test
// through the child; native mode on veth, generic when asked; after close nothing is attached, pinned or loaded.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { PeerCounters } from '../../../host/driver/packet-driver.js';
import { DriverChild } from '../../support/driver-child-client.js';
import { L4, ETH, IPV4, IPV6, PING_PAYLOAD, ping, programLoaded, sendUdp, udpFrameBytes, useDriverTriangle, xdpAttached } from '../../support/driver-lab.js';
import { netnsUnavailable, sh } from '../../support/netns.js';
import { PEER_SLOT_BYTES, peerCacheSlot } from '../../../host/driver/bpf-contract.js';
import { ipv4Key, ipv6Key } from '../bpf/bpftool-object.js';

const skip = (await netnsUnavailable()) ?? (existsSync('bpf/x0t_xdp.o') ? null : 'bpf/x0t_xdp.o is not built');

function peer(peers: readonly PeerCounters[], address: string): PeerCounters {
  return peers.find((p) => p.address === address) ?? { address, family: address.includes(':') ? 6 : 4, packets: 0, bytes: 0, quarantined: false };
}

describe('XDP driver on the kernel (A – B – C, attached on B facing A)', { skip: skip ?? false }, () => {
  const t = useDriverTriangle('drv', 90);

  it('counts exact UDP and ICMP, quarantines exactly, reports events, and leaves nothing behind', async () => {
    const child = new DriverChild(t.lab, 'b', ['--interface', t.ab.b.dev, '--pin-root', t.bpffs.path]);
    const ready = await child.ready;
    assert.equal(ready.mode, 'xdp-native', 'veth takes native XDP');
    assert.equal(ready.reason, null);
    assert.equal(ready.interface, t.ab.b.dev);
    assert.equal(ready.staleReplaced, null);
    assert.match(ready.objectSha256 ?? '', /^[0-9a-f]{64}$/);
    assert.ok((ready.programId ?? 0) > 0);
    assert.ok(await xdpAttached(t.lab, 'b', t.ab.b.dev));
    assert.deepEqual(t.bpffs.leftovers().length, 1, 'one pin directory while attached');

    const a4 = t.ab.a.ipv4;
    const a6 = t.ab.a.ipv6;
    const before0 = await child.peers();
    await sendUdp(t.lab, 'a', t.ab.b.ipv4, 50, 100);
    assert.equal(await ping(t.lab, 'a', t.ab.b.ipv4, 20), 20);
    await sendUdp(t.lab, 'a', t.ab.b.ipv6, 30, 200);
    assert.equal(await ping(t.lab, 'a', t.ab.b.ipv6, 10), 10);
    const after0 = await child.peers();
    const d = (addr: string, k: 'packets' | 'bytes'): number => peer(after0, addr)[k] - peer(before0, addr)[k];
    assert.equal(d(a4, 'packets'), 50 + 20);
    assert.equal(d(a4, 'bytes'), 50 * udpFrameBytes(4, 100) + 20 * (ETH + IPV4 + L4 + PING_PAYLOAD));
    assert.equal(d(a6, 'packets'), 30 + 10);
    assert.equal(d(a6, 'bytes'), 30 * udpFrameBytes(6, 200) + 10 * (ETH + IPV6 + L4 + PING_PAYLOAD));
    assert.equal(peer(after0, a4).family, 4);
    assert.equal(peer(after0, a6).family, 6);
    const sorted = [...after0].sort((x, y) => x.family - y.family);
    assert.deepEqual(after0.map((p) => p.family), sorted.map((p) => p.family), 'IPv4 peers come before IPv6 peers');

    // New-peer events for A's addresses, through the ring buffer, the worker and the child's stdout.
    await child.waitForEvents((es) => es.some((e) => e.kind === 'new-peer' && e.address === a4) && es.some((e) => e.kind === 'new-peer' && e.address === a6));
    const np = child.events.find((e) => e.kind === 'new-peer' && e.address === a4)!;
    assert.equal(np.family, 4);
    assert.equal(np.ifindex, ready.ifindex);
    assert.ok(BigInt(np.atNs) > 0n);

    // Quarantine A (both families): exactly the packets sent are dropped and counted as drops, none as traffic.
    await child.quarantineAdd(a4);
    await child.quarantineAdd(a4); // idempotent
    await child.quarantineAdd(a6);
    assert.deepEqual(await child.quarantineList(), [
      { address: a4, family: 4, drops: 0 },
      { address: a6, family: 6, drops: 0 },
    ]);
    const before1 = await child.peers();
    await sendUdp(t.lab, 'a', t.ab.b.ipv4, 40, 64);
    assert.equal(await ping(t.lab, 'a', t.ab.b.ipv6, 7), 0, 'quarantined: no echo request reaches B, so no reply');
    assert.deepEqual(await child.quarantineList(), [
      { address: a4, family: 4, drops: 40 },
      { address: a6, family: 6, drops: 7 },
    ]);
    const after1 = await child.peers();
    assert.equal(peer(after1, a4).packets, peer(before1, a4).packets, 'dropped packets are not counted as traffic');
    assert.equal(peer(after1, a6).packets, peer(before1, a6).packets);
    assert.equal(peer(after1, a4).quarantined, true);
    await child.waitForEvents((es) => es.filter((e) => e.kind === 'drop' && e.address === a4).length === 40 && es.filter((e) => e.kind === 'drop' && e.address === a6).length === 7);

    // Un-quarantine restores counting.
    assert.equal(await child.quarantineDelete(a4), true);
    assert.equal(await child.quarantineDelete(a4), false, 'a second delete finds nothing');
    // Releasing one address rebuilds the pre-filter from what remains: the other is still dropped.
    assert.equal(await ping(t.lab, 'a', t.ab.b.ipv6, 2), 0, 'A over IPv6 is still quarantined');
    assert.deepEqual(await child.quarantineList(), [{ address: a6, family: 6, drops: 9 }]);
    assert.equal(await child.quarantineDelete(a6), true);
    assert.deepEqual(await child.quarantineList(), []);
    await sendUdp(t.lab, 'a', t.ab.b.ipv4, 10, 64);
    assert.equal(await ping(t.lab, 'a', t.ab.b.ipv6, 3), 3);
    const after2 = await child.peers();
    assert.equal(peer(after2, a4).packets - peer(after1, a4).packets, 10);
    assert.equal(peer(after2, a6).packets - peer(after1, a6).packets, 3);
    assert.equal(peer(after2, a4).quarantined, false);

    // Bad input is a typed error, and the driver goes on.
    await assert.rejects(child.quarantineAdd('10.90.0.256'), (e: Error & { code?: string }) => e.code === 'X0T_USAGE');

    const status = await child.status();
    assert.equal(status.eventsDelivered, child.events.length, 'every delivered event reached the listener');
    assert.equal(status.eventsSuppressed, 0, 'below the rate limit nothing is suppressed');
    assert.equal(status.eventReaderError, null);

    const programId = status.programId!;
    const final = await child.close();
    assert.equal(final.programId, programId);
    assert.equal(await xdpAttached(t.lab, 'b', t.ab.b.dev), false, 'no XDP program on the interface after close');
    assert.deepEqual(t.bpffs.leftovers(), [], 'no pins left');
    assert.equal(await programLoaded(programId), false, 'the program is unloaded');
  });

  it('counts exact through peer_cache: after the first packets A owns its slots, peers() sums hash and slots', async () => {
    const child = new DriverChild(t.lab, 'b', ['--interface', t.ab.b.dev, '--pin-root', t.bpffs.path]);
    const ready = await child.ready;
    const pinDir = ready.pinDir!;
    /** Packets counted in the slots holding `key` (summed over CPUs), read from the pinned map with bpftool. */
    const inSlots = async (key: Buffer): Promise<bigint> => {
      const index = Buffer.alloc(4);
      index.writeUInt32LE(peerCacheSlot(key), 0);
      const out = JSON.parse(await sh(['bpftool', '--json', 'map', 'lookup', 'pinned', `${pinDir}/peer_cache`, 'key', ...[...index].map(String)])) as { values: { value: string[] }[] };
      let sum = 0n;
      for (const { value } of out.values) {
        const v = Buffer.from(value.map((h) => Number.parseInt(h, 16)));
        assert.equal(v.length, PEER_SLOT_BYTES);
        if (v[0] === (key.length === 4 ? 4 : 6) && v.subarray(8, 8 + key.length).equals(key)) sum += v.readBigUInt64LE(24);
      }
      return sum;
    };
    const a4 = t.ab.a.ipv4;
    const a6 = t.ab.a.ipv6;
    const before = await child.peers();
    for (let round = 0; round < 4; round++) {
      await sendUdp(t.lab, 'a', t.ab.b.ipv4, 500, 32);
      await sendUdp(t.lab, 'a', t.ab.b.ipv6, 250, 32);
    }
    const after = await child.peers();
    assert.equal(peer(after, a4).packets - peer(before, a4).packets, 2000);
    assert.equal(peer(after, a4).bytes - peer(before, a4).bytes, 2000 * udpFrameBytes(4, 32));
    assert.equal(peer(after, a6).packets - peer(before, a6).packets, 1000);
    assert.equal(peer(after, a6).bytes - peer(before, a6).bytes, 1000 * udpFrameBytes(6, 32));
    // The cache was used: most packets sit in A's slots, not in the hash (the first packets on each CPU go there).
    const slot4 = await inSlots(ipv4Key(a4));
    const slot6 = await inSlots(ipv6Key(a6));
    assert.ok(slot4 >= 1000n && slot4 < BigInt(peer(after, a4).packets), `IPv4 packets in A's slots: ${slot4}`);
    assert.ok(slot6 >= 500n && slot6 < BigInt(peer(after, a6).packets), `IPv6 packets in A's slots: ${slot6}`);
    await child.close();
    assert.deepEqual(t.bpffs.leftovers(), []);
  });

  it('attaches generic XDP when asked, says so in its status, and counts the same', async () => {
    const child = new DriverChild(t.lab, 'b', ['--interface', t.ab.b.dev, '--pin-root', t.bpffs.path, '--mode', 'generic']);
    const ready = await child.ready;
    assert.equal(ready.mode, 'xdp-generic');
    assert.match(ready.reason ?? '', /generic/);
    const before0 = await child.peers();
    await sendUdp(t.lab, 'a', t.ab.b.ipv4, 25, 10);
    const after0 = await child.peers();
    assert.equal(peer(after0, t.ab.a.ipv4).packets - peer(before0, t.ab.a.ipv4).packets, 25);
    assert.equal(peer(after0, t.ab.a.ipv4).bytes - peer(before0, t.ab.a.ipv4).bytes, 25 * udpFrameBytes(4, 10));
    const programId = ready.programId!;
    await child.close();
    assert.equal(await xdpAttached(t.lab, 'b', t.ab.b.dev), false);
    assert.deepEqual(t.bpffs.leftovers(), []);
    assert.equal(await programLoaded(programId), false);
  });

  it('applies the event rate limit it is given and accounts every event as delivered or suppressed', async () => {
    const child = new DriverChild(t.lab, 'b', ['--interface', t.ab.b.dev, '--pin-root', t.bpffs.path, '--events-per-sec', '5']);
    await child.ready;
    await child.quarantineAdd(t.ab.a.ipv4);
    await sendUdp(t.lab, 'a', t.ab.b.ipv4, 60, 16);
    assert.deepEqual(await child.quarantineList(), [{ address: t.ab.a.ipv4, family: 4, drops: 60 }]);
    // Each new peer and each drop is exactly one event attempt: sent (then delivered) or suppressed.
    const expected = (await child.peers()).length + 60;
    let status = await child.status();
    for (let i = 0; i < 50 && status.eventsDelivered + status.eventsSuppressed < expected; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = await child.status();
    }
    assert.equal(status.eventsDelivered + status.eventsSuppressed, expected);
    assert.ok(status.eventsSuppressed >= 60 - 2 * 5 * 2, `at 5 events/s per CPU most of 60 drops in well under a second are suppressed (${status.eventsSuppressed})`);
    assert.equal(status.eventsDelivered, child.events.length);
    await child.close();
    assert.deepEqual(t.bpffs.leftovers(), []);
  });

  it('falls back to generic XDP when the device refuses native (loopback), with the reason in its status', async () => {
    const child = new DriverChild(t.lab, 'c', ['--interface', 'lo', '--pin-root', t.bpffs.path]);
    const ready = await child.ready;
    assert.equal(ready.mode, 'xdp-generic');
    assert.match(ready.reason ?? '', /^native XDP refused on lo \((EOPNOTSUPP|ENOTSUPP|EINVAL)\); running generic XDP$/);
    assert.equal(await ping(t.lab, 'c', '127.0.0.1', 4), 4);
    // lo carries both the request and the reply from 127.0.0.1: 8 packets received.
    const lo = (await child.peers()).find((p) => p.address === '127.0.0.1');
    assert.equal(lo?.packets, 8);
    await child.close();
    assert.equal(await xdpAttached(t.lab, 'c', 'lo'), false);
    assert.deepEqual(t.bpffs.leftovers(), []);
  });
});
