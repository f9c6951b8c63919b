// The Extism side of a call: input through the kernel, result with `output_set`, failures with
// `error_set` and a non-zero return, exactly like any Extism plugin.

import { alloc, error_set, output_set, store_u64, store_u8 } from "@extism/as-pdk/lib/env";
import { inputPtr, readExtismInput } from "./input";
import { output } from "./output";
import { STATUS_BAD_INPUT, STATUS_INTERNAL, STATUS_OK, STATUS_UNSUPPORTED } from "./generated/contract";

/** What the generated glue runs for one function: decode the input at `ptr`, call the implementation. */
export type Dispatch = (ptr: usize, len: u32) => i32;

/** Copies `len` bytes at `ptr` into newly allocated kernel memory and returns its offset. */
export function toKernel(ptr: usize, len: u32): u64 {
  const n = <u64>len;
  const offs = alloc(n);
  const words = n & ~(<u64>7);
  let i: u64 = 0;
  for (; i < words; i += 8) store_u64(offs + i, load<u64>(ptr + <usize>i));
  for (; i < n; i++) store_u8(offs + i, load<u8>(ptr + <usize>i));
  return offs;
}

/** Sets the Extism error to `message` (UTF-8). */
export function extismError(message: string): void {
  const buf = String.UTF8.encode(message);
  error_set(toKernel(changetype<usize>(buf), <u32>buf.byteLength));
}

function statusName(status: i32): string {
  if (status == STATUS_BAD_INPUT) return "badInput";
  if (status == STATUS_INTERNAL) return "internal";
  if (status == STATUS_UNSUPPORTED) return "unsupported";
  return "status " + status.toString();
}

/**
 * Runs `dispatch` as an Extism export: reads the input, calls, and on success sets the output;
 * on failure sets the error to "<status name>: <message>" and returns 1.
 */
export function extismCall(dispatch: Dispatch): i32 {
  const n = readExtismInput();
  if (n < 0) {
    extismError("internal: input does not fit in plugin memory");
    return 1;
  }
  const status = dispatch(inputPtr(), <u32>n);
  if (status == STATUS_OK) {
    output_set(toKernel(output.ptr, output.length), <u64>output.length);
    return 0;
  }
  const msg = String.UTF8.decodeUnsafe(output.ptr, output.length);
  extismError(statusName(status) + ": " + msg);
  return 1;
}
