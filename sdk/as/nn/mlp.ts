// A one-hidden-layer MLP classifier with optional LoRA adapters, trained by minibatch SGD: the math of the
// `trainer` capability (sdk/abi/contract.json, frames TrainRequest/EvaluateRequest), independent of frames.
//
//   h = ReLU(W1e·x + b1),  z = W2e·h + b2,  loss = −log softmax(z)[y]  (stable: z − max, log Σ exp in f64)
//   W_le = W_l (mode full)  or  W_l + (α/r)·B_l·A_l (mode lora; base frozen, A/B trained)
//
// Layouts (one flat f32 vector each): params W1 [H×D], b1 [H], W2 [C×H], b2 [C]; adapters A1 [r×D], B1 [H×r],
// A2 [r×H], B2 [C×r]. In lora mode the effective weights are materialised once per step (H·D·r multiply-adds,
// the cost of a forward pass over r samples), and the adapter gradients use the low-rank factors:
//   ∂L/∂B = s·Σ_b δ_b (A·in_b)ᵀ,   ∂L/∂A = s·Σ_b (Bᵀδ_b) in_bᵀ   (s = α/r, δ_b the layer's output gradient).
// The trained vector's delta is accumulated apart from the working copy (delta −= lr·g), so one full-batch step with
// lr = 1 returns exactly −gradient.
import { axpyF32, scaleF32 } from "../simd";
import { matTVecAdd, matVec, matVec2, outerAdd } from "./dense";
import { Xoshiro128 } from "./prng";

export const MODE_FULL: u32 = 0;
export const MODE_LORA: u32 = 1;

/** Architecture: inputs D, hidden H, classes C, LoRA rank r (0 when unused). */
@final
export class MlpShape {
  constructor(public inputs: u32, public hidden: u32, public classes: u32, public rank: u32) {}

  get paramCount(): u64 {
    const d = <u64>this.inputs, h = <u64>this.hidden, c = <u64>this.classes;
    return h * d + h + c * h + c;
  }
  get adapterCount(): u64 {
    const d = <u64>this.inputs, h = <u64>this.hidden, c = <u64>this.classes, r = <u64>this.rank;
    return r * (d + h + h + c);
  }
  // Offsets (in f32) inside the params vector.
  get offB1(): usize { return <usize>this.hidden * <usize>this.inputs; }
  get offW2(): usize { return this.offB1 + <usize>this.hidden; }
  get offB2(): usize { return this.offW2 + <usize>this.classes * <usize>this.hidden; }
  // Offsets (in f32) inside the adapters vector.
  get offAdB1(): usize { return <usize>this.rank * <usize>this.inputs; }
  get offAdA2(): usize { return this.offAdB1 + <usize>this.hidden * <usize>this.rank; }
  get offAdB2(): usize { return this.offAdA2 + <usize>this.rank * <usize>this.hidden; }
}

// ---------------------------------------------------------------------------------------------
// Scratch: module-level buffers reused between calls, grown on demand.

let workBuf = new StaticArray<f32>(0);
let gradBuf = new StaticArray<f32>(0);
let we1Buf = new StaticArray<f32>(0);
let we2Buf = new StaticArray<f32>(0);
let a1Buf = new StaticArray<f32>(0);
let da1Buf = new StaticArray<f32>(0);
let z2Buf = new StaticArray<f32>(0);
let dz2Buf = new StaticArray<f32>(0);
let u1Buf = new StaticArray<f32>(0);
let v1Buf = new StaticArray<f32>(0);
let u2Buf = new StaticArray<f32>(0);
let v2Buf = new StaticArray<f32>(0);
let coefBuf = new StaticArray<f32>(0);
let permBuf = new StaticArray<u32>(0);
let xRowsBuf = new StaticArray<u32>(0);
let a1RowsBuf = new StaticArray<u32>(0);
let u1RowsBuf = new StaticArray<u32>(0);
let u2RowsBuf = new StaticArray<u32>(0);
let labelBuf = new StaticArray<u32>(0);

function f32s(a: StaticArray<f32>, n: usize): StaticArray<f32> {
  return <usize>a.length >= n ? a : new StaticArray<f32>(<i32>n);
}
function u32s(a: StaticArray<u32>, n: usize): StaticArray<u32> {
  return <usize>a.length >= n ? a : new StaticArray<u32>(<i32>n);
}
@inline function addr<T>(a: StaticArray<T>): usize { return changetype<usize>(a); }

