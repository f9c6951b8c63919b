// __NAME__: an aggregator plugin (capability `aggregator`), scaffolded by `x0t plugin new`.
// It starts as a weighted mean; change `aggregate` to your rule, then `x0t plugin build __NAME__` and
// `x0t plugin test manifests/plugins/__NAME__.json` (the conformance kit every aggregator must pass).
//
// The request is a view of the input bytes: `req.weights` and `req.updates` are addresses of f32 arrays in this
// module's memory (no copies); read them with load<f32>() and write the result into the output frame.

import {
  AggregateRequest, F32Vector, OutputWriter, STATUS_BAD_INPUT, STATUS_INTERNAL, STATUS_OK, axpyF32, registerAggregator,
} from "__SDK__";
export * from "__SDK__/generated/exports-aggregator";

function aggregate(req: AggregateRequest, out: OutputWriter): i32 {
  if (req.clients == 0) return out.fail(STATUS_BAD_INPUT, "aggregate: no clients");
  let total: f64 = 0;
  for (let i: u32 = 0; i < req.clients; i++) {
    const w = <f64>load<f32>(req.weights + (<usize>i << 2));
    if (!(w >= 0) || !isFinite(w)) return out.fail(STATUS_BAD_INPUT, "aggregate: weights must be finite and >= 0");
    total += w;
  }
  if (!(total > 0)) return out.fail(STATUS_BAD_INPUT, "aggregate: total weight is zero");
  const res = F32Vector.write(out, req.dim);
  if (res === null) return out.fail(STATUS_INTERNAL, "aggregate: output does not fit in memory");
  memory.fill(res.values, 0, <usize>req.dim << 2);
  for (let i: u32 = 0; i < req.clients; i++) {
    const w = <f32>(<f64>load<f32>(req.weights + (<usize>i << 2)) / total);
    axpyF32(res.values, w, req.updates + ((<usize>i * <usize>req.dim) << 2), req.dim);
  }
  return STATUS_OK;
}

registerAggregator(aggregate);
