// Per-CPU value buffers: the stride rounds the value size up to 8 bytes, and the sums add every CPU's copy.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { perCpuBuffer, perCpuStride, sumPerCpuU64 } from '../../../host/driver/percpu.js';

describe('per-CPU values', () => {
  it('stride = round_up(size, 8); buffer = stride × CPUs', () => {
    assert.equal(perCpuStride(16), 16);
    assert.equal(perCpuStride(12), 16);
    assert.equal(perCpuStride(40), 40);
    assert.equal(perCpuStride(1), 8);
    assert.equal(perCpuBuffer(16, 3).length, 48);
    assert.equal(perCpuBuffer(12, 4).length, 64);
  });

  it('sums each u64 field over the CPUs, skipping the padding between copies', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: 3 }),
      fc.integer({ min: 0, max: 7 }),
      fc.infiniteStream(fc.bigInt({ min: 0n, max: (1n << 56n) - 1n })),
      (cpus, fields, extra, values) => {
        const valueSize = fields * 8 + extra; // a struct with trailing bytes after the u64s
        const buf = perCpuBuffer(valueSize, cpus);
        const view = new DataView(buf.buffer);
        const want = new Array<bigint>(fields).fill(0n);
        const it = values[Symbol.iterator]();
        for (let c = 0; c < cpus; c++) {
          for (let f = 0; f < fields; f++) {
            const v = it.next().value as bigint;
            view.setBigUint64(c * perCpuStride(valueSize) + f * 8, v, true);
            want[f]! += v;
          }
          // Junk in the trailing bytes of the copy must not leak into the sums.
          for (let b = fields * 8; b < perCpuStride(valueSize); b++) buf[c * perCpuStride(valueSize) + b] = 0xee;
        }
        assert.deepEqual(sumPerCpuU64(buf, valueSize, cpus, fields), want);
      },
    ));
  });

  it('wraps like the kernel u64 counters', () => {
    const buf = perCpuBuffer(8, 2);
    const view = new DataView(buf.buffer);
    view.setBigUint64(0, 0xffffffffffffffffn, true);
    view.setBigUint64(8, 2n, true);
    assert.deepEqual(sumPerCpuU64(buf, 8, 2, 1), [1n]);
  });

  it('refuses a buffer too small for the CPUs or fields beyond the value', () => {
    assert.throws(() => sumPerCpuU64(new Uint8Array(16), 16, 2, 2), RangeError);
    assert.throws(() => sumPerCpuU64(new Uint8Array(32), 16, 2, 3), RangeError);
  });
});
