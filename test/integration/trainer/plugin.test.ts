// mlp-lora against the f64 reference on random small models, both modes: one full-batch step (delta = −gradient),
// several seeded minibatch steps with weight decay (same sample order as the reference), evaluate; initialisation
// statistics; the conformance kit in-thread; and the refusals the adapter passes through.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adapterCount, paramCount } from '../../../host/fl/trainer.js';
import { runConformance } from '../../../sdk/abi/conformance/index.js';
import { evaluateReference, lossAndGrad, trainReference, type Arch } from '../../support/fl-reference/mlp.js';
import { openTrainer, randomData, randomVector, relativeError, type OpenTrainer } from './helpers.js';

const ARCHES: Arch[] = [
  { inputs: 7, hidden: 5, classes: 3, rank: 2 },
  { inputs: 33, hidden: 17, classes: 10, rank: 4 }, // tails of every SIMD loop
  { inputs: 64, hidden: 32, classes: 4, rank: 1 },
];

describe('mlp-lora plugin', () => {
  let t: OpenTrainer;
  before(async () => { t = await openTrainer(); });
  after(async () => { await t.close(); });

  test('passes the trainer conformance kit in a worker', async () => {
    const report = await runConformance('trainer', t.call);
    assert.equal(report.cases.length, 6);
  });

  test('passes the kit in-thread too', async () => {
    const inThread = await openTrainer('in-thread');
    try {
      assert.equal((await runConformance('trainer', inThread.call)).cases.length, 6);
    } finally {
      await inThread.close();
    }
  });

  test('info declares full, lora, weight decay and SIMD', async () => {
    const info = await t.trainer.info();
    assert.deepEqual(info.features, { full: true, lora: true, weightDecay: true, simd: true });
    assert.ok(info.maxInputs >= 784 && info.maxRank >= 8);
  });

  test('one full-batch step with lr 1 equals −gradient of the reference (mode full)', async () => {
    for (const [k, arch] of ARCHES.entries()) {
      const { x, y } = randomData(arch, 19, 100 + k);
      const params = await t.trainer.init(arch, 200 + k);
      const out = await t.trainer.train({ arch, mode: 'full', lr: 1, steps: 1, batch: y.length, seed: 3, params, x, y });
      const ref = lossAndGrad(arch, 'full', params, null, 0, x, y);
      assert.ok(relativeError(out.delta, ref.grad.map((g) => -g)) < 1e-4, `arch ${k}: rel ${relativeError(out.delta, ref.grad.map((g) => -g))}`);
      assert.ok(Math.abs(out.meanLoss - ref.loss) < 1e-5 * Math.max(1, ref.loss));
    }
  });

  test('one full-batch step with lr 1 equals −gradient of the reference (mode lora)', async () => {
    for (const [k, arch] of ARCHES.entries()) {
      const { x, y } = randomData(arch, 19, 300 + k);
      const params = await t.trainer.init(arch, 400 + k);
      const adapters = randomVector(adapterCount(arch), 0.3, 500 + k); // B ≠ 0 so that A's gradient is not zero
      const alpha = 2 * arch.rank;
      const out = await t.trainer.train({ arch, mode: 'lora', lr: 1, alpha, steps: 1, batch: y.length, seed: 5, params, adapters, x, y });
      assert.equal(out.delta.length, adapterCount(arch));
      const ref = lossAndGrad(arch, 'lora', params, adapters, alpha, x, y);
      const err = relativeError(out.delta, ref.grad.map((g) => -g));
      assert.ok(err < 1e-4, `arch ${k}: rel ${err}`);
    }
  });

  test('several seeded minibatch steps with weight decay follow the reference (both modes)', async () => {
    for (const [k, arch] of ARCHES.entries()) {
      const { x, y } = randomData(arch, 23, 600 + k);
      const params = await t.trainer.init(arch, 700 + k);
      const adapters = randomVector(adapterCount(arch), 0.3, 800 + k);
      for (const mode of ['full', 'lora'] as const) {
        const opts = { arch, mode, lr: 0.05, alpha: 2 * arch.rank, weightDecay: 0.01, steps: 9, batch: 5, seed: 900 + k, params, adapters: mode === 'lora' ? adapters : undefined, x, y };
        const out = await t.trainer.train(opts);
        const ref = trainReference({ ...opts, adapters: opts.adapters ?? null });
        assert.ok(out.delta.every(Number.isFinite));
        const err = relativeError(out.delta, ref.delta);
        assert.ok(err < 1e-4, `arch ${k} ${mode}: delta rel ${err}`);
        assert.ok(relativeError(out.stepLosses, ref.stepLosses) < 1e-5, `arch ${k} ${mode}: step losses`);
        // the same request gives the same bytes
        const again = await t.trainer.train(opts);
        assert.deepEqual(again.delta, out.delta);
      }
    }
  });

  test('evaluate matches the reference, with and without adapters', async () => {
    for (const [k, arch] of ARCHES.entries()) {
      const { x, y } = randomData(arch, 300, 1000 + k); // > one 256-sample chunk
      const params = randomVector(paramCount(arch), 0.5, 1100 + k);
      const adapters = randomVector(adapterCount(arch), 0.3, 1200 + k);
      for (const ad of [null, adapters]) {
        const out = await t.trainer.evaluate({ arch, params, adapters: ad ?? undefined, alpha: 3, x, y });
        const ref = evaluateReference(arch, params, ad, 3, x, y);
        assert.equal(out.count, y.length);
        assert.ok(relativeError(out.losses, ref.losses) < 1e-5);
        let agree = 0;
        for (let i = 0; i < y.length; i++) if (out.predicted[i] === ref.predicted[i]) agree++;
        assert.ok(agree >= y.length - 1, `predictions agree on ${agree}/${y.length}`); // a near-tie may round either way
        assert.ok(Math.abs(out.correct - ref.correct) <= 1);
      }
    }
  });

  test('init: deterministic, He/Glorot scales, adapters with B = 0', async () => {
    const arch = { inputs: 784, hidden: 64, classes: 10, rank: 8 };
    const p = await t.trainer.init(arch, 1);
    assert.deepEqual(await t.trainer.init(arch, 1), p);
    assert.equal(p.length, paramCount(arch));
    const variance = (v: Float32Array): number => v.reduce((s, x) => s + x * x, 0) / v.length;
    const w1 = p.subarray(0, 64 * 784);
    const w2 = p.subarray(64 * 784 + 64, 64 * 784 + 64 + 640);
    assert.ok(Math.abs(variance(w1) / (2 / 784) - 1) < 0.03, `W1 variance ${variance(w1)}`);
    assert.ok(Math.abs(variance(w2) / (2 / 74) - 1) < 0.15, `W2 variance ${variance(w2)}`);
    const ad = await t.trainer.initAdapters(arch, 2);
    assert.equal(ad.length, adapterCount(arch));
    const r = 8;
    const a1 = ad.subarray(0, r * 784);
    const b1 = ad.subarray(r * 784, r * 784 + 64 * r);
    const a2 = ad.subarray(r * 784 + 64 * r, r * 784 + 64 * r + r * 64);
    const b2 = ad.subarray(r * 784 + 64 * r + r * 64);
    assert.ok(b1.every((v) => v === 0) && b2.every((v) => v === 0));
    assert.ok(Math.abs(variance(a1) / (1 / 784) - 1) < 0.1);
    assert.ok(Math.abs(variance(a2) / (1 / 64) - 1) < 0.2);
  });

  test('refusals name the problem and come back as X0T_PLUGIN_ERROR', async () => {
    const arch = ARCHES[0]!;
    const { x, y } = randomData(arch, 8, 1);
    const params = await t.trainer.init(arch, 1);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ mode: 'lora' }, /adaptersLen/],
      [{ adapters: new Float32Array(adapterCount(arch)) }, /takes no adapters/],
      [{ y: y.map((v, i) => (i === 5 ? 9 : v)) }, /label y\[5\] = 9/],
      [{ x: x.map((v, i) => (i === 2 ? Infinity : v)) }, /x contains a non-finite/],
      [{ batch: 9 }, /batch/],
      [{ weightDecay: -1 }, /weightDecay/],
      [{ arch: { ...arch, rank: 0 }, mode: 'lora', adapters: new Float32Array(0) }, /rank must be at least 1/],
    ];
    for (const [change, why] of cases) {
      await assert.rejects(
        t.trainer.train({ arch, mode: 'full', lr: 0.1, steps: 1, batch: 4, seed: 1, params, x, y, ...change }),
        (e: Error & { code?: string }) => e.code === 'X0T_PLUGIN_ERROR' && why.test(e.message),
        `${JSON.stringify(Object.keys(change))} should be refused with ${why}`,
      );
    }
    // sizes beyond the limits are refused before any memory is taken
    await assert.rejects(t.trainer.init({ inputs: 65536, hidden: 4096, classes: 10 }, 1),
      (e: Error & { code?: string }) => e.code === 'X0T_PLUGIN_ERROR' && /more than 16777216 parameters/.test(e.message));
    await assert.rejects(t.trainer.initAdapters({ inputs: 10, hidden: 4, classes: 3, rank: 0 }, 1),
      (e: Error & { code?: string }) => e.code === 'X0T_PLUGIN_ERROR' && /rank must be at least 1/.test(e.message));
    assert.equal((await t.trainer.init(arch, 1)).length, paramCount(arch)); // and it still answers
    // an x that is not samples × inputs never leaves the host
    await assert.rejects(
      t.trainer.train({ arch, mode: 'full', lr: 0.1, steps: 1, batch: 4, seed: 1, params, x: x.subarray(1), y }),
      (e: { code?: string }) => e.code === 'X0T_CODEC',
    );
  });
});
