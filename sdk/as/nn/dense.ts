// Dense-layer kernels on raw f32 arrays (addresses), f32x4 SIMD. Matrices are row-major, [rows × cols].
// Used by the trainer plugins: forward (matrix·vector for four output rows at once, so the input vector is
// loaded once per four rows), the transposed product (backpropagation), and rank-1 accumulation of gradients.
import { axpyF32, axpy4F32 } from "../simd";

/** Horizontal sum of the four lanes. */
@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/**
 * out[o] = (bias ? bias[o] : 0) + W[o,:]·x for o < rows, W [rows × cols] at `w`. Four rows per pass share each load
 * of x; within a row, f32x4 lanes accumulate and are summed at the end, then the cols % 4 tail.
 */
export function matVec(out: usize, w: usize, bias: usize, x: usize, rows: u32, cols: u32): void {
  const rowBytes = <usize>cols << 2;
  const end4 = (<usize>cols & ~(<usize>3)) << 2;
  const end = <usize>cols << 2;
  let o: u32 = 0;
  for (; o + 4 <= rows; o += 4) {
    const w0 = w + <usize>o * rowBytes;
    const w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let i: usize = 0;
    for (; i < end4; i += 16) {
      const xv = v128.load(x + i);
      s0 = f32x4.add(s0, f32x4.mul(v128.load(w0 + i), xv));
      s1 = f32x4.add(s1, f32x4.mul(v128.load(w1 + i), xv));
      s2 = f32x4.add(s2, f32x4.mul(v128.load(w2 + i), xv));
      s3 = f32x4.add(s3, f32x4.mul(v128.load(w3 + i), xv));
    }
    let t0 = hsum(s0), t1 = hsum(s1), t2 = hsum(s2), t3 = hsum(s3);
    for (; i < end; i += 4) {
      const xs = load<f32>(x + i);
      t0 += load<f32>(w0 + i) * xs;
      t1 += load<f32>(w1 + i) * xs;
      t2 += load<f32>(w2 + i) * xs;
      t3 += load<f32>(w3 + i) * xs;
    }
    const ob = out + (<usize>o << 2);
    if (bias != 0) {
      const bb = bias + (<usize>o << 2);
      t0 += load<f32>(bb); t1 += load<f32>(bb, 4); t2 += load<f32>(bb, 8); t3 += load<f32>(bb, 12);
    }
    store<f32>(ob, t0); store<f32>(ob, t1, 4); store<f32>(ob, t2, 8); store<f32>(ob, t3, 12);
  }
  for (; o < rows; o++) {
    const wr = w + <usize>o * rowBytes;
    let s = f32x4.splat(0);
    let i: usize = 0;
    for (; i < end4; i += 16) s = f32x4.add(s, f32x4.mul(v128.load(wr + i), v128.load(x + i)));
    let t = hsum(s);
    for (; i < end; i += 4) t += load<f32>(wr + i) * load<f32>(x + i);
    if (bias != 0) t += load<f32>(bias + (<usize>o << 2));
    store<f32>(out + (<usize>o << 2), t);
  }
}

/**
 * matVec for two inputs at once: out0 = W·x0 (+ bias), out1 = W·x1 (+ bias). Four rows × two inputs per pass (eight
 * f32x4 accumulators): each loaded chunk of W serves both inputs, halving the traffic of W, the larger operand.
 */
