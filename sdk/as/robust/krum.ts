// Shared by the krum, multi-krum and bulyan plugins: config parameters, pairwise squared distances
// (f32x4 differences, squared and summed four lanes at a time in f32, then accumulated in f64x2, so
// the result agrees with an f64 reference to ~1e-7 relative), neighbour orders and Krum scores.
//
// Distances are computed directly as sum (xi - xj)^2, not as |xi|^2 + |xj|^2 - 2<xi,xj>: the latter
// cancels catastrophically when updates are close relative to their norms (the usual case in FL,
// and exactly the case Krum has to get right); the direct form costs the same SIMD work (one sub
// more per lane). Column blocks keep a block of every row in L2 while all n(n-1)/2 pairs use it.
//
// NaN distances (a client sent NaN) count as +Infinity, so such a client is never anyone's near
// neighbour and its own score is +Infinity.

import { Config } from "../index";
import { parseCount } from "./coordinate";

/** Clients accepted per round (the n x n distances take 8 n^2 bytes). */
export const MAX_CLIENTS: u32 = 2048;

/** A non-negative integer config parameter: `value` is -1 when the key is unset, -2 when invalid. */
export class IntParam {
  value: i32 = -1;
  raw: string = "";
}

/** Reads config `key` (an integer in [0, 9999999], written as coordinate.ts parseNumber accepts). Config does not change for an instance, so callers cache it. */
export function readIntParam(key: string): IntParam {
  const p = new IntParam();
  const s = Config.get(key);
  if (s === null) return p;
  p.raw = s;
  // One number rule for every aggregator parameter (coordinate.ts): plain decimal, integral, in range.
  const v = parseCount(s, 0, 9_999_999);
  p.value = v < 0 ? -2 : v;
  return p;
}

/** sum (a[i] - b[i])^2 over `n` f32: f32x4 squares, four vectors summed in f32, accumulated in f64x2. */
// @ts-ignore: decorator
@inline
function sqDist(a: usize, b: usize, n: u32): f64 {
  let s0 = f64x2.splat(0), s1 = f64x2.splat(0);
  const end = <usize>n << 2;
  const end16 = (<usize>n & ~(<usize>15)) << 2;
  let i: usize = 0;
  for (; i < end16; i += 64) {
    const d0 = f32x4.sub(v128.load(a + i), v128.load(b + i));
    const d1 = f32x4.sub(v128.load(a + i, 16), v128.load(b + i, 16));
    const d2 = f32x4.sub(v128.load(a + i, 32), v128.load(b + i, 32));
    const d3 = f32x4.sub(v128.load(a + i, 48), v128.load(b + i, 48));
    const q = f32x4.add(f32x4.add(f32x4.mul(d0, d0), f32x4.mul(d1, d1)), f32x4.add(f32x4.mul(d2, d2), f32x4.mul(d3, d3)));
    s0 = f64x2.add(s0, f64x2.promote_low_f32x4(q));
    s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(q, q, 2, 3, 0, 1)));
  }
  const t = f64x2.add(s0, s1);
  let s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
  for (; i < end; i += 4) {
    const d = <f64>load<f32>(a + i) - <f64>load<f32>(b + i);
    s += d * d;
  }
  return s;
}

// Scratch reused between calls (grown on demand): n x n distances, n x (n-1) neighbour orders, n scores.
let distBuf = new StaticArray<f64>(0);
let orderBuf = new StaticArray<u32>(0);
let scoreBuf = new StaticArray<f64>(0);
let activeBuf = new StaticArray<u8>(0);

/** Address of D (n x n f64, D[i*n+j] = |xi - xj|^2) after `computeDistances`. */
export let D: usize = 0;
/** Address of the neighbour orders (row i: the other n-1 indices by ascending D[i,*], ties by index). */
export let ORDER: usize = 0;
/** Address of the scores (n f64). */
export let SCORES: usize = 0;
/** Address of the active flags (n u8) used by `scoresOf`. */
export let ACTIVE: usize = 0;

