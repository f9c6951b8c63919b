// The output of one call: the result frame (or bytes) an implementation writes, or, after a
// failure, the UTF-8 error message. The buffer is reused between calls and grows on demand.

import { Region } from "./region";
import { outputLen, outputPtr, setOutput } from "./output-state";

// Where a failure message goes when the output buffer itself cannot grow.
const FALLBACK_BYTES: u32 = 1024;
const FALLBACK: usize = memory.data(<i32>FALLBACK_BYTES, 8);

/**
 * Receives a call's result. Obtain the bytes to write with `reserve(n)` (or a generated frame
 * writer such as `F32Vector.write(out, len)`) and fill them; report a failure with
 * `return out.fail(STATUS_BAD_INPUT, "why")`.
 */
@final
export class OutputWriter {
  private region: Region = new Region();

  /** Address of the output written so far (0 before the first call). */
  get ptr(): usize { return outputPtr(); }
  /** Its length in bytes. */
  get length(): u32 { return outputLen(); }

  /** Empties the output; called by the generated glue before each call. */
  reset(): void {
    setOutput(this.region.start, 0);
  }

  /**
   * Makes the output exactly `n` bytes long and returns their address for the caller to fill
   * (contents are not cleared), or 0 when memory cannot grow that far.
   */
  reserve(n: u32): usize {
    const p = this.region.ensure(<usize>n, 0);
    if (p == 0) return 0;
    setOutput(p, n);
    return p;
  }

  /**
   * Changes the output's length to `n` bytes, keeping the bytes already written (for outputs
   * whose size is only known while writing). Returns the (possibly moved) address, or 0.
   */
  resize(n: u32): usize {
    const keep: usize = outputPtr() == this.region.start ? <usize>outputLen() : 0;
    const p = this.region.ensure(<usize>n, keep);
    if (p == 0) return 0;
    setOutput(p, n);
    return p;
  }

  /** Output = a copy of `n` bytes at `src`. False when memory cannot grow. */
  writeBytes(src: usize, n: u32): bool {
    const p = this.reserve(n);
    if (p == 0) return false;
    memory.copy(p, src, n);
    return true;
  }

  /** Output = `s` encoded as UTF-8. False when memory cannot grow. */
  writeString(s: string): bool {
    const n = <u32>String.UTF8.byteLength(s);
    const p = this.reserve(n);
    if (p == 0) return false;
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, p);
    return true;
  }

  /**
   * Reports a failure: the output becomes `message` (UTF-8) and `status` is returned, so an
   * implementation can `return out.fail(STATUS_BAD_INPUT, "total weight is zero")`.
   */
  fail(status: i32, message: string): i32 {
    if (this.writeString(message)) return status;
    const n = <u32>String.UTF8.byteLength(message);
    if (n <= FALLBACK_BYTES) {
      String.UTF8.encodeUnsafe(changetype<usize>(message), message.length, FALLBACK);
      this.pointAt(FALLBACK, n);
    } else {
      this.pointAt(FALLBACK, 0);
    }
    return status;
  }

  /** Makes the output refer to `n` bytes at `p` without copying (for static buffers only). */
  pointAt(p: usize, n: u32): void {
    setOutput(p, n);
  }
}

/** The one output writer of this module. */
export const output = new OutputWriter();
