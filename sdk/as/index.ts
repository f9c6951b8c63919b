// The x0tta6bl4 AssemblyScript SDK for plugin authors. A plugin's index.ts:
//
//   import { registerSelftest, Bytes, F32Vector, F64Vector, OutputWriter, STATUS_OK } from "../../sdk/as";
//   export * from "../../sdk/as/generated/exports-selftest";   // the wasm exports
//   function echo(input: Bytes, out: OutputWriter): i32 { ... }
//   function sum(input: F32Vector, out: OutputWriter): i32 { ... }
//   registerSelftest(echo, sum);
//
// Build with the repository's asconfig.json (`npm run build:plugins`): runtime `incremental`,
// `--enable simd`, `--use abort=sdk/as/abort/x0tAbort`. The module then imports only Extism kernel
// functions from `extism:host/env`.
//
// Why the incremental runtime and not `stub`: the SDK's own hot path allocates nothing (input and
// output live in reused page buffers, views are reused), so the collector costs nothing there; but
// plugin code that builds strings or arrays per call (error messages, config, logs, JSON) would
// leak under `stub`, which never frees, until the memory limit ends the plugin. The stub's bump
// allocator would also hand out the pages the SDK's buffers take with memory.grow.

export { Bytes } from "./bytes";
export { OutputWriter, output } from "./output";
export { Region } from "./region";
export { inputPtr, inputCapacity } from "./input";
export { toKernel, extismError } from "./extism";
export { sumF32, sumF32AsF64, dotF32, axpyF32, axpy4F32, scaleF32, addRowsF32 } from "./simd";
export * from "./generated/index";
// The Extism plugin kit, for host functions the SDK does not wrap (log, config, vars).
export { Host, Config, Var, Memory, LogLevel } from "@extism/as-pdk";
