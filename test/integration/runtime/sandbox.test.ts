// The sandbox holds against hostile plugins: each case loads a real fixture module built from
// test/fixtures/plugins and shows the limit stopping it, with the node still serving afterwards.
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import {
  ImportNotPermittedError, InputLimitError, MalformedOutputError, OutputLimitError, PluginMemoryLimitError,
  PluginReportedError, PluginTimeoutError, PluginTrapError, FunctionNotFoundError,
} from '../../../host/errors/index.js';
import { compilePlugin } from '../../../host/runtime/compiled-plugin.js';
import { loadPlugin } from '../../../host/runtime/instantiate.js';
import type { PluginInstance } from '../../../host/runtime/plugin-instance.js';
import { decodeF64Vector, encodeF32Vector } from '../../../sdk/abi/generated/contract.js';
import { fixtureSpec, productSpec } from '../../support/fixtures.js';

const ISOLATIONS = ['worker', 'in-thread'] as const;

async function sum(inst: PluginInstance, values: number[]): Promise<number> {
  const v = Float32Array.from(values);
  return decodeF64Vector(await inst.call('sum', encodeF32Vector({ len: v.length, values: v }))).values[0]!;
}

async function withInstance<T>(inst: PluginInstance, f: (i: PluginInstance) => Promise<T>): Promise<T> {
  try {
    return await f(inst);
  } finally {
    await inst.close();
  }
}

describe('memory beyond the declared limit', () => {
  for (const isolation of ISOLATIONS) {
    test(`${isolation}: the call fails with X0T_PLUGIN_MEMORY_LIMIT, host RSS stays within limit + a constant`, async () => {
      const maxMemoryPages = 512; // 32 MiB
      const limitBytes = maxMemoryPages * 65536;
      const spec = await fixtureSpec('hog', { isolation, limits: { maxMemoryPages, callTimeoutMs: isolation === 'in-thread' ? 25 : 5000 } });
      await withInstance(await loadPlugin(spec), async (inst) => {
        const rssBefore = process.memoryUsage.rss();
        await assert.rejects(inst.call('echo', new Uint8Array(16)), PluginMemoryLimitError);
        const grown = process.memoryUsage.rss() - rssBefore;
        assert.ok(grown < limitBytes + 48 * 1024 * 1024, `RSS grew ${grown} bytes for a ${limitBytes}-byte limit`);
        // The instance is rebuilt: the same plugin answers its next call.
        assert.equal(await sum(inst, [1, 2, 3]), 6);
        assert.ok(inst.stats().restarts >= 1);
      });
    });
  }
});

describe('infinite loop', () => {
  test('worker: stopped within its timeout + 100 ms while other slots answer and event-loop lag stays < 50 ms', async () => {
    const timeoutMs = 300;
    const spin = await loadPlugin(await fixtureSpec('spin', { limits: { callTimeoutMs: timeoutMs } }));
    const other = await loadPlugin(await productSpec('selftest'));
    const lag = monitorEventLoopDelay({ resolution: 5 });
    try {
      lag.enable();
      const t0 = performance.now();
      const looping = spin.call('echo', Uint8Array.of(1)).then(
        () => assert.fail('the loop returned'),
        (e: unknown) => ({ e, ms: performance.now() - t0 }),
      );
      let answered = 0;
      while (performance.now() - t0 < timeoutMs - 50) {
        assert.equal(await sum(other, [answered, 1]), answered + 1);
        answered++;
        await new Promise((r) => setTimeout(r, 5));
      }
      const { e, ms } = await looping;
      lag.disable();
      assert.ok(e instanceof PluginTimeoutError, `expected a timeout, got ${String(e)}`);
      assert.ok(ms < timeoutMs + 100, `stopped after ${ms.toFixed(1)} ms (timeout ${timeoutMs})`);
      assert.ok(answered >= 10, `the other plugin answered only ${answered} calls meanwhile`);
      const maxLagMs = lag.max / 1e6;
      assert.ok(maxLagMs < 50, `event-loop lag reached ${maxLagMs.toFixed(1)} ms`);
      // The instance was restarted: the same plugin serves again.
      assert.equal(await sum(spin, [2, 2]), 4);
      assert.ok(spin.stats().restarts >= 1);
    } finally {
      lag.disable();
      await spin.close();
      await other.close();
    }
  });

  test('in-thread: the metered module is stopped at its deadline; the event loop is held < 50 ms', async () => {
    const timeoutMs = 25;
    const spin = await loadPlugin(await fixtureSpec('spin', { isolation: 'in-thread', limits: { callTimeoutMs: timeoutMs } }));
    const lag = monitorEventLoopDelay({ resolution: 5 });
    try {
      lag.enable();
      for (let round = 0; round < 5; round++) {
        const t0 = performance.now();
        await assert.rejects(spin.call('echo', Uint8Array.of(1)), PluginTimeoutError);
        const ms = performance.now() - t0;
        assert.ok(ms < timeoutMs + 100, `stopped after ${ms.toFixed(1)} ms (timeout ${timeoutMs})`);
        await new Promise((r) => setTimeout(r, 20));
      }
      lag.disable();
      assert.ok(lag.max / 1e6 < 50, `event-loop lag reached ${(lag.max / 1e6).toFixed(1)} ms`);
      assert.equal(await sum(spin, [2, 2]), 4);
      assert.ok(spin.stats().restarts >= 5);
    } finally {
      lag.disable();
      await spin.close();
    }
  });

  test('a start function that never returns: refused at load in both isolations, within its deadline', async () => {
    const t0 = performance.now();
    await assert.rejects(loadPlugin(await fixtureSpec('spin-start')), PluginTimeoutError);
    const workerMs = performance.now() - t0;
    assert.ok(workerMs < 200 + 2000 + 500, `worker start gave up after ${workerMs.toFixed(0)} ms`);
    const t1 = performance.now();
    await assert.rejects(loadPlugin(await fixtureSpec('spin-start', { isolation: 'in-thread', limits: { callTimeoutMs: 25 } })), PluginTimeoutError);
    assert.ok(performance.now() - t1 < 25 + 100);
  });

  test('in-thread: the manifest cannot ask for more than 25 ms of uninterruptible time', async () => {
    const { parsePluginManifest } = await import('../../../host/core/manifest/index.js');
    const spec = await fixtureSpec('spin');
    const json = {
      schemaVersion: 1, name: spec.name, version: spec.version, capability: spec.capability, abi: spec.abi,
      wasm: { path: 'spin.wasm', sha256: spec.wasm.sha256 }, isolation: 'in-thread', limits: { callTimeoutMs: 1000 },
    };
    assert.throws(() => parsePluginManifest(json, { manifestPath: null, baseDir: '/' }), (e: unknown) =>
      (e as { details?: { path?: string } }).details?.path === 'limits.callTimeoutMs');
  });
});

