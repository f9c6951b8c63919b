// Staged input (host/runtime/staged-input.ts): the caller writes a call's input straight into plugin memory and the
// call runs on it in place, in both isolations. Covers equality with the ordinary path, single use, limits, traps and
// timeouts during a staged call, and a hot swap or worker restart while a lease is open (the call then copies the
// staged bytes into the current version instead of losing them).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Isolation } from '../../../host/core/plugin-spec.js';
import {
  FunctionNotFoundError, InputLimitError, PluginClosedError, PluginMemoryLimitError, PluginReportedError, PluginTimeoutError, PluginTrapError,
  UnsupportedError, UsageError,
} from '../../../host/errors/index.js';
import { compilePlugin } from '../../../host/runtime/compiled-plugin.js';
import { loadPlugin } from '../../../host/runtime/instantiate.js';
import { PluginEngine } from '../../../host/runtime/plugin-engine.js';
import { DEFAULT_SLOT_OPTIONS, Slot } from '../../../host/runtime/slot.js';
import { hostBufferRegion, StagedInput } from '../../../host/runtime/staged-input.js';
import {
  decodeF32Vector, decodeF64Vector, encodeAggregateRequest, encodeF32Vector,
} from '../../../sdk/abi/generated/contract.js';
import { fixtureSpec, productSpec } from '../../support/fixtures.js';

const NO_SELFTEST = { ...DEFAULT_SLOT_OPTIONS, selfTest: false };

/** A reproducible round of `clients` × `dim` f32 updates (xorshift32), as an AggregateRequest frame. */
function roundFrame(clients: number, dim: number, seed: number): Uint8Array {
  const updates = new Float32Array(clients * dim);
  let x = seed >>> 0;
  for (let i = 0; i < updates.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    updates[i] = x / 2147483648 - 1;
  }
  const weights = Float32Array.from({ length: clients }, (_, c) => 1 + (c % 5));
  return encodeAggregateRequest({ clients, dim, weights, updates });
}

const sumFrame = (values: number[]): Uint8Array => encodeF32Vector({ len: values.length, values: Float32Array.from(values) });
const sumOf = (out: Uint8Array): number => decodeF64Vector(out).values[0]!;

