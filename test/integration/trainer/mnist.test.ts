// End to end on real digits: a 784-128-10 MLP trained by plain SGD inside the plugin (one train call, all steps)
// on the ~8,000 training digits of the `mnist` package reaches > 90 % on the ~2,000 held-out digits; and the
// per-call cost of one 784-64-10 gradient on a batch of 32 (the Byzantine experiment's unit of work) is reported.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MNIST_CLASSES, MNIST_PIXELS, loadMnist } from '../../../host/fl/mnist.js';
import { openTrainer } from './helpers.js';

test('784-128-10 SGD on MNIST digits reaches > 90 % held-out accuracy in 5 epochs', async (t) => {
  const { train, test: held } = await loadMnist();
  const arch = { inputs: MNIST_PIXELS, hidden: 128, classes: MNIST_CLASSES };
  const tr = await openTrainer();
  try {
    const params = await tr.trainer.init(arch, 1);
    const batch = 32;
    const steps = Math.ceil((5 * train.count) / batch);
    const t0 = performance.now();
    const out = await tr.trainer.train({ arch, mode: 'full', lr: 0.2, steps, batch, seed: 2, params, x: train.x, y: train.y });
    const ms = performance.now() - t0;
    const trained = params.map((v, i) => v + out.delta[i]!);
    const ev = await tr.trainer.evaluate({ arch, params: trained, x: held.x, y: held.y });
    t.diagnostic(`${train.count} train / ${held.count} test digits, ${steps} steps of ${batch}: ${ms.toFixed(0)} ms `
      + `(${((steps * batch) / (ms / 1000)).toFixed(0)} samples/s), first/last step loss ${out.stepLosses[0]!.toFixed(3)}/`
      + `${out.stepLosses[steps - 1]!.toFixed(3)}, test accuracy ${(100 * ev.accuracy).toFixed(2)} %, test loss ${ev.loss.toFixed(4)}`);
    assert.ok(ev.accuracy > 0.9, `test accuracy ${ev.accuracy}`);
    assert.ok(out.stepLosses[steps - 1]! < out.stepLosses[0]!);
  } finally {
    await tr.close();
  }
});

test('one 784-64-10 gradient over a batch of 32 through a worker', async (t) => {
  const { train } = await loadMnist();
  const arch = { inputs: MNIST_PIXELS, hidden: 64, classes: MNIST_CLASSES };
  const tr = await openTrainer();
  try {
    const params = await tr.trainer.init(arch, 1);
    const x = train.x.subarray(0, 32 * MNIST_PIXELS);
    const y = train.y.subarray(0, 32);
    const grad = () => tr.trainer.train({ arch, mode: 'full', lr: 1, steps: 1, batch: 32, seed: 1, params, x, y });
    for (let i = 0; i < 20; i++) await grad();
    const n = 200;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await grad();
    const ms = (performance.now() - t0) / n;
    t.diagnostic(`gradient 784-64-10, batch 32, worker slot call (encode + call + decode): ${ms.toFixed(3)} ms`);
    assert.ok(ms < 20, `${ms} ms per gradient`); // generous: shared, noisy machines
  } finally {
    await tr.close();
  }
});