/** Fills D, ORDER (and sizes SCORES, ACTIVE) for the `n` rows of `dim` f32 at `updates`. */
export function computeDistances(updates: usize, n: u32, dim: u32): void {
  const nn = <i32>(n * n);
  if (distBuf.length < nn) distBuf = new StaticArray<f64>(nn);
  if (orderBuf.length < nn) orderBuf = new StaticArray<u32>(nn);
  if (<u32>scoreBuf.length < n) {
    scoreBuf = new StaticArray<f64>(<i32>n);
    activeBuf = new StaticArray<u8>(<i32>n);
  }
  D = changetype<usize>(distBuf);
  ORDER = changetype<usize>(orderBuf);
  SCORES = changetype<usize>(scoreBuf);
  ACTIVE = changetype<usize>(activeBuf);
  memory.fill(D, 0, <usize>nn << 3);

  const rowBytes = <usize>dim << 2;
  // Column block: about 256 KiB of all rows together, in [256, 8192] floats, a multiple of 16.
  let block: u32 = (65536 / max<u32>(n, 1)) & ~15;
  block = min<u32>(8192, max<u32>(256, block));
  for (let col: u32 = 0; col < dim; col += block) {
    const len = min(block, dim - col);
    const base = updates + (<usize>col << 2);
    for (let i: u32 = 0; i + 1 < n; i++) {
      const ri = base + <usize>i * rowBytes;
      const di = D + ((<usize>i * n) << 3);
      for (let j: u32 = i + 1; j < n; j++) {
        const p = di + (<usize>j << 3);
        store<f64>(p, load<f64>(p) + sqDist(ri, base + <usize>j * rowBytes, len));
      }
    }
  }
  for (let i: u32 = 0; i < n; i++) {
    for (let j: u32 = i + 1; j < n; j++) {
      const p = D + ((<usize>i * n + j) << 3);
      let d = load<f64>(p);
      if (isNaN(d)) d = Infinity;
      store<f64>(p, d);
      store<f64>(D + ((<usize>j * n + i) << 3), d);
    }
  }
  for (let i: u32 = 0; i < n; i++) {
    const row = ORDER + ((<usize>i * n) << 2);
    let c: u32 = 0;
    for (let j: u32 = 0; j < n; j++) {
      if (j != i) {
        store<u32>(row + (<usize>c << 2), j);
        c++;
      }
    }
    sortIndices(D + ((<usize>i * n) << 3), row, n - 1);
  }
}

/** Marks every client active. */
export function activateAll(n: u32): void {
  memory.fill(ACTIVE, 1, n);
}

/**
 * Krum scores over the active clients: score(i) = sum of D[i,j] over the `k` nearest active j != i,
 * summed in ascending order. Inactive clients get +Infinity.
 */
export function computeScores(n: u32, k: u32): void {
  for (let i: u32 = 0; i < n; i++) {
    const sp = SCORES + (<usize>i << 3);
    if (load<u8>(ACTIVE + i) == 0) {
      store<f64>(sp, Infinity);
      continue;
    }
    const row = ORDER + ((<usize>i * n) << 2);
    const di = D + ((<usize>i * n) << 3);
    let s: f64 = 0;
    let c: u32 = 0;
    for (let q: u32 = 0; c < k && q + 1 < n; q++) {
      const j = load<u32>(row + (<usize>q << 2));
      if (load<u8>(ACTIVE + j) == 0) continue;
      s += load<f64>(di + (<usize>j << 3));
      c++;
    }
    store<f64>(sp, s);
  }
}

/** The active client with the lowest score (ties: lowest index); -1 when none is active. */
export function bestActive(n: u32): i32 {
  let best: i32 = -1;
  let bs: f64 = Infinity;
  for (let i: u32 = 0; i < n; i++) {
    if (load<u8>(ACTIVE + i) == 0) continue;
    const s = load<f64>(SCORES + (<usize>i << 3));
    if (best < 0 || s < bs) {
      best = <i32>i;
      bs = s;
    }
  }
  return best;
}

// @ts-ignore: decorator
@inline
function before(keys: usize, a: u32, b: u32): bool {
  const ka = load<f64>(keys + (<usize>a << 3));
  const kb = load<f64>(keys + (<usize>b << 3));
  return ka < kb || (ka == kb && a < b);
}

/** Sorts `m` u32 indices at `idx` by ascending keys[idx] (f64, no NaN), ties by index (heapsort). */
export function sortIndices(keys: usize, idx: usize, m: u32): void {
  if (m < 2) return;
  // Build a max-heap.
  for (let start = <i32>(m >> 1) - 1; start >= 0; start--) siftDown(keys, idx, <u32>start, m);
  for (let end = m - 1; end > 0; end--) {
    const t = load<u32>(idx);
    store<u32>(idx, load<u32>(idx + (<usize>end << 2)));
    store<u32>(idx + (<usize>end << 2), t);
    siftDown(keys, idx, 0, end);
  }
}

function siftDown(keys: usize, idx: usize, start: u32, m: u32): void {
  let root = start;
  while (true) {
    let child: u32 = 2 * root + 1;
    if (child >= m) return;
    let c = load<u32>(idx + (<usize>child << 2));
    if (child + 1 < m) {
      const c2 = load<u32>(idx + (<usize>(child + 1) << 2));
      if (before(keys, c, c2)) {
        child++;
        c = c2;
      }
    }
    const r = load<u32>(idx + (<usize>root << 2));
    if (!before(keys, r, c)) return;
    store<u32>(idx + (<usize>root << 2), c);
    store<u32>(idx + (<usize>child << 2), r);
    root = child;
  }
}
