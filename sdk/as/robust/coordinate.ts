// Shared code for the robust aggregators (plugins/median, trimmed-mean, geomed, cclip): coordinate-wise
// rules over column blocks, selection, row distances and weighted row combinations, and strict parsing of
// numeric config values. Plugins import it relatively ("../../sdk/as/robust/coordinate"); it is exported
// from nowhere else.
//
// Coordinate-wise rules (median, trimmed mean) need, per coordinate, the n clients' values together. The
// updates are row-major (client i's vector is contiguous), so a column is strided by dim. We process the
// columns in blocks of COL_BLOCK: the block is transposed (4×4 SIMD shuffles) into a scratch buffer of
// n × COL_BLOCK f32 where each column's n values are contiguous (n = 100 → 25 KiB, inside L1), then each
// column is reduced by an in-place selection (branchless quickselect, O(n) expected). No O(n·dim) copy is made.

import { addRowsF32, scaleF32 } from "../simd";

/** Columns per transposed block. 64 f32 = 256 bytes read contiguously from each row per block. */
export const COL_BLOCK: u32 = 64;

let scratch: StaticArray<f32> = new StaticArray<f32>(0);
let coef: StaticArray<f32> = new StaticArray<f32>(0);

/** True when all `count` f32 at `p` are finite (x - x is 0 for finite x, NaN for NaN and ±Inf). */
export function allFiniteF32(p: usize, count: usize): bool {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  const end = p + (count << 2);
  const end16 = p + ((count & ~(<usize>15)) << 2);
  let q = p;
  for (; q < end16; q += 64) {
    const x0 = v128.load(q), x1 = v128.load(q, 16), x2 = v128.load(q, 32), x3 = v128.load(q, 48);
    a0 = f32x4.add(a0, f32x4.sub(x0, x0));
    a1 = f32x4.add(a1, f32x4.sub(x1, x1));
    a2 = f32x4.add(a2, f32x4.sub(x2, x2));
    a3 = f32x4.add(a3, f32x4.sub(x3, x3));
  }
  const a = f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3));
  let s = f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1) + f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3);
  for (; q < end; q += 4) { const x = load<f32>(q); s += x - x; }
  return s == 0;
}

/**
 * Copies columns [col, col + width) of the rows × stride matrix at `x` into `dst` transposed:
 * dst[j * rows + i] = x[i * stride + col + j]. Four rows × four columns at a time with SIMD shuffles.
 */
export function transposeBlock(x: usize, rows: u32, stride: u32, col: u32, width: u32, dst: usize): void {
  const rowBytes = <usize>stride << 2;
  const colBytes = <usize>rows << 2;
  const base = x + (<usize>col << 2);
  const w4 = width & ~3;
  let i: u32 = 0;
  for (; i + 4 <= rows; i += 4) {
    const r = base + <usize>i * rowBytes;
    const d = dst + (<usize>i << 2);
    let j: u32 = 0;
    for (; j < w4; j += 4) {
      const o = <usize>j << 2;
      const r0 = v128.load(r + o);
      const r1 = v128.load(r + rowBytes + o);
      const r2 = v128.load(r + 2 * rowBytes + o);
      const r3 = v128.load(r + 3 * rowBytes + o);
      const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
      const t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
      const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
      const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
      const c = d + <usize>j * colBytes;
      v128.store(c, v128.shuffle<f32>(t0, t2, 0, 1, 4, 5));
      v128.store(c + colBytes, v128.shuffle<f32>(t0, t2, 2, 3, 6, 7));
      v128.store(c + 2 * colBytes, v128.shuffle<f32>(t1, t3, 0, 1, 4, 5));
      v128.store(c + 3 * colBytes, v128.shuffle<f32>(t1, t3, 2, 3, 6, 7));
    }
    for (; j < width; j++) {
      const c = d + <usize>j * colBytes;
      const o = <usize>j << 2;
      store<f32>(c, load<f32>(r + o));
      store<f32>(c, load<f32>(r + rowBytes + o), 4);
      store<f32>(c, load<f32>(r + 2 * rowBytes + o), 8);
      store<f32>(c, load<f32>(r + 3 * rowBytes + o), 12);
    }
  }
  for (; i < rows; i++) {
    const r = base + <usize>i * rowBytes;
    const d = dst + (<usize>i << 2);
    for (let j: u32 = 0; j < width; j++) store<f32>(d + <usize>j * colBytes, load<f32>(r + (<usize>j << 2)));
  }
}

