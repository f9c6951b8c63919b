// __NAME__: a trainer plugin (capability `trainer`), scaffolded by `x0t plugin new`.
// It starts as the plainest correct trainer: the contract's MLP (inputs → hidden ReLU → classes softmax), trained
// by minibatch SGD with scalar loops, mode full only (features = 1 | 4: no LoRA, weight decay supported). Make it
// yours — SIMD kernels (see sdk/as/nn/dense.ts), LoRA (sdk/as/nn/mlp.ts, plugins/mlp-lora), another optimiser —
// then `x0t plugin build __NAME__` and `x0t plugin test manifests/plugins/__NAME__.json` (the trainer conformance kit).
//
// Requests are views of the input bytes: `req.params`, `req.x`, `req.y`, ... are addresses of f32/u32 arrays in
// this module's memory (no copies); read them with load<f32>() / load<u32>() and write the result frame.

import {
  Bytes, EvaluateRequest, EvaluateResult, F32Vector, OutputWriter, STATUS_BAD_INPUT, STATUS_INTERNAL, STATUS_OK,
  STATUS_UNSUPPORTED, TrainRequest, TrainResult, TrainerInfo, TrainerInit, registerTrainer,
} from "__SDK__";
import { Xoshiro128 } from "__SDK__/nn/prng";
export * from "__SDK__/generated/exports-trainer";

const MAX_INPUTS: u32 = 4096;
const MAX_HIDDEN: u32 = 1024;
const MAX_CLASSES: u32 = 256;
const MAX_BATCH: u32 = 1024;
const MAX_SAMPLES: u32 = 1 << 20;

@inline function f(p: usize, i: usize): f32 { return load<f32>(p + (i << 2)); }
@inline function setF(p: usize, i: usize, v: f32): void { store<f32>(p + (i << 2), v); }

function paramCount(d: u32, h: u32, c: u32): u64 { return <u64>h * <u64>d + <u64>h + <u64>c * <u64>h + <u64>c; }

function shapeError(d: u32, h: u32, c: u32): string | null {
  if (d < 1 || d > MAX_INPUTS || h < 1 || h > MAX_HIDDEN || c < 2 || c > MAX_CLASSES) {
    return "architecture out of range (1 <= inputs <= " + MAX_INPUTS.toString() + ", 1 <= hidden <= " + MAX_HIDDEN.toString()
      + ", 2 <= classes <= " + MAX_CLASSES.toString() + ")";
  }
  return null;
}

function allFinite(p: usize, n: usize): bool {
  for (let i: usize = 0; i < n; i++) if (!isFinite(f(p, i))) return false;
  return true;
}

function dataError(d: u32, c: u32, paramsLen: u32, params: usize, expected: u64, samples: u32, x: usize, y: usize): string | null {
  if (<u64>paramsLen != expected) return "paramsLen does not match the architecture";
  if (samples < 1 || samples > MAX_SAMPLES) return "samples out of range";
  if (!allFinite(params, <usize>paramsLen)) return "params contain a non-finite value";
  if (!allFinite(x, <usize>samples * <usize>d)) return "x contains a non-finite value";
  for (let i: u32 = 0; i < samples; i++) if (load<u32>(y + (<usize>i << 2)) >= c) return "a label is not below classes";
  return null;
}

function trainerInfo(_input: Bytes, out: OutputWriter): i32 {
  if (!TrainerInfo.writeInto(new TrainerInfo(), out, MAX_INPUTS, MAX_HIDDEN, MAX_CLASSES, 0, MAX_BATCH, MAX_SAMPLES, 1 | 4)) {
    return out.fail(STATUS_INTERNAL, "output does not fit in memory");
  }
  return STATUS_OK;
}

function initParams(req: TrainerInit, out: OutputWriter): i32 {
  const d = req.inputs, h = req.hidden, c = req.classes;
  const bad = shapeError(d, h, c);
  if (bad !== null) return out.fail(STATUS_BAD_INPUT, "init_params: " + bad);
  const res = F32Vector.write(out, <u32>paramCount(d, h, c));
  if (res === null) return out.fail(STATUS_INTERNAL, "init_params: output does not fit in memory");
  const p = res.values;
  const rng = new Xoshiro128(req.seed);
  memory.fill(p, 0, <usize>res.len << 2);
  const w1 = <usize>h * <usize>d;
  for (let i: usize = 0; i < w1; i++) setF(p, i, <f32>(rng.normal() * Math.sqrt(2.0 / <f64>d)));
  const w2 = w1 + <usize>h;
  for (let i: usize = 0; i < <usize>c * <usize>h; i++) setF(p, w2 + i, <f32>(rng.normal() * Math.sqrt(2.0 / <f64>(h + c))));
  return STATUS_OK;
}

