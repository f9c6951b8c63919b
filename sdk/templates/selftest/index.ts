// __NAME__: a selftest plugin (capability `selftest`), scaffolded by `x0t plugin new`.
// `x0t plugin build __NAME__`, then `x0t plugin test manifests/plugins/__NAME__.json`.

import {
  Bytes, F32Vector, F64Vector, OutputWriter, STATUS_INTERNAL, STATUS_OK, registerSelftest, sumF32AsF64,
} from "__SDK__";
export * from "__SDK__/generated/exports-selftest";

function echo(input: Bytes, out: OutputWriter): i32 {
  if (!out.writeBytes(input.ptr, input.len)) return out.fail(STATUS_INTERNAL, "echo: output does not fit in memory");
  return STATUS_OK;
}

function sum(input: F32Vector, out: OutputWriter): i32 {
  const r = F64Vector.write(out, 1);
  if (r === null) return out.fail(STATUS_INTERNAL, "sum: output does not fit in memory");
  store<f64>(r.values, sumF32AsF64(input.values, input.valuesLength));
  return STATUS_OK;
}

registerSelftest(echo, sum);
