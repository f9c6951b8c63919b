// Long runs that broke the reference host: @extism/extism 1.0.3 fails every call from the 16,384th on without a
// reset, and grows external memory by the payload size per call. Ours must do neither, on both the x0t fast path
// and the stock Extism kernel path.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadPlugin } from '../../../host/runtime/instantiate.js';
import type { InThreadInstance } from '../../../host/runtime/in-thread-instance.js';
import { collectGarbage, fixtureSpec, productSpec } from '../../support/fixtures.js';

const MiB = 1024 * 1024;

describe('1,000,000 calls in a row with input and output', () => {
  test('in-thread fast path (selftest echo)', async () => {
    const inst = (await loadPlugin(await productSpec('selftest', { isolation: 'in-thread', limits: { callTimeoutMs: 25 } }))) as InThreadInstance;
    try {
      const input = new Uint8Array(16);
      const view = new DataView(input.buffer);
      for (let i = 0; i < 1_000_000; i++) {
        view.setUint32(0, i, true);
        const out = inst.callSync('echo', input);
        if (out.length !== 16 || new DataView(out.buffer).getUint32(0, true) !== i) assert.fail(`call ${i} returned wrong bytes`);
      }
      assert.equal(inst.stats().calls, 1_000_000);
      assert.equal(inst.stats().errors, 0);
    } finally {
      await inst.close();
    }
  });

  test('in-thread Extism kernel path (a plain @extism/as-pdk plugin)', async () => {
    const inst = (await loadPlugin(await fixtureSpec('pdk-plain', { isolation: 'in-thread', limits: { callTimeoutMs: 25 } }))) as InThreadInstance;
    try {
      const input = new Uint8Array(16);
      const view = new DataView(input.buffer);
      for (let i = 0; i < 1_000_000; i++) {
        view.setUint32(0, i, true);
        const out = inst.callSync('echo', input);
        if (out.length !== 16 || new DataView(out.buffer).getUint32(0, true) !== i) assert.fail(`call ${i} returned wrong bytes`);
      }
      assert.equal(inst.stats().errors, 0);
    } finally {
      await inst.close();
    }
  });

  test('worker isolation (selftest echo)', async () => {
    const inst = await loadPlugin(await productSpec('selftest'));
    try {
      const input = new Uint8Array(16);
      const view = new DataView(input.buffer);
      for (let i = 0; i < 1_000_000; i++) {
        view.setUint32(0, i, true);
        const out = await inst.call('echo', input);
        if (out.length !== 16 || new DataView(out.buffer).getUint32(0, true) !== i) assert.fail(`call ${i} returned wrong bytes`);
      }
      assert.equal(inst.stats().errors, 0);
    } finally {
      await inst.close();
    }
  });
});

describe('10,000 calls of a 1 MiB payload', () => {
  // The Extism kernel path moves input 8 bytes per host call: 1 MiB takes longer than the 25 ms an in-thread
  // plugin may run, so the stock-PDK plugin runs this in a worker only.
  const cases = [['in-thread', 'selftest'], ['worker', 'selftest'], ['worker', 'pdk-plain']] as const;
  for (const [isolation, plugin] of cases) {
    {
      test(`${isolation}, ${plugin}: no memory growth after GC`, async () => {
        const changes = { isolation, limits: { callTimeoutMs: isolation === 'in-thread' ? 25 : 5000, maxMemoryPages: 256, maxInputBytes: 2 * MiB, maxOutputBytes: 2 * MiB } };
        const spec = plugin === 'selftest' ? await productSpec(plugin, changes) : await fixtureSpec(plugin, changes);
        const inst = await loadPlugin(spec);
        try {
          const payload = new Uint8Array(MiB).map((_, i) => i * 7);
          for (let i = 0; i < 100; i++) await inst.call('echo', payload); // warm-up: arenas reach their size
          await collectGarbage();
          const before = process.memoryUsage();
          for (let i = 0; i < 10_000; i++) {
            const out = await inst.call('echo', payload);
            if (out.length !== MiB || out[MiB - 1] !== payload[MiB - 1]) assert.fail(`call ${i} returned wrong bytes`);
          }
          await collectGarbage();
          const after = process.memoryUsage();
          // Buffers are the exact signal (a leaked copy per call would be 10 GiB here). RSS also moves with the
          // worker's own heap, which this process cannot force to collect: ±15 MiB was seen without any leak.
          const buffers = (after.arrayBuffers + after.external - before.arrayBuffers - before.external) / MiB;
          const grew = (after.rss - before.rss) / MiB;
          assert.ok(buffers < 8, `buffer memory grew ${buffers.toFixed(1)} MiB over 10,000 × 1 MiB calls`);
          assert.ok(grew < 64, `RSS grew ${grew.toFixed(1)} MiB over 10,000 × 1 MiB calls`);
        } finally {
          await inst.close();
        }
      });
    }
  }
});