// @ts-ignore: decorator
@inline function at(p: usize, i: i32): f32 { return load<f32>(p + (<usize>i << 2)); }
// @ts-ignore: decorator
@inline function put(p: usize, i: i32, v: f32): void { store<f32>(p + (<usize>i << 2), v); }

/**
 * Rearranges the `n` finite f32 at `p` so that the value at index k is the k-th smallest (0-based), everything
 * before it is <= and everything after it is >=; returns it. Quickselect with a median-of-three pivot and
 * branchless partitions (an unconditional swap and a compare-add per element, so no mispredicted branches):
 * first by `< pivot`, then, if k is not left of that, the rest by `<= pivot`, so runs of equal values (zeros
 * in sparse updates) finish at once instead of degrading to O(n²). Small ranges end with an insertion sort.
 */
export function selectF32(p: usize, n: u32, k: u32): f32 {
  let lo: i32 = 0;
  let hi: i32 = <i32>n; // exclusive
  const kk = <i32>k;
  while (hi - lo > 16) {
    const x = at(p, lo), y = at(p, (lo + hi) >> 1), z = at(p, hi - 1);
    const pivot = max(min(x, y), min(max(x, y), z));
    let s = lo;
    for (let i = lo; i < hi; i++) {
      const v = at(p, i);
      put(p, i, at(p, s));
      put(p, s, v);
      s += <i32>(v < pivot);
    }
    if (kk < s) { hi = s; continue; }
    let t = s;
    for (let i = s; i < hi; i++) {
      const v = at(p, i);
      put(p, i, at(p, t));
      put(p, t, v);
      t += <i32>(v <= pivot);
    }
    if (kk < t) return pivot; // [s, t) all equal the pivot
    lo = t;
  }
  // Insertion sort of [lo, hi): every value left of lo is <= and from hi on is >= them.
  for (let i = lo + 1; i < hi; i++) {
    const v = at(p, i);
    let j = i - 1;
    while (j >= lo && at(p, j) > v) { put(p, j + 1, at(p, j)); j--; }
    put(p, j + 1, v);
  }
  return at(p, kk);
}

/** Median of the `n` (>= 1) f32 at `p` (reorders them); even n → mean of the two middle values. */
export function medianF32(p: usize, n: u32, _k: u32): f32 {
  const h = n >> 1;
  const hi = selectF32(p, n, h);
  if (n & 1) return hi;
  let lo = at(p, 0); // the largest of the lower half [0, h)
  for (let i: i32 = 1; i < <i32>h; i++) lo = max(lo, at(p, i));
  return <f32>((<f64>lo + <f64>hi) * 0.5);
}

/** Mean of the `n` f32 at `p` without the k smallest and k largest (needs 2k < n; reorders them). */
export function trimmedMeanF32(p: usize, n: u32, k: u32): f32 {
  if (k > 0) {
    selectF32(p, n, k);
    selectF32(p + (<usize>k << 2), n - k, n - 2 * k - 1);
  }
  let s: f64 = 0;
  const end = <i32>(n - k);
  for (let i = <i32>k; i < end; i++) s += <f64>at(p, i);
  return <f32>(s / <f64>(n - 2 * k));
}

/**
 * y[c] = rule(column c of the n × dim matrix at x, n, k) for every coordinate c, over transposed column
 * blocks. `rule` may reorder the column it is given (it is a scratch copy).
 */
export function coordinateWise(x: usize, n: u32, dim: u32, y: usize, rule: (p: usize, n: u32, k: u32) => f32, k: u32): void {
  const need = <i32>(n * COL_BLOCK);
  if (scratch.length < need) scratch = new StaticArray<f32>(need);
  const s = changetype<usize>(scratch);
  const colBytes = <usize>n << 2;
  for (let col: u32 = 0; col < dim; col += COL_BLOCK) {
    const width = min(COL_BLOCK, dim - col);
    transposeBlock(x, n, dim, col, width, s);
    const yb = y + (<usize>col << 2);
    for (let j: u32 = 0; j < width; j++) store<f32>(yb + (<usize>j << 2), rule(s + <usize>j * colBytes, n, k));
  }
}

/** Coordinate-wise median of the n × dim matrix at x into y. */
export function coordinateMedian(x: usize, n: u32, dim: u32, y: usize): void {
  coordinateWise(x, n, dim, y, medianF32, 0);
}

/** Coordinate-wise trimmed mean (k dropped from each end) of the n × dim matrix at x into y. */
export function coordinateTrimmedMean(x: usize, n: u32, dim: u32, k: u32, y: usize): void {
  coordinateWise(x, n, dim, y, trimmedMeanF32, k);
}

// ---- Row helpers for the vector rules (geomed, cclip) ----

