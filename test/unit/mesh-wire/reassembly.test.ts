// Fragment reassembly as a pure machine: any order, duplicates, conflicts, timeouts and every memory limit, with
// the clock passed in.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Reassembler } from '../../../host/mesh/transport/reassembly.js';
import type { Fragment } from '../../../host/mesh/wire/fragment.js';

/** Splits `bytes` into `count` fragments of message `msgId`, like the transport does. */
function split(bytes: Uint8Array, count: number, msgId = 1): Fragment[] {
  const size = Math.ceil(bytes.byteLength / count);
  return Array.from({ length: count }, (_, index) => ({ msgId, index, count, chunk: bytes.slice(index * size, (index + 1) * size) }));
}

const message = fc.uint8Array({ minLength: 64, maxLength: 4000 });

describe('fragment reassembly', () => {
  it('any order, with duplicates mixed in, gives back the exact bytes once', () => {
    fc.assert(fc.property(message, fc.integer({ min: 2, max: 64 }), fc.integer(), (bytes, n, seed) => {
      const count = Math.min(n, bytes.byteLength);
      const frags = split(bytes, count);
      // A seeded shuffle plus duplicates of some fragments.
      const order = [...frags, ...frags.filter((_, i) => (i * 7 + seed) % 3 === 0)];
      let s = seed >>> 0;
      for (let i = order.length - 1; i > 0; i--) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        const j = s % (i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const r = new Reassembler();
      const done = order.map((f) => r.push('peer', f, 0)).filter((x) => x.kind === 'complete');
      assert.equal(done.length, 1);
      assert.deepEqual(done[0]!.kind === 'complete' && done[0]!.bytes, bytes);
      const d = r.dropCounts();
      assert.equal(d.duplicate, order.length - count);
      assert.equal(r.inFlight, 0);
      assert.equal(r.reassembled, 1);
    }), { numRuns: 300 });
  });

  it('a missing fragment times out after 3 s and is counted; nothing is delivered', () => {
    const r = new Reassembler();
    const frags = split(new Uint8Array(3000).fill(7), 3);
    assert.equal(r.push('p', frags[0]!, 1000).kind, 'pending');
    assert.equal(r.push('p', frags[2]!, 1500).kind, 'pending');
    assert.equal(r.expire(3999), 0);
    assert.equal(r.inFlight, 1);
    assert.equal(r.expire(4000), 1);
    assert.equal(r.inFlight, 0);
    assert.equal(r.dropCounts().timeout, 1);
    // The late fragment of the expired message is a duplicate, not the start of a new buffer.
    assert.deepEqual(r.push('p', frags[1]!, 4100), { kind: 'dropped', reason: 'duplicate' });
    assert.equal(r.inFlight, 0);
    // Once that memory has expired too, the id may be reused.
    assert.equal(r.push('p', frags[1]!, 9000).kind, 'pending');
  });

  it('the same msgId from different senders are different messages', () => {
    const r = new Reassembler();
    const a = split(Uint8Array.from([1, 2, 3, 4]), 2);
    const b = split(Uint8Array.from([5, 6, 7, 8]), 2);
    r.push('a', a[0]!, 0);
    r.push('b', b[0]!, 0);
    assert.deepEqual(r.push('a', a[1]!, 0), { kind: 'complete', bytes: Uint8Array.from([1, 2, 3, 4]) });
    assert.deepEqual(r.push('b', b[1]!, 0), { kind: 'complete', bytes: Uint8Array.from([5, 6, 7, 8]) });
  });

  it('overlapping fragments with other bytes, or a changed count, drop the whole message', () => {
    const r = new Reassembler();
    const f = split(Uint8Array.from([1, 2, 3, 4, 5, 6]), 3);
    r.push('p', f[0]!, 0);
    assert.deepEqual(r.push('p', { ...f[0]!, chunk: Uint8Array.from([9, 9]) }, 0), { kind: 'dropped', reason: 'conflict' });
    assert.equal(r.inFlight, 0);
    const g = split(Uint8Array.from([1, 2, 3, 4, 5, 6]), 3, 2);
    r.push('p', g[0]!, 0);
    assert.deepEqual(r.push('p', { ...g[1]!, count: 4 }, 0), { kind: 'dropped', reason: 'conflict' });
    assert.equal(r.dropCounts().conflict, 2);
  });

  it('refuses more than 64 fragments and messages over 64 KiB', () => {
    const r = new Reassembler();
    assert.deepEqual(r.push('p', { msgId: 1, index: 0, count: 65, chunk: new Uint8Array(10) }, 0), { kind: 'dropped', reason: 'too-many-fragments' });
    const big = split(new Uint8Array(64 * 1024 + 64), 64, 2);
    const results = big.map((f) => r.push('p', f, 0));
    assert.deepEqual(results.at(-1), { kind: 'dropped', reason: 'too-large' });
    assert.equal(r.inFlight, 0);
    // Exactly 64 KiB is fine.
    const ok = split(new Uint8Array(64 * 1024).fill(3), 64, 3).map((f) => r.push('p', f, 0));
    assert.equal(ok.at(-1)!.kind, 'complete');
    assert.deepEqual(r.dropCounts(), { duplicate: 0, conflict: 0, 'too-many-fragments': 1, 'too-large': 1, evicted: 0, 'global-limit': 0, timeout: 0 });
  });

  it('bounds messages in flight: a 65th from one sender evicts its oldest; the 257th overall is refused', () => {
    const r = new Reassembler();
    const first = (msgId: number): Fragment => ({ msgId, index: 0, count: 2, chunk: Uint8Array.from([msgId & 0xff]) });
    for (let i = 0; i < 64; i++) assert.equal(r.push('s0', first(i), 0).kind, 'pending');
    assert.equal(r.push('s0', first(64), 0).kind, 'pending');
    assert.equal(r.inFlight, 64);
    assert.equal(r.dropCounts().evicted, 1);
    // Message 0 was the one evicted: its second fragment no longer completes anything.
    assert.equal(r.push('s0', { ...first(0), index: 1 }, 0).kind, 'dropped');
    assert.equal(r.push('s0', { ...first(64), index: 1 }, 0).kind, 'complete');
    for (let s = 1; s <= 3; s++) for (let i = 0; i < 64; i++) r.push(`s${s}`, first(i), 0);
    assert.equal(r.inFlight, 63 + 3 * 64);
    r.push('s4', first(0), 0);
    assert.equal(r.inFlight, 256);
    assert.deepEqual(r.push('s5', first(0), 0), { kind: 'dropped', reason: 'global-limit' });
    assert.equal(r.inFlight, 256);
    // Time frees them all.
    assert.equal(r.expire(3000), 256);
    assert.equal(r.push('s5', first(0), 3000).kind, 'pending');
  });

  it('limits are configurable', () => {
    const r = new Reassembler({ timeoutMs: 100, maxFragments: 4 });
    assert.equal(r.push('p', { msgId: 1, index: 0, count: 5, chunk: new Uint8Array(1) }, 0).kind, 'dropped');
    r.push('p', { msgId: 2, index: 0, count: 2, chunk: new Uint8Array(1) }, 0);
    assert.equal(r.expire(100), 1);
  });
});
