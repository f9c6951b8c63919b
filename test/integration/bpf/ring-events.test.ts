// The event records the program writes to the `events` ring buffer, read straight from the pinned map with
// libbpf's ring_buffer__consume (through koffi; no TypeScript driver), to pin down the record layout of the
// contract: 32 bytes, kind (1 new peer, 2 drop), family (4/6), reserved 0, ifindex of the receiving interface,
// ts_ns from CLOCK_MONOTONIC, the source address (IPv4 in addr[0..4), rest zero). Also: one new-peer event per
// address however many packets it sends, one drop event per dropped packet, and events_sent equals the records read.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import koffi from 'koffi';
import { NetnsLab, netnsUnavailable, type VethLink } from '../../support/netns.js';
import { PinnedXdpObject, UDP_SENDER, bpftoolUnavailable, ipv4Key, ipv6Key } from './bpftool-object.js';


interface EventRecord { kind: number; family: number; reserved: number; ifindex: number; tsNs: bigint; addr: Buffer; size: number }

/** Minimal libbpf binding for this test: open a pinned map, drain a ring buffer without blocking. */
function ringReader(pinnedMap: string): { drain(): EventRecord[]; close(): void } {
  const lib = koffi.load('libbpf.so.1');
  const objGet = lib.func('int bpf_obj_get(const char *pathname)');
  const Sample = koffi.proto('int x0t_bpf_test_ring_sample(void *ctx, void *data, size_t size)');
  const rbNew = lib.func('void *ring_buffer__new(int map_fd, x0t_bpf_test_ring_sample *cb, void *ctx, const void *opts)');
  const rbConsume = lib.func('int ring_buffer__consume(void *rb)');
  const rbFree = lib.func('void ring_buffer__free(void *rb)');
  const libc = koffi.load('libc.so.6');
  const closeFd = libc.func('int close(int fd)');

  const fd = objGet(pinnedMap) as number;
  if (fd < 0) throw new Error(`bpf_obj_get(${pinnedMap}) = ${fd}`);
  let batch: EventRecord[] = [];
  const cb = koffi.register((_ctx: unknown, data: unknown, size: number) => {
    const b = Buffer.from(koffi.view(data, size).slice(0));
    batch.push({ kind: b[0]!, family: b[1]!, reserved: b.readUInt16LE(2), ifindex: b.readUInt32LE(4), tsNs: b.readBigUInt64LE(8), addr: b.subarray(16, 32), size });
    return 0;
  }, koffi.pointer(Sample));
  const rb = rbNew(fd, cb, null, null) as unknown;
  if (!rb) {
    koffi.unregister(cb);
    closeFd(fd);
    throw new Error('ring_buffer__new failed');
  }
  return {
    drain() {
      const n = rbConsume(rb) as number;
      if (n < 0) throw new Error(`ring_buffer__consume = ${n}`);
      const out = batch;
      batch = [];
      return out;
    },
    close() {
      rbFree(rb);
      koffi.unregister(cb);
      closeFd(fd);
    },
  };
}

function addrKey(family: 4 | 6, addr: string): Buffer {
  const b = Buffer.alloc(16);
  (family === 4 ? ipv4Key(addr) : ipv6Key(addr)).copy(b);
  return b;
}

const skip = (await netnsUnavailable()) ?? bpftoolUnavailable();