/** ‖a − b‖² over `n` f32: differences in f32 (SIMD), squares accumulated in f64. */
export function distSqF32(a: usize, b: usize, n: u32): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
  const end = <usize>n << 2;
  const end8 = (<usize>n & ~(<usize>7)) << 2;
  let i: usize = 0;
  for (; i < end8; i += 32) {
    const d = f32x4.sub(v128.load(a + i), v128.load(b + i));
    const e = f32x4.sub(v128.load(a + i, 16), v128.load(b + i, 16));
    const d0 = f64x2.promote_low_f32x4(d);
    const d1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(d, d, 2, 3, 0, 1));
    const e0 = f64x2.promote_low_f32x4(e);
    const e1 = f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 0, 1));
    s0 = f64x2.add(s0, f64x2.mul(d0, d0));
    s1 = f64x2.add(s1, f64x2.mul(d1, d1));
    s2 = f64x2.add(s2, f64x2.mul(e0, e0));
    s3 = f64x2.add(s3, f64x2.mul(e1, e1));
  }
  const t = f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
  let s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
  for (; i < end; i += 4) { const d = <f64>(load<f32>(a + i) - load<f32>(b + i)); s += d * d; }
  return s;
}

/**
 * y = baseScale · base + Σ_i c[i] · x_i over the n × dim rows at x (base = 0: no base term), with the
 * coefficients `c` given as f64 (rounded to f32 for the SIMD kernels). Blocked by addRowsF32.
 */
export function combineRows(x: usize, n: u32, dim: u32, c: StaticArray<f64>, base: usize, baseScale: f64, y: usize): void {
  if (<u32>coef.length < n) coef = new StaticArray<f32>(<i32>n);
  const a = changetype<usize>(coef);
  for (let i: u32 = 0; i < n; i++) store<f32>(a + (<usize>i << 2), <f32>unchecked(c[i]));
  const rowBytes = <usize>dim << 2;
  if (base != 0) {
    memory.copy(y, base, rowBytes);
    scaleF32(y, <f32>baseScale, dim);
  } else {
    memory.fill(y, 0, rowBytes);
  }
  addRowsF32(y, x, dim, a, 0, n);
}

/**
 * The clients' weights normalised to sum 1 (f64), or null when a weight is negative or not finite, or
 * the sum is not positive.
 */
export function normalisedWeights(w: usize, n: u32): StaticArray<f64> | null {
  let total: f64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const v = load<f32>(w + (<usize>i << 2));
    if (!(v >= 0) || !isFinite(v)) return null;
    total += <f64>v;
  }
  if (!(total > 0) || !isFinite(total)) return null;
  const a = new StaticArray<f64>(<i32>n);
  for (let i: u32 = 0; i < n; i++) unchecked(a[i] = <f64>load<f32>(w + (<usize>i << 2)) / total);
  return a;
}

// ---- Config values ----

/**
 * Strictly parses a config value as a finite decimal number: [+-]digits[.digits][(e|E)[+-]digits], at least one
 * mantissa digit, nothing else (no spaces, "NaN", "Infinity", hex or trailing text); NaN when it is not one.
 * (An empty value never gets here: the Extism PDK's Config.get reports it as unset, so the default applies.)
 */
export function parseNumber(s: string): f64 {
  const len = s.length;
  if (len == 0 || len > 40) return NaN;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c == 43 || c == 45) i++;
  let mantissa = 0;
  while (i < len && isDigit(s.charCodeAt(i))) { i++; mantissa++; }
  if (i < len && s.charCodeAt(i) == 46) {
    i++;
    while (i < len && isDigit(s.charCodeAt(i))) { i++; mantissa++; }
  }
  if (mantissa == 0) return NaN;
  if (i < len && (s.charCodeAt(i) | 32) == 101) {
    i++;
    if (i < len && ((c = s.charCodeAt(i)) == 43 || c == 45)) i++;
    let exp = 0;
    while (i < len && isDigit(s.charCodeAt(i))) { i++; exp++; }
    if (exp == 0) return NaN;
  }
  if (i != len) return NaN;
  const v = parseFloat(s);
  return isFinite(v) ? v : NaN;
}

// @ts-ignore: decorator
@inline function isDigit(c: i32): bool { return c >= 48 && c <= 57; }

/** The integer config value in [lo, hi], or -1 when it is not one. */
export function parseCount(s: string, lo: i32, hi: i32): i32 {
  const v = parseNumber(s);
  if (!(v >= <f64>lo && v <= <f64>hi) || Math.floor(v) != v) return -1;
  return <i32>v;
}
