// Every built module (wasm/ and test/fixtures/wasm/): its manifest pins its hash, it imports only
// Extism kernel functions plus what its manifest's permissions grant (docs/PLUGIN-ABI.md), never
// `env` or WASI (except the two fixtures that exist to be refused), and SDK plugins export the
// fast path and the Extism twins of their capability's functions.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { CAPABILITIES, FAST_PATH_CORE_EXPORTS, type CapabilityName } from '../../../sdk/abi/generated/contract.js';
import { ROOT } from './support.js';

const KERNEL = [
  'alloc', 'free', 'length', 'length_unsafe', 'load_u8', 'load_u64', 'store_u8', 'store_u64',
  'input_length', 'input_load_u8', 'input_load_u64', 'input_offset', 'output_set', 'error_set', 'error_get',
];
const GRANTS: Record<string, string[]> = {
  log: ['extism:host/env.log_trace', 'extism:host/env.log_debug', 'extism:host/env.log_info',
    'extism:host/env.log_warn', 'extism:host/env.log_error', 'extism:host/env.get_log_level'],
  config: ['extism:host/env.config_get'],
  var: ['extism:host/env.var_get', 'extism:host/env.var_set'],
  clock: ['x0t:host/env.clock_now_ms'],
  random: ['x0t:host/env.random_fill'],
};
/** Fixtures whose whole point is an import no manifest can grant. */
const MUST_BE_REFUSED: Record<string, string> = {
  undeclared: 'extism:host/env.http_request',
  wasi: 'wasi_snapshot_preview1.random_get',
};
/** Fixtures that do not export the SDK's fast path + twins. */
const NOT_SDK_SHAPED = new Set(['pdk-plain', 'pdk-rust', 'malformed']);

interface Manifest {
  name: string;
  capability: string;
  wasm: { path: string; sha256: string };
  permissions: { host: string[] };
}

const MANIFEST_DIRS = ['manifests/plugins', 'test/fixtures/manifests'];

function manifests(): { file: string; m: Manifest }[] {
  const out: { file: string; m: Manifest }[] = [];
  for (const dir of MANIFEST_DIRS) {
    const abs = path.join(ROOT, dir);
    if (!existsSync(abs)) continue;
    for (const f of readdirSync(abs).sort()) {
      if (!f.endsWith('.json')) continue;
      out.push({ file: path.join(abs, f), m: JSON.parse(readFileSync(path.join(abs, f), 'utf8')) as Manifest });
    }
  }
  return out;
}

describe('built modules', () => {
  const all = manifests();

  it('there is a manifest and a module for every plugin source', () => {
    for (const [src, manifestsDir] of [['plugins', 'manifests/plugins'], ['test/fixtures/plugins', 'test/fixtures/manifests']] as const) {
      for (const name of readdirSync(path.join(ROOT, src)).sort()) {
        if (!existsSync(path.join(ROOT, src, name, 'index.ts'))) continue;
        assert.ok(existsSync(path.join(ROOT, manifestsDir, `${name}.json`)), `${manifestsDir}/${name}.json`);
      }
    }
    assert.ok(all.some((x) => x.m.name === 'fedavg'));
    assert.ok(all.some((x) => x.m.name === 'selftest'));
  });

  for (const { file, m } of all) {
    it(`${m.name}: hash pinned, imports permitted, exports complete`, async () => {
      const wasmPath = path.resolve(path.dirname(file), m.wasm.path);
      const bytes = readFileSync(wasmPath);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), m.wasm.sha256, `${m.name}: sha256 in manifest`);
      const mod = await WebAssembly.compile(bytes);

      const allowed = new Set(KERNEL.map((n) => `extism:host/env.${n}`));
      for (const p of m.permissions.host) for (const g of GRANTS[p] ?? []) allowed.add(g);
      const imports = WebAssembly.Module.imports(mod).map((i) => `${i.module}.${i.name}`);
      for (const i of WebAssembly.Module.imports(mod)) assert.equal(i.kind, 'function', `${m.name}: ${i.module}.${i.name}`);
      const forbidden = imports.filter((i) => !allowed.has(i));
      const refused = MUST_BE_REFUSED[m.name];
      if (refused !== undefined) {
        assert.deepEqual(forbidden, [refused], `${m.name} exists to import ${refused}`);
      } else {
        assert.deepEqual(forbidden, [], `${m.name}: imports not granted by its manifest`);
      }
      assert.ok(!imports.some((i) => i.startsWith('env.')), `${m.name}: imports from env`);

      const exports = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
      assert.ok(exports.has('memory'), `${m.name}: exports memory`);
      const cap = CAPABILITIES[m.capability as CapabilityName];
      assert.ok(cap !== undefined, `${m.name}: known capability`);
      if (m.name === 'pdk-plain' || m.name === 'pdk-rust') {
        assert.ok(exports.has('echo') && exports.has('count_vowels'));
        assert.ok(![...exports].some((e) => e.startsWith('x0t_')), 'no fast path');
        return;
      }
      for (const core of FAST_PATH_CORE_EXPORTS) assert.ok(exports.has(core), `${m.name}: ${core}`);
      for (const [fn, def] of Object.entries(cap.functions)) {
        assert.ok(exports.has(def.fastPath), `${m.name}: ${def.fastPath}`);
        assert.ok(exports.has(fn), `${m.name}: Extism twin ${fn}`);
      }
      if (!NOT_SDK_SHAPED.has(m.name)) {
        assert.ok(![...exports].some((e) => e.startsWith('__')), `${m.name}: no runtime internals exported`);
      }
    });
  }
});
