// peer_cache: the per-CPU direct-mapped cache in front of peers_v4/v6 (bpf/README.md). A known peer that finds its
// slot empty on a CPU claims it; its later packets on that CPU are counted in the slot; an occupied slot is never
// evicted, so a colliding peer keeps counting in the hash. A peer's totals = hash value + its slots over CPUs, and
// must equal the packets run exactly. Checked with BPF_PROG_TEST_RUN pinned to a CPU (taskset), on an object of its
// own, so which CPU's copy of a slot the packets land in is known.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { netnsUnavailable } from '../../support/netns.js';
import { peerCacheSlot } from '../../../host/driver/bpf-contract.js';
import { PinnedXdpObject, XDP_DROP, XDP_PASS, bpftoolUnavailable, ipv4Key, ipv6Key, sumPerCpu, type PeerSlot } from './bpftool-object.js';
import { udp4Frame, udp6Frame } from './frames.js';

const skip = (await netnsUnavailable()) ?? bpftoolUnavailable();
const V4_LEN = 14 + 20 + 8 + 20;
const V6_LEN = 14 + 40 + 8 + 20;
/** A second CPU to run on, when there is one. */
const OTHER_CPU = cpus().length > 1 ? 1 : null;

describe('peer_cache: per-CPU slots in front of the peer hash', { skip: skip ?? false }, () => {
  let obj: PinnedXdpObject;
  let tmp: string;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'x0t-bpf-cache-'));
    obj = await PinnedXdpObject.load('cache');
  });

  after(async () => {
    await obj?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  function frameFile(src: string): string {
    const file = join(tmp, `${src.replace(/:/g, '_')}.bin`);
    writeFileSync(file, src.includes(':') ? udp6Frame(src, '2001:db8::fe', 20) : udp4Frame(src, '192.0.2.254', 20));
    return file;
  }

  async function run(src: string, repeat: number, cpu: number, prog: 'x0t_xdp' | 'x0t_xdp_count' = 'x0t_xdp'): Promise<number> {
    return (await obj.testRun(prog, frameFile(src), repeat, cpu)).retval;
  }

  const hashOnly = async (key: Buffer): Promise<bigint> => sumPerCpu(await obj.lookup(key.length === 4 ? 'peers_v4' : 'peers_v6', key))[0] ?? 0n;
  const owns = (s: PeerSlot | undefined, key: Buffer): boolean => s !== undefined && s.family === (key.length === 4 ? 4 : 6) && s.addr.equals(key);

  for (const [family, src, len] of [[4, '192.0.2.10', V4_LEN], [6, '2001:db8::10', V6_LEN]] as const) {
    it(`IPv${family}: a known peer's packets land in its slot on the CPU that ran them; totals are exact`, async () => {
      const key = family === 4 ? ipv4Key(src) : ipv6Key(src);
      assert.equal(await run(src, 1, 0), XDP_PASS); // new peer: inserted into the hash, no slot yet
      assert.ok((await obj.cacheSlot(key)).every((s) => s.family === 0), 'a new peer does not claim a slot');
      assert.equal(await run(src, 1, 0), XDP_PASS); // known, slot empty: counted in the hash, claims the slot
      let slots = await obj.cacheSlot(key);
      assert.ok(owns(slots[0], key), 'the known peer claimed its slot on CPU 0');
      assert.equal(slots[0]!.packets, 0n);
      assert.equal(await run(src, 100, 0), XDP_PASS);
      slots = await obj.cacheSlot(key);
      assert.deepEqual([slots[0]!.packets, slots[0]!.bytes], [100n, BigInt(100 * len)], 'CPU 0 counted in its slot');
      assert.equal(await hashOnly(key), 2n, 'the hash holds only the packets before the claim');
      let want = 102;
      if (OTHER_CPU !== null) {
        assert.ok(!owns(slots[OTHER_CPU], key), 'no slot on a CPU that has not seen the peer');
        assert.equal(await run(src, 7, OTHER_CPU), XDP_PASS); // first packet: hash + claim; six in the slot
        slots = await obj.cacheSlot(key);
        assert.ok(owns(slots[OTHER_CPU], key));
        assert.equal(slots[OTHER_CPU]!.packets, 6n);
        assert.equal(slots[0]!.packets, 100n, 'CPU 0 untouched');
        assert.equal(await hashOnly(key), 3n);
        want += 7;
      }
      assert.deepEqual(await obj.peerTotals(key), [BigInt(want), BigInt(want * len)]);
      assert.equal(await run(src, 10, 0, 'x0t_xdp_count'), XDP_PASS); // the counters-only variant uses the cache too
      assert.deepEqual(await obj.peerTotals(key), [BigInt(want + 10), BigInt((want + 10) * len)]);
    });
  }

  it('two addresses on one slot: the first owns it, the second keeps counting in the hash; totals exact', async () => {
    const a = '198.51.100.1';
    const slot = peerCacheSlot(ipv4Key(a));
    let b: string | undefined;
    for (let i = 2; i < 65536 && b === undefined; i++) {
      const c = `198.51.${100 + (i >> 8)}.${i & 0xff}`;
      if (peerCacheSlot(ipv4Key(c)) === slot) b = c;
    }
    assert.ok(b, 'found a colliding address');
    const ka = ipv4Key(a);
    const kb = ipv4Key(b);
    await run(a, 1, 0);
    await run(a, 1, 0); // a owns the slot on CPU 0
    await run(b, 1, 0);
    await run(b, 50, 0);
    await run(a, 20, 0);
    const slots = await obj.cacheSlot(ka);
    assert.ok(owns(slots[0], ka), 'the slot stays with the first owner (never evicted)');
    assert.equal(slots[0]!.packets, 20n);
    assert.equal(await hashOnly(kb), 51n, 'the colliding peer counts in the hash');
    assert.deepEqual(await obj.peerTotals(ka), [22n, BigInt(22 * V4_LEN)]);
    assert.deepEqual(await obj.peerTotals(kb), [51n, BigInt(51 * V4_LEN)]);
  });

  it('quarantine is checked before the cache: a peer owning a slot is dropped, its counts frozen', async () => {
    for (const src of ['192.0.2.20', '2001:db8::20']) {
      const key = src.includes(':') ? ipv6Key(src) : ipv4Key(src);
      const qmap = key.length === 4 ? 'quarantine_v4' : 'quarantine_v6';
      await run(src, 1, 0);
      await run(src, 5, 0); // hash + claim, four in the slot
      assert.ok(owns((await obj.cacheSlot(key))[0], key));
      const before = await obj.peerTotals(key);
      await obj.quarantine(key);
      assert.equal(await run(src, 9, 0), XDP_DROP);
      assert.deepEqual(await obj.peerTotals(key), before, 'dropped packets are not counted');
      assert.equal((await obj.lookup(qmap, key))!.values[0]!.readBigUInt64LE(0), 9n);
      await obj.release(key);
      assert.equal(await run(src, 3, 0), XDP_PASS);
      assert.equal((await obj.peerTotals(key))[0], before[0] + 3n);
      assert.equal((await obj.cacheSlot(key))[0]!.packets, 7n, 'released: counted in its slot again');
    }
  });
});