export function matVec2(out0: usize, out1: usize, w: usize, bias: usize, x0: usize, x1: usize, rows: u32, cols: u32): void {
  const rowBytes = <usize>cols << 2;
  const end4 = (<usize>cols & ~(<usize>3)) << 2;
  const end = <usize>cols << 2;
  let o: u32 = 0;
  for (; o + 4 <= rows; o += 4) {
    const w0 = w + <usize>o * rowBytes;
    const w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0), b1 = f32x4.splat(0), b2 = f32x4.splat(0), b3 = f32x4.splat(0);
    let i: usize = 0;
    for (; i < end4; i += 16) {
      const xa = v128.load(x0 + i);
      const xb = v128.load(x1 + i);
      const v0 = v128.load(w0 + i);
      a0 = f32x4.add(a0, f32x4.mul(v0, xa));
      b0 = f32x4.add(b0, f32x4.mul(v0, xb));
      const v1 = v128.load(w1 + i);
      a1 = f32x4.add(a1, f32x4.mul(v1, xa));
      b1 = f32x4.add(b1, f32x4.mul(v1, xb));
      const v2 = v128.load(w2 + i);
      a2 = f32x4.add(a2, f32x4.mul(v2, xa));
      b2 = f32x4.add(b2, f32x4.mul(v2, xb));
      const v3 = v128.load(w3 + i);
      a3 = f32x4.add(a3, f32x4.mul(v3, xa));
      b3 = f32x4.add(b3, f32x4.mul(v3, xb));
    }
    let s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);
    let t0 = hsum(b0), t1 = hsum(b1), t2 = hsum(b2), t3 = hsum(b3);
    for (; i < end; i += 4) {
      const xa = load<f32>(x0 + i), xb = load<f32>(x1 + i);
      const u0 = load<f32>(w0 + i), u1 = load<f32>(w1 + i), u2 = load<f32>(w2 + i), u3 = load<f32>(w3 + i);
      s0 += u0 * xa; s1 += u1 * xa; s2 += u2 * xa; s3 += u3 * xa;
      t0 += u0 * xb; t1 += u1 * xb; t2 += u2 * xb; t3 += u3 * xb;
    }
    if (bias != 0) {
      const bb = bias + (<usize>o << 2);
      const c0 = load<f32>(bb), c1 = load<f32>(bb, 4), c2 = load<f32>(bb, 8), c3 = load<f32>(bb, 12);
      s0 += c0; s1 += c1; s2 += c2; s3 += c3;
      t0 += c0; t1 += c1; t2 += c2; t3 += c3;
    }
    const p = out0 + (<usize>o << 2), q = out1 + (<usize>o << 2);
    store<f32>(p, s0); store<f32>(p, s1, 4); store<f32>(p, s2, 8); store<f32>(p, s3, 12);
    store<f32>(q, t0); store<f32>(q, t1, 4); store<f32>(q, t2, 8); store<f32>(q, t3, 12);
  }
  if (o < rows) {
    // the last rows % 4 rows, one input at a time
    const off = <usize>o * rowBytes;
    const ob = <usize>o << 2;
    matVec(out0 + ob, w + off, bias == 0 ? 0 : bias + ob, x0, rows - o, cols);
    matVec(out1 + ob, w + off, bias == 0 ? 0 : bias + ob, x1, rows - o, cols);
  }
}

/** y[0..cols) += Σ_o c[o]·W[o,:] for o < rows (y += Wᵀc), W [rows × cols]; four rows per pass over y, zero coefficients skipped. */
export function matTVecAdd(y: usize, w: usize, c: usize, rows: u32, cols: u32): void {
  const rowBytes = <usize>cols << 2;
  let o: u32 = 0;
  for (; o + 4 <= rows; o += 4) {
    const cb = c + (<usize>o << 2);
    const c0 = load<f32>(cb), c1 = load<f32>(cb, 4), c2 = load<f32>(cb, 8), c3 = load<f32>(cb, 12);
    if (c0 == 0 && c1 == 0 && c2 == 0 && c3 == 0) continue;
    const w0 = w + <usize>o * rowBytes;
    axpy4F32(y, cols, c0, w0, c1, w0 + rowBytes, c2, w0 + 2 * rowBytes, c3, w0 + 3 * rowBytes);
  }
  for (; o < rows; o++) {
    const co = load<f32>(c + (<usize>o << 2));
    if (co != 0) axpyF32(y, co, w + <usize>o * rowBytes, cols);
  }
}

/**
 * G[o,:] += Σ_b D[b,o]·X_b for o < outDim, and gb[o] += Σ_b D[b,o] when gb ≠ 0: the weight (and bias) gradient of a
 * dense layer over a batch. D [batch × outDim] at `d`; X_b is the row at address rowPtrs[b] (a u32 array), inDim f32
 * each. Two gradient rows × four samples per pass; groups whose coefficients are all zero (dead ReLUs) are skipped.
 */
