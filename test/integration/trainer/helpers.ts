// Shared by the trainer tests: open mlp-lora in-thread or in a worker, random small models and data.
import type { Isolation } from '../../../host/core/plugin-spec.js';
import { PluginTrainer } from '../../../host/fl/trainer.js';
import { loadPlugin } from '../../../host/runtime/instantiate.js';
import { seededRandom } from '../../../sdk/abi/conformance/kit-types.js';
import { productSpec } from '../../support/fixtures.js';
import type { Arch } from '../../support/fl-reference/mlp.js';

export interface OpenTrainer {
  readonly trainer: PluginTrainer;
  readonly call: (fn: string, input: Uint8Array) => Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function openTrainer(isolation: Isolation = 'worker'): Promise<OpenTrainer> {
  const inst = await loadPlugin(await productSpec('mlp-lora', { isolation }));
  const call = (fn: string, input: Uint8Array): Promise<Uint8Array> => inst.call(fn, input);
  return { trainer: await PluginTrainer.open(call), call, close: () => inst.close() };
}

/** Random samples: x uniform in [-1, 1], labels uniform. */
export function randomData(a: Arch, samples: number, seed: number): { x: Float32Array; y: Uint32Array } {
  const rnd = seededRandom(seed);
  return {
    x: Float32Array.from({ length: samples * a.inputs }, () => rnd() * 2 - 1),
    y: Uint32Array.from({ length: samples }, () => Math.floor(rnd() * a.classes)),
  };
}

/** Random values with standard deviation `sd` (uniform, so bounded). */
export function randomVector(n: number, sd: number, seed: number): Float32Array {
  const rnd = seededRandom(seed);
  return Float32Array.from({ length: n }, () => (rnd() * 2 - 1) * sd * Math.sqrt(3));
}

/** max_i |a_i − b_i| / max(max_i |b_i|, floor): a relative error over the whole vector. */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>, floor = 1e-6): number {
  let diff = 0;
  let scale = floor;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}