function initAdapters(_req: TrainerInit, out: OutputWriter): i32 {
  return out.fail(STATUS_UNSUPPORTED, "init_adapters: this trainer has no LoRA mode");
}

// Scratch, grown on demand: hidden activations and output gradients of one sample, the gradient, the order.
let hid = new StaticArray<f32>(0);
let dz = new StaticArray<f32>(0);
let dh = new StaticArray<f32>(0);
let grad = new StaticArray<f32>(0);
let work = new StaticArray<f32>(0);
let order = new StaticArray<u32>(0);

/** Loss of sample `s`; fills hid (post-ReLU) and, scaled by `g`, dz = g·(softmax − onehot). Weights at `p`. */
function sampleForward(p: usize, d: u32, h: u32, c: u32, xs: usize, label: u32, g: f64): f64 {
  const b1 = <usize>h * <usize>d, w2 = b1 + <usize>h, b2 = w2 + <usize>c * <usize>h;
  const hp = changetype<usize>(hid), zp = changetype<usize>(dz);
  for (let o: u32 = 0; o < h; o++) {
    let acc = f(p, b1 + o);
    for (let i: u32 = 0; i < d; i++) acc += f(p, <usize>o * <usize>d + i) * f(xs, i);
    setF(hp, o, max<f32>(acc, 0));
  }
  let m = -Infinity;
  for (let k: u32 = 0; k < c; k++) {
    let acc = f(p, b2 + k);
    for (let o: u32 = 0; o < h; o++) acc += f(p, w2 + <usize>k * <usize>h + o) * f(hp, o);
    setF(zp, k, acc);
    m = max<f64>(m, <f64>acc);
  }
  let se: f64 = 0;
  for (let k: u32 = 0; k < c; k++) se += Math.exp(<f64>f(zp, k) - m);
  const lse = m + Math.log(se);
  const loss = lse - <f64>f(zp, label);
  for (let k: u32 = 0; k < c; k++) setF(zp, k, <f32>((Math.exp(<f64>f(zp, k) - lse) - (k == label ? 1.0 : 0.0)) * g));
  return loss;
}

