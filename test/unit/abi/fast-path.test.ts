// The fast path (docs/PLUGIN-ABI.md) called directly on raw instances: statuses, error messages,
// buffer reuse, memory limits, and the hostile fixtures' behaviour that host tests rely on.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { createPlugin } from '@extism/extism';

import { STATUS, decodeF32Vector, decodeF64Vector, encodeAggregateRequest, encodeF32Vector } from '../../../sdk/abi/generated/contract.js';
import { fedavgRef, maxRelErr, randomF32, rng, sumRef } from './reference.js';
import { callFastPath, instantiateBare, readRepoFile, withMemoryMax } from './support.js';

const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const u32le = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

describe('fast path', () => {
  it('core exports: ABI version, input buffer, empty output before any call', () => {
    const e = instantiateBare(readRepoFile('wasm/selftest.wasm'));
    assert.equal(e.x0t_abi_version(), 1);
    assert.equal(e.x0t_output_len(), 0);
    const p0 = e.x0t_input(0);
    assert.notEqual(p0, 0, 'a zero-length input still gets a pointer');
    assert.equal(e.x0t_input(16), p0, 'the buffer is reused');
    assert.equal(e.x0t_input(-1), 0);
  });

  it('selftest: echo and sum', () => {
    const e = instantiateBare(readRepoFile('wasm/selftest.wasm'));
    const r = callFastPath(e, 'echo', new TextEncoder().encode('fast ✓'));
    assert.equal(r.status, STATUS.ok);
    assert.equal(text(r.output), 'fast ✓');
    const next = rng(7);
    for (const n of [0, 1, 5, 8, 33, 10_000]) {
      const values = randomF32(n, next, 10);
      const s = callFastPath(e, 'sum', encodeF32Vector({ len: n, values }));
      assert.equal(s.status, STATUS.ok);
      assert.ok(maxRelErr(decodeF64Vector(s.output).values, [sumRef(values)]) <= 1e-5);
    }
  });

  it('bad input: status -1 and a UTF-8 message as the output', () => {
    const e = instantiateBare(readRepoFile('wasm/selftest.wasm'));
    const r = callFastPath(e, 'sum', u32le(0x12345678));
    assert.equal(r.status, STATUS.badInput);
    assert.equal(text(r.output), 'F32Vector: frame is 4 bytes, shorter than its 8-byte header');
    const bad = encodeF32Vector({ len: 2, values: new Float32Array(2) });
    bad[0] = 0x41;
    const m = callFastPath(e, 'sum', bad);
    assert.equal(m.status, STATUS.badInput);
    assert.equal(text(m.output), 'F32Vector: bad magic, expected F32V');
  });

  it('a length beyond the x0t_input buffer is refused', () => {
    const e = instantiateBare(readRepoFile('wasm/selftest.wasm'));
    e.x0t_input(8);
    const status = (e['x0t_call_echo'] as (n: number) => number)(1 << 30);
    assert.equal(status, STATUS.badInput);
    assert.match(text(new Uint8Array(e.memory.buffer, e.x0t_output_ptr(), e.x0t_output_len())), /exceeds the x0t_input buffer/);
  });

  it('fedavg: fast path and Extism twin give the same bytes, equal to the reference', async () => {
    const e = instantiateBare(readRepoFile('wasm/fedavg.wasm'));
    const next = rng(11);
    const clients = 13;
    const dim = 9001;
    const weights = Float32Array.from({ length: clients }, () => next() * 50);
    const updates = randomF32(clients * dim, next);
    const frame = encodeAggregateRequest({ clients, dim, weights, updates });
    const fast = callFastPath(e, 'aggregate', frame);
    assert.equal(fast.status, STATUS.ok);
    assert.ok(maxRelErr(decodeF32Vector(fast.output).values, fedavgRef(clients, dim, weights, updates)) <= 1e-5);
    const plugin = await createPlugin({ wasm: [{ data: readRepoFile('wasm/fedavg.wasm') }] }, { useWasi: false });
    try {
      const out = await plugin.call('aggregate', frame.slice());
      assert.deepEqual(out?.bytes(), fast.output);
    } finally {
      await plugin.close();
    }
    const zero = callFastPath(e, 'aggregate', encodeAggregateRequest({ clients: 1, dim: 1, weights: new Float32Array(1), updates: new Float32Array(1) }));
    assert.equal(zero.status, STATUS.badInput);
    assert.equal(text(zero.output), 'aggregate: total weight is zero');
  });

  it('buffers are reused: alternating sizes do not grow memory without bound', () => {
    const e = instantiateBare(readRepoFile('wasm/selftest.wasm'));
    const sizes = [1 << 20, 3 << 20, 2 << 20, 1 << 20, 3 << 20, 4 << 20];
    for (let round = 0; round < 5; round++) {
      for (const n of sizes) {
        const input = new Uint8Array(n).fill(round + 1);
        const r = callFastPath(e, 'echo', input);
        assert.equal(r.status, STATUS.ok);
        assert.equal(r.output.length, n);
        assert.equal(r.output[n - 1], round + 1);
      }
    }
    // Input and output of the largest call (2 x 4 MiB) plus what moving buffers leave behind.
    assert.ok(e.memory.buffer.byteLength <= 32 << 20, `memory grew to ${e.memory.buffer.byteLength} bytes`);
  });

  it('at the memory maximum x0t_input returns 0 and the plugin keeps working', () => {
    const e = instantiateBare(withMemoryMax(readRepoFile('wasm/selftest.wasm'), 64));
    assert.equal(e.x0t_input(8 << 20), 0, '8 MiB cannot fit in 4 MiB');
    const r = callFastPath(e, 'echo', new Uint8Array([1, 2, 3]));
    assert.equal(r.status, STATUS.ok);
    assert.deepEqual(Array.from(r.output), [1, 2, 3]);
  });

  it('an output that cannot be allocated is status -2 with a message (bigout)', () => {
    const e = instantiateBare(withMemoryMax(readRepoFile('test/fixtures/wasm/bigout.wasm'), 64));
    const big = callFastPath(e, 'echo', u32le(16 << 20));
    assert.equal(big.status, STATUS.internal);
    assert.equal(text(big.output), `bigout: cannot allocate ${16 << 20} bytes`);
    const ok = callFastPath(e, 'echo', u32le(1000));
    assert.equal(ok.status, STATUS.ok);
    assert.equal(ok.output.length, 1000);
    assert.ok(ok.output.every((b) => b === 0x5a));
  });
});

