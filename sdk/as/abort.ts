// The abort handler, passed to the compiler with `--use abort=sdk/as/abort/x0tAbort` (see
// asconfig.json) so that modules import nothing from `env`. It never allocates on the GC heap (it
// may run because the heap is exhausted): it formats "abort: <message> at <file>:<line>:<column>"
// into a static buffer, makes that the call's output (readable through `x0t_output_ptr/len`) and
// the Extism error, then traps.

import { alloc, error_set, store_u8 } from "@extism/as-pdk/lib/env";
import { setOutput } from "./output-state";

const ABORT_BYTES: usize = 512;
const ABORT_BUF: usize = memory.data(512, 8);

function putByte(at: usize, b: u32): usize {
  if (at >= ABORT_BYTES) return at;
  store<u8>(ABORT_BUF + at, <u8>b);
  return at + 1;
}

function putAscii(at: usize, s: string): usize {
  const p = changetype<usize>(s);
  const n = <usize>s.length;
  for (let i: usize = 0; i < n; i++) {
    const c = <u32>load<u16>(p + (i << 1));
    at = putByte(at, c >= 0x20 && c < 0x7f ? c : 0x3f); // non-ASCII and control characters become '?'
  }
  return at;
}

function putNumber(at: usize, v: u32): usize {
  if (v >= 10) at = putNumber(at, v / 10);
  return putByte(at, 0x30 + v % 10);
}

export function x0tAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let n: usize = 0;
  n = putAscii(n, "abort: ");
  n = putAscii(n, message !== null ? message : "(no message)");
  if (fileName !== null) {
    n = putAscii(n, " at ");
    n = putAscii(n, fileName);
    n = putByte(n, 0x3a);
    n = putNumber(n, line);
    n = putByte(n, 0x3a);
    n = putNumber(n, column);
  }
  setOutput(ABORT_BUF, <u32>n);
  const offs = alloc(<u64>n);
  for (let i: usize = 0; i < n; i++) store_u8(offs + <u64>i, load<u8>(ABORT_BUF + i));
  error_set(offs);
  unreachable();
}
