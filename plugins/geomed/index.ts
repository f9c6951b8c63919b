// geomed: geometric median of the clients' update vectors by RFA's smoothed Weiszfeld iteration (Pillutla,
// Kakade & Harchaoui, "Robust Aggregation for Federated Learning", 2022), with client weights α_i = w_i / Σw:
//
//   z_0 = Σ α_i x_i
//   z   ← Σ β_i x_i / Σ β_i,   β_i = α_i / max(ν, ‖z − x_i‖)      (`iters` times)
//
// Config: `iters` (integer 0..1000, default 8), `eps` = ν (finite > 0, default 1e-6). Distances are
// accumulated in f64; the weighted sums use the f32 SIMD kernels, blocked over columns like fedavg.
// Each iteration is two passes over the updates (distances, then the new point).

import { AggregateRequest, Config, F32Vector, OutputWriter, STATUS_BAD_INPUT, STATUS_INTERNAL, STATUS_OK, registerAggregator } from "../../sdk/as";
import { allFiniteF32, combineRows, distSqF32, normalisedWeights, parseCount, parseNumber } from "../../sdk/as/robust/coordinate";
export * from "../../sdk/as/generated/exports-aggregator";

const DEFAULT_ITERS: i32 = 8;
const DEFAULT_EPS: f64 = 1e-6;

let z: StaticArray<f32> = new StaticArray<f32>(0);

function aggregate(req: AggregateRequest, out: OutputWriter): i32 {
  const rawIters = Config.get("iters");
  const iters = rawIters === null ? DEFAULT_ITERS : parseCount(rawIters, 0, 1000);
  if (iters < 0) return out.fail(STATUS_BAD_INPUT, "geomed: config iters must be an integer in [0, 1000], got \"" + rawIters! + "\"");
  const rawEps = Config.get("eps");
  const eps = rawEps === null ? DEFAULT_EPS : parseNumber(rawEps);
  if (!(eps > 0)) return out.fail(STATUS_BAD_INPUT, "geomed: config eps must be a finite number > 0, got \"" + rawEps! + "\"");

  const n = req.clients;
  const dim = req.dim;
  if (n == 0) return out.fail(STATUS_BAD_INPUT, "geomed: a round needs at least one client");
  const alpha = normalisedWeights(req.weights, n);
  if (alpha === null) return out.fail(STATUS_BAD_INPUT, "geomed: weights must be finite and >= 0 with a positive sum");
  if (!allFiniteF32(req.updates, <usize>n * <usize>dim)) return out.fail(STATUS_BAD_INPUT, "geomed: updates must be finite");
  const res = F32Vector.write(out, dim);
  if (res === null) return out.fail(STATUS_INTERNAL, "geomed: output does not fit in memory");
  const y = res.values;
  const x = req.updates;
  const rowBytes = <usize>dim << 2;

  combineRows(x, n, dim, alpha, 0, 0, y); // z_0: the weighted mean
  if (iters == 0) return STATUS_OK;
  if (<u32>z.length < dim) z = new StaticArray<f32>(<i32>dim);
  const zp = changetype<usize>(z);
  const beta = new StaticArray<f64>(<i32>n);
  for (let t: i32 = 0; t < iters; t++) {
    memory.copy(zp, y, rowBytes);
    let total: f64 = 0;
    for (let i: u32 = 0; i < n; i++) {
      const d = Math.sqrt(distSqF32(zp, x + <usize>i * rowBytes, dim));
      const b = unchecked(alpha[i]) / max(eps, d);
      unchecked(beta[i] = b);
      total += b;
    }
    for (let i: u32 = 0; i < n; i++) unchecked(beta[i] = beta[i] / total);
    combineRows(x, n, dim, beta, 0, 0, y);
  }
  return STATUS_OK;
}

registerAggregator(aggregate);
