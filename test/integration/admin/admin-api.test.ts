// The admin HTTP API of a real node (`x0t node start` in a child process, admin API on an ephemeral port): slot
// listing with latency percentiles, raw calls, typed JSON errors, Prometheus /metrics checked line by line, a hot
// swap through the API and through `x0t plugin swap`, and a live swap by editing the node manifest file.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { loadPluginSpec } from '../../../host/runtime/load-manifest.js';
import { decodeF32Vector, decodeF64Vector, encodeAggregateRequest, encodeF32Vector } from '../../../sdk/abi/generated/contract.js';
import {
  admin, eventually, fixtureManifest, pluginManifest, runCli, startNode, tempNodeManifest, type RunningNode,
} from '../cli/harness.js';
import { parseExposition } from './prometheus.js';

const sumFrame = encodeF32Vector({ len: 3, values: Float32Array.of(1, 2, 3.5) });

describe('admin API of a running node', () => {
  let node: RunningNode;
  let manifest: Awaited<ReturnType<typeof tempNodeManifest>>;

  before(async () => {
    manifest = await tempNodeManifest();
    node = await startNode(manifest.file);
  });
  after(async () => {
    const code = await node?.stop();
    await manifest?.cleanup();
    assert.equal(code, 0, `node exit code ${code}; stderr:\n${node?.stderr()}`);
  });

  test('the node binds loopback on the ephemeral port it reports', () => {
    assert.match(node.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(node.url, 'http://127.0.0.1:0');
  });

  test('GET /healthz', async () => {
    const r = await admin(node.url, '/healthz');
    assert.equal(r.status, 200);
    assert.equal(r.json.status, 'ok');
    assert.equal(r.json.node, 'local-demo');
    assert.deepEqual([...r.json.slots].sort(), ['aggregator', 'kem', 'selftest', 'signer']);
  });

  test('POST /slots/:name/call/:fn moves raw bytes; GET /slots shows calls and p50/p99', async () => {
    for (let i = 0; i < 20; i++) {
      const r = await admin(node.url, '/slots/selftest/call/sum', {
        method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: sumFrame,
      });
      assert.equal(r.status, 200);
      assert.equal(r.type, 'application/octet-stream');
      assert.equal(decodeF64Vector(r.bytes).values[0], 6.5);
    }
    const clients = 4;
    const dim = 16;
    const agg = await admin(node.url, '/slots/aggregator/call/aggregate', {
      method: 'POST',
      body: encodeAggregateRequest({ clients, dim, weights: new Float32Array(clients).fill(1), updates: new Float32Array(clients * dim).fill(0.5) }),
    });
    assert.equal(agg.status, 200);
    const v = decodeF32Vector(agg.bytes);
    assert.equal(v.len, dim);
    for (const x of v.values) assert.ok(Math.abs(x - 0.5) < 1e-6);

    const r = await admin(node.url, '/slots');
    assert.equal(r.status, 200);
    assert.equal(r.json.node.name, 'local-demo');
    const st = r.json.slots.find((s: { name: string }) => s.name === 'selftest');
    assert.ok(st.calls >= 20);
    assert.equal(typeof st.latencyMs.p50, 'number');
    assert.equal(typeof st.latencyMs.p99, 'number');
    assert.ok(st.latencyMs.p99 >= st.latencyMs.p50);
    assert.equal(st.plugin.name, 'selftest');
    assert.match(st.plugin.sha256, /^[0-9a-f]{64}$/);

    const one = await admin(node.url, '/slots/aggregator');
    assert.equal(one.status, 200);
    assert.equal(one.json.capability, 'aggregator');
    assert.ok(one.json.calls >= 1);
  });

  test('errors are JSON {error: {code, message, details}} with a status by class', async () => {
    const cases: [string, RequestInit, number, string][] = [
      ['/slots/nope', {}, 404, 'X0T_SLOT_UNAVAILABLE'],
      ['/slots/selftest/call/nope', { method: 'POST', body: new Uint8Array(1) }, 404, 'X0T_FUNCTION_NOT_FOUND'],
      ['/slots/selftest/call/sum', { method: 'POST', body: Uint8Array.of(1, 2, 3) }, 422, 'X0T_PLUGIN_ERROR'],
      ['/slots/selftest/call/sum', { method: 'GET' }, 405, 'X0T_USAGE'],
      ['/slots/selftest/swap', { method: 'POST', body: 'not json' }, 400, 'X0T_USAGE'],
      ['/slots/selftest/swap', { method: 'POST', body: '{}' }, 400, 'X0T_USAGE'],
      ['/slots/selftest/swap', { method: 'POST', body: JSON.stringify({ manifest: '/nonexistent/p.json' }) }, 422, 'X0T_IO'],
      ['/nothing/here', {}, 404, 'X0T_USAGE'],
    ];
    for (const [path, init, status, code] of cases) {
      const r = await admin(node.url, path, init);
      assert.equal(r.status, status, `${init.method ?? 'GET'} ${path}: ${JSON.stringify(r.json)}`);
      assert.equal(r.json.error.code, code, path);
      assert.equal(typeof r.json.error.message, 'string');
      assert.equal(typeof r.json.error.details, 'object');
    }
  });

  test('a body over the plugin\'s maxInputBytes is refused with 413 before the plugin sees it', async () => {
    const info = await admin(node.url, '/slots/selftest');
    const limit = (await loadPluginSpec(info.json.plugin.manifest)).limits.maxInputBytes;
    const r = await admin(node.url, '/slots/selftest/call/echo', { method: 'POST', body: new Uint8Array(limit + 1) });
    assert.equal(r.status, 413);
    assert.equal(r.json.error.code, 'X0T_PLUGIN_INPUT_LIMIT');
    // A declared length far over the limit is answered at once, without waiting for the body.
    const { request } = await import('node:http');
    const early = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${node.url}/slots/selftest/call/echo`, { method: 'POST', headers: { 'content-length': String(2 ** 30) } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    assert.equal(early.status, 413);
    assert.equal(JSON.parse(early.body).error.code, 'X0T_PLUGIN_INPUT_LIMIT');
    const ok = await admin(node.url, '/slots/selftest/call/echo', { method: 'POST', body: new Uint8Array(1000).fill(7) });
    assert.equal(ok.status, 200);
    assert.equal(ok.bytes.length, 1000);
  });

  test('GET /metrics: every line parses as Prometheus text exposition', async () => {
    const r = await admin(node.url, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.type, /^text\/plain; version=0\.0\.4/);
    const families = parseExposition(Buffer.from(r.bytes).toString('utf8'));
    const expect: Record<string, string> = {
      x0t_slot_calls_total: 'counter', x0t_slot_errors_total: 'counter', x0t_slot_restarts_total: 'counter',
      x0t_slot_latency_seconds: 'summary', x0t_slot_info: 'gauge',
    };
    for (const [name, type] of Object.entries(expect)) {
      const f = families.get(name);
      assert.ok(f, `family ${name} missing`);
      assert.equal(f.type, type, name);
      assert.ok(f.help.length > 0, `${name} has no HELP`);
      assert.deepEqual(new Set(f.samples.map((s) => s.labels['slot'])), new Set(['selftest', 'aggregator', 'kem', 'signer']), name);
    }
    const calls = families.get('x0t_slot_calls_total')!.samples.find((s) => s.labels['slot'] === 'selftest')!;
    assert.ok(calls.value >= 20);
    const quantiles = families.get('x0t_slot_latency_seconds')!.samples.filter((s) => s.labels['slot'] === 'selftest');
    assert.deepEqual(quantiles.map((s) => s.labels['quantile']).sort(), ['0.5', '0.99']);
    for (const q of quantiles) assert.ok(Number.isFinite(q.value) && q.value >= 0);
    const info = families.get('x0t_slot_info')!.samples.find((s) => s.labels['slot'] === 'selftest')!;
    assert.equal(info.value, 1);
    assert.match(info.labels['sha256']!, /^[0-9a-f]{64}$/);
    assert.equal(info.labels['plugin'], 'selftest');
    assert.ok(info.labels['version']);
  });
});

describe('hot swap through a running node', () => {
  let node: RunningNode;
  let manifest: Awaited<ReturnType<typeof tempNodeManifest>>;

  before(async () => {
    manifest = await tempNodeManifest();
    node = await startNode(manifest.file);
  });
  after(async () => {
    const code = await node?.stop();
    await manifest?.cleanup();
    assert.equal(code, 0, `node exit code ${code}; stderr:\n${node?.stderr()}`);
  });

  const sha = async (slot: string): Promise<string> => (await admin(node.url, `/slots/${slot}`)).json.plugin.sha256 as string;

  test('POST /slots/selftest/swap switches to another plugin and the slot keeps answering', async () => {
    const alt = await loadPluginSpec(fixtureManifest('selftest-alt'));
    const r = await admin(node.url, '/slots/selftest/swap', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ manifest: fixtureManifest('selftest-alt') }),
    });
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.outcome, 'switched');
    assert.match(r.json.to, /^selftest-alt@/);
    assert.equal(await sha('selftest'), alt.wasm.sha256);
    const call = await admin(node.url, '/slots/selftest/call/sum', { method: 'POST', body: sumFrame });
    assert.equal(decodeF64Vector(call.bytes).values[0], 6.5);
  });

  test('a plugin that fails its self-test is refused (422) and the slot keeps its plugin', async () => {
    const before = await sha('selftest');
    const r = await admin(node.url, '/slots/selftest/swap', {
      method: 'POST', body: JSON.stringify({ manifest: fixtureManifest('badsum') }),
    });
    assert.equal(r.status, 422);
    assert.equal(r.json.error.code, 'X0T_SELFTEST_FAILED');
    assert.equal(await sha('selftest'), before);
    const wrongCapability = await admin(node.url, '/slots/aggregator/swap', {
      method: 'POST', body: JSON.stringify({ manifest: pluginManifest('selftest') }),
    });
    assert.equal(wrongCapability.status, 422);
    assert.equal(wrongCapability.json.error.code, 'X0T_CAPABILITY_MISMATCH');
  });

  test('x0t plugin swap asks the node through the admin API; its failures keep their codes', async () => {
    const product = await loadPluginSpec(pluginManifest('selftest'));
    const r = await runCli(['plugin', 'swap', 'selftest', pluginManifest('selftest'), '--admin', node.url, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout.toString());
    assert.equal(o.record.outcome, 'switched');
    assert.equal(await sha('selftest'), product.wasm.sha256);

    const text = await runCli(['plugin', 'swap', 'selftest', fixtureManifest('selftest-alt'), '--admin', node.url]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout.toString(), /^slot selftest: switched selftest@\S+ → selftest-alt@/);

    const bad = await runCli(['plugin', 'swap', 'selftest', fixtureManifest('badsum'), '--admin', node.url]);
    assert.equal(bad.code, 5);
    assert.match(bad.stderr, /^x0t: X0T_SELFTEST_FAILED: /);
    const noSlot = await runCli(['plugin', 'swap', 'nope', pluginManifest('selftest'), '--admin', node.url]);
    assert.equal(noSlot.code, 20);
    assert.match(noSlot.stderr, /X0T_SLOT_UNAVAILABLE/);
  });

  test('x0t plugin swap with no node listening → X0T_IO, exit 4', async () => {
    const r = await runCli(['plugin', 'swap', 'selftest', pluginManifest('selftest'), '--admin', 'http://127.0.0.1:9']);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /^x0t: X0T_IO: cannot reach/);
  });
});

describe('editing the node manifest swaps the slot live', () => {
  test('the admin API shows the new sha256 after the file is rewritten', async () => {
    const manifest = await tempNodeManifest();
    const node = await startNode(manifest.file);
    try {
      const product = await loadPluginSpec(pluginManifest('selftest'));
      const alt = await loadPluginSpec(fixtureManifest('selftest-alt'));
      assert.notEqual(product.wasm.sha256, alt.wasm.sha256);
      assert.equal((await admin(node.url, '/slots/selftest')).json.plugin.sha256, product.wasm.sha256);

      await manifest.write((m) => {
        m.slots['selftest']!.plugin = fixtureManifest('selftest-alt');
      });
      await eventually(async () => (await admin(node.url, '/slots/selftest')).json.plugin.sha256 === alt.wasm.sha256,
        15_000, 'the selftest slot to serve selftest-alt');
      const applied = await node.waitFor((e) => e['event'] === 'applied');
      const report = applied['report'] as { swapped: { slot: string }[] };
      assert.deepEqual(report.swapped.map((s) => s.slot), ['selftest']);

      // Saves that replace the file (write a new one, rename it over) are picked up every time, not just once.
      for (const [target, spec] of [[pluginManifest('selftest'), product], [fixtureManifest('selftest-alt'), alt], [pluginManifest('selftest'), product]] as const) {
        await manifest.write((m) => {
          m.slots['selftest']!.plugin = target;
        }, 'replace');
        await eventually(async () => (await admin(node.url, '/slots/selftest')).json.plugin.sha256 === spec.wasm.sha256,
          15_000, `the selftest slot to serve ${spec.name} after a replacing save`);
      }

      // A broken edit is reported and changes nothing; the node keeps serving.
      await writeFile(manifest.file, '{"schemaVersion": 1, "slots": ');
      const failed = await node.waitFor((e) => e['event'] === 'watch-error');
      assert.equal((failed['error'] as { code: string }).code, 'X0T_MANIFEST_INVALID');
      assert.equal((await admin(node.url, '/slots/selftest')).json.plugin.sha256, product.wasm.sha256);
    } finally {
      const code = await node.stop();
      await manifest.cleanup();
      assert.equal(code, 0, node.stderr());
    }
  });
});

describe('renderMetrics', () => {
  test('escapes label values so hostile plugin names still parse', async () => {
    const { renderMetrics } = await import('../../../host/node/admin-server.js');
    const text = renderMetrics([{
      name: 'a"b', capability: 'selftest', phase: 'serving',
      plugin: { name: 'we\\ird\n"name"', version: '1.0.0', sha256: 'f'.repeat(64), isolation: 'worker', manifest: null },
      standby: null, calls: 0, errors: 0, restarts: 0, latencyMs: { p50: null, p99: null }, lastError: null, history: [],
    }]);
    const families = parseExposition(text);
    const info = families.get('x0t_slot_info')!.samples[0]!;
    assert.equal(info.labels['plugin'], 'we\\ird\n"name"');
    assert.equal(info.labels['slot'], 'a"b');
    const q = families.get('x0t_slot_latency_seconds')!.samples;
    assert.ok(q.every((s) => Number.isNaN(s.value)), 'no calls yet: quantiles are NaN');
  });
});
