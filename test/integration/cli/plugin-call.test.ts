// `x0t plugin call` end to end: the real CLI in a child process, on product plugins and hostile fixtures. Each
// failure must end the process with the error's exit code and name the typed error code on stderr.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadPluginSpec } from '../../../host/runtime/load-manifest.js';
import { decodeF64Vector, encodeF32Vector } from '../../../sdk/abi/generated/contract.js';
import { fixtureManifest, fixtureWasm, jsonError, pluginManifest, runCli } from './harness.js';

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'x0t-cli-call-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function assertFailure(r: { code: number | null; stderr: string }, exitCode: number, code: string): void {
  assert.equal(r.code, exitCode, `exit code ${r.code}, stderr: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^x0t: ${code}: `, 'm'));
}

describe('x0t plugin call: success', () => {
  test('echo through a manifest writes the raw output to stdout', async () => {
    const r = await runCli(['plugin', 'call', pluginManifest('selftest'), 'echo', '--input', 'hello, mesh']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString('utf8'), 'hello, mesh');
    assert.equal(r.stderr, '');
  });

  test('binary frames in from stdin (--input-file -), raw bytes out', async () => {
    const frame = encodeF32Vector({ len: 4, values: Float32Array.of(1, 2, 3, 4.5) });
    const r = await runCli(['plugin', 'call', pluginManifest('selftest'), 'sum', '--input-file', '-'], { stdin: frame });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(decodeF64Vector(new Uint8Array(r.stdout)).values[0], 10.5);
  });

  test('a bare .wasm runs with an ad-hoc spec; --input-file reads a file', async () => {
    const wasm = (await loadPluginSpec(pluginManifest('selftest'))).wasm.path;
    const file = join(tmp, 'in.bin');
    await writeFile(file, Uint8Array.of(0, 1, 2, 255));
    const r = await runCli(['plugin', 'call', wasm, 'echo', '--input-file', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...r.stdout], [0, 1, 2, 255]);
  });

  test('--json prints one object with the output in base64', async () => {
    const r = await runCli(['plugin', 'call', pluginManifest('selftest'), 'echo', '--input', 'hi', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout.toString('utf8')) as Record<string, unknown>;
    assert.equal(o['outputBase64'], Buffer.from('hi').toString('base64'));
    assert.equal(o['outputUtf8'], 'hi');
    assert.equal(o['function'], 'echo');
  });
});

describe('x0t plugin call: typed failures', () => {
  test('trap → exit 10, X0T_PLUGIN_TRAP', async () => {
    assertFailure(await runCli(['plugin', 'call', fixtureManifest('trap'), 'echo', '--input', 'x']), 10, 'X0T_PLUGIN_TRAP');
  });

  test('trap as a bare .wasm too', async () => {
    assertFailure(await runCli(['plugin', 'call', fixtureWasm('trap'), 'echo', '--input', 'x']), 10, 'X0T_PLUGIN_TRAP');
  });

  test('output over --max-output-bytes → exit 13, X0T_PLUGIN_OUTPUT_LIMIT', async () => {
    const ask = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
    const ok = await runCli(['plugin', 'call', fixtureManifest('bigout'), 'echo', '--input-file', '-', '--max-output-bytes', '4096'], { stdin: ask(4096) });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.length, 4096);
    const r = await runCli(['plugin', 'call', fixtureManifest('bigout'), 'echo', '--input-file', '-', '--max-output-bytes', '4096'], { stdin: ask(4097) });
    assertFailure(r, 13, 'X0T_PLUGIN_OUTPUT_LIMIT');
    assert.equal(r.stdout.length, 0);
  });

  test('output over the default limit as a bare .wasm → X0T_PLUGIN_OUTPUT_LIMIT', async () => {
    const r = await runCli(['plugin', 'call', fixtureWasm('bigout'), 'echo', '--input-file', '-'], {
      stdin: new Uint8Array(new Uint32Array([8 * 1024 * 1024]).buffer), // over the 4 MiB default, within 16 MiB of memory
    });
    assertFailure(r, 13, 'X0T_PLUGIN_OUTPUT_LIMIT');
  });

  test('undeclared import → exit 5, X0T_IMPORT_NOT_PERMITTED (manifest and bare .wasm)', async () => {
    assertFailure(await runCli(['plugin', 'call', fixtureManifest('undeclared'), 'echo']), 5, 'X0T_IMPORT_NOT_PERMITTED');
    assertFailure(await runCli(['plugin', 'call', fixtureWasm('undeclared'), 'echo']), 5, 'X0T_IMPORT_NOT_PERMITTED');
    assertFailure(await runCli(['plugin', 'call', fixtureWasm('wasi'), 'echo']), 5, 'X0T_IMPORT_NOT_PERMITTED');
  });

  test('an endless loop with --timeout-ms 200 → exit 11, X0T_PLUGIN_TIMEOUT, fast', async () => {
    const r = await runCli(['plugin', 'call', fixtureManifest('spin'), 'echo', '--input', 'x', '--timeout-ms', '200'], { timeoutMs: 15_000 });
    assertFailure(r, 11, 'X0T_PLUGIN_TIMEOUT');
    assert.equal(r.signal, null);
    // Process start-up and module compilation included; the loop itself is cut at 200 ms.
    assert.ok(r.ms < 5_000, `took ${r.ms.toFixed(0)} ms`);
  });

  test('a bare .wasm loop with --timeout-ms 200 → X0T_PLUGIN_TIMEOUT', async () => {
    const r = await runCli(['plugin', 'call', fixtureWasm('spin'), 'echo', '--timeout-ms', '200'], { timeoutMs: 15_000 });
    assertFailure(r, 11, 'X0T_PLUGIN_TIMEOUT');
  });

  test('an unknown function → exit 17, X0T_FUNCTION_NOT_FOUND', async () => {
    assertFailure(await runCli(['plugin', 'call', pluginManifest('selftest'), 'nope']), 17, 'X0T_FUNCTION_NOT_FOUND');
  });

  test('a missing file → exit 4, X0T_IO', async () => {
    assertFailure(await runCli(['plugin', 'call', join(tmp, 'absent.wasm'), 'echo']), 4, 'X0T_IO');
  });

  test('--json: the error is one JSON object on stderr', async () => {
    const r = await runCli(['plugin', 'call', fixtureManifest('trap'), 'echo', '--input', 'x', '--json']);
    assert.equal(r.code, 10);
    assert.equal(r.stdout.length, 0);
    const e = jsonError(r.stderr);
    assert.equal(e.code, 'X0T_PLUGIN_TRAP');
    assert.equal(typeof e.message, 'string');
    assert.equal(typeof e.details, 'object');
  });
});

describe('x0t: usage errors exit 2', () => {
  const cases: [string, string[]][] = [
    ['a missing argument', ['plugin', 'call', 'x.wasm']],
    ['both --input and --input-file', ['plugin', 'call', fixtureWasm('trap'), 'echo', '--input', 'a', '--input-file', 'b']],
    ['a non-numeric --timeout-ms', ['plugin', 'call', fixtureWasm('trap'), 'echo', '--timeout-ms', 'soon']],
    ['an unknown option', ['plugin', 'call', fixtureWasm('trap'), 'echo', '--bogus']],
    ['an unknown command', ['plugin', 'frobnicate']],
  ];
  for (const [what, args] of cases) {
    test(what, async () => {
      assertFailure(await runCli(args), 2, 'X0T_USAGE');
      const j = await runCli([...args, '--json']);
      assert.equal(j.code, 2);
      assert.equal(jsonError(j.stderr).code, 'X0T_USAGE');
    });
  }

  test('--help and --version exit 0', async () => {
    const h = await runCli(['plugin', 'call', '--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout.toString(), /--timeout-ms/);
    const v = await runCli(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout.toString(), /^\d+\.\d+\.\d+/);
  });
});
