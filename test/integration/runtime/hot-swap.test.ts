// Hot swap under load: versions switch while calls keep flowing; a version that fails its self-test never serves;
// one that fails after the switch is rolled back by the circuit breaker; editing the node manifest swaps live.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { HashMismatchError, PluginTimeoutError, SelfTestFailedError } from '../../../host/errors/index.js';
import { loadNodeSpec } from '../../../host/runtime/load-manifest.js';
import { PluginHost } from '../../../host/runtime/plugin-host.js';
import { Slot, DEFAULT_SLOT_OPTIONS } from '../../../host/runtime/slot.js';
import { decodeF64Vector, encodeF32Vector } from '../../../sdk/abi/generated/contract.js';
import { FIXTURE_MANIFESTS, fixtureSpec, PLUGIN_MANIFESTS, productSpec, ROOT } from '../../support/fixtures.js';

const frame = encodeF32Vector({ len: 3, values: Float32Array.of(1, 2, 3.5) });
const sumOf = async (slot: Slot) => decodeF64Vector(await slot.call('sum', frame)).values[0];

describe('hot swap', () => {
  test('100 swaps under continuous load: 0 failed calls, every call answered correctly', async () => {
    const a = await productSpec('selftest');
    const b = await fixtureSpec('selftest-alt');
    const slot = await Slot.open('selftest', 'selftest', a);
    let failed = 0;
    let ok = 0;
    let running = true;
    const load = (async () => {
      while (running) {
        try {
          if ((await sumOf(slot)) === 6.5) ok++;
          else failed++;
        } catch {
          failed++;
        }
        await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      for (let i = 0; i < 100; i++) {
        const rec = await slot.swap(i % 2 === 0 ? b : a);
        assert.equal(rec.outcome, 'switched');
      }
    } finally {
      running = false;
      await load;
    }
    assert.equal(failed, 0);
    assert.ok(ok > 100, `only ${ok} calls during 100 swaps`);
    assert.equal(slot.spec.wasm.sha256, a.wasm.sha256);
    await slot.close();
  });

  test('a version failing its self-test is never switched in; the previous keeps serving', async () => {
    const slot = await Slot.open('selftest', 'selftest', await productSpec('selftest'));
    try {
      await assert.rejects(slot.swap(await fixtureSpec('badsum')), SelfTestFailedError);
      await assert.rejects(slot.swap(await fixtureSpec('trap')), SelfTestFailedError);
      await assert.rejects(slot.swap(await fixtureSpec('spin-start')), PluginTimeoutError);
      const wrongHash = Object.freeze({ ...(await fixtureSpec('selftest-alt')), wasm: { path: (await fixtureSpec('selftest-alt')).wasm.path, sha256: '0'.repeat(64) } });
      await assert.rejects(slot.swap(wrongHash), HashMismatchError);
      assert.equal(await sumOf(slot), 6.5);
      const outcomes = slot.info().history.map((h) => h.outcome);
      assert.deepEqual(outcomes, ['rejected-selftest', 'rejected-selftest', 'rejected-load', 'rejected-load']);
      assert.equal(slot.info().plugin.name, 'selftest');
    } finally {
      await slot.close();
    }
  });

  test('failing calls after a switch roll back automatically, with the reason recorded', async () => {
    const opts = { ...DEFAULT_SLOT_OPTIONS, breaker: { failureThreshold: 3, windowMs: 10_000, observeMs: 30_000 } };
    const good = await productSpec('selftest');
    const slot = await Slot.open('selftest', 'selftest', good, opts);
    try {
      const rec = await slot.swap(await fixtureSpec('flaky'));
      assert.equal(rec.outcome, 'switched');
      let failures = 0;
      for (let i = 0; i < 40 && slot.spec.name === 'flaky'; i++) {
        await sumOf(slot).catch(() => failures++);
      }
      assert.equal(slot.spec.wasm.sha256, good.wasm.sha256, 'the slot should be back on the good version');
      assert.equal(failures, 3);
      const last = slot.info().history.at(-1)!;
      assert.equal(last.outcome, 'rolled-back');
      assert.match(last.reason ?? '', /3 failed calls/);
      assert.equal(await sumOf(slot), 6.5);
    } finally {
      await slot.close();
    }
  });

  test('editing the node manifest file swaps the slot live', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'x0t-swap-'));
    try {
      // Plugin manifests resolve their wasm relative to themselves: copy them next to absolute wasm paths.
      const place = (src: string, name: string) => {
        const m = JSON.parse(readFileSync(src, 'utf8')) as { wasm: { path: string } };
        m.wasm.path = join(src, '..', m.wasm.path);
        writeFileSync(join(dir, name), JSON.stringify(m));
      };
      place(join(PLUGIN_MANIFESTS, 'selftest.json'), 'a.json');
      place(join(FIXTURE_MANIFESTS, 'selftest-alt.json'), 'b.json');
      copyFileSync(join(ROOT, 'manifests', 'schema', 'node-manifest.v1.json'), join(dir, 'schema.json'));
      const node = (plugin: string) => JSON.stringify({
        schemaVersion: 1, identity: { name: 'swap-test', trustDomain: 'test.local' }, listen: { admin: '127.0.0.1:0', mesh: [] },
        peers: [], slots: { selftest: { capability: 'selftest', plugin } },
      });
      const path = join(dir, 'node.json');
      writeFileSync(path, node('a.json'));
      const applied: unknown[] = [];
      const host = await PluginHost.start(await loadNodeSpec(path), { onApply: (r) => applied.push(r) });
      const stop = host.watch(path);
      try {
        const before = host.slot('selftest').info().plugin.sha256;
        writeFileSync(path, node('b.json'));
        const deadline = Date.now() + 5000;
        while (host.slot('selftest').info().plugin.sha256 === before && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        assert.notEqual(host.slot('selftest').info().plugin.sha256, before);
        assert.equal(host.slot('selftest').info().plugin.name, 'selftest-alt');
        assert.equal(await sumOf(host.slot('selftest')), 6.5);
      } finally {
        await stop();
        await host.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
