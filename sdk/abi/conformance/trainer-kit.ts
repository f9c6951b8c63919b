// What every `trainer` plugin must do, whatever its kernels: sizes that follow the architecture, deterministic
// initialisation and training, a full-batch step with lr = 1 that is the negative gradient (checked against central
// finite differences of the plugin's own evaluate), training that fits a small separable problem, LoRA adapters that
// start as a no-op and train by the same rule (when the plugin declares mode lora), and clean refusals. Models are tiny
// so the kit stays fast: a slot runs it before every switch.
import {
  decodeEvaluateResult, decodeF32Vector, decodeTrainResult, decodeTrainerInfo, encodeEvaluateRequest, encodeTrainRequest,
  encodeTrainerInit, type TrainerInfo,
} from '../generated/contract.js';
import { assertClose, expectFailure, seededRandom, type ConformanceCase, type PluginCall } from './kit-types.js';

interface Arch { inputs: number; hidden: number; classes: number; rank: number }

const ARCH: Arch = { inputs: 6, hidden: 5, classes: 3, rank: 2 };
const ALPHA = 4;

const paramCount = (a: Arch): number => a.hidden * a.inputs + a.hidden + a.classes * a.hidden + a.classes;
const adapterCount = (a: Arch): number => a.rank * (a.inputs + 2 * a.hidden + a.classes);

/** `n` samples of three Gaussian blobs around class-dependent centres (separable by a small MLP). */
function blobs(a: Arch, n: number, seed: number): { x: Float32Array; y: Uint32Array } {
  const rnd = seededRandom(seed);
  const x = new Float32Array(n * a.inputs);
  const y = new Uint32Array(n);
  for (let s = 0; s < n; s++) {
    const label = s % a.classes;
    y[s] = label;
    for (let i = 0; i < a.inputs; i++) x[s * a.inputs + i] = (i % a.classes === label ? 1.5 : -0.5) + (rnd() - 0.5) * 0.8;
  }
  return { x, y };
}

async function info(call: PluginCall): Promise<TrainerInfo> {
  return decodeTrainerInfo(await call('trainer_info', new Uint8Array(0)));
}

async function init(call: PluginCall, fn: 'init_params' | 'init_adapters', a: Arch, seed: number): Promise<Float32Array> {
  return decodeF32Vector(await call(fn, encodeTrainerInit({ ...a, seed }))).values.slice();
}

interface Train {
  mode: 0 | 1; lr: number; steps: number; batch: number; seed: number;
  params: Float32Array; adapters?: Float32Array; x: Float32Array; y: Uint32Array; weightDecay?: number;
}

function trainFrame(a: Arch, t: Train): Uint8Array {
  const adapters = t.adapters ?? new Float32Array(0);
  return encodeTrainRequest({
    ...a, mode: t.mode, steps: t.steps, batch: t.batch, seed: t.seed, samples: t.y.length, hyperLen: 3,
    paramsLen: t.params.length, adaptersLen: adapters.length, hyper: Float32Array.of(t.lr, ALPHA, t.weightDecay ?? 0),
    params: t.params, adapters, x: t.x, y: t.y,
  });
}

async function train(call: PluginCall, a: Arch, t: Train): Promise<{ delta: Float32Array; losses: Float32Array }> {
  const r = decodeTrainResult(await call('train', trainFrame(a, t)));
  const want = t.mode === 1 ? adapterCount(a) : paramCount(a);
  if (r.deltaLen !== want) throw new Error(`train returned a delta of ${r.deltaLen} values, expected ${want}`);
  if (r.steps !== t.steps) throw new Error(`train returned ${r.steps} step losses, expected ${t.steps}`);
  return { delta: r.delta.slice(), losses: r.losses.slice() };
}

async function evaluate(call: PluginCall, a: Arch, params: Float32Array, adapters: Float32Array | null, x: Float32Array, y: Uint32Array): Promise<{ loss: number; correct: number }> {
  const ad = adapters ?? new Float32Array(0);
  const r = decodeEvaluateResult(await call('evaluate', encodeEvaluateRequest({
    ...a, rank: ad.length === 0 ? 0 : a.rank, samples: y.length, hyperLen: 1, paramsLen: params.length, adaptersLen: ad.length,
    hyper: Float32Array.of(ALPHA), params, adapters: ad, x, y,
  })));
  if (r.count !== y.length) throw new Error(`evaluate returned ${r.count} results for ${y.length} samples`);
  let s = 0;
  for (const l of r.losses) s += l;
  return { loss: s / r.count, correct: r.correct };
}

