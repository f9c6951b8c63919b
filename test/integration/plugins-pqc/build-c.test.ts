// The C path of sdk/tools/build-plugins.ts: plugin.json checks, a missing toolchain named with its apt packages,
// folders without plugin.json skipped, and a small C plugin written against sdk/c alone (the selftest capability)
// that builds, passes its kit, and is refused when it does not export its whole capability.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BuildFailedError } from '../../../host/errors/index.js';
import { loadPlugin } from '../../../host/runtime/instantiate.js';
import { loadPluginSpec } from '../../../host/runtime/load-manifest.js';
import { runConformance } from '../../../sdk/abi/conformance/index.js';
import { build, discover, findCToolchain, parsePluginSource } from '../../../sdk/tools/build-plugins.js';
import { ROOT } from '../../support/fixtures.js';

const base = {
  name: 'x', version: '1.0.0', capability: 'kem', description: 'd',
  limits: { maxMemoryPages: 16, callTimeoutMs: 1000, maxInputBytes: 1024, maxOutputBytes: 1024 },
};
const parse = (b: unknown) => parsePluginSource({ ...base, build: b }, 'p', 'x', ['kem']);

const SELFTEST_C = `
#include <string.h>
#include "x0t.h"

static int32_t echo(const uint8_t *in, uint32_t len) {
  uint8_t *out = x0t_out_reserve(len);
  if (out == NULL) return x0t_fail(X0T_STATUS_INTERNAL, "echo: out of memory");
  memcpy(out, in, len);
  return X0T_STATUS_OK;
}

#ifndef WITHOUT_SUM
static int32_t sum(const uint8_t *in, uint32_t len) {
  x0t_frame v;
  int32_t status = x0t_frame_decode(&X0T_FRAME_F32Vector, in, len, &v);
  if (status != X0T_STATUS_OK) return status;
  double total = 0;
  for (uint32_t i = 0; i < v.count[X0T_F32Vector_values]; i++) {
    float x;
    memcpy(&x, v.section[X0T_F32Vector_values] + 4 * i, 4);
    total += x;
  }
  const uint32_t header[1] = {1};
  x0t_frame out;
  status = x0t_frame_write(&X0T_FRAME_F64Vector, header, &out);
  if (status == X0T_STATUS_OK) memcpy(out.section[X0T_F64Vector_values], &total, 8);
  return status;
}
X0T_EXPORT(sum, sum)
#endif

X0T_EXPORT(echo, echo)
`;

function scratchRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'x0t-build-c-'));
  for (const entry of ['node_modules', 'sdk', 'asconfig.json']) symlinkSync(join(ROOT, entry), join(root, entry));
  mkdirSync(join(root, 'manifests'));
  symlinkSync(join(ROOT, 'manifests', 'schema'), join(root, 'manifests', 'schema'));
  return root;
}

function cPlugin(root: string, name: string, cflags: string[]): void {
  mkdirSync(join(root, 'plugins', name), { recursive: true });
  writeFileSync(join(root, 'plugins', name, 'selftest.c'), SELFTEST_C);
  writeFileSync(join(root, 'plugins', name, 'plugin.json'), JSON.stringify({
    name, version: '1.0.0', capability: 'selftest', description: 'selftest in C',
    limits: { maxMemoryPages: 256, callTimeoutMs: 1000, maxInputBytes: 4194304, maxOutputBytes: 4194304 },
    build: { language: 'c', cflags },
  }));
}

describe('plugin.json for C plugins', () => {
  test('defaults, and every field checked by name', () => {
    const b = parse({ language: 'c' }).build;
    assert.deepEqual(b, { language: 'c', sources: [], include: [], cflags: ['-O3'], ldflags: [], stackBytes: 131072, allowForbiddenImports: false });
    assert.equal(parsePluginSource(base, 'p', 'x', ['kem']).build.language, 'assemblyscript');
    assert.throws(() => parse({ language: 'rust' }), /p\.build\.language: must be "assemblyscript" or "c"/);
    assert.throws(() => parse({ language: 'c', target: 'release' }), /p\.build\.target: unknown field for language c/);
    assert.throws(() => parse({ sources: [] }), /p\.build\.sources: unknown field for language assemblyscript/);
    assert.throws(() => parse({ language: 'c', sources: ['../x.c'] }), /p\.build\.sources\[0\]: must be a relative path inside the repository/);
    assert.throws(() => parse({ language: 'c', sources: ['/abs/x.c'] }), /p\.build\.sources\[0\]/);
    assert.throws(() => parse({ language: 'c', sources: ['a/*/x.c'] }), /"\*" is allowed in the last path segment only/);
    assert.throws(() => parse({ language: 'c', sources: ['a/x.h'] }), /must name \.c files/);
    assert.throws(() => parse({ language: 'c', include: ['a/*'] }), /p\.build\.include\[0\]: must not contain "\*"/);
    assert.throws(() => parse({ language: 'c', cflags: ['-g'] }), /p\.build\.cflags\[0\]: -g is set by the build itself/);
    assert.throws(() => parse({ language: 'c', cflags: ['-o'] }), /-o is set by the build itself/);
    assert.throws(() => parse({ language: 'c', cflags: ['--target=x86_64'] }), /is set by the build itself/);
    assert.throws(() => parse({ language: 'c', cflags: ['O3'] }), /must be a flag starting with "-"/);
    assert.throws(() => parse({ language: 'c', ldflags: ['-O3'] }), /p\.build\.ldflags\[0\]: optimisation belongs in cflags/);
    assert.throws(() => parse({ language: 'c', stackBytes: 1000 }), /p\.build\.stackBytes: must be a multiple of 16/);
  });
});