export function outerAdd(g: usize, gb: usize, d: usize, outDim: u32, rowPtrs: usize, batch: u32, inDim: u32): void {
  const rowBytes = <usize>inDim << 2;
  const dStride = <usize>outDim << 2;
  let o: u32 = 0;
  // Two gradient rows × four samples per pass: each loaded chunk of the four inputs serves both rows.
  const end4 = (<usize>inDim & ~(<usize>3)) << 2;
  const end = <usize>inDim << 2;
  for (; o + 2 <= outDim; o += 2) {
    const g0 = g + <usize>o * rowBytes;
    const g1 = g0 + rowBytes;
    const dc = d + (<usize>o << 2);
    let bs0: f32 = 0, bs1: f32 = 0;
    let b: u32 = 0;
    for (; b + 4 <= batch; b += 4) {
      const r0 = dc + <usize>b * dStride, r1 = r0 + dStride, r2 = r1 + dStride, r3 = r2 + dStride;
      const p0 = load<f32>(r0), p1 = load<f32>(r1), p2 = load<f32>(r2), p3 = load<f32>(r3);
      const q0 = load<f32>(r0, 4), q1 = load<f32>(r1, 4), q2 = load<f32>(r2, 4), q3 = load<f32>(r3, 4);
      bs0 += (p0 + p1) + (p2 + p3);
      bs1 += (q0 + q1) + (q2 + q3);
      if (p0 == 0 && p1 == 0 && p2 == 0 && p3 == 0 && q0 == 0 && q1 == 0 && q2 == 0 && q3 == 0) continue;
      const rp = rowPtrs + (<usize>b << 2);
      const x0 = <usize>load<u32>(rp), x1 = <usize>load<u32>(rp, 4), x2 = <usize>load<u32>(rp, 8), x3 = <usize>load<u32>(rp, 12);
      const vp0 = f32x4.splat(p0), vp1 = f32x4.splat(p1), vp2 = f32x4.splat(p2), vp3 = f32x4.splat(p3);
      const vq0 = f32x4.splat(q0), vq1 = f32x4.splat(q1), vq2 = f32x4.splat(q2), vq3 = f32x4.splat(q3);
      let i: usize = 0;
      for (; i < end4; i += 16) {
        const a0 = v128.load(x0 + i), a1 = v128.load(x1 + i), a2 = v128.load(x2 + i), a3 = v128.load(x3 + i);
        v128.store(g0 + i, f32x4.add(v128.load(g0 + i), f32x4.add(
          f32x4.add(f32x4.mul(vp0, a0), f32x4.mul(vp1, a1)), f32x4.add(f32x4.mul(vp2, a2), f32x4.mul(vp3, a3)))));
        v128.store(g1 + i, f32x4.add(v128.load(g1 + i), f32x4.add(
          f32x4.add(f32x4.mul(vq0, a0), f32x4.mul(vq1, a1)), f32x4.add(f32x4.mul(vq2, a2), f32x4.mul(vq3, a3)))));
      }
      for (; i < end; i += 4) {
        const a0 = load<f32>(x0 + i), a1 = load<f32>(x1 + i), a2 = load<f32>(x2 + i), a3 = load<f32>(x3 + i);
        store<f32>(g0 + i, load<f32>(g0 + i) + ((p0 * a0 + p1 * a1) + (p2 * a2 + p3 * a3)));
        store<f32>(g1 + i, load<f32>(g1 + i) + ((q0 * a0 + q1 * a1) + (q2 * a2 + q3 * a3)));
      }
    }
    for (; b < batch; b++) {
      const r = dc + <usize>b * dStride;
      const p = load<f32>(r), q = load<f32>(r, 4);
      bs0 += p;
      bs1 += q;
      const xb = <usize>load<u32>(rowPtrs + (<usize>b << 2));
      if (p != 0) axpyF32(g0, p, xb, inDim);
      if (q != 0) axpyF32(g1, q, xb, inDim);
    }
    if (gb != 0) {
      const gbo = gb + (<usize>o << 2);
      store<f32>(gbo, load<f32>(gbo) + bs0);
      store<f32>(gbo, load<f32>(gbo, 4) + bs1, 4);
    }
  }
  for (; o < outDim; o++) {
    const gr = g + <usize>o * rowBytes;
    const dc = d + (<usize>o << 2);
    let bsum: f32 = 0;
    let b: u32 = 0;
    for (; b + 4 <= batch; b += 4) {
      const c0 = load<f32>(dc + <usize>b * dStride);
      const c1 = load<f32>(dc + <usize>(b + 1) * dStride);
      const c2 = load<f32>(dc + <usize>(b + 2) * dStride);
      const c3 = load<f32>(dc + <usize>(b + 3) * dStride);
      bsum += (c0 + c1) + (c2 + c3);
      if (c0 == 0 && c1 == 0 && c2 == 0 && c3 == 0) continue;
      const rp = rowPtrs + (<usize>b << 2);
      axpy4F32(gr, inDim, c0, <usize>load<u32>(rp), c1, <usize>load<u32>(rp, 4), c2, <usize>load<u32>(rp, 8), c3, <usize>load<u32>(rp, 12));
    }
    for (; b < batch; b++) {
      const cb = load<f32>(dc + <usize>b * dStride);
      bsum += cb;
      if (cb != 0) axpyF32(gr, cb, <usize>load<u32>(rowPtrs + (<usize>b << 2)), inDim);
    }
    if (gb != 0) store<f32>(gb + (<usize>o << 2), load<f32>(gb + (<usize>o << 2)) + bsum);
  }
}

/** True when all `n` f32 at `p` are finite (v − v is 0 for finite v, NaN for ±Inf and NaN). */
export function allFinite(p: usize, n: usize): bool {
  const end = n << 2;
  const end4 = (n & ~(<usize>3)) << 2;
  let acc = f32x4.splat(0);
  let i: usize = 0;
  for (; i < end4; i += 16) {
    const v = v128.load(p + i);
    acc = f32x4.add(acc, f32x4.sub(v, v)); // NaN sticks
  }
  if (!v128.all_true<i32>(f32x4.eq(acc, f32x4.splat(0)))) return false;
  for (; i < end; i += 4) {
    const v = load<f32>(p + i);
    if (!isFinite(v)) return false;
  }
  return true;
}
