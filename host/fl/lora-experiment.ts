// LoRA vs full-weight federated fine-tuning (issue 4, item 5): how many bytes each client sends per round and what
// test accuracy the global model reaches, exchanging (a) the full weights' update or (b) only LoRA adapters.
//
//   1. pretrain a base MLP centrally on a "public" subset (by default only digits 0–4), plain SGD;
//   2. split the training digits (all classes) over K clients (iid, dirichlet or sorted; data-partition.ts);
//   3. for R rounds every client starts from the global vector, trains locally (SGD, `localSteps` minibatches) and
//      sends its delta; the server adds the sample-weighted mean of the deltas (FedAvg of what is exchanged).
//      Mode full exchanges the params delta (4·P bytes); mode lora keeps the base frozen everywhere and exchanges
//      the adapters' delta (4·r·(D + 2H + C) bytes).
//
// Averaging A and B separately (FedIT-style) is not averaging the clients' low-rank products: mean(B_i)·mean(A_i)
// ≠ mean(B_i·A_i), the cross terms are missing, so the global adapter is not the FedAvg of the clients' effective
// updates (FFA-LoRA avoids this by freezing A; exact schemes send the products). The gap shrinks when clients
// start each round from the same A and take small steps, as here, but it is an approximation.
//
// Pure apart from the trainer calls: data, seeds and sizes in, a result table out; nothing is printed or written.
import type { Dataset } from './mnist.js';
import { partition, type PartitionName } from './data-partition.js';
import { MalformedOutputError } from '../errors/index.js';
import { SeededRandom } from './seeded-random.js';
import { adapterCount, paramCount, type MlpArchitecture, type PluginTrainer } from './trainer.js';

export interface LoraVariant {
  readonly name: string;
  readonly mode: 'full' | 'lora';
  /** LoRA rank and α (mode lora). */
  readonly rank?: number;
  readonly alpha?: number;
}

export const DEFAULT_LORA_VARIANTS: readonly LoraVariant[] = [
  { name: 'full weights', mode: 'full' },
  { name: 'LoRA r=4 α=8', mode: 'lora', rank: 4, alpha: 8 },
  { name: 'LoRA r=8 α=16', mode: 'lora', rank: 8, alpha: 16 },
];

export interface LoraExperimentOptions {
  readonly trainer: PluginTrainer;
  readonly train: Dataset;
  readonly test: Dataset;
  readonly inputs: number;
  readonly classes: number;
  readonly hidden: number;
  /** Labels the central pretraining sees (the "public" data). */
  readonly publicLabels: readonly number[];
  readonly pretrain: { readonly epochs: number; readonly lr: number; readonly batch: number };
  readonly clients: number;
  readonly rounds: number;
  readonly split: PartitionName;
  readonly localSteps: number;
  readonly localBatch: number;
  /** Local learning rate per variant mode (LoRA usually wants a larger one). */
  readonly lr: { readonly full: number; readonly lora: number };
  readonly variants?: readonly LoraVariant[];
  readonly seed: number;
}

export interface LoraRound {
  readonly round: number;
  /** Exact size of the f32 vector each client sent this round. */
  readonly bytesPerClient: number;
  /** All clients together. */
  readonly bytesTotal: number;
  readonly testAccuracy: number;
  readonly testLoss: number;
  /** Mean of the clients' local training losses this round. */
  readonly trainLoss: number;
}

export interface LoraVariantResult {
  readonly variant: LoraVariant;
  readonly trainedValues: number;
  readonly rounds: readonly LoraRound[];
}

export interface LoraExperimentResult {
  readonly arch: MlpArchitecture;
  readonly publicSamples: number;
  /** The pretrained base on the whole test set (round 0 of every variant). */
  readonly baseAccuracy: number;
  readonly variants: readonly LoraVariantResult[];
}

function subset(d: Dataset, rows: readonly number[], inputs: number): Dataset {
  const x = new Float32Array(rows.length * inputs);
  const y = new Uint32Array(rows.length);
  rows.forEach((r, i) => {
    x.set(d.x.subarray(r * inputs, (r + 1) * inputs), i * inputs);
    y[i] = d.y[r]!;
  });
  return { count: rows.length, x, y };
}