describe('C toolchain', () => {
  test('a missing clang, wasi-libc or compiler-rt is a BuildFailedError naming the apt packages', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'x0t-fake-clang-'));
    const saved = process.env['X0T_CLANG'];
    try {
      process.env['X0T_CLANG'] = join(dir, 'no-such-clang');
      await assert.rejects(findCToolchain(ROOT), (e: unknown) => e instanceof BuildFailedError &&
        /apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32/.test(e.message));
      // A clang that runs but finds neither wasi-libc nor the wasm32 builtins (wasm-ld "found": an existing file).
      const fake = join(dir, 'clang');
      writeFileSync(fake, [
        '#!/bin/sh',
        'case "$*" in',
        '  *--version*) echo "Debian clang version 15.0.7" ;;',
        '  *-print-prog-name=wasm-ld*) echo /bin/sh ;;',
        '  *-print-file-name=libc.a*) echo libc.a ;;',
        '  *-print-libgcc-file-name*) echo /nonexistent/libclang_rt.builtins-wasm32.a ;;',
        'esac',
      ].join('\n'));
      chmodSync(fake, 0o755);
      process.env['X0T_CLANG'] = fake;
      await assert.rejects(findCToolchain(ROOT), (e: unknown) => {
        assert.ok(e instanceof BuildFailedError);
        assert.match(e.message, /Debian clang version 15\.0\.7 lacks wasi-libc \(package wasi-libc\), compiler-rt builtins for wasm32 \(package libclang-rt-15-dev-wasm32\)/);
        assert.match(e.message, /apt-get install clang lld wasi-libc libclang-rt-15-dev-wasm32/);
        return true;
      });
    } finally {
      if (saved === undefined) delete process.env['X0T_CLANG'];
      else process.env['X0T_CLANG'] = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the real toolchain is complete', async () => {
    const t = await findCToolchain(ROOT);
    assert.match(t.version, /clang version/);
  });
});

describe('building C plugins', () => {
  test('folders without plugin.json or index.ts are skipped; a C plugin needs sources', () => {
    const root = scratchRoot();
    try {
      mkdirSync(join(root, 'plugins', 'shared-c'), { recursive: true });
      writeFileSync(join(root, 'plugins', 'shared-c', 'util.c'), 'int x;\n');
      cPlugin(root, 'c-selftest', ['-O1']);
      assert.deepEqual(discover(root, []).map((j) => j.dir), ['c-selftest']);
      mkdirSync(join(root, 'plugins', 'empty-c'));
      writeFileSync(join(root, 'plugins', 'empty-c', 'plugin.json'), JSON.stringify({
        name: 'empty-c', version: '1.0.0', capability: 'selftest', description: 'd', limits: base.limits, build: { language: 'c' },
      }));
      assert.throws(() => discover(root, []), /plugins\/empty-c\/plugin\.json: a C plugin needs \.c sources/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('a C plugin on sdk/c alone builds, passes the selftest kit, and must export its whole capability', async () => {
    const root = scratchRoot();
    try {
      cPlugin(root, 'c-selftest', ['-O2']);
      const report = await build({ root, only: ['c-selftest'], check: false, log: () => {} });
      assert.equal(report.built.length, 1);
      const inst = await loadPlugin(await loadPluginSpec(join(root, 'manifests', 'plugins', 'c-selftest.json')));
      try {
        await runConformance('selftest', (fn, input) => inst.call(fn, input));
      } finally {
        await inst.close();
      }
      const again = await build({ root, only: ['c-selftest'], check: true, log: () => {} });
      assert.deepEqual(again.differences, []);

      cPlugin(root, 'c-partial', ['-O2', '-DWITHOUT_SUM']);
      await assert.rejects(build({ root, only: ['c-partial'], check: false, log: () => {} }), (e: unknown) => e instanceof BuildFailedError &&
        /plugins\/c-partial: exports must be the selftest ABI exactly; missing x0t_call_sum, sum/.test(e.message));

      cPlugin(root, 'c-broken', ['-O2', '-DX0T_EXPORT=nonsense(']);
      await assert.rejects(build({ root, only: ['c-broken'], check: false, log: () => {} }), (e: unknown) => e instanceof BuildFailedError &&
        /plugins\/c-broken: clang \(.*clang version.*\) failed/.test(e.message));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
