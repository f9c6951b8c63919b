// Every prebuilt module in the repository (AssemblyScript plugins, with SIMD) meters to a valid module whose
// imports are the original ones plus `x0t:meter.check`.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ModuleInvalidError } from '../../../host/errors/index.js';
import { METER_IMPORT_MODULE, METER_IMPORT_NAME, meterModule } from '../../../host/runtime/wasm-meter.js';

/** Repository root (this file runs from dist/test/unit/wasm-meter/). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

function wasmFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.wasm')) found.push(p);
    }
  };
  walk(path.join(ROOT, 'wasm'));
  walk(path.join(ROOT, 'test', 'fixtures', 'wasm'));
  return found.sort();
}

test('every prebuilt .wasm meters to a valid module with one extra import', async (t) => {
  const files = wasmFiles();
  if (files.length === 0) {
    t.skip('no .wasm files under wasm/ or test/fixtures/wasm/ yet');
    return;
  }
  for (const file of files) {
    const rel = path.relative(ROOT, file);
    await t.test(rel, (st) => {
      const bytes = new Uint8Array(readFileSync(file));
      if (!WebAssembly.validate(bytes)) {
        // Deliberately broken fixtures: metering may refuse them, but only with the typed error.
        try { meterModule(bytes); } catch (e) { assert.ok(e instanceof ModuleInvalidError, String(e)); }
        st.skip('the original does not validate');
        return;
      }
      const out = meterModule(bytes);
      assert.ok(WebAssembly.validate(out), `${rel}: metered module validates`);
      const before = new WebAssembly.Module(bytes);
      const after = new WebAssembly.Module(out);
      assert.deepEqual(WebAssembly.Module.imports(after), [
        ...WebAssembly.Module.imports(before),
        { module: METER_IMPORT_MODULE, name: METER_IMPORT_NAME, kind: 'function' },
      ]);
      assert.deepEqual(WebAssembly.Module.exports(after), WebAssembly.Module.exports(before));
      st.diagnostic(`${bytes.length} → ${out.length} bytes (+${(((out.length - bytes.length) / bytes.length) * 100).toFixed(1)}%)`);
    });
  }
});

test('a metered fixture still answers its fast-path export like the original', (t) => {
  const files = wasmFiles();
  let compared = 0;
  for (const file of files) {
    const bytes = new Uint8Array(readFileSync(file));
    if (!WebAssembly.validate(bytes)) continue;
    const run = (b: Uint8Array<ArrayBuffer>, extra: WebAssembly.Imports): unknown => {
      const mod = new WebAssembly.Module(b);
      const imports: Record<string, Record<string, unknown>> = { ...(extra as Record<string, Record<string, unknown>>) };
      for (const i of WebAssembly.Module.imports(mod)) {
        if (i.kind !== 'function' || imports[i.module]?.[i.name]) continue;
        (imports[i.module] ??= {})[i.name] = () => { throw new Error(`unexpected host call ${i.module}.${i.name}`); };
      }
      const ex = new WebAssembly.Instance(mod, imports as WebAssembly.Imports).exports;
      return typeof ex['x0t_abi_version'] === 'function' ? (ex['x0t_abi_version'] as () => unknown)() : undefined;
    };
    // The metered module runs first, with a budget: a fixture whose start function never returns (spin-start) is
    // stopped there and skipped, instead of hanging the test in the unmetered original.
    let checks = 0;
    let got: unknown;
    try {
      got = run(meterModule(bytes, { interval: 1 }), {
        [METER_IMPORT_MODULE]: { [METER_IMPORT_NAME]: () => { if (++checks > 5_000_000) throw new Error('runaway'); } },
      });
    } catch {
      continue;
    }
    let expected: unknown;
    try { expected = run(bytes, {}); } catch { continue; }
    if (expected === undefined) continue;
    assert.equal(got, expected, path.relative(ROOT, file));
    assert.ok(checks > 0, 'the metered export passed at least one metering point');
    compared++;
  }
  if (compared === 0) t.skip('no fixture with an x0t_abi_version export');
  else t.diagnostic(`compared ${compared} fixtures`);
});
