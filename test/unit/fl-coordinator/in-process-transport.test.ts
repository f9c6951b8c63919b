// The in-process network: delivery between endpoints, asynchronous and copied; seeded loss, duplication and delay
// (reordering), reproducible for a seed; interception; closing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../../host/errors/index.js';
import { InProcessNetwork, type Scheduler } from '../../../host/fl/in-process-transport.js';

/** A manual scheduler: runs callbacks in order of due time (then of scheduling) when drained. */
function manualScheduler(): Scheduler & { drain(): void } {
  const queue: { at: number; seq: number; fn: () => void }[] = [];
  let seq = 0;
  return {
    setTimeout: (fn, ms) => queue.push({ at: ms, seq: seq++, fn }),
    drain: () => {
      queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
      for (const q of queue.splice(0)) q.fn();
    },
  };
}

test('messages arrive asynchronously, as copies, with the sender id; several handlers each get them', async () => {
  const net = new InProcessNetwork();
  const a = net.endpoint('a');
  const b = net.endpoint('b');
  const got: [string, number[]][] = [];
  const other: number[][] = [];
  b.onMessage((from, bytes) => got.push([from, [...bytes]]));
  const off = b.onMessage((_f, bytes) => other.push([...bytes]));
  const msg = Uint8Array.of(1, 2, 3);
  await a.send('b', msg);
  msg[0] = 9; // the network copied it
  assert.equal(got.length, 0, 'never delivered inside send');
  await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(got, [['a', [1, 2, 3]]]);
  assert.deepEqual(other, [[1, 2, 3]]);
  off();
  await a.send('b', Uint8Array.of(4));
  await a.send('nobody', Uint8Array.of(5));
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(other.length, 1);
  assert.deepEqual(net.stats, { sent: 3, delivered: 2, dropped: 0, duplicated: 0, unroutable: 1 });
  assert.throws(() => net.endpoint('a'), UsageError);
  await net.close();
  await assert.rejects(a.send('b', Uint8Array.of(1)), UsageError);
});

test('seeded loss, duplication and delay: reproducible, and they reorder', async () => {
  const run = async (seed: number): Promise<{ order: number[]; stats: object }> => {
    const scheduler = manualScheduler();
    const net = new InProcessNetwork({ seed, dropRate: 0.2, duplicateRate: 0.3, minDelayMs: 0, maxDelayMs: 100, scheduler });
    const a = net.endpoint('a');
    const b = net.endpoint('b');
    const order: number[] = [];
    b.onMessage((_f, bytes) => order.push(bytes[0]!));
    for (let i = 0; i < 200; i++) await a.send('b', Uint8Array.of(i));
    scheduler.drain();
    return { order, stats: { ...net.stats } };
  };
  const one = await run(5);
  assert.deepEqual(await run(5), one);
  assert.notDeepEqual((await run(6)).order, one.order);
  const s = one.stats as { dropped: number; duplicated: number; delivered: number };
  assert.ok(s.dropped > 20 && s.dropped < 60, `dropped ${s.dropped} of 200 at 20 %`);
  assert.ok(s.duplicated > 20, `duplicated ${s.duplicated}`);
  assert.equal(s.delivered, 200 - s.dropped + s.duplicated);
  assert.ok(one.order.some((x, i) => i > 0 && x < one.order[i - 1]!), 'some messages overtook others');
  assert.ok(new Set(one.order).size < one.order.length, 'some messages arrived twice');
});

test('an interceptor can rewrite or swallow messages in flight', async () => {
  const scheduler = manualScheduler();
  const net = new InProcessNetwork({
    scheduler,
    intercept: (from, to, bytes) => (bytes[0] === 0 ? null : from === 'a' && to === 'b' ? Uint8Array.of(bytes[0]! + 100) : bytes),
  });
  const a = net.endpoint('a');
  const b = net.endpoint('b');
  const got: number[] = [];
  b.onMessage((_f, bytes) => got.push(bytes[0]!));
  await a.send('b', Uint8Array.of(0));
  await a.send('b', Uint8Array.of(1));
  scheduler.drain();
  assert.deepEqual(got, [101]);
  assert.equal(net.stats.dropped, 1);
  assert.throws(() => new InProcessNetwork({ dropRate: 1.5 }), UsageError);
  assert.throws(() => new InProcessNetwork({ minDelayMs: 5, maxDelayMs: 1 }), UsageError);
});