for (const isolation of ['worker', 'in-thread'] as const satisfies readonly Isolation[]) {
  describe(`staged input (${isolation})`, () => {
    // In-thread plugins may be granted at most 25 ms per call.
    const timeoutMs = isolation === 'in-thread' ? 25 : 5000;

    test('fedavg on staged input equals the ordinary call, bit for bit; ordinary calls in between do not disturb it', async () => {
      const spec = await productSpec('fedavg', { isolation, limits: { callTimeoutMs: timeoutMs } });
      const slot = await Slot.open('fedavg', 'aggregator', spec);
      try {
        const frame = roundFrame(12, 5000, 7);
        const other = roundFrame(3, 5000, 99);
        const want = await slot.call('aggregate', frame);
        const lease = await slot.stage(frame.length);
        try {
          assert.equal(lease.byteLength, frame.length);
          // Write in pieces, as a coordinator would when updates arrive one by one.
          const half = frame.length >> 1;
          lease.bytes.set(frame.subarray(0, half), 0);
          const between = await slot.call('aggregate', other); // an ordinary call while the lease is open
          lease.bytes.set(frame.subarray(half), half);
          const got = await lease.call('aggregate');
          assert.equal(lease.path, 'in-place');
          assert.deepEqual(got, want);
          assert.deepEqual(between, await slot.call('aggregate', other));
          assert.equal(decodeF32Vector(got).values.length, 5000);
        } finally {
          await lease.release();
        }
        // Single use: no second call, and the window is gone.
        await assert.rejects(lease.call('aggregate'), UsageError);
        assert.throws(() => lease.bytes, PluginClosedError);
        // The next lease (reusing the released instance) gives the next round's answer, not the last one's.
        const frame2 = roundFrame(12, 5000, 8);
        const lease2 = await slot.stage(frame2.length);
        try {
          lease2.bytes.set(frame2);
          const into = new Uint8Array(5000 * 4 + 64);
          const got2 = await lease2.call('aggregate', into);
          assert.equal(got2.buffer, into.buffer);
          assert.deepEqual(got2, await slot.call('aggregate', frame2));
        } finally {
          await lease2.release();
        }
        const info = slot.info();
        assert.equal(info.errors, 0);
      } finally {
        await slot.close();
      }
    });

    test('a plugin-reported failure on staged input is the ordinary PluginReportedError, message included', async () => {
      const spec = await productSpec('fedavg', { isolation, limits: { callTimeoutMs: timeoutMs } });
      const slot = await Slot.open('fedavg', 'aggregator', spec);
      try {
        const lease = await slot.stage(64);
        try {
          lease.bytes.fill(0); // no AGR1 magic
          await assert.rejects(lease.call('aggregate'), (e: unknown) => {
            assert.ok(e instanceof PluginReportedError);
            assert.match(e.message, /status -1/);
            assert.ok(e.message.length > 'plugin aggregate failed (status -1): '.length);
            return true;
          });
        } finally {
          await lease.release();
        }
        assert.equal(slot.info().lastError?.code, 'X0T_PLUGIN_ERROR');
        const frame = roundFrame(2, 10, 3);
        assert.deepEqual(await slot.call('aggregate', frame), await (async () => {
          const again = await slot.stage(frame.length);
          try {
            again.bytes.set(frame);
            return await again.call('aggregate');
          } finally {
            await again.release();
          }
        })());
      } finally {
        await slot.close();
      }
    });

    test('limits hold for the staged size: input limit, memory limit', async () => {
      const spec = await productSpec('selftest', { isolation, limits: { callTimeoutMs: timeoutMs, maxInputBytes: 8 << 20, maxMemoryPages: 64 } });
      const slot = await Slot.open('selftest', 'selftest', spec);
      try {
        await assert.rejects(slot.stage((8 << 20) + 1), InputLimitError);
        await assert.rejects(slot.stage(-1), InputLimitError);
        // 6 MiB of input fits the input limit but not 64 pages (4 MiB) of plugin memory.
        await assert.rejects(slot.stage(6 << 20), PluginMemoryLimitError);
        const frame = sumFrame([1.5, 2, 3]);
        const lease = await slot.stage(frame.length);
        try {
          lease.bytes.set(frame);
          assert.equal(sumOf(await lease.call('sum')), 6.5);
        } finally {
          await lease.release();
        }
      } finally {
        await slot.close();
      }
    });

    test('a trap during a staged call is an ordinary trap: the slot keeps serving, the next lease works', async () => {
      const spec = await fixtureSpec('trap', { isolation, limits: { callTimeoutMs: timeoutMs } });
      const slot = await Slot.open('trap', 'selftest', spec, NO_SELFTEST);
      try {
        const lease = await slot.stage(16);
        try {
          lease.bytes.fill(1);
          await assert.rejects(lease.call('echo'), PluginTrapError);
        } finally {
          await lease.release();
        }
        assert.equal(slot.info().errors, 1);
        assert.equal(slot.info().lastError?.code, 'X0T_PLUGIN_TRAP');
        const frame = sumFrame([4, 5]);
        assert.equal(sumOf(await slot.call('sum', frame)), 9);
        const again = await slot.stage(frame.length);
        try {
          again.bytes.set(frame);
          assert.equal(sumOf(await again.call('sum')), 9);
          assert.equal(again.path, 'in-place');
        } finally {
          await again.release();
        }
      } finally {
        await slot.close();
      }
    });

    test('a timeout during a staged call stops it like an ordinary call; a lease open meanwhile keeps its bytes', async () => {
      const spec = await fixtureSpec('spin', { isolation, limits: { callTimeoutMs: isolation === 'in-thread' ? 20 : 200 } });
      const slot = await Slot.open('spin', 'selftest', spec, NO_SELFTEST);
      try {
        const frame = sumFrame([1, 2, 3, 4]);
        const survivor = await slot.stage(frame.length);
        try {
          survivor.bytes.set(frame);
          const spinning = await slot.stage(8);
          try {
            const t0 = performance.now();
            await assert.rejects(spinning.call('echo'), PluginTimeoutError);
            assert.ok(performance.now() - t0 < 3000);
          } finally {
            await spinning.release();
          }
          assert.equal(sumOf(await slot.call('sum', frame)), 10); // the slot keeps serving
          // In a worker the timeout replaced the worker, and the survivor's instance with it: its bytes are still
          // readable and go to the new worker by copy. In-thread, its separate instance was untouched.
          assert.equal(sumOf(await survivor.call('sum')), 10);
          assert.equal(survivor.path, isolation === 'worker' ? 'copied' : 'in-place');
        } finally {
          await survivor.release();
        }
        assert.ok(slot.info().restarts >= (isolation === 'worker' ? 1 : 0));
      } finally {
        await slot.close();
      }
    });

    test('hot swap while a lease is open: the call goes to the new version by copy, never into the old instance', async () => {
      const a = await productSpec('selftest', { isolation, limits: { callTimeoutMs: timeoutMs } });
      const b = await fixtureSpec('selftest-alt', { isolation, limits: { callTimeoutMs: timeoutMs } });
      const slot = await Slot.open('selftest', 'selftest', a, { ...DEFAULT_SLOT_OPTIONS, breaker: { failureThreshold: 5, windowMs: 10_000, observeMs: 50 } });
      try {
        const frame = sumFrame([0.5, 0.25, 8]);
        const lease = await slot.stage(frame.length);
        const old = slot.instance;
        try {
          lease.bytes.set(frame);
          assert.equal((await slot.swap(b)).outcome, 'switched');
          await new Promise((r) => setTimeout(r, 120)); // observation ends: the old version is closed
          assert.equal(old.closed, true);
          const oldCalls = old.stats().calls;
          const newCalls = slot.instance.stats().calls;
          assert.equal(sumOf(await lease.call('sum')), 8.75);
          assert.equal(lease.path, 'copied');
          assert.equal(old.stats().calls, oldCalls);
          assert.equal(slot.instance.stats().calls, newCalls + 1);
          assert.equal(slot.spec.wasm.sha256, b.wasm.sha256);
        } finally {
          await lease.release();
        }
        // A lease staged after the swap runs in place on the new version.
        const fresh = await slot.stage(frame.length);
        try {
          fresh.bytes.set(frame);
          assert.equal(sumOf(await fresh.call('sum')), 8.75);
          assert.equal(fresh.path, 'in-place');
        } finally {
          await fresh.release();
        }
      } finally {
        await slot.close();
      }
    });

    test('leases open at the same time hold their own bytes; an unknown function leaves the lease releasable', async () => {
      const spec = await productSpec('selftest', { isolation, limits: { callTimeoutMs: timeoutMs } });
      const slot = await Slot.open('selftest', 'selftest', spec);
      try {
        const f1 = sumFrame([1, 1, 1]);
        const f2 = sumFrame([10, 20]);
        const l1 = await slot.stage(f1.length);
        const l2 = await slot.stage(f2.length);
        try {
          l1.bytes.set(f1);
          l2.bytes.set(f2);
          assert.equal(sumOf(await l2.call('sum')), 30);
          assert.equal(sumOf(await l1.call('sum')), 3);
          assert.equal(l1.path, 'in-place');
          assert.equal(l2.path, 'in-place');
        } finally {
          await l1.release();
          await l2.release();
        }
        const l3 = await slot.stage(4);
        try {
          await assert.rejects(l3.call('no_such_function'), FunctionNotFoundError);
          assert.equal(l3.open, false);
        } finally {
          await l3.release();
        }
        assert.equal(sumOf(await slot.call('sum', f2)), 30);
      } finally {
        await slot.close();
      }
    });

    test('released leases give their instance back; release is idempotent', async () => {
      const spec = await productSpec('selftest', { isolation, limits: { callTimeoutMs: timeoutMs } });
      const slot = await Slot.open('selftest', 'selftest', spec);
      try {
        const frame = sumFrame([2, 2]);
        for (let i = 0; i < 20; i++) {
          const lease = await slot.stage(frame.length);
          lease.bytes.set(frame);
          if (i % 2 === 0) {
            await lease.release();
            await lease.release();
            await assert.rejects(lease.call('sum'), UsageError);
          } else {
            assert.equal(sumOf(await lease.call('sum')), 4);
            await lease.release();
          }
        }
        assert.equal(slot.info().errors, 0);
      } finally {
        await slot.close();
      }
    });
  });
}

