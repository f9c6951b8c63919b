// cclip: centered clipping (Karimireddy, He & Jaggi, "Learning from History for Byzantine Robust
// Optimization", ICML 2021), with client weights α_i = w_i / Σw:
//
//   v_0 = coordinate-wise median of the updates
//   v   ← v + Σ α_i · clip(x_i − v, τ),   clip(d, τ) = d · min(1, τ / ‖d‖)      (`iters` times)
//
// Config: `tau` = τ (finite > 0, default 10), `iters` (integer 0..1000, default 3).
//
// Why v_0 is the median: the paper centres the clipping on the previous round's aggregate (with momentum),
// which needs state carried between rounds. This plugin is stateless — a slot may restart, hot-swap or run
// it in a fresh instance at any call, and one instance may serve several federations — so it has no
// previous aggregate. The coordinate-wise median is a cheap robust centre computed from the round alone: a
// minority of outliers cannot drag it far, so the clipped iterations start near the honest cluster.
//
// Each step is v_new = (1 − Σ γ_i) v + Σ γ_i x_i with γ_i = α_i · min(1, τ / ‖x_i − v‖): distances in f64,
// the sum with the f32 SIMD kernels, blocked over columns like fedavg.

import { AggregateRequest, Config, F32Vector, OutputWriter, STATUS_BAD_INPUT, STATUS_INTERNAL, STATUS_OK, registerAggregator } from "../../sdk/as";
import { allFiniteF32, combineRows, coordinateMedian, distSqF32, normalisedWeights, parseCount, parseNumber } from "../../sdk/as/robust/coordinate";
export * from "../../sdk/as/generated/exports-aggregator";

const DEFAULT_TAU: f64 = 10;
const DEFAULT_ITERS: i32 = 3;

let v: StaticArray<f32> = new StaticArray<f32>(0);

function aggregate(req: AggregateRequest, out: OutputWriter): i32 {
  const rawTau = Config.get("tau");
  const tau = rawTau === null ? DEFAULT_TAU : parseNumber(rawTau);
  if (!(tau > 0)) return out.fail(STATUS_BAD_INPUT, "cclip: config tau must be a finite number > 0, got \"" + rawTau! + "\"");
  const rawIters = Config.get("iters");
  const iters = rawIters === null ? DEFAULT_ITERS : parseCount(rawIters, 0, 1000);
  if (iters < 0) return out.fail(STATUS_BAD_INPUT, "cclip: config iters must be an integer in [0, 1000], got \"" + rawIters! + "\"");

  const n = req.clients;
  const dim = req.dim;
  if (n == 0) return out.fail(STATUS_BAD_INPUT, "cclip: a round needs at least one client");
  const alpha = normalisedWeights(req.weights, n);
  if (alpha === null) return out.fail(STATUS_BAD_INPUT, "cclip: weights must be finite and >= 0 with a positive sum");
  if (!allFiniteF32(req.updates, <usize>n * <usize>dim)) return out.fail(STATUS_BAD_INPUT, "cclip: updates must be finite");
  const res = F32Vector.write(out, dim);
  if (res === null) return out.fail(STATUS_INTERNAL, "cclip: output does not fit in memory");
  const y = res.values;
  const x = req.updates;
  const rowBytes = <usize>dim << 2;

  coordinateMedian(x, n, dim, y); // v_0
  if (iters == 0) return STATUS_OK;
  if (<u32>v.length < dim) v = new StaticArray<f32>(<i32>dim);
  const vp = changetype<usize>(v);
  const gamma = new StaticArray<f64>(<i32>n);
  for (let t: i32 = 0; t < iters; t++) {
    memory.copy(vp, y, rowBytes);
    let total: f64 = 0;
    for (let i: u32 = 0; i < n; i++) {
      const d = Math.sqrt(distSqF32(x + <usize>i * rowBytes, vp, dim));
      const g = unchecked(alpha[i]) * (d > tau ? tau / d : 1.0);
      unchecked(gamma[i] = g);
      total += g;
    }
    combineRows(x, n, dim, gamma, vp, 1 - total, y);
  }
  return STATUS_OK;
}

registerAggregator(aggregate);
