// mlp-lora: the `trainer` capability for an MLP classifier inputs → hidden (ReLU) → classes (softmax cross-entropy)
// whose two dense layers can carry LoRA adapters (rank r, scale α/r). Mode full trains the parameters, mode lora
// freezes them and trains the adapters; federated rounds can then exchange only the adapters. The architecture
// comes with every request, so one plugin serves any size within trainer_info's limits.
//
// This file checks every request (lengths against the architecture, limits, finiteness, labels) and writes the
// result frames; the math is in sdk/as/nn (mlp.ts: forward/backward/LoRA, dense.ts: f32x4 kernels, prng.ts: the
// seeded xoshiro128** the contract names for minibatch order and initialisation).

import {
  Bytes, EvaluateRequest, EvaluateResult, F32Vector, OutputWriter, STATUS_BAD_INPUT, STATUS_INTERNAL, STATUS_OK,
  TrainRequest, TrainResult, TrainerInfo, TrainerInit, registerTrainer,
} from "../../sdk/as";
import { allFinite } from "../../sdk/as/nn/dense";
import { MODE_FULL, MODE_LORA, MlpShape, TrainArgs, evaluate, initAdapters, initParams, scratchBytes, train } from "../../sdk/as/nn/mlp";
export * from "../../sdk/as/generated/exports-trainer";

const MAX_INPUTS: u32 = 65536;
const MAX_HIDDEN: u32 = 4096;
const MAX_CLASSES: u32 = 4096;
const MAX_RANK: u32 = 256;
const MAX_BATCH: u32 = 8192;
const MAX_SAMPLES: u32 = 1 << 22;
const MAX_STEPS: u32 = 1 << 24;
/** Largest parameter or adapter vector (f32 count), and the scratch a call may take: the manifest allows 128 MiB. */
const MAX_VECTOR: u64 = 1 << 24;
const MAX_SCRATCH: u64 = 64 << 20;
const FEATURES: u32 = 1 | 2 | 4 | 8; // full, lora, weight decay, SIMD

function trainerInfo(_input: Bytes, out: OutputWriter): i32 {
  if (!TrainerInfo.writeInto(new TrainerInfo(), out, MAX_INPUTS, MAX_HIDDEN, MAX_CLASSES, MAX_RANK, MAX_BATCH, MAX_SAMPLES, FEATURES)) {
    return out.fail(STATUS_INTERNAL, "trainer_info: output does not fit in memory");
  }
  return STATUS_OK;
}

/** Why the architecture is refused, or null. `needRank`: the request uses adapters. */
function checkShape(fn: string, inputs: u32, hidden: u32, classes: u32, rank: u32, needRank: bool): string | null {
  if (inputs < 1 || inputs > MAX_INPUTS) return fn + ": inputs must be 1.." + MAX_INPUTS.toString() + ", got " + inputs.toString();
  if (hidden < 1 || hidden > MAX_HIDDEN) return fn + ": hidden must be 1.." + MAX_HIDDEN.toString() + ", got " + hidden.toString();
  if (classes < 2 || classes > MAX_CLASSES) return fn + ": classes must be 2.." + MAX_CLASSES.toString() + ", got " + classes.toString();
  if (rank > MAX_RANK) return fn + ": rank must be at most " + MAX_RANK.toString() + ", got " + rank.toString();
  if (needRank && rank < 1) return fn + ": rank must be at least 1 when adapters are used";
  const shape = new MlpShape(inputs, hidden, classes, rank);
  if (shape.paramCount > MAX_VECTOR) return fn + ": the model has more than " + MAX_VECTOR.toString() + " parameters";
  if (shape.adapterCount > MAX_VECTOR) return fn + ": the adapters have more than " + MAX_VECTOR.toString() + " values";
  return null;
}