/**
 * Checks that `grad` (= −delta of one full-batch lr-1 step) is the gradient of `lossAt`: along the gradient direction
 * and along two random directions, the central difference of the loss matches the directional derivative.
 */
async function checkGradient(grad: Float32Array, base: Float32Array, lossAt: (v: Float32Array) => Promise<number>, what: string): Promise<void> {
  const rnd = seededRandom(99);
  const norm = Math.hypot(...grad);
  if (!(norm > 1e-4)) throw new Error(`${what}: the gradient is (nearly) zero (${norm})`);
  const dirs = [Float32Array.from(grad, (g) => g / norm)];
  for (let k = 0; k < 2; k++) {
    const u = Float32Array.from(grad, () => rnd() * 2 - 1);
    const un = Math.hypot(...u);
    dirs.push(u.map((v) => v / un));
  }
  const eps = 1e-2;
  for (const [k, u] of dirs.entries()) {
    const plus = await lossAt(base.map((v, i) => v + eps * u[i]!));
    const minus = await lossAt(base.map((v, i) => v - eps * u[i]!));
    const numeric = (plus - minus) / (2 * eps);
    let analytic = 0;
    for (let i = 0; i < grad.length; i++) analytic += grad[i]! * u[i]!;
    if (!(Math.abs(numeric - analytic) <= 0.03 * Math.max(Math.abs(analytic), 0.05))) {
      throw new Error(`${what}: direction ${k}: finite difference ${numeric} vs gradient·u ${analytic}`);
    }
  }
}

