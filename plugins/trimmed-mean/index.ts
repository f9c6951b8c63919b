// trimmed-mean: coordinate-wise trimmed mean, as an F32Vector. Config `beta` (default 0.1) is the fraction
// trimmed from EACH end: with n clients, k = floor(beta·n) smallest and k largest values of each coordinate are
// dropped and the rest averaged plainly (in f64). Weights are ignored (but must be well-formed). Needs
// 0 <= beta < 0.5 and 2k < n; anything else is bad input. Updates must be finite.
//
// Per column block: transpose into scratch, then two quickselects put the k smallest before index k and the
// k largest after index n-k-1, and the middle is summed (sdk/as/robust/coordinate.ts).

import { AggregateRequest, Config, F32Vector, OutputWriter, STATUS_BAD_INPUT, STATUS_INTERNAL, STATUS_OK, registerAggregator } from "../../sdk/as";
import { allFiniteF32, coordinateTrimmedMean, normalisedWeights, parseNumber } from "../../sdk/as/robust/coordinate";
export * from "../../sdk/as/generated/exports-aggregator";

const DEFAULT_BETA: f64 = 0.1;

function aggregate(req: AggregateRequest, out: OutputWriter): i32 {
  const raw = Config.get("beta");
  const beta = raw === null ? DEFAULT_BETA : parseNumber(raw);
  if (!(beta >= 0 && beta < 0.5)) {
    return out.fail(STATUS_BAD_INPUT, "trimmed-mean: config beta must be a number in [0, 0.5) (fraction trimmed from each end), got \"" + raw! + "\"");
  }
  const n = req.clients;
  const dim = req.dim;
  if (n == 0) return out.fail(STATUS_BAD_INPUT, "trimmed-mean: a round needs at least one client");
  const k = <u32>Math.floor(beta * <f64>n);
  if (k * 2 >= n) {
    return out.fail(STATUS_BAD_INPUT, "trimmed-mean: beta " + beta.toString() + " trims " + k.toString() + " of " + n.toString() + " clients from each end, nothing left");
  }
  if (normalisedWeights(req.weights, n) === null) return out.fail(STATUS_BAD_INPUT, "trimmed-mean: weights must be finite and >= 0 with a positive sum");
  if (!allFiniteF32(req.updates, <usize>n * <usize>dim)) return out.fail(STATUS_BAD_INPUT, "trimmed-mean: updates must be finite");
  const res = F32Vector.write(out, dim);
  if (res === null) return out.fail(STATUS_INTERNAL, "trimmed-mean: output does not fit in memory");
  coordinateTrimmedMean(req.updates, n, dim, k, res.values);
  return STATUS_OK;
}

registerAggregator(aggregate);
