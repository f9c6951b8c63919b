// Small SIMD kernels on raw f32 arrays (addresses, not typed arrays: bounds-checked
// `Float32Array[i]` is several times slower). Each kernel runs f32x4 lanes with four independent
// accumulators or streams, then finishes the last n % 16 elements one at a time.
// Needs `--enable simd`. Addresses need no particular alignment.

/** Sum of `n` f32 at `p`. */
export function sumF32(p: usize, n: u32): f32 {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const end = p + (<usize>n << 2);
  const end16 = p + ((<usize>n & ~(<usize>15)) << 2);
  let q = p;
  for (; q < end16; q += 64) {
    a0 = f32x4.add(a0, v128.load(q));
    a1 = f32x4.add(a1, v128.load(q, 16));
    a2 = f32x4.add(a2, v128.load(q, 32));
    a3 = f32x4.add(a3, v128.load(q, 48));
  }
  const a = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  let s = f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3);
  for (; q < end; q += 4) s += load<f32>(q);
  return s;
}

/** Sum of `n` f32 at `p`, each widened to f64 and accumulated in f64 (f64x2 lanes, four accumulators). */
export function sumF32AsF64(p: usize, n: u32): f64 {
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
  const end = p + (<usize>n << 2);
  const end8 = p + ((<usize>n & ~(<usize>7)) << 2);
  let q = p;
  for (; q < end8; q += 32) {
    const x = v128.load(q);
    const y = v128.load(q, 16);
    a0 = f64x2.add(a0, f64x2.promote_low_f32x4(x));
    a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 0, 1)));
    a2 = f64x2.add(a2, f64x2.promote_low_f32x4(y));
    a3 = f64x2.add(a3, f64x2.promote_low_f32x4(v128.shuffle<f32>(y, y, 2, 3, 0, 1)));
  }
  const a = f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
  let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
  for (; q < end; q += 4) s += <f64>load<f32>(q);
  return s;
}

/** Dot product of `n` f32 at `a` and `b`. */
export function dotF32(a: usize, b: usize, n: u32): f32 {
  let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
  const end = <usize>n << 2;
  const end16 = (<usize>n & ~(<usize>15)) << 2;
  let i: usize = 0;
  for (; i < end16; i += 64) {
    s0 = f32x4.add(s0, f32x4.mul(v128.load(a + i), v128.load(b + i)));
    s1 = f32x4.add(s1, f32x4.mul(v128.load(a + i, 16), v128.load(b + i, 16)));
    s2 = f32x4.add(s2, f32x4.mul(v128.load(a + i, 32), v128.load(b + i, 32)));
    s3 = f32x4.add(s3, f32x4.mul(v128.load(a + i, 48), v128.load(b + i, 48)));
  }
  const t = f32x4.add(f32x4.add(s0, s1), f32x4.add(s2, s3));
  let s = f32x4.extract_lane(t, 0) + f32x4.extract_lane(t, 1) + f32x4.extract_lane(t, 2) + f32x4.extract_lane(t, 3);
  for (; i < end; i += 4) s += load<f32>(a + i) * load<f32>(b + i);
  return s;
}

/** y[i] += alpha * x[i] for `n` f32 (y and x may not overlap partially). */
export function axpyF32(y: usize, alpha: f32, x: usize, n: u32): void {
  const va = f32x4.splat(alpha);
  const end = <usize>n << 2;
  const end16 = (<usize>n & ~(<usize>15)) << 2;
  let i: usize = 0;
  for (; i < end16; i += 64) {
    v128.store(y + i, f32x4.add(v128.load(y + i), f32x4.mul(va, v128.load(x + i))));
    v128.store(y + i, f32x4.add(v128.load(y + i, 16), f32x4.mul(va, v128.load(x + i, 16))), 16);
    v128.store(y + i, f32x4.add(v128.load(y + i, 32), f32x4.mul(va, v128.load(x + i, 32))), 32);
    v128.store(y + i, f32x4.add(v128.load(y + i, 48), f32x4.mul(va, v128.load(x + i, 48))), 48);
  }
  for (; i < end; i += 4) store<f32>(y + i, load<f32>(y + i) + alpha * load<f32>(x + i));
}

/**
 * y[i] += a0*x0[i] + a1*x1[i] + a2*x2[i] + a3*x3[i] for `n` f32: four rows per pass over y, so y
 * is loaded and stored a quarter as often as with four `axpyF32` calls.
 */
