// krum: Krum (Blanchard et al., NeurIPS 2017). aggregate(AggregateRequest) returns, unchanged, the
// update x_i with the lowest score, score(i) = sum of the squared distances from x_i to its n - f - 2
// nearest other updates (ties: the lowest client index).
//
// Config (manifest `config`, permission "config"): `f`, the assumed number of Byzantine clients
// (default: the largest Krum allows for n, floor((n - 3) / 2)). Krum needs n >= 2f + 3; a smaller
// round, or an `f` that is not a non-negative integer, is bad input. The client weights are ignored
// (Krum selects one update; they are not checked either).
//
// Pairwise squared distances (n(n-1)/2 of them over dim floats, the dominant cost) use f32x4 with f64
// accumulation (see robust.ts); memory beyond the input is O(n^2).

import { AggregateRequest, F32Vector, OutputWriter, STATUS_BAD_INPUT, STATUS_INTERNAL, STATUS_OK, registerAggregator } from "../../sdk/as";
import { IntParam, MAX_CLIENTS, activateAll, bestActive, computeDistances, computeScores, readIntParam } from "../../sdk/as/robust/krum";
export * from "../../sdk/as/generated/exports-aggregator";

let fParam: IntParam | null = null;

function aggregate(req: AggregateRequest, out: OutputWriter): i32 {
  const n = req.clients;
  const dim = req.dim;
  if (n == 0) return out.fail(STATUS_BAD_INPUT, "krum: a round with no clients");
  if (n > MAX_CLIENTS) return out.fail(STATUS_BAD_INPUT, "krum: more than " + MAX_CLIENTS.toString() + " clients");
  if (fParam === null) fParam = readIntParam("f");
  const fp = fParam!;
  if (fp.value == -2) return out.fail(STATUS_BAD_INPUT, "krum: config f must be a non-negative integer, got '" + fp.raw + "'");
  let f: i32 = fp.value;
  if (f < 0) {
    if (n < 3) return out.fail(STATUS_BAD_INPUT, "krum: needs at least 3 clients, got " + n.toString());
    f = <i32>(n - 3) >> 1;
  }
  if (<i64>n < 2 * <i64>f + 3) {
    return out.fail(STATUS_BAD_INPUT, "krum: n = " + n.toString() + " clients is too few for f = " + f.toString() + " (needs n >= 2f + 3)");
  }

  computeDistances(req.updates, n, dim);
  activateAll(n);
  computeScores(n, n - <u32>f - 2);
  const best = bestActive(n);

  const res = F32Vector.write(out, dim);
  if (res === null) return out.fail(STATUS_INTERNAL, "krum: output does not fit in memory");
  memory.copy(res.values, req.updates + <usize>best * (<usize>dim << 2), <usize>dim << 2);
  return STATUS_OK;
}

registerAggregator(aggregate);
