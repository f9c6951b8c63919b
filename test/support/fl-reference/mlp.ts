// Plain TypeScript reference of the `trainer` capability's math, in f64: the MLP inputs → hidden (ReLU) → classes
// (softmax cross-entropy), LoRA adapters on both dense layers, and minibatch SGD drawing samples in the order the
// contract fixes (xoshiro128** from the seed, Fisher–Yates, reshuffled when used up). Written for clarity, not speed:
// the plugin's f32/SIMD results are compared against it, and its own gradients against finite differences.

export interface Arch {
  readonly inputs: number;
  readonly hidden: number;
  readonly classes: number;
  readonly rank: number;
}

export type Vec = Float64Array | Float32Array;

/** xoshiro128** seeded as in sdk/as/nn/prng.ts. */
export class Xoshiro128 {
  #s = new Uint32Array(4);

  constructor(seed: number) {
    let c = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      c = (c + 0x9e3779b9) >>> 0;
      let z = c;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if ((this.#s[0]! | this.#s[1]! | this.#s[2]! | this.#s[3]!) === 0) this.#s[0] = 1;
  }

  /** A generator at an explicit state (for known-answer tests of the step function). */
  static fromState(s0: number, s1: number, s2: number, s3: number): Xoshiro128 {
    const g = new Xoshiro128(0);
    g.#s.set([s0, s1, s2, s3]);
    return g;
  }

  /** The four state words (after seeding: the seeding rule's output). */
  state(): number[] {
    return Array.from(this.#s);
  }

  next(): number {
    const s = this.#s;
    const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** floor(next · n / 2³²), exact for n < 2²¹ (products stay below 2⁵³). */
  below(n: number): number {
    return Math.floor((this.next() * n) / 4294967296);
  }

  shuffle(p: Uint32Array): void {
    for (let i = p.length; i > 1; i--) {
      const j = this.below(i);
      const t = p[i - 1]!;
      p[i - 1] = p[j]!;
      p[j] = t;
    }
  }
}

export function paramCount(a: Arch): number {
  return a.hidden * a.inputs + a.hidden + a.classes * a.hidden + a.classes;
}

export function adapterCount(a: Arch): number {
  return a.rank * (a.inputs + 2 * a.hidden + a.classes);
}

interface Layers {
  w1: Float64Array; b1: Float64Array; w2: Float64Array; b2: Float64Array;
}

/** Effective weights: W + (alpha/rank)·B·A per layer when adapters are given. */
function effective(a: Arch, params: Vec, adapters: Vec | null, alpha: number): Layers {
  const { inputs: d, hidden: h, classes: c, rank: r } = a;
  const p = Float64Array.from(params);
  const w1 = p.slice(0, h * d);
  const b1 = p.slice(h * d, h * d + h);
  const w2 = p.slice(h * d + h, h * d + h + c * h);
  const b2 = p.slice(h * d + h + c * h);
  if (adapters !== null && adapters.length > 0) {
    const s = alpha / r;
    const { A1, B1, A2, B2 } = splitAdapters(a, adapters);
    addLowRank(w1, B1, A1, s, h, d, r);
    addLowRank(w2, B2, A2, s, c, h, r);
  }
  return { w1, b1, w2, b2 };
}

function splitAdapters(a: Arch, v: Vec): { A1: Float64Array; B1: Float64Array; A2: Float64Array; B2: Float64Array } {
  const { inputs: d, hidden: h, classes: c, rank: r } = a;
  const f = Float64Array.from(v);
  let o = 0;
  const take = (n: number): Float64Array => f.slice(o, (o += n));
  return { A1: take(r * d), B1: take(h * r), A2: take(r * h), B2: take(c * r) };
}

function addLowRank(w: Float64Array, B: Float64Array, A: Float64Array, s: number, out: number, inn: number, r: number): void {
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inn; i++) {
      let acc = 0;
      for (let k = 0; k < r; k++) acc += B[o * r + k]! * A[k * inn + i]!;
      w[o * inn + i]! += s * acc;
    }
  }
}

export interface LossAndGrad {
  /** Mean cross-entropy over the samples. */
  readonly loss: number;
  /** Gradient of the mean loss: w.r.t. params (mode full) or adapters (mode lora). */
  readonly grad: Float64Array;
}

/**
 * Mean loss and its gradient over the samples `rows` of x/y (all samples when absent). Mode 'full' differentiates
 * w.r.t. params; 'lora' w.r.t. adapters (params frozen).
 */
export function lossAndGrad(
  a: Arch, mode: 'full' | 'lora', params: Vec, adapters: Vec | null, alpha: number,
  x: Vec, y: Uint32Array, rows?: readonly number[],
): LossAndGrad {
  const { inputs: d, hidden: h, classes: c, rank: r } = a;
  const L = effective(a, params, mode === 'lora' ? adapters : null, alpha);
  const idx = rows ?? Array.from({ length: y.length }, (_, i) => i);
  const n = idx.length;
  const gW1 = new Float64Array(h * d), gb1 = new Float64Array(h), gW2 = new Float64Array(c * h), gb2 = new Float64Array(c);
  const ad = mode === 'lora' && adapters !== null ? splitAdapters(a, adapters) : null;
  let total = 0;
  for (const s of idx) {
    const xs = (i: number): number => x[s * d + i]!;
    const z1 = new Float64Array(h);
    for (let o = 0; o < h; o++) {
      let acc = L.b1[o]!;
      for (let i = 0; i < d; i++) acc += L.w1[o * d + i]! * xs(i);
      z1[o] = acc;
    }
    const a1 = z1.map((v) => Math.max(v, 0));
    const z2 = new Float64Array(c);
    for (let k = 0; k < c; k++) {
      let acc = L.b2[k]!;
      for (let o = 0; o < h; o++) acc += L.w2[k * h + o]! * a1[o]!;
      z2[k] = acc;
    }
    const m = Math.max(...z2);
    const lse = m + Math.log(z2.reduce((t, v) => t + Math.exp(v - m), 0));
    const label = y[s]!;
    total += lse - z2[label]!;
    const dz2 = z2.map((v, k) => (Math.exp(v - lse) - (k === label ? 1 : 0)) / n);
    const dz1 = new Float64Array(h);
    for (let o = 0; o < h; o++) {
      let acc = 0;
      for (let k = 0; k < c; k++) acc += dz2[k]! * L.w2[k * h + o]!;
      dz1[o] = z1[o]! > 0 ? acc : 0;
    }
    for (let k = 0; k < c; k++) {
      gb2[k]! += dz2[k]!;
      for (let o = 0; o < h; o++) gW2[k * h + o]! += dz2[k]! * a1[o]!;
    }
    for (let o = 0; o < h; o++) {
      gb1[o]! += dz1[o]!;
      for (let i = 0; i < d; i++) gW1[o * d + i]! += dz1[o]! * xs(i);
    }
  }
  if (mode === 'full') {
    const g = new Float64Array(paramCount(a));
    g.set(gW1, 0);
    g.set(gb1, h * d);
    g.set(gW2, h * d + h);
    g.set(gb2, h * d + h + c * h);
    return { loss: total / n, grad: g };
  }
  // chain rule through W_eff = W + s·B·A: dL/dB = s·G·Aᵀ, dL/dA = s·Bᵀ·G, with G = dL/dW_eff
  const sc = alpha / r;
  const { A1, B1, A2, B2 } = ad!;
  const lowRankGrads = (G: Float64Array, A: Float64Array, B: Float64Array, out: number, inn: number): [Float64Array, Float64Array] => {
    const gA = new Float64Array(r * inn), gB = new Float64Array(out * r);
    for (let o = 0; o < out; o++) {
      for (let k = 0; k < r; k++) {
        let acc = 0;
        for (let i = 0; i < inn; i++) acc += G[o * inn + i]! * A[k * inn + i]!;
        gB[o * r + k] = sc * acc;
      }
    }
    for (let k = 0; k < r; k++) {
      for (let i = 0; i < inn; i++) {
        let acc = 0;
        for (let o = 0; o < out; o++) acc += B[o * r + k]! * G[o * inn + i]!;
        gA[k * inn + i] = sc * acc;
      }
    }
    return [gA, gB];
  };
  const [gA1, gB1] = lowRankGrads(gW1, A1, B1, h, d);
  const [gA2, gB2] = lowRankGrads(gW2, A2, B2, c, h);
  const g = new Float64Array(adapterCount(a));
  let o = 0;
  for (const part of [gA1, gB1, gA2, gB2]) {
    g.set(part, o);
    o += part.length;
  }
  return { loss: total / n, grad: g };
}

export interface ReferenceTrainOptions {
  readonly arch: Arch;
  readonly mode: 'full' | 'lora';
  readonly lr: number;
  readonly alpha: number;
  readonly weightDecay: number;
  readonly steps: number;
  readonly batch: number;
  readonly seed: number;
  readonly params: Vec;
  readonly adapters: Vec | null;
  readonly x: Vec;
  readonly y: Uint32Array;
}

/** SGD as the contract describes it; returns the delta of the trained vector and each step's mean loss. */
export function trainReference(o: ReferenceTrainOptions): { delta: Float64Array; stepLosses: Float64Array } {
  const samples = o.y.length;
  const rng = new Xoshiro128(o.seed);
  const perm = Uint32Array.from({ length: samples }, (_, i) => i);
  rng.shuffle(perm);
  let pos = 0;
  const trained = Float64Array.from(o.mode === 'full' ? o.params : o.adapters!);
  const delta = new Float64Array(trained.length);
  const stepLosses = new Float64Array(o.steps);
  for (let step = 0; step < o.steps; step++) {
    const rows: number[] = [];
    for (let b = 0; b < o.batch; b++) {
      if (pos === samples) {
        rng.shuffle(perm);
        pos = 0;
      }
      rows.push(perm[pos++]!);
    }
    const { loss, grad } = o.mode === 'full'
      ? lossAndGrad(o.arch, 'full', trained, null, o.alpha, o.x, o.y, rows)
      : lossAndGrad(o.arch, 'lora', o.params, trained, o.alpha, o.x, o.y, rows);
    stepLosses[step] = loss;
    for (let i = 0; i < trained.length; i++) {
      const g = grad[i]! + o.weightDecay * trained[i]!;
      delta[i]! -= o.lr * g;
      trained[i]! -= o.lr * g;
    }
  }
  return { delta, stepLosses };
}

/** Per-sample losses and argmax predictions (lowest index on ties). */
export function evaluateReference(a: Arch, params: Vec, adapters: Vec | null, alpha: number, x: Vec, y: Uint32Array): { losses: Float64Array; predicted: Uint32Array; correct: number } {
  const { inputs: d, hidden: h, classes: c } = a;
  const L = effective(a, params, adapters, alpha);
  const losses = new Float64Array(y.length);
  const predicted = new Uint32Array(y.length);
  let correct = 0;
  for (let s = 0; s < y.length; s++) {
    const a1 = new Float64Array(h);
    for (let o = 0; o < h; o++) {
      let acc = L.b1[o]!;
      for (let i = 0; i < d; i++) acc += L.w1[o * d + i]! * x[s * d + i]!;
      a1[o] = Math.max(acc, 0);
    }
    const z = new Float64Array(c);
    for (let k = 0; k < c; k++) {
      let acc = L.b2[k]!;
      for (let o = 0; o < h; o++) acc += L.w2[k * h + o]! * a1[o]!;
      z[k] = acc;
    }
    let arg = 0;
    for (let k = 1; k < c; k++) if (z[k]! > z[arg]!) arg = k;
    const m = z[arg]!;
    const lse = m + Math.log(z.reduce((t, v) => t + Math.exp(v - m), 0));
    losses[s] = lse - z[y[s]!]!;
    predicted[s] = arg;
    if (arg === y[s]) correct++;
  }
  return { losses, predicted, correct };
}