/** Bytes of scratch a train (or evaluate) call of this shape and batch needs: callers refuse what is too big. */
export function scratchBytes(shape: MlpShape, mode: u32, batch: u32, samples: u32): u64 {
  const d = <u64>shape.inputs, h = <u64>shape.hidden, c = <u64>shape.classes, r = <u64>shape.rank, b = <u64>batch;
  const trained = mode == MODE_LORA ? shape.adapterCount : shape.paramCount;
  let f: u64 = 2 * trained + 2 * b * h + 2 * b * c + 4 * b * r + r;
  if (mode == MODE_LORA || r > 0) f += h * d + c * h;
  return 4 * (f + <u64>samples + 5 * b);
}

// ---------------------------------------------------------------------------------------------
// Initialisation.

/** params at `out`: W1 ~ N(0, 2/D) (He), W2 ~ N(0, 2/(H+C)) (Glorot), biases 0; draws W1 then W2 from `seed`. */
export function initParams(shape: MlpShape, seed: u32, out: usize): void {
  const rng = new Xoshiro128(seed);
  const d = shape.inputs, h = shape.hidden, c = shape.classes;
  fillNormal(rng, out, <usize>h * <usize>d, Math.sqrt(2.0 / <f64>d));
  memory.fill(out + (shape.offB1 << 2), 0, <usize>h << 2);
  fillNormal(rng, out + (shape.offW2 << 2), <usize>c * <usize>h, Math.sqrt(2.0 / <f64>(h + c)));
  memory.fill(out + (shape.offB2 << 2), 0, <usize>c << 2);
}

/** adapters at `out`: A1 ~ N(0, 1/D), B1 = 0, A2 ~ N(0, 1/H), B2 = 0 (LoRA: the product starts at zero). */
export function initAdapters(shape: MlpShape, seed: u32, out: usize): void {
  const rng = new Xoshiro128(seed);
  const d = shape.inputs, h = shape.hidden, c = shape.classes, r = shape.rank;
  fillNormal(rng, out, <usize>r * <usize>d, Math.sqrt(1.0 / <f64>d));
  memory.fill(out + (shape.offAdB1 << 2), 0, (<usize>h * <usize>r) << 2);
  fillNormal(rng, out + (shape.offAdA2 << 2), <usize>r * <usize>h, Math.sqrt(1.0 / <f64>h));
  memory.fill(out + (shape.offAdB2 << 2), 0, (<usize>c * <usize>r) << 2);
}

function fillNormal(rng: Xoshiro128, p: usize, n: usize, sd: f64): void {
  for (let i: usize = 0; i < n; i++) store<f32>(p + (i << 2), <f32>(rng.normal() * sd));
}

// ---------------------------------------------------------------------------------------------
// Effective weights, forward pass and loss.

/** we [out × in] = w + s·B·A for B [out × r], A [r × in] (one row at a time: row o += Σ_k (s·B[o,k])·A[k,:]). */
function materialise(we: usize, w: usize, bMat: usize, aMat: usize, s: f32, outDim: u32, inDim: u32, r: u32, coef: usize): void {
  const rowBytes = <usize>inDim << 2;
  memory.copy(we, w, <usize>outDim * rowBytes);
  for (let o: u32 = 0; o < outDim; o++) {
    const br = bMat + ((<usize>o * <usize>r) << 2);
    for (let k: u32 = 0; k < r; k++) store<f32>(coef + (<usize>k << 2), s * load<f32>(br + (<usize>k << 2)));
    matTVecAdd(we + <usize>o * rowBytes, aMat, coef, r, inDim);
  }
}

/**
 * Forward pass over `batch` samples whose input rows are at rowPtrs[b] and labels at labels[b]: fills a1 [batch × H]
 * (post-ReLU) and z2 [batch × C]; returns the summed loss (f64). When dz2 ≠ 0 also writes ∂(mean loss)/∂z2 =
 * (softmax − onehot)/batch; when losses / predicted ≠ 0 writes each sample's loss and argmax (lowest index on ties).
 */
