// selftest: the tiny capability the host uses to prove a runtime end to end.
//   echo: returns its input unchanged.
//   sum:  the sum of an F32Vector's values, accumulated in f64, as a one-element F64Vector.

import {
  Bytes, F32Vector, F64Vector, OutputWriter, STATUS_INTERNAL, STATUS_OK, registerSelftest, sumF32AsF64,
} from "../../sdk/as";
export * from "../../sdk/as/generated/exports-selftest";

function echo(input: Bytes, out: OutputWriter): i32 {
  if (!out.writeBytes(input.ptr, input.len)) return out.fail(STATUS_INTERNAL, "echo: output does not fit in memory");
  return STATUS_OK;
}

function sum(input: F32Vector, out: OutputWriter): i32 {
  const s = sumF32AsF64(input.values, input.valuesLength);
  const r = F64Vector.write(out, 1);
  if (r === null) return out.fail(STATUS_INTERNAL, "sum: output does not fit in memory");
  store<f64>(r.values, s);
  return STATUS_OK;
}

registerSelftest(echo, sum);
