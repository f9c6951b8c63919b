// bulyan: Bulyan over Krum (El Mhamdi et al., ICML 2018). aggregate(AggregateRequest):
//   1. selection: theta = n - 2f times, apply Krum to the remaining clients (scores recomputed on the
//      shrinking set of r clients, each the sum of squared distances to its k nearest remaining
//      others) and move the winner (lowest score, ties: lowest index) into the selection. k = r - f - 2
//      as in Krum; in the last steps, where r < 2f + 3 would make that fewer than 2, k = min(2, r - 1)
//      (with k = 1 the two ends of the closest pair always tie, and the index would decide).
//   2. per coordinate: the mean of the beta = theta - 2f selected values closest to the median of the
//      theta selected values (median of an even count: the mean of the two middle values; equal
//      distances: the smaller value first).
//
// Config (manifest `config`, permission "config"): `f`, the assumed number of Byzantine clients
// (default: the largest Bulyan allows, floor((n - 3) / 4)). Needs n >= 4f + 3; a smaller round or an
// `f` that is not a non-negative integer is bad input. The client weights are ignored (not checked).
//
// Distances: f32x4 with f64 accumulation (see ../krum/robust.ts); memory beyond the input is O(n^2)
// plus O(theta) scratch per coordinate (no copies of the updates).

import { AggregateRequest, F32Vector, OutputWriter, STATUS_BAD_INPUT, STATUS_INTERNAL, STATUS_OK, registerAggregator } from "../../sdk/as";
import { ACTIVE, IntParam, MAX_CLIENTS, activateAll, bestActive, computeDistances, computeScores, readIntParam } from "../../sdk/as/robust/krum";
export * from "../../sdk/as/generated/exports-aggregator";

let fParam: IntParam | null = null;
let selBuf = new StaticArray<usize>(0);
let valBuf = new StaticArray<f32>(0);

function aggregate(req: AggregateRequest, out: OutputWriter): i32 {
  const n = req.clients;
  const dim = req.dim;
  if (n == 0) return out.fail(STATUS_BAD_INPUT, "bulyan: a round with no clients");
  if (n > MAX_CLIENTS) return out.fail(STATUS_BAD_INPUT, "bulyan: more than " + MAX_CLIENTS.toString() + " clients");
  if (fParam === null) fParam = readIntParam("f");
  const fp = fParam!;
  if (fp.value == -2) return out.fail(STATUS_BAD_INPUT, "bulyan: config f must be a non-negative integer, got '" + fp.raw + "'");
  let f: i32 = fp.value;
  if (f < 0) {
    if (n < 3) return out.fail(STATUS_BAD_INPUT, "bulyan: needs at least 3 clients, got " + n.toString());
    f = <i32>(n - 3) >> 2;
  }
  if (<i64>n < 4 * <i64>f + 3) {
    return out.fail(STATUS_BAD_INPUT, "bulyan: n = " + n.toString() + " clients is too few for f = " + f.toString() + " (needs n >= 4f + 3)");
  }
  const theta = n - 2 * <u32>f;
  const beta = theta - 2 * <u32>f;

  computeDistances(req.updates, n, dim);
  activateAll(n);
  if (<u32>selBuf.length < theta) {
    selBuf = new StaticArray<usize>(<i32>theta);
    valBuf = new StaticArray<f32>(<i32>theta);
  }
  const sel = changetype<usize>(selBuf);
  const rowBytes = <usize>dim << 2;
  for (let t: u32 = 0; t < theta; t++) {
    const r = n - t;
    let k: u32 = r >= <u32>f + 4 ? r - <u32>f - 2 : min<u32>(2, r - 1);
    computeScores(n, k);
    const best = bestActive(n);
    store<u8>(ACTIVE + best, 0);
    store<usize>(sel + (<usize>t << alignof<usize>()), req.updates + <usize>best * rowBytes);
  }

  const res = F32Vector.write(out, dim);
  if (res === null) return out.fail(STATUS_INTERNAL, "bulyan: output does not fit in memory");
  const y = res.values;
  const v = changetype<usize>(valBuf);
  const h = theta >> 1;
  for (let c: u32 = 0; c < dim; c++) {
    const off = <usize>c << 2;
    // Gather and insertion-sort the theta selected values of coordinate c.
    for (let t: u32 = 0; t < theta; t++) {
      const x = load<f32>(load<usize>(sel + (<usize>t << alignof<usize>())) + off);
      let p = t;
      while (p > 0) {
        const prev = load<f32>(v + (<usize>(p - 1) << 2));
        if (!(prev > x)) break;
        store<f32>(v + (<usize>p << 2), prev);
        p--;
      }
      store<f32>(v + (<usize>p << 2), x);
    }
    const med: f64 = (theta & 1) != 0
      ? <f64>load<f32>(v + (<usize>h << 2))
      : (<f64>load<f32>(v + (<usize>(h - 1) << 2)) + <f64>load<f32>(v + (<usize>h << 2))) * 0.5;
    // Grow a window [lo, hi) around the median to the beta values closest to it.
    let lo = h, hi = h;
    let s: f64 = 0;
    for (let q: u32 = 0; q < beta; q++) {
      if (lo > 0 && (hi >= theta || med - <f64>load<f32>(v + (<usize>(lo - 1) << 2)) <= <f64>load<f32>(v + (<usize>hi << 2)) - med)) {
        lo--;
        s += <f64>load<f32>(v + (<usize>lo << 2));
      } else {
        s += <f64>load<f32>(v + (<usize>hi << 2));
        hi++;
      }
    }
    store<f32>(y + off, <f32>(s / <f64>beta));
  }
  return STATUS_OK;
}

registerAggregator(aggregate);
