// A `trainer` plugin (e.g. mlp-lora) behind typed calls: architectures, hyperparameters and data in, Float32Array
// deltas and evaluations out. `call` is a Slot's or an instance's call, so the same adapter works in-thread, in a
// worker, or through a hot-swapping slot. The plugin checks every length, label and number itself (its refusals
// arrive as PluginReportedError, code X0T_PLUGIN_ERROR); the frame codecs refuse sections whose length does not
// match the header (CodecError), e.g. an x that is not samples × inputs.
import { TrainerClient } from '../../sdk/abi/generated/clients.js';
import type { TrainerInfo } from '../../sdk/abi/generated/contract.js';

export type PluginCall = (fn: string, input: Uint8Array) => Promise<Uint8Array>;

/** inputs → hidden (ReLU) → classes; `rank` is the LoRA rank (0 or absent: no adapters). */
export interface MlpArchitecture {
  readonly inputs: number;
  readonly hidden: number;
  readonly classes: number;
  readonly rank?: number;
}

/** Number of f32 in the params vector (W1 [hidden×inputs], b1, W2 [classes×hidden], b2). */
export function paramCount(a: MlpArchitecture): number {
  return a.hidden * a.inputs + a.hidden + a.classes * a.hidden + a.classes;
}

/** Number of f32 in the adapters vector (A1 [r×inputs], B1 [hidden×r], A2 [r×hidden], B2 [classes×r]). */
export function adapterCount(a: MlpArchitecture): number {
  const r = a.rank ?? 0;
  return r * (a.inputs + 2 * a.hidden + a.classes);
}

export const TRAINER_FEATURES = { full: 1, lora: 2, weightDecay: 4, simd: 8 } as const;

export interface TrainerLimits {
  readonly maxInputs: number;
  readonly maxHidden: number;
  readonly maxClasses: number;
  readonly maxRank: number;
  readonly maxBatch: number;
  readonly maxSamples: number;
  readonly features: { readonly full: boolean; readonly lora: boolean; readonly weightDecay: boolean; readonly simd: boolean };
}

export type TrainMode = 'full' | 'lora';

export interface TrainOptions {
  readonly arch: MlpArchitecture;
  readonly mode: TrainMode;
  readonly lr: number;
  /** LoRA scale numerator (effective W + (alpha/rank)·B·A); needed in mode lora. */
  readonly alpha?: number;
  readonly weightDecay?: number;
  readonly steps: number;
  readonly batch: number;
  readonly seed: number;
  readonly params: Float32Array;
  /** Required in mode lora; must be absent (or empty) in mode full, where the plugin refuses them. */
  readonly adapters?: Float32Array;
  /** samples × inputs, row-major. */
  readonly x: Float32Array;
  /** One class index per sample. */
  readonly y: Uint32Array;
}

export interface TrainOutcome {
  /** new − old of the trained vector: params in mode full, adapters in mode lora. */
  readonly delta: Float32Array;
  /** Mean minibatch loss of each step, before its update. */
  readonly stepLosses: Float32Array;
  /** Mean of stepLosses (f64). */
  readonly meanLoss: number;
}

export interface EvaluateOptions {
  readonly arch: MlpArchitecture;
  readonly params: Float32Array;
  /** Absent or empty: the base model. */
  readonly adapters?: Float32Array;
  readonly alpha?: number;
  readonly x: Float32Array;
  readonly y: Uint32Array;
}

export interface Evaluation {
  /** Mean cross-entropy (f64 mean of the per-sample losses). */
  readonly loss: number;
  readonly correct: number;
  readonly count: number;
  readonly accuracy: number;
  readonly losses: Float32Array;
  readonly predicted: Uint32Array;
}

const EMPTY_F32 = new Float32Array(0);

function limitsOf(i: TrainerInfo): TrainerLimits {
  return Object.freeze({
    maxInputs: i.maxInputs,
    maxHidden: i.maxHidden,
    maxClasses: i.maxClasses,
    maxRank: i.maxRank,
    maxBatch: i.maxBatch,
    maxSamples: i.maxSamples,
    features: Object.freeze({
      full: (i.features & TRAINER_FEATURES.full) !== 0,
      lora: (i.features & TRAINER_FEATURES.lora) !== 0,
      weightDecay: (i.features & TRAINER_FEATURES.weightDecay) !== 0,
      simd: (i.features & TRAINER_FEATURES.simd) !== 0,
    }),
  });
}

function mean(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x;
  return v.length === 0 ? NaN : s / v.length;
}

export class PluginTrainer {
  readonly #client: TrainerClient;
  #limits: TrainerLimits | null = null;

  constructor(call: PluginCall) {
    this.#client = new TrainerClient(call);
  }

  /** A trainer whose limits have been read once. */
  static async open(call: PluginCall): Promise<PluginTrainer> {
    const t = new PluginTrainer(call);
    await t.info();
    return t;
  }

  /** The plugin's limits and features (asked once, then cached). */
  async info(): Promise<TrainerLimits> {
    this.#limits ??= limitsOf(await this.#client.trainerInfo(new Uint8Array(0)));
    return this.#limits;
  }

  /** Initial parameters for `arch` from `seed` (deterministic). */
  async init(arch: MlpArchitecture, seed: number): Promise<Float32Array> {
    const v = await this.#client.initParams({ inputs: arch.inputs, hidden: arch.hidden, classes: arch.classes, rank: arch.rank ?? 0, seed: seed >>> 0 });
    return v.values.slice();
  }

  /** Initial LoRA adapters (A random, B zero) for `arch` (rank ≥ 1) from `seed`. */
  async initAdapters(arch: MlpArchitecture, seed: number): Promise<Float32Array> {
    const v = await this.#client.initAdapters({ inputs: arch.inputs, hidden: arch.hidden, classes: arch.classes, rank: arch.rank ?? 0, seed: seed >>> 0 });
    return v.values.slice();
  }

  async train(o: TrainOptions): Promise<TrainOutcome> {
    const adapters = o.adapters ?? EMPTY_F32; // in mode full the plugin refuses adapters rather than ignore them
    const hyper = Float32Array.of(o.lr, o.alpha ?? 0, o.weightDecay ?? 0);
    const r = await this.#client.train({
      inputs: o.arch.inputs, hidden: o.arch.hidden, classes: o.arch.classes, rank: o.arch.rank ?? 0,
      mode: o.mode === 'lora' ? 1 : 0, steps: o.steps, batch: o.batch, seed: o.seed >>> 0, samples: o.y.length,
      hyperLen: hyper.length, paramsLen: o.params.length, adaptersLen: adapters.length,
      hyper, params: o.params, adapters, x: o.x, y: o.y,
    });
    const stepLosses = r.losses.slice();
    return { delta: r.delta.slice(), stepLosses, meanLoss: mean(stepLosses) };
  }

  async evaluate(o: EvaluateOptions): Promise<Evaluation> {
    const adapters = o.adapters ?? EMPTY_F32;
    const hyper = Float32Array.of(o.alpha ?? 0);
    const r = await this.#client.evaluate({
      inputs: o.arch.inputs, hidden: o.arch.hidden, classes: o.arch.classes, rank: adapters.length === 0 ? 0 : (o.arch.rank ?? 0),
      samples: o.y.length, hyperLen: 1, paramsLen: o.params.length, adaptersLen: adapters.length,
      hyper, params: o.params, adapters, x: o.x, y: o.y,
    });
    const losses = r.losses.slice();
    return {
      loss: mean(losses), correct: r.correct, count: r.count, accuracy: r.count === 0 ? 0 : r.correct / r.count,
      losses, predicted: r.predicted.slice(),
    };
  }
}
