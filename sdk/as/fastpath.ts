// The fast-path core exports (docs/PLUGIN-ABI.md). The generated `exports-<capability>.ts`
// re-exports them; a plugin's entry file re-exports that, so they become wasm exports.

import "./abort";
import { ABI_VERSION } from "./generated/contract";
import { inputCapacity, inputPtr, inputReserve } from "./input";
import { output } from "./output";

/** `x0t_abi_version() -> i32`: the ABI version this module implements. */
export function x0t_abi_version(): i32 {
  return ABI_VERSION;
}

/** `x0t_input(len) -> ptr`: at least `len` writable bytes for the next call's input; 0 when it cannot allocate. */
export function x0t_input(len: i32): i32 {
  if (len < 0) return 0;
  return <i32>inputReserve(<u32>len);
}

/** `x0t_output_ptr() -> ptr`: the last call's output, or its UTF-8 error message after a failure. */
export function x0t_output_ptr(): i32 {
  return <i32>output.ptr;
}

/** `x0t_output_len() -> i32`: its length in bytes. */
export function x0t_output_len(): i32 {
  return <i32>output.length;
}

/**
 * The input of a fast-path call: `len` bytes at the `x0t_input` buffer. Returns 0 (null pointer)
 * when `len` exceeds what `x0t_input` handed out, which only a broken host does.
 */
export function fastPathInput(len: i32): usize {
  if (len < 0 || <usize>len > inputCapacity()) return 0;
  return inputPtr();
}