/** Adds Σ_i w_i·delta_i / Σ w_i into `into` (f64 accumulation). */
function addWeightedMean(into: Float32Array, deltas: readonly Float32Array[], weights: readonly number[]): void {
  const total = weights.reduce((a, b) => a + b, 0);
  const acc = new Float64Array(into.length);
  deltas.forEach((d, c) => {
    const w = weights[c]! / total;
    for (let i = 0; i < acc.length; i++) acc[i]! += w * d[i]!;
  });
  for (let i = 0; i < into.length; i++) into[i] = into[i]! + acc[i]!;
}

export async function runLoraExperiment(o: LoraExperimentOptions): Promise<LoraExperimentResult> {
  const t = o.trainer;
  const base: MlpArchitecture = { inputs: o.inputs, hidden: o.hidden, classes: o.classes };
  const publicRows: number[] = [];
  for (let i = 0; i < o.train.count; i++) if (o.publicLabels.includes(o.train.y[i]!)) publicRows.push(i);
  const pub = subset(o.train, publicRows, o.inputs);

  const params0 = await t.init(base, o.seed);
  const steps = Math.max(1, Math.ceil((o.pretrain.epochs * pub.count) / o.pretrain.batch));
  const pre = await t.train({
    arch: base, mode: 'full', lr: o.pretrain.lr, steps, batch: Math.min(o.pretrain.batch, pub.count), seed: o.seed + 1,
    params: params0, x: pub.x, y: pub.y,
  });
  const pretrained = params0.map((v, i) => v + pre.delta[i]!);
  const baseEval = await t.evaluate({ arch: base, params: pretrained, x: o.test.x, y: o.test.y });

  const parts = partition(o.train.y, o.clients, o.split, new SeededRandom(o.seed + 2));
  const clientData = parts.map((rows) => subset(o.train, rows, o.inputs));

  const variants: LoraVariantResult[] = [];
  for (const v of o.variants ?? DEFAULT_LORA_VARIANTS) {
    const arch: MlpArchitecture = { ...base, rank: v.mode === 'lora' ? v.rank ?? 4 : 0 };
    const alpha = v.alpha ?? 0;
    const params = pretrained.slice();
    const adapters = v.mode === 'lora' ? await t.initAdapters(arch, o.seed + 3) : new Float32Array(0);
    const trainedValues = v.mode === 'lora' ? adapterCount(arch) : paramCount(arch);
    const rounds: LoraRound[] = [];
    for (let r = 1; r <= o.rounds; r++) {
      const deltas: Float32Array[] = [];
      const weights: number[] = [];
      let lossSum = 0;
      for (const [c, data] of clientData.entries()) {
        const out = await t.train({
          arch, mode: v.mode, lr: v.mode === 'lora' ? o.lr.lora : o.lr.full, alpha, steps: o.localSteps,
          batch: Math.min(o.localBatch, data.count), seed: o.seed * 7919 + r * 131 + c, params,
          adapters: v.mode === 'lora' ? adapters : undefined, x: data.x, y: data.y,
        });
        if (out.delta.length !== trainedValues) {
          throw new MalformedOutputError(`trainer returned ${out.delta.length} values, expected ${trainedValues}`, { got: out.delta.length, expected: trainedValues });
        }
        deltas.push(out.delta);
        weights.push(data.count);
        lossSum += out.meanLoss;
      }
      addWeightedMean(v.mode === 'lora' ? adapters : params, deltas, weights);
      const ev = await t.evaluate({
        arch, params, adapters: v.mode === 'lora' ? adapters : undefined, alpha, x: o.test.x, y: o.test.y,
      });
      const bytes = 4 * trainedValues;
      rounds.push({
        round: r, bytesPerClient: bytes, bytesTotal: bytes * clientData.length, testAccuracy: ev.accuracy, testLoss: ev.loss,
        trainLoss: lossSum / clientData.length,
      });
    }
    variants.push({ variant: v, trainedValues, rounds });
  }
  return { arch: base, publicSamples: pub.count, baseAccuracy: baseEval.accuracy, variants };
}
