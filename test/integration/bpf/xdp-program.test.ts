// The XDP object (bpf/x0t_xdp.o) on the real kernel, loaded and attached with bpftool only (no TypeScript driver):
// lab A – B – C, the product program x0t_xdp on B's interface facing A. Exact packet and byte counts per source
// address (native and generic XDP), quarantine drops, the event rate limit (counted through `stats`; the records
// themselves are read in ring-events.test.ts), non-IP and malformed frames and one VLAN tag (BPF_PROG_TEST_RUN),
// which program iproute2 attaches, and a teardown that leaves nothing behind.
//
// Bytes are the frame as XDP sees it (no FCS, no preamble): Ethernet 14 + IP header (IPv4 20, IPv6 40) + L4 header
// (UDP 8, ICMP echo 8) + payload; `ping` sends 56 payload bytes. Neighbours are static on both sides so no ND/ARP
// resolution adds packets from the tested addresses while counting.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { NetnsLab, netnsUnavailable, sh, type VethLink } from '../../support/netns.js';
import {
  PinnedXdpObject, UDP_SENDER, XDP_DROP, XDP_OBJECT, XDP_PASS, bpftoolUnavailable, ipv4Key, ipv6Key, programsStillLoaded, xdpAttachedIn,
} from './bpftool-object.js';
import { arpFrame, udp4Frame, udp6Frame } from './frames.js';

const execFileP = promisify(execFile);
const ETH = 14;
const IPV4 = 20;
const IPV6 = 40;
const L4 = 8; // UDP header and ICMP/ICMPv6 echo header alike
const PING_PAYLOAD = 56;
/** JSON.stringify replacer for bigint counters. */
const big = (_k: string, x: unknown): unknown => (typeof x === 'bigint' ? x.toString() : x);

const skip = (await netnsUnavailable()) ?? bpftoolUnavailable();

