// Per-CPU map values as the kernel hands them to user space: one copy of the value per *possible* CPU, each copy
// starting on an 8-byte boundary (round_up(value_size, 8)), so a lookup needs a buffer of stride × possible CPUs.
// The driver sums the copies; the program increments its own CPU's copy without atomics.

/** Bytes between two CPUs' copies of a value of `valueSize` bytes. */
export function perCpuStride(valueSize: number): number {
  return Math.ceil(valueSize / 8) * 8;
}

/** A buffer for one per-CPU lookup. */
export function perCpuBuffer(valueSize: number, possibleCpus: number): Uint8Array {
  return new Uint8Array(perCpuStride(valueSize) * possibleCpus);
}

/**
 * Sums the little-endian u64 fields of every CPU's copy: `fields` u64s starting at offset 0 of each copy.
 * Returns one bigint per field (kernel counters are u64; callers convert when they know the range).
 */
export function sumPerCpuU64(buffer: Uint8Array, valueSize: number, possibleCpus: number, fields: number): bigint[] {
  const stride = perCpuStride(valueSize);
  if (fields * 8 > valueSize) throw new RangeError(`${fields} u64 fields do not fit in a ${valueSize}-byte value`);
  if (buffer.length < stride * possibleCpus) throw new RangeError(`per-CPU buffer of ${buffer.length} bytes, need ${stride * possibleCpus}`);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const sums = new Array<bigint>(fields).fill(0n);
  for (let cpu = 0; cpu < possibleCpus; cpu++) {
    for (let f = 0; f < fields; f++) sums[f]! += view.getBigUint64(cpu * stride + f * 8, true);
  }
  // u64 counters wrap in the kernel; keep the sum in u64 too.
  return sums.map((s) => BigInt.asUintN(64, s));
}
