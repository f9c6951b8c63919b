// A trainer slot (worker): the kit runs as the self-test on open, calls keep flowing and keep giving the same
// bytes while the slot swaps to a new version and back, and a version whose self-test cannot run is rolled back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PluginTrainer } from '../../../host/fl/trainer.js';
import { Slot } from '../../../host/runtime/slot.js';
import { runConformance } from '../../../sdk/abi/conformance/index.js';
import { productSpec } from '../../support/fixtures.js';
import { randomData } from './helpers.js';

test('a trainer slot hot-swaps between versions while training calls continue', async () => {
  const v1 = await productSpec('mlp-lora');
  const v2 = Object.freeze({ ...v1, version: '1.0.1' });
  const slot = await Slot.open('trainer', 'trainer', v1); // the trainer kit is the self-test
  const trainer = await PluginTrainer.open((fn, input) => slot.call(fn, input));
  const arch = { inputs: 20, hidden: 16, classes: 4 };
  const { x, y } = randomData({ ...arch, rank: 0 }, 32, 1);
  const params = await trainer.init(arch, 2);
  const expected = (await trainer.train({ arch, mode: 'full', lr: 1, steps: 1, batch: 32, seed: 3, params, x, y })).delta;
  let ok = 0;
  let failed = 0;
  const errors: string[] = [];
  let running = true;
  const load = (async () => {
    while (running) {
      try {
        const out = await trainer.train({ arch, mode: 'full', lr: 1, steps: 1, batch: 32, seed: 3, params, x, y });
        if (out.delta.every((v, i) => v === expected[i])) ok++;
        else failed++;
      } catch (e) {
        failed++;
        errors.push(String(e));
      }
      await new Promise((res) => setImmediate(res));
    }
  })();
  try {
    for (const spec of [v2, v1, v2]) {
      const rec = await slot.swap(spec);
      assert.equal(rec.outcome, 'switched');
      assert.equal(slot.info().plugin.version, spec.version);
    }
    const report = await runConformance('trainer', (fn, input) => slot.call(fn, input));
    assert.equal(report.cases.length, 6);
  } finally {
    running = false;
    await load;
    await slot.close();
  }
  assert.equal(failed, 0, errors.join('\n'));
  assert.ok(ok > 10, `only ${ok} calls during 3 swaps`);
});

test('a trainer slot refuses a plugin of another capability and keeps serving', async () => {
  const slot = await Slot.open('trainer', 'trainer', await productSpec('mlp-lora'));
  try {
    await assert.rejects(slot.swap(await productSpec('fedavg')));
    assert.equal(slot.info().plugin.name, 'mlp-lora');
    const trainer = await PluginTrainer.open((fn, input) => slot.call(fn, input));
    assert.equal((await trainer.init({ inputs: 3, hidden: 2, classes: 2 }, 1)).length, 3 * 2 + 2 + 2 * 2 + 2);
  } finally {
    await slot.close();
  }
});
