// Krum, Multi-Krum and Bulyan as slot plugins: the aggregator conformance kit in both isolations, the
// module's imports, and hot swap from fedavg while calls continue.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Slot } from '../../../host/runtime/slot.js';
import { runConformance } from '../../../sdk/abi/conformance/index.js';
import { seededRandom } from '../../../sdk/abi/conformance/kit-types.js';
import { decodeF32Vector, encodeAggregateRequest } from '../../../sdk/abi/generated/contract.js';
import { productSpec } from '../../support/fixtures.js';

const NAMES = ['krum', 'multi-krum', 'bulyan'] as const;

describe('krum family through a slot', () => {
  for (const name of NAMES) {
    for (const isolation of ['worker', 'in-thread'] as const) {
      test(`${name} (${isolation}) passes the aggregator kit`, async (t) => {
        // Slot.open runs the kit as its self-test; running it again reports the times.
        const slot = await Slot.open(name, 'aggregator', await productSpec(name, { isolation }));
        try {
          const report = await runConformance('aggregator', (fn, input) => slot.call(fn, input));
          t.diagnostic(`${name} ${isolation}: ${report.cases.map((c) => `${c.name} ${c.ms.toFixed(1)} ms`).join('; ')}`);
        } finally {
          await slot.close();
        }
      });
    }

    test(`${name} configured for 5 Byzantine clients passes the slot's self-test (the kit's rounds are big enough)`, async () => {
      const spec = await productSpec(name);
      const slot = await Slot.open(name, 'aggregator', Object.freeze({ ...spec, config: { ...spec.config, f: '5' } }));
      await slot.close();
    });

    test(`${name}: worker isolation, config permission only, imports within it`, async () => {
      const spec = await productSpec(name);
      assert.equal(spec.capability, 'aggregator');
      assert.equal(spec.isolation, 'worker');
      assert.deepEqual(spec.permissions.host, ['config']);
      const mod = await WebAssembly.compile(readFileSync(spec.wasm.path));
      for (const i of WebAssembly.Module.imports(mod)) {
        assert.equal(i.module, 'extism:host/env', `${i.module}.${i.name}`);
      }
      assert.ok(WebAssembly.Module.imports(mod).some((i) => i.name === 'config_get'));
    });
  }

  test('a slot serving fedavg hot-swaps to krum, multi-krum and bulyan and back under load: 0 failed calls', async () => {
    const rnd = seededRandom(42);
    const clients = 9;
    const dim = 1000;
    const row = Float32Array.from({ length: dim }, () => rnd() * 2 - 1);
    const updates = new Float32Array(clients * dim);
    for (let c = 0; c < clients; c++) updates.set(row, c * dim);
    // Identical updates: every rule returns that update.
    const frame = encodeAggregateRequest({ clients, dim, weights: new Float32Array(clients).fill(1), updates });
    const fedavg = await productSpec('fedavg');
    const slot = await Slot.open('aggregator', 'aggregator', fedavg);
    let ok = 0;
    let failed = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        try {
          const out = decodeF32Vector(await slot.call('aggregate', frame)).values;
          if (out.every((v, i) => Math.abs(v - row[i]!) <= 1e-6)) ok++;
          else failed++;
        } catch {
          failed++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    const served: string[] = [];
    try {
      for (const name of [...NAMES, 'fedavg', ...NAMES] as const) {
        const rec = await slot.swap(name === 'fedavg' ? fedavg : await productSpec(name));
        assert.equal(rec.outcome, 'switched');
        served.push(slot.spec.name);
        const before = ok;
        while (ok < before + 3) await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      running = false;
      await load;
    }
    assert.deepEqual(served, ['krum', 'multi-krum', 'bulyan', 'fedavg', 'krum', 'multi-krum', 'bulyan']);
    assert.equal(failed, 0);
    assert.ok(ok >= 21, `only ${ok} calls`);
    await slot.close();
  });
});
