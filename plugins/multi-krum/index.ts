// multi-krum: Multi-Krum (Blanchard et al., NeurIPS 2017). Scores every update as Krum does,
// score(i) = sum of the squared distances from x_i to its n - f - 2 nearest other updates, selects the
// m lowest-scored (ties: lower client index first) and returns their weighted mean
// sum_sel w_i x_i / sum_sel w_i as an F32Vector.
//
// Config (manifest `config`, permission "config"): `f`, the assumed number of Byzantine clients
// (default floor((n - 3) / 2)); `m`, how many updates to average (default n - f; 1 <= m <= n).
// Needs n >= 2f + 3. The weights of the selected clients must be finite and >= 0 with a positive sum
// (weights of clients not selected are not looked at, so a Byzantine client's weight cannot refuse the
// round); anything else is bad input.
//
// Distances: f32x4 with f64 accumulation (see ../krum/robust.ts). The mean is accumulated like
// fedavg's: normalised f32 weights, four rows per SIMD pass over cache-sized column blocks.

import {
  AggregateRequest, F32Vector, OutputWriter, STATUS_BAD_INPUT, STATUS_INTERNAL, STATUS_OK,
  addRowsF32, registerAggregator,
} from "../../sdk/as";
import { IntParam, MAX_CLIENTS, SCORES, activateAll, computeDistances, computeScores, readIntParam, sortIndices } from "../../sdk/as/robust/krum";
export * from "../../sdk/as/generated/exports-aggregator";

let fParam: IntParam | null = null;
let mParam: IntParam | null = null;
let rankBuf = new StaticArray<u32>(0);
let scaled = new StaticArray<f32>(0);

function aggregate(req: AggregateRequest, out: OutputWriter): i32 {
  const n = req.clients;
  const dim = req.dim;
  if (n == 0) return out.fail(STATUS_BAD_INPUT, "multi-krum: a round with no clients");
  if (n > MAX_CLIENTS) return out.fail(STATUS_BAD_INPUT, "multi-krum: more than " + MAX_CLIENTS.toString() + " clients");
  if (fParam === null) {
    fParam = readIntParam("f");
    mParam = readIntParam("m");
  }
  const fp = fParam!;
  const mp = mParam!;
  if (fp.value == -2) return out.fail(STATUS_BAD_INPUT, "multi-krum: config f must be a non-negative integer, got '" + fp.raw + "'");
  if (mp.value == -2 || mp.value == 0) return out.fail(STATUS_BAD_INPUT, "multi-krum: config m must be a positive integer, got '" + mp.raw + "'");
  let f: i32 = fp.value;
  if (f < 0) {
    if (n < 3) return out.fail(STATUS_BAD_INPUT, "multi-krum: needs at least 3 clients, got " + n.toString());
    f = <i32>(n - 3) >> 1;
  }
  if (<i64>n < 2 * <i64>f + 3) {
    return out.fail(STATUS_BAD_INPUT, "multi-krum: n = " + n.toString() + " clients is too few for f = " + f.toString() + " (needs n >= 2f + 3)");
  }
  let m: i32 = mp.value;
  if (m < 0) m = <i32>n - f;
  if (<u32>m > n) return out.fail(STATUS_BAD_INPUT, "multi-krum: m = " + m.toString() + " is more than the " + n.toString() + " clients");

  computeDistances(req.updates, n, dim);
  activateAll(n);
  computeScores(n, n - <u32>f - 2);
  if (<u32>rankBuf.length < n) {
    rankBuf = new StaticArray<u32>(<i32>n);
    scaled = new StaticArray<f32>(<i32>n);
  }
  const rank = changetype<usize>(rankBuf);
  for (let i: u32 = 0; i < n; i++) store<u32>(rank + (<usize>i << 2), i);
  sortIndices(SCORES, rank, n);

  let total: f64 = 0;
  for (let s: i32 = 0; s < m; s++) {
    const w = load<f32>(req.weights + (<usize>load<u32>(rank + (<usize>s << 2)) << 2));
    if (!(w >= 0) || !isFinite(w)) return out.fail(STATUS_BAD_INPUT, "multi-krum: weights of the selected clients must be finite and >= 0");
    total += <f64>w;
  }
  if (!(total > 0) || !isFinite(total)) return out.fail(STATUS_BAD_INPUT, "multi-krum: total weight of the selected clients is zero");
  const a = changetype<usize>(scaled);
  for (let s: i32 = 0; s < m; s++) {
    const w = load<f32>(req.weights + (<usize>load<u32>(rank + (<usize>s << 2)) << 2));
    store<f32>(a + (<usize>s << 2), <f32>(<f64>w / total));
  }

  const res = F32Vector.write(out, dim);
  if (res === null) return out.fail(STATUS_INTERNAL, "multi-krum: output does not fit in memory");
  const y = res.values;
  memory.fill(y, 0, <usize>dim << 2);
  addRowsF32(y, req.updates, dim, a, rank, <u32>m);
  return STATUS_OK;
}

registerAggregator(aggregate);