describe('x0t_xdp on the kernel (bpftool, no driver)', { skip: skip ?? false }, () => {
  const lab = new NetnsLab('bpf');
  let ab: VethLink;
  let bc: VethLink;
  let obj: PinnedXdpObject;
  let tmp: string;

  async function mac(ns: string, dev: string): Promise<string> {
    const [link] = JSON.parse(await lab.exec(ns, ['ip', '-j', 'link', 'show', 'dev', dev])) as { address: string }[];
    return link!.address;
  }

  async function staticNeighbours(): Promise<void> {
    const macA = await mac('a', ab.a.dev);
    const macB = await mac('b', ab.b.dev);
    for (const [ns, dev, addr, lladdr] of [
      ['a', ab.a.dev, ab.b.ipv4, macB], ['a', ab.a.dev, ab.b.ipv6, macB],
      ['b', ab.b.dev, ab.a.ipv4, macA], ['b', ab.b.dev, ab.a.ipv6, macA],
    ] as const) {
      await lab.exec(ns, ['ip', 'neigh', 'replace', addr, 'lladdr', lladdr, 'dev', dev, 'nud', 'permanent']);
    }
  }

  /** Echo replies received (ping exits non-zero when some are lost; its summary line is on stdout either way). */
  async function ping(to: string, count: number): Promise<number> {
    const argv = ['ip', 'netns', 'exec', lab.ns('a'), 'ping', ...(to.includes(':') ? ['-6'] : []), '-q', '-c', String(count), '-i', '0.01', '-W', '1', to];
    let stdout: string;
    try {
      stdout = (await execFileP(argv[0]!, argv.slice(1), { timeout: 30_000 })).stdout;
    } catch (e) {
      stdout = (e as { stdout?: string }).stdout ?? '';
    }
    const m = /(\d+) packets transmitted, (\d+) received/.exec(stdout);
    assert.ok(m, `ping summary missing: ${stdout}`);
    assert.equal(Number(m[1]), count, 'ping transmitted the requested count');
    return Number(m[2]);
  }

  async function sendUdp(to: string, count: number, size: number, from: readonly string[] = []): Promise<number> {
    const out = await lab.exec('a', [process.execPath, UDP_SENDER, '--to', to, '--count', String(count), '--size', String(size), ...from.flatMap((f) => ['--from', f])]);
    const r = JSON.parse(out) as { sent: number; ms: number };
    assert.equal(r.sent, count * Math.max(1, from.length));
    return r.ms;
  }

  /** [packets, bytes] of one source over all CPUs ([0n, 0n] when absent). */
  /** A source's totals: its peers_v4/v6 value plus its peer_cache slots, over CPUs (the contract's summing rule). */
  async function counters(map: 'peers_v4' | 'peers_v6', key: Buffer): Promise<[bigint, bigint]> {
    assert.equal(key.length, map === 'peers_v4' ? 4 : 16);
    return obj.peerTotals(key);
  }

  async function drops(map: 'quarantine_v4' | 'quarantine_v6', key: Buffer): Promise<bigint> {
    const e = await obj.lookup(map, key);
    assert.ok(e, `${map} has the quarantined key`);
    return e.values[0]!.readBigUInt64LE(0);
  }

  /**
   * Polls until `read` returns `want` (packets may still be in flight on the veth), then reads once more after a
   * pause so a count that overshoots is seen too; returns the last value read.
   */
  async function settle<T>(read: () => Promise<T>, want: T, ms = 3000): Promise<T> {
    const same = (a: T, b: T): boolean => JSON.stringify(a, big) === JSON.stringify(b, big);
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await read();
      if (same(v, want)) {
        await new Promise((r) => setTimeout(r, 150));
        return read();
      }
      if (Date.now() > deadline) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function keyCount(): Promise<number> {
    return (await obj.dump('peers_v4')).length + (await obj.dump('peers_v6')).length;
  }

  async function eventTotal(): Promise<bigint> {
    const s = await obj.stats();
    return s.eventsSent + s.eventsSuppressed + s.ringbufFull;
  }

  async function packetFile(name: string, frame: Buffer): Promise<string> {
    const f = join(tmp, name);
    writeFileSync(f, frame);
    return f;
  }

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'x0t-bpf-test-'));
    await lab.addNamespace('a');
    await lab.addNamespace('b');
    await lab.addNamespace('c');
    ab = await lab.link('a', 'b', 80);
    bc = await lab.link('b', 'c', 81);
    await staticNeighbours();
    obj = await PinnedXdpObject.load('test');
    await obj.attach(lab.ns('b'), ab.b.dev, 'x0t_xdp');
  });

  after(async () => {
    await obj?.close();
    await lab.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('attaches natively: bpftool net shows x0t_xdp on B facing A', async () => {
    const attached = await xdpAttachedIn(lab.ns('b'));
    assert.deepEqual(attached.map((x) => [x.devname, x.id]), [[ab.b.dev, obj.id('x0t_xdp')]]);
  });

  it('counts IPv4 UDP and ICMP from A exactly (packets and frame bytes)', async () => {
    const key = ipv4Key(ab.a.ipv4);
    const [p0, b0] = await counters('peers_v4', key);
    const udpCount = 100;
    const udpPayload = 100;
    const pings = 20;
    await sendUdp(ab.b.ipv4, udpCount, udpPayload);
    assert.equal(await ping(ab.b.ipv4, pings), pings);
    const want: [bigint, bigint] = [
      p0 + BigInt(udpCount + pings),
      b0 + BigInt(udpCount * (ETH + IPV4 + L4 + udpPayload) + pings * (ETH + IPV4 + L4 + PING_PAYLOAD)),
    ];
    assert.deepEqual(await settle(() => counters('peers_v4', key), want), want);
  });

  it('counts IPv6 UDP and ICMPv6 from A exactly in peers_v6', async () => {
    const key = ipv6Key(ab.a.ipv6);
    const [p0, b0] = await counters('peers_v6', key);
    const udpCount = 60;
    const udpPayload = 200;
    const pings = 10;
    await sendUdp(ab.b.ipv6, udpCount, udpPayload);
    assert.equal(await ping(ab.b.ipv6, pings), pings);
    const want: [bigint, bigint] = [
      p0 + BigInt(udpCount + pings),
      b0 + BigInt(udpCount * (ETH + IPV6 + L4 + udpPayload) + pings * (ETH + IPV6 + L4 + PING_PAYLOAD)),
    ];
    assert.deepEqual(await settle(() => counters('peers_v6', key), want), want);
  });

  it('quarantine_v4 drops exactly the next packets from A; deleting the entry lets traffic through', async () => {
    const key = ipv4Key(ab.a.ipv4);
    const before = await counters('peers_v4', key);
    await obj.quarantine(key);
    assert.equal(await ping(ab.b.ipv4, 5), 0, 'no echo reply while quarantined');
    await sendUdp(ab.b.ipv4, 30, 64);
    assert.equal(await settle(() => drops('quarantine_v4', key), 35n), 35n);
    assert.deepEqual(await counters('peers_v4', key), before, 'dropped packets are not counted as traffic');
    await obj.release(key);
    assert.equal(await ping(ab.b.ipv4, 3), 3);
    const want: [bigint, bigint] = [before[0] + 3n, before[1] + BigInt(3 * (ETH + IPV4 + L4 + PING_PAYLOAD))];
    assert.deepEqual(await settle(() => counters('peers_v4', key), want), want);
  });

  it('quarantine_v6 drops exactly the next packets from A and releases', async () => {
    const key = ipv6Key(ab.a.ipv6);
    const before = await counters('peers_v6', key);
    await obj.quarantine(key);
    assert.equal(await ping(ab.b.ipv6, 4), 0);
    await sendUdp(ab.b.ipv6, 12, 64);
    assert.equal(await settle(() => drops('quarantine_v6', key), 16n), 16n);
    assert.deepEqual(await counters('peers_v6', key), before);
    await obj.release(key);
    assert.equal(await ping(ab.b.ipv6, 2), 2);
  });

  it('reports every new peer and every drop: sent + suppressed + ringbuf_full grows by exactly that many', async () => {
    const extra = '10.80.0.50';
    await lab.exec('a', ['ip', 'addr', 'add', `${extra}/24`, 'dev', ab.a.dev]);
    try {
      const key = ipv4Key(extra);
      const keys0 = await keyCount();
      const events0 = await eventTotal();
      await obj.quarantine(key);
      await sendUdp(ab.b.ipv4, 7, 32, [extra]);
      assert.equal(await settle(() => drops('quarantine_v4', key), 7n), 7n);
      assert.deepEqual(await counters('peers_v4', key), [0n, 0n], 'a quarantined source is not a peer');
      await obj.release(key);
      await sendUdp(ab.b.ipv4, 3, 32, [extra]);
      const want: [bigint, bigint] = [3n, BigInt(3 * (ETH + IPV4 + L4 + 32))];
      assert.deepEqual(await settle(() => counters('peers_v4', key), want), want);
      // New keys from anything else that arrived meanwhile (e.g. link-local IPv6 from A) are events too.
      const newKeys = (await keyCount()) - keys0;
      assert.ok(newKeys >= 1);
      assert.equal(await eventTotal() - events0, BigInt(newKeys) + 7n);
      assert.equal((await obj.stats()).ringbufFull, 0n, 'the ring buffer has room for this test’s few events');
    } finally {
      await lab.exec('a', ['ip', 'addr', 'del', `${extra}/24`, 'dev', ab.a.dev]).catch(() => undefined);
    }
  });

  it('rate-limits events per CPU to config.events_per_sec and counts the rest as suppressed', async (t) => {
    const limit = 5;
    const sources = Array.from({ length: 50 }, (_, i) => `10.80.0.${100 + i}`);
    for (const s of sources) await lab.exec('a', ['ip', 'addr', 'add', `${s}/24`, 'dev', ab.a.dev]);
    try {
      await obj.setEventsPerSec(limit);
      await new Promise((r) => setTimeout(r, 1100)); // every CPU's window has expired: each starts afresh
      const s0 = await obj.stats();
      const keys0 = await keyCount();
      const t0 = Date.now();
      await sendUdp(ab.b.ipv4, 1, 16, sources);
      const elapsedMs = Date.now() - t0;
      const seen = async (): Promise<number> => {
        const all = await obj.dump('peers_v4');
        return sources.filter((s) => all.some((e) => e.key.equals(ipv4Key(s)))).length;
      };
      assert.equal(await settle(seen, sources.length), sources.length, 'every new source is counted');
      const s1 = await obj.stats();
      const sent = s1.eventsSent - s0.eventsSent;
      const suppressed = s1.eventsSuppressed - s0.eventsSuppressed;
      const newKeys = BigInt((await keyCount()) - keys0);
      assert.equal(sent + suppressed + (s1.ringbufFull - s0.ringbufFull), newKeys, 'each new peer is sent or suppressed');
      // A window is 1 s per CPU, started by its first event; the burst spans at most 1 + floor(elapsed) windows.
      const windows = BigInt(cpus().length * (1 + Math.floor(elapsedMs / 1000)));
      t.diagnostic(`${sources.length} new peers in ${elapsedMs} ms: sent ${sent}, suppressed ${suppressed}, bound ${limit} × ${windows} windows`);
      assert.ok(sent >= BigInt(limit), `at least one full window was sent (sent ${sent})`);
      assert.ok(sent <= BigInt(limit) * windows, `sent ${sent} ≤ ${limit} × ${windows} windows`);
      assert.ok(suppressed >= newKeys - BigInt(limit) * windows, `suppressed ${suppressed}`);
    } finally {
      await obj.setEventsPerSec(0);
      for (const s of sources) await lab.exec('a', ['ip', 'addr', 'del', `${s}/24`, 'dev', ab.a.dev]).catch(() => undefined);
    }
  });

  it('passes ARP without counting it (live: neighbour resolution through the program works)', async () => {
    await lab.exec('a', ['ip', 'neigh', 'del', ab.b.ipv4, 'dev', ab.a.dev]);
    await lab.exec('b', ['ip', 'neigh', 'del', ab.a.ipv4, 'dev', ab.b.dev]);
    try {
      const key = ipv4Key(ab.a.ipv4);
      const before = await counters('peers_v4', key);
      assert.equal(await ping(ab.b.ipv4, 1), 1, 'the ARP request reached B and the echo got through');
      const want: [bigint, bigint] = [before[0] + 1n, before[1] + BigInt(ETH + IPV4 + L4 + PING_PAYLOAD)];
      assert.deepEqual(await settle(() => counters('peers_v4', key), want), want, 'only the echo request is counted');
      const neigh = await lab.exec('b', ['ip', 'neigh', 'show', ab.a.ipv4, 'dev', ab.b.dev]);
      assert.match(neigh, /lladdr/, 'B learned A from the ARP exchange');
    } finally {
      await staticNeighbours();
    }
  });

  it('test-run: ARP, truncated and wrong-version frames pass uncounted; one 802.1Q tag is skipped; quarantined → XDP_DROP', async () => {
    const arp = await obj.testRun('x0t_xdp', await packetFile('arp.bin', arpFrame('192.0.2.1', '192.0.2.2')), 1);
    assert.equal(arp.retval, XDP_PASS);
    const truncated = await obj.testRun('x0t_xdp', await packetFile('short.bin', udp4Frame('192.0.2.3', '192.0.2.2', 0).subarray(0, ETH + 12)), 1);
    assert.equal(truncated.retval, XDP_PASS);
    const badVersion = udp4Frame('192.0.2.4', '192.0.2.2', 8);
    badVersion[ETH] = 0x65; // version 6 behind the IPv4 ethertype
    assert.equal((await obj.testRun('x0t_xdp', await packetFile('badver.bin', badVersion), 1)).retval, XDP_PASS);
    for (const a of ['192.0.2.1', '192.0.2.3', '192.0.2.4']) assert.deepEqual(await counters('peers_v4', ipv4Key(a)), [0n, 0n]);

    const tagged = udp4Frame('192.0.2.10', '192.0.2.2', 50, 10);
    assert.equal((await obj.testRun('x0t_xdp', await packetFile('vlan4.bin', tagged), 3)).retval, XDP_PASS);
    assert.deepEqual(await counters('peers_v4', ipv4Key('192.0.2.10')), [3n, BigInt(3 * (ETH + 4 + IPV4 + L4 + 50))]);
    const tagged6 = udp6Frame('2001:db8::10', '2001:db8::2', 20, 20);
    assert.equal((await obj.testRun('x0t_xdp', await packetFile('vlan6.bin', tagged6), 2)).retval, XDP_PASS);
    assert.deepEqual(await counters('peers_v6', ipv6Key('2001:db8::10')), [2n, BigInt(2 * (ETH + 4 + IPV6 + L4 + 20))]);

    await obj.quarantine(ipv6Key('2001:db8::10'));
    for (const prog of ['x0t_xdp', 'x0t_xdp_count_quarantine'] as const) {
      assert.equal((await obj.testRun(prog, await packetFile('vlan6.bin', tagged6), 1)).retval, XDP_DROP, prog);
    }
    assert.equal((await obj.testRun('x0t_xdp_count', await packetFile('vlan6.bin', tagged6), 1)).retval, XDP_PASS, 'the count-only variant never drops');
    assert.equal((await obj.testRun('x0t_xdp_empty', await packetFile('vlan6.bin', tagged6), 1)).retval, XDP_PASS);
    assert.equal(await drops('quarantine_v6', ipv6Key('2001:db8::10')), 2n);
    assert.deepEqual(await counters('peers_v6', ipv6Key('2001:db8::10')), [3n, BigInt(3 * (ETH + 4 + IPV6 + L4 + 20))], 'count-only counted its run');
    await obj.release(ipv6Key('2001:db8::10'));
  });

  it('counts the same in generic (skb) mode', async () => {
    await obj.detach(lab.ns('b'), ab.b.dev);
    await obj.attach(lab.ns('b'), ab.b.dev, 'x0t_xdp', true);
    try {
      const link = JSON.parse(await lab.exec('b', ['ip', '-j', 'link', 'show', 'dev', ab.b.dev])) as { xdp?: { mode: number } }[];
      assert.equal(link[0]?.xdp?.mode, 2, 'XDP_ATTACHED_SKB');
      const key = ipv4Key(ab.a.ipv4);
      const [p0, b0] = await counters('peers_v4', key);
      await sendUdp(ab.b.ipv4, 25, 300);
      const want: [bigint, bigint] = [p0 + 25n, b0 + BigInt(25 * (ETH + IPV4 + L4 + 300))];
      assert.deepEqual(await settle(() => counters('peers_v4', key), want), want);
    } finally {
      await obj.detach(lab.ns('b'), ab.b.dev);
      await obj.attach(lab.ns('b'), ab.b.dev, 'x0t_xdp');
    }
  });

  it('iproute2 attaches x0t_xdp for `sec xdp` and another variant by `program NAME`', async () => {
    const dev = bc.a.dev; // B's interface facing C: the bpftool-attached program on A's side stays untouched
    const attachedName = async (): Promise<string> => {
      const [x] = (await xdpAttachedIn(lab.ns('b'))).filter((a) => a.devname === dev);
      assert.ok(x, `a program on ${dev}`);
      return (JSON.parse(await sh(['bpftool', '--json', 'prog', 'show', 'id', String(x.id)])) as { name: string }).name;
    };
    try {
      await lab.exec('b', ['ip', 'link', 'set', 'dev', dev, 'xdp', 'obj', XDP_OBJECT, 'sec', 'xdp']);
      assert.equal(await attachedName(), 'x0t_xdp');
      await lab.exec('b', ['ip', 'link', 'set', 'dev', dev, 'xdp', 'off']);
      await lab.exec('b', ['ip', 'link', 'set', 'dev', dev, 'xdpgeneric', 'obj', XDP_OBJECT, 'program', 'x0t_xdp_count']);
      assert.equal(await attachedName(), 'x0t_xdp_count');
    } finally {
      await lab.exec('b', ['ip', 'link', 'set', 'dev', dev, 'xdp', 'off']).catch(() => undefined);
      await lab.exec('b', ['ip', 'link', 'set', 'dev', dev, 'xdpgeneric', 'off']).catch(() => undefined);
    }
    assert.deepEqual((await xdpAttachedIn(lab.ns('b'))).map((a) => a.devname), [ab.b.dev]);
  });

  it('teardown leaves no attached program, pinned file, loaded program or namespace', async () => {
    const ids = obj.ids;
    const dir = obj.dir;
    await obj.close();
    for (const ns of lab.namespaces) assert.deepEqual(await xdpAttachedIn(ns), [], `bpftool net in ${ns}`);
    const namespaces = [...lab.namespaces];
    await lab.close();
    assert.equal(existsSync(dir), false, 'pin folder removed');
    assert.deepEqual(await programsStillLoaded(ids), [], 'programs freed');
    const left = await sh(['ip', 'netns', 'list']);
    for (const ns of namespaces) assert.ok(!left.includes(ns), `${ns} deleted`);
  });
});