export const trainerKit: readonly ConformanceCase[] = [
  {
    name: 'trainer_info declares usable limits and mode full',
    run: async (call) => {
      const i = await info(call);
      if (!(i.maxInputs >= 784 && i.maxHidden >= 64 && i.maxClasses >= 10 && i.maxBatch >= 32 && i.maxSamples >= 1000)) {
        throw new Error(`limits too small for MNIST-sized models: ${JSON.stringify(i)}`);
      }
      if ((i.features & 1) === 0) throw new Error('every trainer must support mode full (features bit 1)');
      if ((i.features & 2) !== 0 && i.maxRank < 2) throw new Error('a trainer with mode lora must accept rank ≥ 2');
    },
  },
  {
    name: 'init_params is deterministic, sized by the architecture, with zero biases',
    run: async (call) => {
      const a = await init(call, 'init_params', ARCH, 1);
      const b = await init(call, 'init_params', ARCH, 1);
      const c = await init(call, 'init_params', ARCH, 2);
      if (a.length !== paramCount(ARCH)) throw new Error(`init_params gave ${a.length} values, expected ${paramCount(ARCH)}`);
      if (!a.every((v, i) => v === b[i])) throw new Error('init_params differs between calls with the same seed');
      if (a.every((v, i) => v === c[i])) throw new Error('init_params ignores the seed');
      if (!a.every(Number.isFinite)) throw new Error('init_params gave a non-finite value');
      const { inputs: d, hidden: h, classes: k } = ARCH;
      const b1 = a.subarray(h * d, h * d + h);
      const b2 = a.subarray(h * d + h + k * h);
      if (![...b1, ...b2].every((v) => v === 0)) throw new Error('biases must start at 0');
      if (a.subarray(0, h * d).every((v) => v === 0)) throw new Error('W1 must be random, not zero');
    },
  },
  {
    name: 'a full-batch step with lr 1 returns the negative gradient (finite differences of evaluate)',
    run: async (call) => {
      const { x, y } = blobs(ARCH, 12, 5);
      const params = await init(call, 'init_params', ARCH, 3);
      const r = await train(call, ARCH, { mode: 0, lr: 1, steps: 1, batch: y.length, seed: 4, params, x, y });
      const r2 = await train(call, ARCH, { mode: 0, lr: 1, steps: 1, batch: y.length, seed: 4, params, x, y });
      if (!r.delta.every((v, i) => v === r2.delta[i])) throw new Error('train is not deterministic');
      const start = await evaluate(call, ARCH, params, null, x, y);
      assertClose(r.losses[0]!, start.loss, 1e-4, 'the step loss vs evaluate loss');
      await checkGradient(r.delta.map((v) => -v), params, async (p) => (await evaluate(call, ARCH, p, null, x, y)).loss, 'mode full');
    },
  },
  {
    name: 'SGD fits a small separable problem',
    run: async (call) => {
      const { x, y } = blobs(ARCH, 60, 6);
      const params = await init(call, 'init_params', ARCH, 7);
      const before = await evaluate(call, ARCH, params, null, x, y);
      const r = await train(call, ARCH, { mode: 0, lr: 0.2, steps: 150, batch: 10, seed: 8, params, x, y, weightDecay: 1e-4 });
      const after = await evaluate(call, ARCH, params.map((v, i) => v + r.delta[i]!), null, x, y);
      if (!(after.loss < before.loss * 0.5)) throw new Error(`loss went from ${before.loss} to ${after.loss}`);
      if (!(after.correct >= 57)) throw new Error(`only ${after.correct}/60 correct after training`);
    },
  },
  {
    name: 'LoRA adapters start as a no-op and a full-batch step returns their negative gradient',
    run: async (call) => {
      if (((await info(call)).features & 2) === 0) return; // mode lora not offered: nothing to check
      const { x, y } = blobs(ARCH, 12, 9);
      const params = await init(call, 'init_params', ARCH, 10);
      const adapters = await init(call, 'init_adapters', ARCH, 11);
      if (adapters.length !== adapterCount(ARCH)) throw new Error(`init_adapters gave ${adapters.length} values, expected ${adapterCount(ARCH)}`);
      const base = await evaluate(call, ARCH, params, null, x, y);
      const withAd = await evaluate(call, ARCH, params, adapters, x, y);
      assertClose(withAd.loss, base.loss, 1e-6, 'loss with fresh adapters (B = 0) vs without');
      // B = 0 makes A's gradient zero at the start: move B off zero first with one step, then check the gradient there
      const warm = await train(call, ARCH, { mode: 1, lr: 0.5, steps: 1, batch: y.length, seed: 12, params, adapters, x, y });
      const ad1 = adapters.map((v, i) => v + warm.delta[i]!);
      const r = await train(call, ARCH, { mode: 1, lr: 1, steps: 1, batch: y.length, seed: 13, params, adapters: ad1, x, y });
      await checkGradient(r.delta.map((v) => -v), ad1, async (ad) => (await evaluate(call, ARCH, params, ad, x, y)).loss, 'mode lora');
    },
  },
  {
    name: 'malformed, inconsistent and non-finite requests are refused without trapping',
    run: async (call) => {
      const { x, y } = blobs(ARCH, 6, 14);
      const params = await init(call, 'init_params', ARCH, 15);
      const ok: Train = { mode: 0, lr: 0.1, steps: 1, batch: 3, seed: 1, params, x, y };
      const refuse = (t: Train, what: string, a: Arch = ARCH): Promise<void> => expectFailure(call('train', trainFrame(a, t)), ['X0T_PLUGIN_ERROR'], what);
      await expectFailure(call('train', Uint8Array.of(0, 1, 2, 3, 4)), ['X0T_PLUGIN_ERROR'], 'a 5-byte frame');
      await refuse({ ...ok, params: params.subarray(1) }, 'params one value short');
      await refuse({ ...ok, y: Uint32Array.of(0, 1, 2, 0, 1, 3) }, 'a label equal to classes');
      await refuse({ ...ok, x: x.map((v, i) => (i === 7 ? NaN : v)) }, 'NaN in x');
      await refuse({ ...ok, params: params.map((v, i) => (i === 3 ? Infinity : v)) }, 'Infinity in params');
      await refuse({ ...ok, batch: 7 }, 'a batch larger than the samples');
      await refuse({ ...ok, steps: 0 }, 'zero steps');
      await refuse({ ...ok, mode: 2 as 0 }, 'an unknown mode');
      await refuse({ ...ok, lr: NaN }, 'a NaN learning rate');
      await refuse(ok, 'one class', { ...ARCH, classes: 1 });
      await expectFailure(call('init_params', encodeTrainerInit({ inputs: 0, hidden: 4, classes: 3, rank: 0, seed: 1 })), ['X0T_PLUGIN_ERROR'], 'zero inputs');
      await train(call, ARCH, ok); // and it still answers
    },
  },
];
