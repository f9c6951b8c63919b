// Plain TypeScript references for Krum, Multi-Krum and Bulyan (f64 math, straightforward), used by the
// aggregator tests and as the "plain TypeScript" side of benchmarks. Same definitions as the plugins
// (plugins/krum, plugins/multi-krum, plugins/bulyan): `updates` is clients × dim, row-major.

export interface Round {
  readonly clients: number;
  readonly dim: number;
  readonly weights: Float32Array;
  readonly updates: Float32Array;
}

function dist2(r: Round, i: number, j: number): number {
  let s = 0;
  const a = i * r.dim;
  const b = j * r.dim;
  for (let c = 0; c < r.dim; c++) {
    const d = r.updates[a + c]! - r.updates[b + c]!;
    s += d * d;
  }
  return Number.isNaN(s) ? Infinity : s;
}

function distances(r: Round): number[][] {
  const n = r.clients;
  const d = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) d[i]![j] = d[j]![i] = dist2(r, i, j);
  }
  return d;
}

export const defaultKrumF = (n: number): number => Math.floor((n - 3) / 2);
export const defaultBulyanF = (n: number): number => Math.floor((n - 3) / 4);

/** Krum scores of the clients in `active` (indices), each the sum of its k smallest distances to the others in `active`. */
function scoresOn(d: number[][], active: readonly number[], k: number): number[] {
  return active.map((i) => {
    const ds = active.filter((j) => j !== i).map((j) => d[i]![j]!).sort((x, y) => x - y);
    return ds.slice(0, k).reduce((s, x) => s + x, 0);
  });
}

/** score(i) = sum of the squared distances from x_i to its n − f − 2 nearest other updates. */
export function scores(r: Round, f = defaultKrumF(r.clients)): number[] {
  const all = Array.from({ length: r.clients }, (_, i) => i);
  return scoresOn(distances(r), all, r.clients - f - 2);
}

function argmin(s: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < s.length; i++) if (s[i]! < s[best]!) best = i;
  return best;
}

function row(r: Round, i: number): Float64Array {
  return Float64Array.from(r.updates.subarray(i * r.dim, (i + 1) * r.dim));
}

function checkKrum(n: number, f: number): void {
  if (!Number.isInteger(f) || f < 0 || n < 2 * f + 3) throw new Error(`krum: n = ${n} is too few for f = ${f}`);
}

/** Index of the Krum winner (lowest score, ties: lowest index). */
export function krumIndex(r: Round, f = defaultKrumF(r.clients)): number {
  checkKrum(r.clients, f);
  return argmin(scores(r, f));
}

export function krum(r: Round, f = defaultKrumF(r.clients)): Float64Array {
  return row(r, krumIndex(r, f));
}

/** Indices of the m lowest-scored updates (ties: lower index first). */
export function multiKrumSelection(r: Round, f = defaultKrumF(r.clients), m = r.clients - f): number[] {
  checkKrum(r.clients, f);
  if (!Number.isInteger(m) || m < 1 || m > r.clients) throw new Error(`multi-krum: bad m = ${m}`);
  const s = scores(r, f);
  return s.map((_, i) => i).sort((a, b) => s[a]! - s[b]! || a - b).slice(0, m);
}

export function multiKrum(r: Round, f = defaultKrumF(r.clients), m = r.clients - f): Float64Array {
  const sel = multiKrumSelection(r, f, m);
  let total = 0;
  for (const i of sel) {
    const w = r.weights[i]!;
    if (!(w >= 0) || !Number.isFinite(w)) throw new Error('multi-krum: bad weight');
    total += w;
  }
  if (!(total > 0)) throw new Error('multi-krum: zero total weight');
  const out = new Float64Array(r.dim);
  for (const i of sel) {
    const w = r.weights[i]! / total;
    for (let c = 0; c < r.dim; c++) out[c]! += w * r.updates[i * r.dim + c]!;
  }
  return out;
}

/** Bulyan's selection: θ = n − 2f Krum winners on the shrinking set (k = r − f − 2, at least min(2, r − 1)). */
export function bulyanSelection(r: Round, f = defaultBulyanF(r.clients)): number[] {
  const n = r.clients;
  if (!Number.isInteger(f) || f < 0 || n < 4 * f + 3) throw new Error(`bulyan: n = ${n} is too few for f = ${f}`);
  const d = distances(r);
  let active = Array.from({ length: n }, (_, i) => i);
  const sel: number[] = [];
  for (let t = 0; t < n - 2 * f; t++) {
    const rem = active.length;
    const k = rem >= f + 4 ? rem - f - 2 : Math.min(2, rem - 1);
    const w = active[argmin(scoresOn(d, active, k))]!;
    sel.push(w);
    active = active.filter((i) => i !== w);
  }
  return sel;
}

export function bulyan(r: Round, f = defaultBulyanF(r.clients)): Float64Array {
  const sel = bulyanSelection(r, f);
  const theta = sel.length;
  const beta = theta - 2 * f;
  const out = new Float64Array(r.dim);
  for (let c = 0; c < r.dim; c++) {
    const v = sel.map((i) => r.updates[i * r.dim + c]!).sort((a, b) => a - b);
    const h = theta >> 1;
    const med = theta % 2 === 1 ? v[h]! : (v[h - 1]! + v[h]!) / 2;
    const closest = v.slice().sort((a, b) => Math.abs(a - med) - Math.abs(b - med) || a - b).slice(0, beta);
    out[c] = closest.reduce((s, x) => s + x, 0) / beta;
  }
  return out;
}