function initParamsImpl(req: TrainerInit, out: OutputWriter): i32 {
  const bad = checkShape("init_params", req.inputs, req.hidden, req.classes, 0, false);
  if (bad !== null) return out.fail(STATUS_BAD_INPUT, bad);
  const shape = new MlpShape(req.inputs, req.hidden, req.classes, 0);
  const res = F32Vector.write(out, <u32>shape.paramCount);
  if (res === null) return out.fail(STATUS_INTERNAL, "init_params: output does not fit in memory");
  initParams(shape, req.seed, res.values);
  return STATUS_OK;
}

function initAdaptersImpl(req: TrainerInit, out: OutputWriter): i32 {
  const bad = checkShape("init_adapters", req.inputs, req.hidden, req.classes, req.rank, true);
  if (bad !== null) return out.fail(STATUS_BAD_INPUT, bad);
  const shape = new MlpShape(req.inputs, req.hidden, req.classes, req.rank);
  const res = F32Vector.write(out, <u32>shape.adapterCount);
  if (res === null) return out.fail(STATUS_INTERNAL, "init_adapters: output does not fit in memory");
  initAdapters(shape, req.seed, res.values);
  return STATUS_OK;
}

/** Why the model vectors and samples are refused, or null: shared by train and evaluate. */
function checkData(
  fn: string, shape: MlpShape, paramsLen: u32, params: usize, adaptersLen: u32, adapters: usize, adaptersUsed: bool,
  samples: u32, x: usize, y: usize,
): string | null {
  if (<u64>paramsLen != shape.paramCount) {
    return fn + ": paramsLen is " + paramsLen.toString() + " but the architecture has " + shape.paramCount.toString() + " parameters";
  }
  if (adaptersUsed && <u64>adaptersLen != shape.adapterCount) {
    return fn + ": adaptersLen is " + adaptersLen.toString() + " but rank " + shape.rank.toString() + " needs " + shape.adapterCount.toString();
  }
  if (samples < 1 || samples > MAX_SAMPLES) return fn + ": samples must be 1.." + MAX_SAMPLES.toString() + ", got " + samples.toString();
  if (!allFinite(params, <usize>paramsLen)) return fn + ": params contain a non-finite value";
  if (adaptersUsed && !allFinite(adapters, <usize>adaptersLen)) return fn + ": adapters contain a non-finite value";
  if (!allFinite(x, <usize>samples * <usize>shape.inputs)) return fn + ": x contains a non-finite value";
  for (let i: u32 = 0; i < samples; i++) {
    const label = load<u32>(y + (<usize>i << 2));
    if (label >= shape.classes) return fn + ": label y[" + i.toString() + "] = " + label.toString() + " is not below classes = " + shape.classes.toString();
  }
  return null;
}

const args = new TrainArgs();

