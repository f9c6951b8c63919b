// The generic aggregator kit through worker Slots, hot swap from fedavg to each robust rule under load, and
// bad parameters in config refused with X0T_PLUGIN_ERROR.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runConformance } from '../../../sdk/abi/conformance/index.js';
import { productSpec } from '../../support/fixtures.js';
import { Slot } from '../../../host/runtime/slot.js';
import { ROBUST, aggregate, openSlot, round, specWith } from './helpers.js';

describe('robust aggregators in slots', () => {
  for (const name of ROBUST) {
    test(`${name} passes the aggregator conformance kit in a worker`, async () => {
      const spec = await productSpec(name);
      assert.equal(spec.isolation, 'worker');
      const slot = await Slot.open(name, 'aggregator', spec); // the kit runs as the self-test
      try {
        const report = await runConformance('aggregator', (fn, input) => slot.call(fn, input));
        assert.equal(report.cases.length, 4);
      } finally {
        await slot.close();
      }
    });
  }

  test('a fedavg slot hot-swaps to each robust rule and back while calls continue', async () => {
    const base = [0.25, -1.5, 3, 7.125, -0.5];
    // identical rows with different weights: every rule's answer is that row
    const r = round([base, base, base, base, base], [1, 2, 3, 4, 5]);
    const fedavg = await productSpec('fedavg');
    const slot = await Slot.open('agg', 'aggregator', fedavg);
    let ok = 0;
    let failed = 0;
    const errors: string[] = [];
    let running = true;
    const load = (async () => {
      while (running) {
        try {
          const out = await aggregate(slot, r);
          if (out.every((v, i) => Math.abs(v - base[i]!) < 1e-6)) ok++;
          else failed++;
        } catch (e) {
          failed++;
          errors.push(String(e));
        }
        await new Promise((res) => setImmediate(res));
      }
    })();
    try {
      for (let cycle = 0; cycle < 2; cycle++) {
        for (const name of [...ROBUST, 'fedavg']) {
          const rec = await slot.swap(name === 'fedavg' ? fedavg : await productSpec(name));
          assert.equal(rec.outcome, 'switched');
          assert.equal(slot.info().plugin.name, name);
        }
      }
    } finally {
      running = false;
      await load;
      await slot.close();
    }
    assert.equal(failed, 0, errors.join('\n'));
    assert.ok(ok > 10, `only ${ok} calls during 10 swaps`);
  });

  const BAD: [string, Record<string, string>, RegExp][] = [
    ['trimmed-mean', { beta: '0.5' }, /beta/],
    ['trimmed-mean', { beta: '-0.1' }, /beta/],
    ['trimmed-mean', { beta: 'abc' }, /beta/],
    ['trimmed-mean', { beta: '0.1x' }, /beta/],
    ['geomed', { iters: '-1' }, /iters/],
    ['geomed', { iters: '2.5' }, /iters/],
    ['geomed', { iters: '1001' }, /iters/],
    ['geomed', { eps: '0' }, /eps/],
    ['geomed', { eps: '1e400' }, /eps/],
    ['geomed', { eps: 'NaN' }, /eps/],
    ['cclip', { tau: '0' }, /tau/],
    ['cclip', { tau: '-3' }, /tau/],
    ['cclip', { tau: '1e-' }, /tau/],
    ['cclip', { tau: ' 5' }, /tau/],
    ['cclip', { tau: '.' }, /tau/],
    ['trimmed-mean', { beta: '0x1' }, /beta/],
    ['cclip', { iters: 'three' }, /iters/],
  ];
  test('bad parameters in config are refused with X0T_PLUGIN_ERROR and a message naming the key', async () => {
    const r = round([[1, 2], [3, 4], [5, 6]]);
    for (const [name, config, why] of BAD) {
      const slot = await openSlot(name, config, false);
      try {
        await assert.rejects(aggregate(slot, r), (e: Error & { code?: string }) => {
          assert.equal(e.code, 'X0T_PLUGIN_ERROR', `${name} ${JSON.stringify(config)}: ${e.code} ${e.message}`);
          assert.match(e.message, why);
          return true;
        });
      } finally {
        await slot.close();
      }
    }
    // an empty value counts as unset (the Extism PDK's Config.get returns null for it): the default applies
    const empty = await openSlot('cclip', { tau: '', iters: '' });
    try {
      assert.equal((await aggregate(empty, r)).length, 2);
    } finally {
      await empty.close();
    }
    // and a slot refuses to switch to a version whose config fails its self-test
    const slot = await Slot.open('agg', 'aggregator', await productSpec('fedavg'));
    try {
      await assert.rejects(slot.swap(await specWith('cclip', { tau: '0' })));
      assert.equal(slot.info().plugin.name, 'fedavg');
    } finally {
      await slot.close();
    }
  });

  test('non-finite updates and bad weights are refused', async () => {
    for (const name of ROBUST) {
      const slot = await openSlot(name);
      try {
        for (const [rows, weights] of [
          [[[1, NaN], [2, 3]], [1, 1]],
          [[[1, Infinity], [2, 3]], [1, 1]],
          [[[1, 2], [2, 3]], [0, 0]],
          [[[1, 2], [2, 3]], [-1, 2]],
        ] as [number[][], number[]][]) {
          await assert.rejects(aggregate(slot, round(rows, weights)), (e: { code?: string }) => e.code === 'X0T_PLUGIN_ERROR');
        }
      } finally {
        await slot.close();
      }
    }
  });
});
