// The call input buffer: the host writes a call's input here (fast path), or the Extism twin
// copies it here from the kernel. One buffer, reused between calls, grown on demand.

import { input_length, input_load_u64, input_load_u8 } from "@extism/as-pdk/lib/env";
import { Region } from "./region";

const input = new Region();

/** Address of at least `len` writable bytes (contents undefined), or 0 when memory cannot grow. */
export function inputReserve(len: u32): usize {
  return input.ensure(<usize>len, 0);
}

/** Address of the input buffer (0 before the first `inputReserve`). */
export function inputPtr(): usize {
  return input.start;
}

/** Bytes the input buffer can hold. */
export function inputCapacity(): usize {
  return input.capacity;
}

/**
 * Copies the Extism call input (through the kernel, 8 bytes per host call) into the input
 * buffer. Returns its length, or -1 when it does not fit in memory.
 */
export function readExtismInput(): i64 {
  const n = input_length();
  if (n > <u64>u32.MAX_VALUE) return -1;
  const p = inputReserve(<u32>n);
  if (p == 0) return -1;
  const words = n & ~(<u64>7);
  let i: u64 = 0;
  for (; i < words; i += 8) store<u64>(p + <usize>i, input_load_u64(i));
  for (; i < n; i++) store<u8>(p + <usize>i, input_load_u8(i));
  return <i64>n;
}