describe('trap, malformed output, output over its limit', () => {
  for (const isolation of ISOLATIONS) {
    test(`${isolation}: each is a typed error and the plugin keeps serving`, async () => {
      const changes = { isolation, limits: { callTimeoutMs: isolation === 'in-thread' ? 25 : 2000, maxOutputBytes: 4096 } };
      await withInstance(await loadPlugin(await fixtureSpec('trap', changes)), async (inst) => {
        await assert.rejects(inst.call('echo', Uint8Array.of(1)), PluginTrapError);
        assert.equal(await sum(inst, [1.5, 2]), 3.5);
      });
      await withInstance(await loadPlugin(await fixtureSpec('malformed', changes)), async (inst) => {
        await assert.rejects(inst.call('echo', Uint8Array.of(1)), MalformedOutputError);
        await assert.rejects(inst.call('sum', encodeF32Vector({ len: 1, values: Float32Array.of(1) })), MalformedOutputError);
      });
      await withInstance(await loadPlugin(await fixtureSpec('bigout', changes)), async (inst) => {
        const ask = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
        assert.equal((await inst.call('echo', ask(4096))).length, 4096);
        await assert.rejects(inst.call('echo', ask(4097)), OutputLimitError);
        await assert.rejects(inst.call('echo', ask(10 * 1024 * 1024)), OutputLimitError);
        assert.equal((await inst.call('echo', ask(10))).length, 10);
      });
      await withInstance(await loadPlugin(await fixtureSpec('selftest-alt', changes)), async (inst) => {
        await assert.rejects(inst.call('sum', Uint8Array.of(1, 2, 3)), PluginReportedError);
        await assert.rejects(inst.call('nope', Uint8Array.of()), FunctionNotFoundError);
        await assert.rejects(inst.call('echo', new Uint8Array(inst.spec.limits.maxInputBytes + 1)), InputLimitError);
        assert.equal(await sum(inst, [1, 1]), 2);
      });
    });
  }
});

describe('imports the manifest does not declare', () => {
  for (const name of ['undeclared', 'wasi']) {
    test(`${name}: refused at load with X0T_IMPORT_NOT_PERMITTED`, async () => {
      await assert.rejects(compilePlugin(await fixtureSpec(name)), (e: unknown) => {
        assert.ok(e instanceof ImportNotPermittedError);
        assert.ok((e.details['imports'] as string[]).length > 0);
        return true;
      });
    });
  }

  test('logger: granted log/config/var imports work; without the grant it is refused', async () => {
    const logs: string[] = [];
    const spec = await fixtureSpec('logger');
    const inst = await loadPlugin(spec, { log: (_p, level, msg) => logs.push(`${level}:${msg}`) });
    try {
      const out1 = new TextDecoder().decode(await inst.call('echo', new TextEncoder().encode('hi')));
      const out2 = new TextDecoder().decode(await inst.call('echo', new TextEncoder().encode('hi')));
      // `suffix` comes from the manifest's config through config_get; var_get/var_set keep a call counter.
      assert.equal(out1, 'hi!');
      assert.equal(out2, 'hi!');
      await new Promise((r) => setTimeout(r, 50)); // worker logs arrive as messages
      assert.deepEqual(logs.filter((l) => l === 'info:echo: 2 bytes').length, 2, `logs: ${logs.join(' | ')}`);
    } finally {
      await inst.close();
    }
    const denied = Object.freeze({ ...spec, permissions: Object.freeze({ host: [] }) });
    await assert.rejects(compilePlugin(denied), ImportNotPermittedError);
  });
});
