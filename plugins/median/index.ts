// median: coordinate-wise median of the clients' update vectors, as an F32Vector. For each coordinate the
// median of the n clients' values; an even n gives the mean of the two middle values. Weights are ignored
// (they must still be well-formed: finite, >= 0, positive sum), so one client with a huge sample count
// cannot take over a coordinate. Updates must be finite.
//
// Columns are handled in blocks: each block is transposed into a small scratch buffer (SIMD 4×4 shuffles)
// and each column is reduced by quickselect (sdk/as/robust/coordinate.ts).

import { AggregateRequest, F32Vector, OutputWriter, STATUS_BAD_INPUT, STATUS_INTERNAL, STATUS_OK, registerAggregator } from "../../sdk/as";
import { allFiniteF32, coordinateMedian, normalisedWeights } from "../../sdk/as/robust/coordinate";
export * from "../../sdk/as/generated/exports-aggregator";

function aggregate(req: AggregateRequest, out: OutputWriter): i32 {
  const n = req.clients;
  const dim = req.dim;
  if (n == 0) return out.fail(STATUS_BAD_INPUT, "median: a round needs at least one client");
  if (normalisedWeights(req.weights, n) === null) return out.fail(STATUS_BAD_INPUT, "median: weights must be finite and >= 0 with a positive sum");
  if (!allFiniteF32(req.updates, <usize>n * <usize>dim)) return out.fail(STATUS_BAD_INPUT, "median: updates must be finite");
  const res = F32Vector.write(out, dim);
  if (res === null) return out.fail(STATUS_INTERNAL, "median: output does not fit in memory");
  coordinateMedian(req.updates, n, dim, res.values);
  return STATUS_OK;
}

registerAggregator(aggregate);
