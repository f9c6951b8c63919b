// The quarantine pre-filter (map `quarantine_filter`) on the real kernel, with BPF_PROG_TEST_RUN only: the bit that
// quarantine-filter.ts computes is exactly the bit the program reads, for IPv4 and IPv6 sources alike; an entry in
// quarantine_v4/v6 whose bit is clear is NOT enforced (the contract: user space sets the bit before it inserts);
// a set bit without an entry (a stale bit) passes and counts; all bits set enforces every entry.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { netnsUnavailable } from '../../support/netns.js';
import { PinnedXdpObject, XDP_DROP, XDP_PASS, bpftoolUnavailable, ipv4Key, ipv6Key } from './bpftool-object.js';
import { udp4Frame, udp6Frame } from './frames.js';
import { QUARANTINE_FILTER_BYTES } from '../../../host/driver/bpf-contract.js';
import { quarantineFilter as filterBytes, quarantineFilterBit } from '../../../host/driver/quarantine-filter.js';

const quarantineFilter = (keys: Iterable<Uint8Array>): Buffer => Buffer.from(filterBytes(keys));

const skip = (await netnsUnavailable()) ?? bpftoolUnavailable();

interface Source { readonly text: string; readonly key: Buffer; readonly frame: Buffer; readonly map: 'quarantine_v4' | 'quarantine_v6'; readonly peers: 'peers_v4' | 'peers_v6' }

function v4(text: string): Source {
  return { text, key: ipv4Key(text), frame: udp4Frame(text, '192.0.2.254', 20), map: 'quarantine_v4', peers: 'peers_v4' };
}
function v6(text: string): Source {
  return { text, key: ipv6Key(text), frame: udp6Frame(text, '2001:db8::fe', 20), map: 'quarantine_v6', peers: 'peers_v6' };
}

// Addresses spread over the key bytes (first, last and middle words differ) so every part of the fold is exercised.
const SOURCES: readonly Source[] = [
  v4('10.0.0.1'), v4('192.168.17.42'), v4('172.31.255.254'), v4('1.2.3.4'), v4('203.0.113.77'),
  v6('fd00::1'), v6('2001:db8:85a3::8a2e:370:7334'), v6('fe80::1ff:fe23:4567:890a'), v6('2001:db8:ffff:1:2:3:4:5'),
];

describe('quarantine_filter: the program reads exactly the bit user space computes', { skip: skip ?? false }, () => {
  let obj: PinnedXdpObject;
  let tmp: string;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'x0t-bpf-filter-'));
    obj = await PinnedXdpObject.load('filter');
  });

  after(async () => {
    await obj?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function run(prog: 'x0t_xdp' | 'x0t_xdp_count_quarantine', s: Source): Promise<number> {
    const file = join(tmp, `${s.text.replace(/[:.]/g, '_')}.bin`);
    writeFileSync(file, s.frame);
    return (await obj.testRun(prog, file, 1)).retval;
  }

  /** The source's packets: peers_v4/v6 plus its peer_cache slots, over CPUs (bpf/README.md, the summing rule). */
  async function packets(s: Source): Promise<bigint> {
    assert.equal(s.key.length, s.peers === 'peers_v4' ? 4 : 16);
    const [p] = await obj.peerTotals(s.key);
    return p;
  }

  it('the reference bit function: IPv4 key as one LE u32, IPv6 as the XOR of four, top 16 bits of × 0x9E3779B1', () => {
    // 10.0.0.1 read little-endian is 0x0100000a; 0x0100000a × 0x9e3779b1 mod 2^32 = 0xdf2ac0ea → bit 0xdf2a.
    assert.equal(quarantineFilterBit(ipv4Key('10.0.0.1')), 0xdf2a);
    // fd00::1: words 0x000000fd, 0, 0, 0x01000000 → fold 0x010000fd.
    assert.equal(quarantineFilterBit(ipv6Key('fd00::1')), quarantineFilterBit(Buffer.from([0xfd, 0, 0, 1])));
    const f = quarantineFilter([ipv4Key('10.0.0.1')]);
    assert.equal(f.length, QUARANTINE_FILTER_BYTES);
    assert.equal(f[0xdf2a >>> 3], 1 << (0xdf2a & 7));
    assert.equal(f.reduce((n, b) => n + (b === 0 ? 0 : 1), 0), 1);
  });

  it('an entry is enforced when its bit is set, and only then (exact bit, not a neighbour)', async () => {
    for (const s of SOURCES) {
      await obj.update(s.map, s.key, Buffer.alloc(8));
      // Filter empty: the entry is not looked up, the packet passes and is counted.
      await obj.setQuarantineFilter([]);
      const p0 = await packets(s);
      assert.equal(await run('x0t_xdp', s), XDP_PASS, `${s.text}: bit clear → not enforced`);
      assert.equal(await packets(s), p0 + 1n);
      // Only the neighbouring bit set: still not enforced.
      const bit = quarantineFilterBit(s.key);
      const neighbour = Buffer.alloc(QUARANTINE_FILTER_BYTES);
      const nb = bit ^ 1;
      neighbour[nb >>> 3] = 1 << (nb & 7);
      await obj.update('quarantine_filter', Buffer.alloc(4), neighbour);
      assert.equal(await run('x0t_xdp', s), XDP_PASS, `${s.text}: neighbour bit → not enforced`);
      // Its own bit set: dropped by both programs with the quarantine, counted as drops, not as traffic.
      await obj.setQuarantineFilter([s.key]);
      assert.equal(await run('x0t_xdp', s), XDP_DROP, `${s.text}: bit ${bit} set → dropped`);
      assert.equal(await run('x0t_xdp_count_quarantine', s), XDP_DROP);
      assert.equal(await packets(s), p0 + 2n);
      const q = await obj.lookup(s.map, s.key);
      assert.equal(q?.values[0]?.readBigUInt64LE(0), 2n, `${s.text}: two drops`);
      await obj.release(s.key);
    }
  });

  it('a stale bit without an entry passes and counts; all bits set enforces every entry', async () => {
    const [a, b] = [SOURCES[1]!, SOURCES[6]!];
    await obj.setQuarantineFilter([a.key, b.key]);
    for (const s of [a, b]) {
      const p0 = await packets(s);
      assert.equal(await run('x0t_xdp', s), XDP_PASS, `${s.text}: stale bit, no entry`);
      assert.equal(await packets(s), p0 + 1n);
    }
    await obj.update('quarantine_filter', Buffer.alloc(4), Buffer.alloc(QUARANTINE_FILTER_BYTES, 0xff));
    for (const s of [a, b]) await obj.update(s.map, s.key, Buffer.alloc(8));
    for (const s of [a, b]) assert.equal(await run('x0t_xdp', s), XDP_DROP, `${s.text}: all bits set`);
    for (const s of [a, b]) await obj.release(s.key);
    const [filter] = await obj.dump('quarantine_filter');
    assert.ok(filter?.values[0]?.equals(Buffer.alloc(QUARANTINE_FILTER_BYTES)), 'release cleared the filter');
  });
});