describe('hostile fixtures (fast path)', () => {
  it('hog: echo traps once memory reaches its maximum; memory stays within it', () => {
    const e = instantiateBare(withMemoryMax(readRepoFile('test/fixtures/wasm/hog.wasm'), 64));
    assert.throws(() => callFastPath(e, 'echo', new Uint8Array(4)), WebAssembly.RuntimeError);
    assert.ok(e.memory.buffer.byteLength <= 64 * 65536);
    const s = instantiateBare(withMemoryMax(readRepoFile('test/fixtures/wasm/hog.wasm'), 64));
    assert.equal(callFastPath(s, 'sum', encodeF32Vector({ len: 2, values: new Float32Array([1, 2]) })).status, STATUS.ok);
  });

  it('trap: echo traps with unreachable; sum works', () => {
    const e = instantiateBare(readRepoFile('test/fixtures/wasm/trap.wasm'));
    assert.throws(() => callFastPath(e, 'echo', new Uint8Array(4)), /unreachable/);
    const s = instantiateBare(readRepoFile('test/fixtures/wasm/trap.wasm'));
    assert.equal(decodeF64Vector(callFastPath(s, 'sum', encodeF32Vector({ len: 2, values: new Float32Array([1, 2]) })).output).values[0], 3);
  });

  it('malformed: echo claims success with an output range outside memory; sum returns 7', () => {
    const e = instantiateBare(readRepoFile('test/fixtures/wasm/malformed.wasm'));
    const p = e.x0t_input(4);
    assert.notEqual(p, 0);
    assert.equal((e['x0t_call_echo'] as (n: number) => number)(4), 0);
    assert.ok((e.x0t_output_ptr() >>> 0) > e.memory.buffer.byteLength, 'pointer beyond memory');
    assert.equal((e['x0t_call_sum'] as (n: number) => number)(4), 7);
  });

  it('badsum: sum is off by one; selftest-alt: sum is right', () => {
    const frame = encodeF32Vector({ len: 3, values: new Float32Array([1, 2, 3.5]) });
    const bad = instantiateBare(readRepoFile('test/fixtures/wasm/badsum.wasm'));
    assert.equal(decodeF64Vector(callFastPath(bad, 'sum', frame).output).values[0], 7.5);
    const alt = instantiateBare(readRepoFile('test/fixtures/wasm/selftest-alt.wasm'));
    assert.equal(decodeF64Vector(callFastPath(alt, 'sum', frame).output).values[0], 6.5);
    assert.notDeepEqual(readRepoFile('test/fixtures/wasm/selftest-alt.wasm'), readRepoFile('wasm/selftest.wasm'));
  });
});