function trainImpl(req: TrainRequest, out: OutputWriter): i32 {
  if (req.mode != MODE_FULL && req.mode != MODE_LORA) return out.fail(STATUS_BAD_INPUT, "train: mode must be 0 (full) or 1 (lora), got " + req.mode.toString());
  const lora = req.mode == MODE_LORA;
  const badShape = checkShape("train", req.inputs, req.hidden, req.classes, req.rank, lora);
  if (badShape !== null) return out.fail(STATUS_BAD_INPUT, badShape);
  if (!lora && req.adaptersLen != 0) return out.fail(STATUS_BAD_INPUT, "train: mode full takes no adapters (adaptersLen must be 0)");
  if (req.hyperLen != 3) return out.fail(STATUS_BAD_INPUT, "train: hyper must be [lr, alpha, weightDecay] (hyperLen 3), got hyperLen " + req.hyperLen.toString());
  const lr = load<f32>(req.hyper), alpha = load<f32>(req.hyper, 4), wd = load<f32>(req.hyper, 8);
  if (!isFinite(lr) || lr < 0) return out.fail(STATUS_BAD_INPUT, "train: lr must be finite and >= 0");
  if (!isFinite(alpha)) return out.fail(STATUS_BAD_INPUT, "train: alpha must be finite");
  if (!isFinite(wd) || wd < 0) return out.fail(STATUS_BAD_INPUT, "train: weightDecay must be finite and >= 0");
  if (req.steps < 1 || req.steps > MAX_STEPS) return out.fail(STATUS_BAD_INPUT, "train: steps must be 1.." + MAX_STEPS.toString() + ", got " + req.steps.toString());
  if (req.batch < 1 || req.batch > MAX_BATCH || req.batch > req.samples) {
    return out.fail(STATUS_BAD_INPUT, "train: batch must be 1..min(samples, " + MAX_BATCH.toString() + "), got " + req.batch.toString());
  }
  const shape = new MlpShape(req.inputs, req.hidden, req.classes, lora ? req.rank : 0);
  const badData = checkData("train", shape, req.paramsLen, req.params, req.adaptersLen, req.adapters, lora, req.samples, req.x, req.y);
  if (badData !== null) return out.fail(STATUS_BAD_INPUT, badData);
  if (scratchBytes(shape, req.mode, req.batch, req.samples) > MAX_SCRATCH) {
    return out.fail(STATUS_BAD_INPUT, "train: model and batch need more than " + (MAX_SCRATCH >> 20).toString() + " MiB of scratch");
  }

  const trained = lora ? <u32>shape.adapterCount : <u32>shape.paramCount;
  const res = TrainResult.write(out, req.steps, trained);
  if (res === null) return out.fail(STATUS_INTERNAL, "train: output does not fit in memory");
  args.shape = shape;
  args.mode = req.mode;
  args.lr = lr;
  args.alpha = alpha;
  args.weightDecay = wd;
  args.steps = req.steps;
  args.batch = req.batch;
  args.seed = req.seed;
  args.samples = req.samples;
  args.params = req.params;
  args.adapters = req.adapters;
  args.x = req.x;
  args.y = req.y;
  train(args, res.losses, res.delta);
  return STATUS_OK;
}

function evaluateImpl(req: EvaluateRequest, out: OutputWriter): i32 {
  const withAdapters = req.adaptersLen != 0;
  const badShape = checkShape("evaluate", req.inputs, req.hidden, req.classes, req.rank, withAdapters);
  if (badShape !== null) return out.fail(STATUS_BAD_INPUT, badShape);
  if (req.hyperLen != 1) return out.fail(STATUS_BAD_INPUT, "evaluate: hyper must be [alpha] (hyperLen 1), got hyperLen " + req.hyperLen.toString());
  const alpha = load<f32>(req.hyper);
  if (!isFinite(alpha)) return out.fail(STATUS_BAD_INPUT, "evaluate: alpha must be finite");
  const shape = new MlpShape(req.inputs, req.hidden, req.classes, withAdapters ? req.rank : 0);
  const badData = checkData("evaluate", shape, req.paramsLen, req.params, req.adaptersLen, req.adapters, withAdapters, req.samples, req.x, req.y);
  if (badData !== null) return out.fail(STATUS_BAD_INPUT, badData);
  if (scratchBytes(shape, withAdapters ? MODE_LORA : MODE_FULL, min<u32>(256, req.samples), 0) > MAX_SCRATCH) {
    return out.fail(STATUS_BAD_INPUT, "evaluate: model needs more than " + (MAX_SCRATCH >> 20).toString() + " MiB of scratch");
  }
  const res = EvaluateResult.write(out, req.samples, 0);
  if (res === null) return out.fail(STATUS_INTERNAL, "evaluate: output does not fit in memory");
  const correct = evaluate(shape, alpha, req.params, withAdapters ? req.adapters : 0, req.x, req.y, req.samples, res.losses, res.predicted);
  store<u32>(out.ptr, correct, 8); // header field `correct` (after magic and count)
  res.correct = correct;
  return STATUS_OK;
}

registerTrainer(trainerInfo, initParamsImpl, initAdaptersImpl, trainImpl, evaluateImpl);