describe('x0t_xdp ring-buffer events (libbpf ring_buffer__consume, no driver)', { skip: skip ?? false }, () => {
  const lab = new NetnsLab('bpfrb');
  let ab: VethLink;
  let obj: PinnedXdpObject;
  let reader: ReturnType<typeof ringReader>;
  let ifindexB: number;

  /** Drains until `want` records matching `pick` arrived (or 3 s passed); returns every record drained. */
  async function collect(pick: (e: EventRecord) => boolean, want: number): Promise<EventRecord[]> {
    const all: EventRecord[] = [];
    const deadline = Date.now() + 3000;
    while (all.filter(pick).length < want && Date.now() < deadline) {
      all.push(...reader.drain());
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 100)); // anything beyond `want` shows up too
    all.push(...reader.drain());
    return all;
  }

  before(async () => {
    await lab.addNamespace('a');
    await lab.addNamespace('b');
    ab = await lab.link('a', 'b', 82);
    const [link] = JSON.parse(await lab.exec('b', ['ip', '-j', 'link', 'show', 'dev', ab.b.dev])) as { ifindex: number }[];
    ifindexB = link!.ifindex;
    obj = await PinnedXdpObject.load('ring');
    reader = ringReader(join(obj.dir, 'maps', 'events'));
    await obj.attach(lab.ns('b'), ab.b.dev, 'x0t_xdp');
  });

  after(async () => {
    reader?.close();
    await obj?.close();
    await lab.close();
  });

  it('one new-peer record per source address, with the contract layout', async () => {
    const t0 = process.hrtime.bigint(); // CLOCK_MONOTONIC, as bpf_ktime_get_ns
    await lab.exec('a', [process.execPath, UDP_SENDER, '--to', ab.b.ipv4, '--count', '20', '--size', '10']);
    await lab.exec('a', [process.execPath, UDP_SENDER, '--to', ab.b.ipv6, '--count', '20', '--size', '10']);
    const t1 = process.hrtime.bigint();
    const want4 = addrKey(4, ab.a.ipv4);
    const want6 = addrKey(6, ab.a.ipv6);
    const events = await collect((e) => e.addr.equals(want4) || e.addr.equals(want6), 2);
    for (const e of events) {
      assert.equal(e.size, 32);
      assert.equal(e.reserved, 0);
      assert.equal(e.ifindex, ifindexB);
      // Packets this test sent arrive after t0; other sources of A (link-local ND/MLD after the link came up) may
      // have been reported before it, but none after the end of the test.
      const ours = e.addr.equals(want4) || e.addr.equals(want6);
      assert.ok((!ours || e.tsNs >= t0) && e.tsNs <= t1 + 1_000_000_000n, `ts_ns ${e.tsNs} within [${ours ? t0 : 0}, ${t1}]`);
      assert.ok(e.family === 4 || e.family === 6);
      if (e.family === 4) assert.ok(e.addr.subarray(4).equals(Buffer.alloc(12)), 'IPv4 fills addr[0..4) only');
    }
    const v4 = events.filter((e) => e.addr.equals(want4));
    const v6 = events.filter((e) => e.addr.equals(want6));
    assert.deepEqual(v4.map((e) => [e.kind, e.family]), [[1, 4]], 'one new-peer event for 20 IPv4 packets');
    assert.deepEqual(v6.map((e) => [e.kind, e.family]), [[1, 6]], 'one new-peer event for 20 IPv6 packets');
    // Every record read was counted as sent (link-local IPv6 sources of A are new peers too).
    const s = await obj.stats();
    assert.equal(s.eventsSent, BigInt(events.length));
    assert.equal(s.eventsSuppressed, 0n);
  });

  it('one drop record per packet from a quarantined source', async () => {
    const sent0 = (await obj.stats()).eventsSent;
    await obj.quarantine(ipv4Key(ab.a.ipv4));
    await lab.exec('a', [process.execPath, UDP_SENDER, '--to', ab.b.ipv4, '--count', '6', '--size', '10']);
    const want = addrKey(4, ab.a.ipv4);
    const events = await collect((e) => e.addr.equals(want), 6);
    assert.deepEqual(events.filter((e) => e.addr.equals(want)).map((e) => [e.kind, e.family, e.ifindex]), Array(6).fill([2, 4, ifindexB]));
    assert.equal((await obj.stats()).eventsSent - sent0, BigInt(events.length));
    await obj.release(ipv4Key(ab.a.ipv4));
  });
});