export function axpy4F32(
  y: usize, n: u32,
  a0: f32, x0: usize, a1: f32, x1: usize, a2: f32, x2: usize, a3: f32, x3: usize,
): void {
  const v0 = f32x4.splat(a0), v1 = f32x4.splat(a1), v2 = f32x4.splat(a2), v3 = f32x4.splat(a3);
  const end = <usize>n << 2;
  const end8 = (<usize>n & ~(<usize>7)) << 2;
  let i: usize = 0;
  for (; i < end8; i += 32) {
    let p = v128.load(y + i);
    let q = v128.load(y + i, 16);
    p = f32x4.add(p, f32x4.mul(v0, v128.load(x0 + i)));
    q = f32x4.add(q, f32x4.mul(v0, v128.load(x0 + i, 16)));
    p = f32x4.add(p, f32x4.mul(v1, v128.load(x1 + i)));
    q = f32x4.add(q, f32x4.mul(v1, v128.load(x1 + i, 16)));
    p = f32x4.add(p, f32x4.mul(v2, v128.load(x2 + i)));
    q = f32x4.add(q, f32x4.mul(v2, v128.load(x2 + i, 16)));
    p = f32x4.add(p, f32x4.mul(v3, v128.load(x3 + i)));
    q = f32x4.add(q, f32x4.mul(v3, v128.load(x3 + i, 16)));
    v128.store(y + i, p);
    v128.store(y + i, q, 16);
  }
  for (; i < end; i += 4) {
    store<f32>(y + i, load<f32>(y + i)
      + a0 * load<f32>(x0 + i) + a1 * load<f32>(x1 + i) + a2 * load<f32>(x2 + i) + a3 * load<f32>(x3 + i));
  }
}

/** y[i] *= alpha for `n` f32. */
export function scaleF32(y: usize, alpha: f32, n: u32): void {
  const va = f32x4.splat(alpha);
  const end = <usize>n << 2;
  const end4 = (<usize>n & ~(<usize>3)) << 2;
  let i: usize = 0;
  for (; i < end4; i += 16) v128.store(y + i, f32x4.mul(v128.load(y + i), va));
  for (; i < end; i += 4) store<f32>(y + i, load<f32>(y + i) * alpha);
}

/** Columns per block of `addRowsF32`: 8192 f32 = 32 KiB of y stays in L1 while the rows stream through. */
const ROW_BLOCK: u32 = 8192;

/**
 * y[0..dim) += Σ_s a[s] · row(s) for s < n, over rows of `dim` f32 at `x` (row stride dim): row(s) is row s, or
 * row `rows[s]` when `rows` (a u32 array) is non-zero. Blocked by columns, four rows per `axpy4F32` pass: the
 * weighted sum every averaging rule (FedAvg, Multi-Krum, RFA, centred clipping) ends with.
 */
export function addRowsF32(y: usize, x: usize, dim: u32, a: usize, rows: usize, n: u32): void {
  const rowBytes = <usize>dim << 2;
  for (let col: u32 = 0; col < dim; col += ROW_BLOCK) {
    const m = min(ROW_BLOCK, dim - col);
    const yb = y + (<usize>col << 2);
    const xb = x + (<usize>col << 2);
    let s: u32 = 0;
    for (; s + 4 <= n; s += 4) {
      const w = a + (<usize>s << 2);
      const r = rows + (<usize>s << 2);
      axpy4F32(yb, m,
        load<f32>(w), xb + <usize>(rows == 0 ? s : load<u32>(r)) * rowBytes,
        load<f32>(w, 4), xb + <usize>(rows == 0 ? s + 1 : load<u32>(r, 4)) * rowBytes,
        load<f32>(w, 8), xb + <usize>(rows == 0 ? s + 2 : load<u32>(r, 8)) * rowBytes,
        load<f32>(w, 12), xb + <usize>(rows == 0 ? s + 3 : load<u32>(r, 12)) * rowBytes);
    }
    for (; s < n; s++) {
      const row = rows == 0 ? s : load<u32>(rows + (<usize>s << 2));
      axpyF32(yb, load<f32>(a + (<usize>s << 2)), xb + <usize>row * rowBytes, m);
    }
  }
}