function forward(
  shape: MlpShape, we1: usize, b1: usize, we2: usize, b2: usize,
  rowPtrs: usize, labels: usize, batch: u32, a1: usize, z2: usize,
  dz2: usize, losses: usize, predicted: usize,
): f64 {
  const h = shape.hidden, c = shape.classes;
  const hBytes = <usize>h << 2, cBytes = <usize>c << 2;
  const zero = f32x4.splat(0);
  const invBatch = 1.0 / <f64>batch;
  let total: f64 = 0;
  // hidden layer, two samples per pass (W1 is the largest operand: each chunk loaded serves both)
  let b: u32 = 0;
  for (; b + 2 <= batch; b += 2) {
    const rp = rowPtrs + (<usize>b << 2);
    const ab = a1 + <usize>b * hBytes;
    matVec2(ab, ab + hBytes, we1, b1, <usize>load<u32>(rp), <usize>load<u32>(rp, 4), h, shape.inputs);
  }
  if (b < batch) matVec(a1 + <usize>b * hBytes, we1, b1, <usize>load<u32>(rowPtrs + (<usize>b << 2)), h, shape.inputs);
  const n1 = <usize>batch * <usize>h;
  const end4 = (n1 & ~(<usize>3)) << 2;
  let q: usize = 0;
  for (; q < end4; q += 16) v128.store(a1 + q, f32x4.max(v128.load(a1 + q), zero));
  for (; q < (n1 << 2); q += 4) store<f32>(a1 + q, max<f32>(load<f32>(a1 + q), 0));
  for (let b: u32 = 0; b < batch; b++) {
    const ab = a1 + <usize>b * hBytes;
    const zb = z2 + <usize>b * cBytes;
    matVec(zb, we2, b2, ab, c, h);
    // stable log-softmax in f64
    let m: f64 = <f64>load<f32>(zb);
    let arg: u32 = 0;
    for (let k: u32 = 1; k < c; k++) {
      const v = <f64>load<f32>(zb + (<usize>k << 2));
      if (v > m) { m = v; arg = k; }
    }
    let se: f64 = 0;
    for (let k: u32 = 0; k < c; k++) se += Math.exp(<f64>load<f32>(zb + (<usize>k << 2)) - m);
    const lse = m + Math.log(se);
    const y = load<u32>(labels + (<usize>b << 2));
    const loss = lse - <f64>load<f32>(zb + (<usize>y << 2));
    total += loss;
    if (losses != 0) store<f32>(losses + (<usize>b << 2), <f32>loss);
    if (predicted != 0) store<u32>(predicted + (<usize>b << 2), arg);
    if (dz2 != 0) {
      const db = dz2 + <usize>b * cBytes;
      for (let k: u32 = 0; k < c; k++) {
        const p = Math.exp(<f64>load<f32>(zb + (<usize>k << 2)) - lse);
        store<f32>(db + (<usize>k << 2), <f32>((p - (k == y ? 1.0 : 0.0)) * invBatch));
      }
    }
  }
  return total;
}

// ---------------------------------------------------------------------------------------------
// Training.

export class TrainArgs {
  shape: MlpShape = new MlpShape(0, 0, 0, 0);
  mode: u32 = MODE_FULL;
  lr: f32 = 0;
  alpha: f32 = 0;
  weightDecay: f32 = 0;
  steps: u32 = 0;
  batch: u32 = 0;
  seed: u32 = 0;
  samples: u32 = 0;
  params: usize = 0;
  adapters: usize = 0;
  x: usize = 0;
  y: usize = 0;
}

/**
 * Runs args.steps SGD steps; writes each step's mean minibatch loss (before the update) to `losses` and the delta
 * new − old of the trained vector to `delta`. Inputs must have been validated (lengths, finiteness, labels).
 */
