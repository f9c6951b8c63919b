// Plain TypeScript references for the robust aggregators in plugins/median, trimmed-mean, geomed and cclip:
// straightforward f64 math over the row-major updates (clients × dim), no tricks. Used by the tests as the
// ground truth and by the benchmark as "plain TypeScript".

export interface Round {
  readonly clients: number;
  readonly dim: number;
  readonly weights: Float32Array;
  /** clients × dim, row-major. */
  readonly updates: Float32Array;
}

function column(r: Round, c: number): Float64Array {
  const col = new Float64Array(r.clients);
  for (let i = 0; i < r.clients; i++) col[i] = r.updates[i * r.dim + c]!;
  return col.sort();
}

/** Coordinate-wise median (even count: mean of the two middle values); weights ignored. */
export function median(r: Round): Float64Array {
  const out = new Float64Array(r.dim);
  const h = r.clients >> 1;
  for (let c = 0; c < r.dim; c++) {
    const col = column(r, c);
    out[c] = r.clients % 2 === 1 ? col[h]! : (col[h - 1]! + col[h]!) / 2;
  }
  return out;
}

/** Coordinate-wise mean after dropping k = floor(beta·n) smallest and k largest values; weights ignored. */
export function trimmedMean(r: Round, beta = 0.1): Float64Array {
  const k = Math.floor(beta * r.clients);
  if (!(beta >= 0 && beta < 0.5) || 2 * k >= r.clients) throw new RangeError(`trimmedMean: bad beta ${beta} for ${r.clients} clients`);
  const out = new Float64Array(r.dim);
  for (let c = 0; c < r.dim; c++) {
    const col = column(r, c);
    let s = 0;
    for (let i = k; i < r.clients - k; i++) s += col[i]!;
    out[c] = s / (r.clients - 2 * k);
  }
  return out;
}

function alphas(r: Round): Float64Array {
  let total = 0;
  for (const w of r.weights) total += w;
  return Float64Array.from(r.weights, (w) => w / total);
}

function row(r: Round, i: number): Float32Array {
  return r.updates.subarray(i * r.dim, (i + 1) * r.dim);
}

function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j]! - b[j]!) ** 2;
  return Math.sqrt(s);
}

function weightedSum(r: Round, coef: Float64Array): Float64Array {
  const out = new Float64Array(r.dim);
  for (let i = 0; i < r.clients; i++) {
    const x = row(r, i);
    for (let j = 0; j < r.dim; j++) out[j] = out[j]! + coef[i]! * x[j]!;
  }
  return out;
}

/** RFA smoothed Weiszfeld: z0 = weighted mean; z ← Σ β_i x_i / Σ β_i, β_i = α_i / max(ν, ‖z − x_i‖), `iters` times. */
export function geomed(r: Round, iters = 8, eps = 1e-6): Float64Array {
  const a = alphas(r);
  let z = weightedSum(r, a);
  for (let t = 0; t < iters; t++) {
    const b = Float64Array.from(a, (ai, i) => ai / Math.max(eps, distance(z, row(r, i))));
    const total = b.reduce((s, v) => s + v, 0);
    z = weightedSum(r, b.map((v) => v / total));
  }
  return z;
}

/** Centered clipping from the coordinate-wise median: v ← v + Σ α_i clip(x_i − v, τ), `iters` times. */
export function cclip(r: Round, tau = 10, iters = 3): Float64Array {
  const a = alphas(r);
  let v = median(r);
  for (let t = 0; t < iters; t++) {
    const next = Float64Array.from(v);
    for (let i = 0; i < r.clients; i++) {
      const x = row(r, i);
      const d = distance(x, v);
      const s = a[i]! * Math.min(1, d > 0 ? tau / d : 1);
      for (let j = 0; j < r.dim; j++) next[j] = next[j]! + s * (x[j]! - v[j]!);
    }
    v = next;
  }
  return v;
}

/** The weighted mean (what FedAvg computes), for comparisons. */
export function mean(r: Round): Float64Array {
  return weightedSum(r, alphas(r));
}
