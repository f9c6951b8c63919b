// `x0t plugin ls`, `inspect` and `test` against the product plugins and fixtures.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadPluginSpec } from '../../../host/runtime/load-manifest.js';
import { FIXTURE_MANIFESTS, fixtureManifest, fixtureWasm, jsonError, PLUGIN_MANIFESTS, pluginManifest, runCli } from './harness.js';

describe('x0t plugin ls', () => {
  test('lists the product plugins with their hashes checked', async () => {
    const r = await runCli(['plugin', 'ls', '--dir', PLUGIN_MANIFESTS, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout.toString()) as { plugins: { name: string; capability: string; hash: string; isolation: string }[] };
    const byName = new Map(o.plugins.map((p) => [p.name, p]));
    assert.equal(byName.get('selftest')?.capability, 'selftest');
    assert.equal(byName.get('fedavg')?.capability, 'aggregator');
    for (const p of o.plugins) assert.equal(p.hash, 'ok', `${p.name}: ${p.hash}`);

    const text = await runCli(['plugin', 'ls', '--dir', PLUGIN_MANIFESTS]);
    assert.equal(text.code, 0);
    assert.match(text.stdout.toString(), /^NAME\s+VERSION\s+CAPABILITY\s+ISOLATION\s+HASH/m);
    assert.match(text.stdout.toString(), /^fedavg\s+\S+\s+aggregator\s+\S+\s+OK/m);
  });

  test('lists every fixture manifest', async () => {
    const r = await runCli(['plugin', 'ls', '--dir', FIXTURE_MANIFESTS, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout.toString()) as { plugins: { name: string; hash: string | null }[] };
    for (const name of ['selftest-alt', 'trap', 'spin', 'bigout', 'undeclared']) {
      assert.equal(o.plugins.find((p) => p.name === name)?.hash, 'ok', name);
    }
  });

  test('a wasm that is not the pinned one, a missing wasm and a broken manifest are each reported', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'x0t-cli-ls-'));
    try {
      const m = JSON.parse(await readFile(pluginManifest('selftest'), 'utf8')) as Record<string, any>;
      const wasm = (await loadPluginSpec(pluginManifest('selftest'))).wasm.path;
      await writeFile(join(dir, 'a-tampered.json'), JSON.stringify({ ...m, wasm: { path: wasm, sha256: '0'.repeat(64) } }));
      await writeFile(join(dir, 'b-missing.json'), JSON.stringify({ ...m, wasm: { path: 'nowhere.wasm', sha256: '0'.repeat(64) } }));
      await writeFile(join(dir, 'c-broken.json'), '{"schemaVersion": 1');
      const r = await runCli(['plugin', 'ls', '--dir', dir, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const rows = (JSON.parse(r.stdout.toString()) as { plugins: { hash: string | null; error: { code: string } | null }[] }).plugins;
      assert.deepEqual(rows.map((p) => p.hash), ['mismatch', 'missing', null]);
      assert.equal(rows[2]!.error?.code, 'X0T_MANIFEST_INVALID');
      const text = await runCli(['plugin', 'ls', '--dir', dir]);
      assert.match(text.stdout.toString(), /MISMATCH/);

      const inspect = await runCli(['plugin', 'inspect', join(dir, 'a-tampered.json')]);
      assert.equal(inspect.code, 0, inspect.stderr);
      assert.match(inspect.stdout.toString(), /hash\s+MISMATCH/);
      assert.match(inspect.stdout.toString(), /^load: REFUSED X0T_HASH_MISMATCH/m);
      const call = await runCli(['plugin', 'call', join(dir, 'a-tampered.json'), 'echo', '--input', 'x']);
      assert.equal(call.code, 5);
      assert.match(call.stderr, /^x0t: X0T_HASH_MISMATCH: /);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a folder that does not exist → X0T_IO, exit 4', async () => {
    const r = await runCli(['plugin', 'ls', '--dir', '/nonexistent/x0t']);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /^x0t: X0T_IO: /);
  });
});

describe('x0t plugin inspect', () => {
  test('a product manifest: fast path, functions, kernel imports only, hash OK, loadable', async () => {
    const r = await runCli(['plugin', 'inspect', pluginManifest('selftest'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout.toString());
    const spec = await loadPluginSpec(pluginManifest('selftest'));
    assert.equal(o.spec.name, 'selftest');
    assert.equal(o.wasm.hash, 'ok');
    assert.equal(o.wasm.sha256, spec.wasm.sha256);
    assert.equal(o.module.fastPath, true);
    assert.ok(o.module.functions.includes('echo') && o.module.functions.includes('sum'));
    assert.ok(o.wasm.sizeBytes > 0);
    for (const i of o.module.imports) assert.notEqual(i.grantedBy, null, `${i.module}.${i.name}`);
    assert.deepEqual(o.load, { ok: true });

    const text = await runCli(['plugin', 'inspect', pluginManifest('selftest')]);
    assert.equal(text.code, 0);
    assert.match(text.stdout.toString(), /fast path\s+yes/);
    assert.match(text.stdout.toString(), /hash\s+OK/);
    assert.match(text.stdout.toString(), /^load: OK$/m);
  });

  test('an undeclared import is listed as NOT PERMITTED and the load verdict says why', async () => {
    const r = await runCli(['plugin', 'inspect', fixtureManifest('undeclared'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout.toString());
    assert.ok(o.module.imports.some((i: { grantedBy: string | null }) => i.grantedBy === null));
    assert.equal(o.load.ok, false);
    assert.equal(o.load.error.code, 'X0T_IMPORT_NOT_PERMITTED');
    const text = await runCli(['plugin', 'inspect', fixtureManifest('undeclared')]);
    assert.match(text.stdout.toString(), /NOT PERMITTED/);
    assert.match(text.stdout.toString(), /^load: REFUSED X0T_IMPORT_NOT_PERMITTED/m);
  });

  test('a bare module that is not the x0t fast path (Extism PDK only)', async () => {
    const r = await runCli(['plugin', 'inspect', fixtureWasm('pdk-plain'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout.toString());
    assert.equal(o.adHoc, true);
    assert.equal(o.wasm.hash, 'ad-hoc');
    assert.equal(o.module.fastPath, false);
  });
});

describe('x0t plugin test', () => {
  test('the product plugins pass their conformance kits', async () => {
    for (const name of ['selftest', 'fedavg']) {
      const r = await runCli(['plugin', 'test', pluginManifest(name)]);
      assert.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout.toString(), /^ {2}ok {4}/m);
      assert.doesNotMatch(r.stdout.toString(), /FAIL/);
    }
  });

  test('a plugin that sums wrong fails with X0T_SELFTEST_FAILED (exit 5), naming the case', async () => {
    const r = await runCli(['plugin', 'test', fixtureManifest('badsum')]);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stdout.toString(), /FAIL {2}sum/);
    assert.match(r.stderr, /^x0t: X0T_SELFTEST_FAILED: /m);
    const j = await runCli(['plugin', 'test', fixtureManifest('badsum'), '--json']);
    assert.equal(j.code, 5);
    const o = JSON.parse(j.stdout.toString());
    assert.equal(o.passed, false);
    assert.ok(o.cases.some((c: { ok: boolean }) => !c.ok));
    assert.equal(jsonError(j.stderr).code, 'X0T_SELFTEST_FAILED');
  });

  test('--capability picks the kit; a plugin lacking its functions is refused', async () => {
    const r = await runCli(['plugin', 'test', pluginManifest('selftest'), '--capability', 'aggregator']);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /X0T_CAPABILITY_MISMATCH/);
    const u = await runCli(['plugin', 'test', pluginManifest('selftest'), '--capability', 'nope']);
    assert.equal(u.code, 2);
  });
});
