// The committed wasm is what the sources build to, byte for byte (sdk/tools/build-plugins.ts
// --check builds into a temporary folder and compares). Two modules keep this test quick: one
// SDK plugin (target release) and one stock-PDK plugin (target pdk). `npm run build:plugins --
// --check` does all of them.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';

import type { HostPermission } from '../../../host/core/plugin-spec.js';
import { allowedImportKeys } from '../../../host/runtime/host-permissions.js';
import { manifestText, parsePluginSource } from '../../../sdk/tools/build-plugins.js';

// The build checks imports against the host's own grant table.
const importPermitted = (module: string, name: string, permissions: readonly HostPermission[]): boolean =>
  allowedImportKeys(permissions).has(`${module}\0${name}`);
import { ROOT } from './support.js';

describe('build-plugins', () => {
  it('rebuilds selftest and pdk-plain byte-for-byte identical to the committed files', () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/sdk/tools/build-plugins.js'), '--check', 'selftest', 'pdk-plain'], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /2 modules rebuilt byte-for-byte identical/);
  });

  it('permits kernel imports and what permissions grant, nothing else', () => {
    assert.ok(importPermitted('extism:host/env', 'input_load_u64', []));
    assert.ok(importPermitted('extism:host/env', 'output_set', []));
    assert.ok(!importPermitted('extism:host/env', 'log_info', []));
    assert.ok(importPermitted('extism:host/env', 'log_info', ['log']));
    assert.ok(importPermitted('x0t:host/env', 'clock_now_ms', ['clock']));
    assert.ok(!importPermitted('extism:host/env', 'http_request', ['log', 'config', 'var', 'clock', 'random']));
    assert.ok(!importPermitted('env', 'abort', []));
    assert.ok(!importPermitted('wasi_snapshot_preview1', 'fd_write', []));
  });

  it('checks plugin.json and names the field', () => {
    const good = {
      name: 'x', version: '1.0.0', capability: 'selftest', description: 'd',
      limits: { maxMemoryPages: 1, callTimeoutMs: 1, maxInputBytes: 1, maxOutputBytes: 1 },
    };
    assert.equal(parsePluginSource(good, 'p', 'x', ['selftest']).isolation, 'worker');
    assert.throws(() => parsePluginSource({ ...good, name: 'y' }, 'p', 'x', ['selftest']), /p\.name: must equal the folder name/);
    assert.throws(() => parsePluginSource({ ...good, capability: 'kem' }, 'p', 'x', ['selftest']), /p\.capability/);
    assert.throws(() => parsePluginSource({ ...good, limits: { ...good.limits, callTimeoutMs: 0 } }, 'p', 'x', ['selftest']),
      /p\.limits\.callTimeoutMs/);
    assert.throws(() => parsePluginSource({ ...good, permissions: { host: ['net'] } }, 'p', 'x', ['selftest']), /unknown permission net/);
    assert.throws(() => parsePluginSource({ ...good, extra: 1 }, 'p', 'x', ['selftest']), /p\.extra: unknown field/);
  });

  it('keeps a manifest signature only while the rest of the manifest is unchanged', () => {
    const fresh = { name: 'x', wasm: { sha256: 'a' } };
    const signed = JSON.stringify({ ...fresh, signature: { value: 's' } });
    assert.match(manifestText(fresh, signed), /"signature"/);
    assert.doesNotMatch(manifestText({ name: 'x', wasm: { sha256: 'b' } }, signed), /"signature"/);
  });
});