function train(req: TrainRequest, out: OutputWriter): i32 {
  if (req.mode != 0) return out.fail(STATUS_UNSUPPORTED, "train: this trainer supports mode full (0) only");
  const d = req.inputs, h = req.hidden, c = req.classes;
  const bad = shapeError(d, h, c);
  if (bad !== null) return out.fail(STATUS_BAD_INPUT, "train: " + bad);
  if (req.adaptersLen != 0) return out.fail(STATUS_BAD_INPUT, "train: mode full takes no adapters");
  if (req.hyperLen != 3) return out.fail(STATUS_BAD_INPUT, "train: hyper must be [lr, alpha, weightDecay]");
  const lr = f(req.hyper, 0), wd = f(req.hyper, 2);
  if (!isFinite(lr) || lr < 0 || !isFinite(wd) || wd < 0) return out.fail(STATUS_BAD_INPUT, "train: lr and weightDecay must be finite and >= 0");
  if (req.steps < 1 || req.steps > (1 << 24)) return out.fail(STATUS_BAD_INPUT, "train: steps out of range");
  if (req.batch < 1 || req.batch > MAX_BATCH || req.batch > req.samples) return out.fail(STATUS_BAD_INPUT, "train: batch must be 1..samples");
  const n = paramCount(d, h, c);
  const why = dataError(d, c, req.paramsLen, req.params, n, req.samples, req.x, req.y);
  if (why !== null) return out.fail(STATUS_BAD_INPUT, "train: " + why);

  const res = TrainResult.write(out, req.steps, <u32>n);
  if (res === null) return out.fail(STATUS_INTERNAL, "train: output does not fit in memory");
  const count = <usize>n;
  if (<usize>work.length < count) { work = new StaticArray<f32>(<i32>count); grad = new StaticArray<f32>(<i32>count); }
  if (<u32>hid.length < h) { hid = new StaticArray<f32>(<i32>h); dh = new StaticArray<f32>(<i32>h); }
  if (<u32>dz.length < c) dz = new StaticArray<f32>(<i32>c);
  if (<u32>order.length < req.samples) order = new StaticArray<u32>(<i32>req.samples);
  const wp = changetype<usize>(work), gp = changetype<usize>(grad), hp = changetype<usize>(hid);
  const zp = changetype<usize>(dz), dhp = changetype<usize>(dh), op = changetype<usize>(order);
  memory.copy(wp, req.params, count << 2);
  memory.fill(res.delta, 0, count << 2);
  const b1 = <usize>h * <usize>d, w2 = b1 + <usize>h, b2 = w2 + <usize>c * <usize>h;

  // minibatches in the order of a seeded permutation, reshuffled when used up (as the contract describes)
  for (let i: u32 = 0; i < req.samples; i++) store<u32>(op + (<usize>i << 2), i);
  const rng = new Xoshiro128(req.seed);
  rng.shuffleU32(op, req.samples);
  let pos: u32 = 0;
  for (let step: u32 = 0; step < req.steps; step++) {
    memory.fill(gp, 0, count << 2);
    let total: f64 = 0;
    for (let b: u32 = 0; b < req.batch; b++) {
      if (pos == req.samples) { rng.shuffleU32(op, req.samples); pos = 0; }
      const s = load<u32>(op + (<usize>pos << 2));
      pos++;
      const xs = req.x + <usize>s * (<usize>d << 2);
      total += sampleForward(wp, d, h, c, xs, load<u32>(req.y + (<usize>s << 2)), 1.0 / <f64>req.batch);
      for (let o: u32 = 0; o < h; o++) {
        let acc: f32 = 0;
        for (let k: u32 = 0; k < c; k++) acc += f(zp, k) * f(wp, w2 + <usize>k * <usize>h + o);
        setF(dhp, o, f(hp, o) > 0 ? acc : 0);
      }
      for (let k: u32 = 0; k < c; k++) {
        setF(gp, b2 + k, f(gp, b2 + k) + f(zp, k));
        for (let o: u32 = 0; o < h; o++) setF(gp, w2 + <usize>k * <usize>h + o, f(gp, w2 + <usize>k * <usize>h + o) + f(zp, k) * f(hp, o));
      }
      for (let o: u32 = 0; o < h; o++) {
        const g = f(dhp, o);
        if (g == 0) continue;
        setF(gp, b1 + o, f(gp, b1 + o) + g);
        for (let i: u32 = 0; i < d; i++) setF(gp, <usize>o * <usize>d + i, f(gp, <usize>o * <usize>d + i) + g * f(xs, i));
      }
    }
    setF(res.losses, step, <f32>(total / <f64>req.batch));
    for (let i: usize = 0; i < count; i++) {
      const g = f(gp, i) + wd * f(wp, i);
      setF(res.delta, i, f(res.delta, i) - lr * g);
      setF(wp, i, f(wp, i) - lr * g);
    }
  }
  return STATUS_OK;
}

function evaluate(req: EvaluateRequest, out: OutputWriter): i32 {
  const d = req.inputs, h = req.hidden, c = req.classes;
  const bad = shapeError(d, h, c);
  if (bad !== null) return out.fail(STATUS_BAD_INPUT, "evaluate: " + bad);
  if (req.adaptersLen != 0) return out.fail(STATUS_UNSUPPORTED, "evaluate: this trainer has no LoRA mode");
  const why = dataError(d, c, req.paramsLen, req.params, paramCount(d, h, c), req.samples, req.x, req.y);
  if (why !== null) return out.fail(STATUS_BAD_INPUT, "evaluate: " + why);
  if (<u32>hid.length < h) { hid = new StaticArray<f32>(<i32>h); dh = new StaticArray<f32>(<i32>h); }
  if (<u32>dz.length < c) dz = new StaticArray<f32>(<i32>c);
  const res = EvaluateResult.write(out, req.samples, 0);
  if (res === null) return out.fail(STATUS_INTERNAL, "evaluate: output does not fit in memory");
  let correct: u32 = 0;
  const zp = changetype<usize>(dz);
  for (let s: u32 = 0; s < req.samples; s++) {
    const label = load<u32>(req.y + (<usize>s << 2));
    const loss = sampleForward(req.params, d, h, c, req.x + <usize>s * (<usize>d << 2), label, 1.0);
    // dz now holds softmax − onehot: its argmax after adding back the one-hot is the prediction
    let arg: u32 = 0;
    let best = f(zp, 0) + (label == 0 ? <f32>1 : <f32>0);
    for (let k: u32 = 1; k < c; k++) {
      const p = f(zp, k) + (k == label ? <f32>1 : <f32>0);
      if (p > best) { best = p; arg = k; }
    }
    setF(res.losses, s, <f32>loss);
    store<u32>(res.predicted + (<usize>s << 2), arg);
    if (arg == label) correct++;
  }
  store<u32>(out.ptr, correct, 8); // header field `correct`
  return STATUS_OK;
}

registerTrainer(trainerInfo, initParams, initAdapters, train, evaluate);