test('a plugin without the x0t fast path: the instance refuses to stage, a host-buffer lease copies on call', async () => {
  const inst = await loadPlugin(await fixtureSpec('pdk-plain'));
  try {
    assert.ok(inst.stage);
    await assert.rejects(inst.stage(16), UnsupportedError);
    // What Slot.stage falls back to for such a plugin.
    const text = new TextEncoder().encode('staged through a host buffer');
    const lease = new StagedInput(hostBufferRegion(text.length, (fn, input, into) => inst.call(fn, input, into)), {
      current: () => !inst.closed,
      observe: (run) => run(),
      call: (fn, input, into) => inst.call(fn, input, into),
    });
    lease.bytes.set(text);
    assert.deepEqual(await lease.call('echo'), text);
    assert.equal(lease.path, 'copied');
    assert.equal(lease.open, false);
  } finally {
    await inst.close();
  }
});

test('the shared-memory variant a worker stages in: same hash check, a SharedArrayBuffer, the same page cap', async () => {
  const spec = await productSpec('selftest', { limits: { maxMemoryPages: 32, maxInputBytes: 4 << 20 } });
  const plain = await compilePlugin(spec);
  const shared = await compilePlugin(spec, undefined, { sharedMemory: true });
  assert.equal(plain.sharedMemory, false);
  assert.equal(shared.sharedMemory, true);
  assert.equal(shared.sha256, plain.sha256);
  const engine = new PluginEngine(shared, () => undefined);
  try {
    const offset = engine.reserveInput(1 << 20);
    const buffer = engine.memoryBuffer();
    assert.ok(buffer instanceof SharedArrayBuffer);
    assert.ok(offset + (1 << 20) <= buffer.byteLength);
    assert.throws(() => engine.reserveInput(3 << 20), PluginMemoryLimitError); // 32 pages = 2 MiB
    assert.ok(!(new PluginEngine(plain, () => undefined).memoryBuffer() instanceof SharedArrayBuffer));
  } finally {
    engine.dispose();
  }
});
