// fedavg: federated averaging. aggregate(AggregateRequest) = sum_i w_i x_i / sum_i w_i, as an F32Vector.
//
// Weights must be finite and >= 0 with a positive sum; anything else is bad input. Each weight is
// normalised once (a_i = w_i / W, in f64, then rounded to f32) and the rows are accumulated into the
// output by the SDK's addRowsF32 (SIMD, four rows per pass, over column blocks small enough that the
// block of the output being summed stays in the L1 cache while the rows stream through; block sizes
// 512-8192 measured within noise, memory-bound).

import {
  AggregateRequest, F32Vector, OutputWriter, STATUS_BAD_INPUT, STATUS_INTERNAL, STATUS_OK,
  addRowsF32, registerAggregator,
} from "../../sdk/as";
export * from "../../sdk/as/generated/exports-aggregator";

// Normalised weights, reused between calls (grown on demand).
let scaled: StaticArray<f32> = new StaticArray<f32>(0);

function aggregate(req: AggregateRequest, out: OutputWriter): i32 {
  const clients = req.clients;
  const dim = req.dim;
  let total: f64 = 0;
  for (let i: u32 = 0; i < clients; i++) {
    const w = load<f32>(req.weights + (<usize>i << 2));
    if (!(w >= 0) || !isFinite(w)) return out.fail(STATUS_BAD_INPUT, "aggregate: weights must be finite and >= 0");
    total += <f64>w;
  }
  if (!(total > 0) || !isFinite(total)) return out.fail(STATUS_BAD_INPUT, "aggregate: total weight is zero");

  if (<u32>scaled.length < clients) scaled = new StaticArray<f32>(<i32>clients);
  const a = changetype<usize>(scaled);
  for (let i: u32 = 0; i < clients; i++) {
    store<f32>(a + (<usize>i << 2), <f32>(<f64>load<f32>(req.weights + (<usize>i << 2)) / total));
  }

  const res = F32Vector.write(out, dim);
  if (res === null) return out.fail(STATUS_INTERNAL, "aggregate: output does not fit in memory");
  const y = res.values;
  memory.fill(y, 0, <usize>dim << 2);
  addRowsF32(y, req.updates, dim, a, 0, clients);
  return STATUS_OK;
}

registerAggregator(aggregate);
