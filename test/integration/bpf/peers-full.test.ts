// peers_v4/peers_v6 are plain per-CPU hashes (BPF_MAP_TYPE_PERCPU_HASH, 16384 entries): when full they keep the
// peers they have and refuse new ones. A refused source still passes, is counted in stats.peers_full (the sixth u64
// of struct x0t_stats) and gives no new-peer event; known peers go on counting; quarantine still drops. Checked
// with BPF_PROG_TEST_RUN on an object of its own, the map filled with one `bpftool batch`.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { netnsUnavailable } from '../../support/netns.js';
import { PinnedXdpObject, XDP_DROP, XDP_PASS, bpftoolUnavailable, ipv4Key, sumPerCpu } from './bpftool-object.js';
import { udp4Frame } from './frames.js';

const PEERS_MAX = 16384;
const skip = (await netnsUnavailable()) ?? bpftoolUnavailable();

describe('peers_v4 full: new sources are refused and counted in stats.peers_full', { skip: skip ?? false }, () => {
  let obj: PinnedXdpObject;
  let tmp: string;
  const filler = (i: number): Buffer => Buffer.from([10, 200, i >> 8, i & 0xff]);

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'x0t-bpf-full-'));
    obj = await PinnedXdpObject.load('full');
    const one = Buffer.alloc(16);
    one.writeBigUInt64LE(1n, 0);
    one.writeBigUInt64LE(100n, 8);
    await obj.updateMany('peers_v4', Array.from({ length: PEERS_MAX }, (_, i) => ({ key: filler(i), value: one })));
  });

  after(async () => {
    await obj?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  async function run(src: string): Promise<number> {
    const file = join(tmp, `${src}.bin`);
    writeFileSync(file, udp4Frame(src, '192.0.2.254', 20));
    return (await obj.testRun('x0t_xdp', file, 1)).retval;
  }

  const events = async (): Promise<bigint> => {
    const s = await obj.stats();
    return s.eventsSent + s.eventsSuppressed + s.ringbufFull;
  };

  it('holds exactly 16384 peers', async () => {
    assert.equal((await obj.dump('peers_v4')).length, PEERS_MAX);
  });

  it('a new source passes uncounted, peers_full grows by one per packet, no event', async () => {
    const s0 = await obj.stats();
    const e0 = await events();
    assert.equal(await run('192.0.2.77'), XDP_PASS);
    assert.equal(await run('192.0.2.77'), XDP_PASS);
    assert.equal(await obj.lookup('peers_v4', ipv4Key('192.0.2.77')), undefined);
    assert.ok((await obj.cacheSlot(ipv4Key('192.0.2.77'))).every((s) => s.family === 0), 'a refused source gets no peer_cache slot');
    assert.equal((await obj.stats()).peersFull - s0.peersFull, 2n);
    assert.equal(await events(), e0, 'no new-peer event for a refused source');
  });

  it('a known peer goes on counting; a quarantined source is still dropped', async () => {
    const [p0 = 0n] = sumPerCpu(await obj.lookup('peers_v4', filler(5)));
    assert.equal(await run('10.200.0.5'), XDP_PASS);
    const [p1 = 0n] = sumPerCpu(await obj.lookup('peers_v4', filler(5)));
    assert.equal(p1, p0 + 1n);
    await obj.quarantine(ipv4Key('192.0.2.78'));
    assert.equal(await run('192.0.2.78'), XDP_DROP);
    await obj.release(ipv4Key('192.0.2.78'));
  });

  it('after user space deletes a peer the next new source is counted and reported again', async () => {
    const full0 = (await obj.stats()).peersFull;
    const e0 = await events();
    await obj.delete('peers_v4', filler(0));
    assert.equal(await run('192.0.2.77'), XDP_PASS);
    const [p = 0n, b = 0n] = sumPerCpu(await obj.lookup('peers_v4', ipv4Key('192.0.2.77')));
    assert.deepEqual([p, b], [1n, BigInt(14 + 20 + 8 + 20)]);
    assert.equal((await obj.stats()).peersFull, full0);
    assert.equal(await events(), e0 + 1n, 'one new-peer event');
  });
});