export function train(a: TrainArgs, losses: usize, delta: usize): void {
  const sh = a.shape;
  const d = sh.inputs, h = sh.hidden, c = sh.classes, r = sh.rank, bsz = a.batch;
  const lora = a.mode == MODE_LORA;
  const n = <usize>(lora ? sh.adapterCount : sh.paramCount);
  const nBytes = n << 2;

  workBuf = f32s(workBuf, n);
  gradBuf = f32s(gradBuf, n);
  a1Buf = f32s(a1Buf, <usize>bsz * <usize>h);
  da1Buf = f32s(da1Buf, <usize>bsz * <usize>h);
  z2Buf = f32s(z2Buf, <usize>bsz * <usize>c);
  dz2Buf = f32s(dz2Buf, <usize>bsz * <usize>c);
  permBuf = u32s(permBuf, <usize>a.samples);
  xRowsBuf = u32s(xRowsBuf, <usize>bsz);
  a1RowsBuf = u32s(a1RowsBuf, <usize>bsz);
  labelBuf = u32s(labelBuf, <usize>bsz);
  if (lora) {
    we1Buf = f32s(we1Buf, <usize>h * <usize>d);
    we2Buf = f32s(we2Buf, <usize>c * <usize>h);
    u1Buf = f32s(u1Buf, <usize>bsz * <usize>r);
    v1Buf = f32s(v1Buf, <usize>bsz * <usize>r);
    u2Buf = f32s(u2Buf, <usize>bsz * <usize>r);
    v2Buf = f32s(v2Buf, <usize>bsz * <usize>r);
    coefBuf = f32s(coefBuf, <usize>r);
    u1RowsBuf = u32s(u1RowsBuf, <usize>bsz);
    u2RowsBuf = u32s(u2RowsBuf, <usize>bsz);
  }
  const work = addr(workBuf), grad = addr(gradBuf), a1 = addr(a1Buf), da1 = addr(da1Buf);
  const z2 = addr(z2Buf), dz2 = addr(dz2Buf), perm = addr(permBuf), xRows = addr(xRowsBuf);
  const a1Rows = addr(a1RowsBuf), labels = addr(labelBuf);
  const hBytes = <usize>h << 2, rBytes = <usize>r << 2, cBytes = <usize>c << 2, dBytes = <usize>d << 2;

  memory.copy(work, lora ? a.adapters : a.params, nBytes);
  memory.fill(delta, 0, nBytes);
  for (let b: u32 = 0; b < bsz; b++) store<u32>(a1Rows + (<usize>b << 2), <u32>(a1 + <usize>b * hBytes));
  if (lora) {
    for (let b: u32 = 0; b < bsz; b++) {
      store<u32>(addr(u1RowsBuf) + (<usize>b << 2), <u32>(addr(u1Buf) + <usize>b * rBytes));
      store<u32>(addr(u2RowsBuf) + (<usize>b << 2), <u32>(addr(u2Buf) + <usize>b * rBytes));
    }
  }
  for (let i: u32 = 0; i < a.samples; i++) store<u32>(perm + (<usize>i << 2), i);
  const rng = new Xoshiro128(a.seed);
  rng.shuffleU32(perm, a.samples);
  let pos: u32 = 0;

  const s: f32 = lora ? a.alpha / <f32>r : 0;
  for (let step: u32 = 0; step < a.steps; step++) {
    // the minibatch: the next `batch` entries of the permutation, reshuffled when used up
    for (let b: u32 = 0; b < bsz; b++) {
      if (pos == a.samples) { rng.shuffleU32(perm, a.samples); pos = 0; }
      const idx = load<u32>(perm + (<usize>pos << 2));
      pos++;
      store<u32>(xRows + (<usize>b << 2), <u32>(a.x + <usize>idx * dBytes));
      store<u32>(labels + (<usize>b << 2), load<u32>(a.y + (<usize>idx << 2)));
    }

    // weights seen by this step
    const P = lora ? a.params : work;
    const w1 = P, b1 = P + (sh.offB1 << 2), w2 = P + (sh.offW2 << 2), b2 = P + (sh.offB2 << 2);
    let we1 = w1, we2 = w2;
    if (lora) {
      we1 = addr(we1Buf);
      we2 = addr(we2Buf);
      materialise(we1, w1, work + (sh.offAdB1 << 2), work, s, h, d, r, addr(coefBuf));
      materialise(we2, w2, work + (sh.offAdB2 << 2), work + (sh.offAdA2 << 2), s, c, h, r, addr(coefBuf));
    }

    const total = forward(sh, we1, b1, we2, b2, xRows, labels, bsz, a1, z2, dz2, 0, 0);
    store<f32>(losses + (<usize>step << 2), <f32>(total / <f64>bsz));

    // backward: dz1 = (W2eᵀ dz2) ⊙ [a1 > 0]
    memory.fill(da1, 0, <usize>bsz * hBytes);
    for (let b: u32 = 0; b < bsz; b++) matTVecAdd(da1 + <usize>b * hBytes, we2, dz2 + <usize>b * cBytes, c, h);
    const zero = f32x4.splat(0);
    const total4 = (<usize>bsz * <usize>h) & ~(<usize>3);
    let i: usize = 0;
    for (; i < total4; i += 4) {
      const q = i << 2;
      v128.store(da1 + q, v128.and(v128.load(da1 + q), f32x4.gt(v128.load(a1 + q), zero)));
    }
    for (; i < <usize>bsz * <usize>h; i++) {
      const q = i << 2;
      if (!(load<f32>(a1 + q) > 0)) store<f32>(da1 + q, 0);
    }

    memory.fill(grad, 0, nBytes);
    if (!lora) {
      outerAdd(grad + (sh.offW2 << 2), grad + (sh.offB2 << 2), dz2, c, a1Rows, bsz, h);
      outerAdd(grad, grad + (sh.offB1 << 2), da1, h, xRows, bsz, d);
    } else {
      const A1 = work, B1 = work + (sh.offAdB1 << 2), A2 = work + (sh.offAdA2 << 2), B2 = work + (sh.offAdB2 << 2);
      const gA1 = grad, gB1 = grad + (sh.offAdB1 << 2), gA2 = grad + (sh.offAdA2 << 2), gB2 = grad + (sh.offAdB2 << 2);
      const u1 = addr(u1Buf), v1 = addr(v1Buf), u2 = addr(u2Buf), v2 = addr(v2Buf);
      memory.fill(v1, 0, <usize>bsz * rBytes);
      memory.fill(v2, 0, <usize>bsz * rBytes);
      for (let b: u32 = 0; b < bsz; b++) {
        const bo = <usize>b * rBytes;
        matVec(u2 + bo, A2, 0, a1 + <usize>b * hBytes, r, h);
        matTVecAdd(v2 + bo, B2, dz2 + <usize>b * cBytes, c, r);
        matVec(u1 + bo, A1, 0, <usize>load<u32>(xRows + (<usize>b << 2)), r, d);
        matTVecAdd(v1 + bo, B1, da1 + <usize>b * hBytes, h, r);
      }
      outerAdd(gB2, 0, dz2, c, addr(u2RowsBuf), bsz, r);
      outerAdd(gA2, 0, v2, r, a1Rows, bsz, h);
      outerAdd(gB1, 0, da1, h, addr(u1RowsBuf), bsz, r);
      outerAdd(gA1, 0, v1, r, xRows, bsz, d);
      scaleF32(grad, s, <u32>n);
    }
    if (a.weightDecay != 0) axpyF32(grad, a.weightDecay, work, <u32>n);
    axpyF32(delta, -a.lr, grad, <u32>n);
    axpyF32(work, -a.lr, grad, <u32>n);
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

const EVAL_CHUNK: u32 = 256;

/** Per-sample losses and predictions of the model (adapters = 0: the base model); returns the number correct. */
export function evaluate(
  shape: MlpShape, alpha: f32, params: usize, adapters: usize, x: usize, y: usize, samples: u32,
  losses: usize, predicted: usize,
): u32 {
  const d = shape.inputs, h = shape.hidden, c = shape.classes, r = shape.rank;
  const chunk = min(EVAL_CHUNK, samples);
  a1Buf = f32s(a1Buf, <usize>chunk * <usize>h);
  z2Buf = f32s(z2Buf, <usize>chunk * <usize>c);
  xRowsBuf = u32s(xRowsBuf, <usize>chunk);
  const w1 = params, b1 = params + (shape.offB1 << 2), w2 = params + (shape.offW2 << 2), b2 = params + (shape.offB2 << 2);
  let we1 = w1, we2 = w2;
  if (adapters != 0) {
    we1Buf = f32s(we1Buf, <usize>h * <usize>d);
    we2Buf = f32s(we2Buf, <usize>c * <usize>h);
    coefBuf = f32s(coefBuf, <usize>r);
    we1 = addr(we1Buf);
    we2 = addr(we2Buf);
    const s = alpha / <f32>r;
    materialise(we1, w1, adapters + (shape.offAdB1 << 2), adapters, s, h, d, r, addr(coefBuf));
    materialise(we2, w2, adapters + (shape.offAdB2 << 2), adapters + (shape.offAdA2 << 2), s, c, h, r, addr(coefBuf));
  }
  const a1 = addr(a1Buf), z2 = addr(z2Buf), xRows = addr(xRowsBuf);
  const dBytes = <usize>d << 2;
  let correct: u32 = 0;
  for (let start: u32 = 0; start < samples; start += chunk) {
    const m = min(chunk, samples - start);
    for (let b: u32 = 0; b < m; b++) store<u32>(xRows + (<usize>b << 2), <u32>(x + <usize>(start + b) * dBytes));
    const off = <usize>start << 2;
    forward(shape, we1, b1, we2, b2, xRows, y + off, m, a1, z2, 0, losses + off, predicted + off);
    for (let b: u32 = 0; b < m; b++) {
      const q = off + (<usize>b << 2);
      if (load<u32>(predicted + q) == load<u32>(y + q)) correct++;
    }
  }
  return correct;
}
