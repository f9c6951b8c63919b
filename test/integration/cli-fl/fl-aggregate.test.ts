// `x0t fl aggregate` end to end: the real CLI, the shipped plugins, results checked against the TypeScript
// references of the aggregation rules; file-size, parameter and rule errors exit with usage codes.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../cli/harness.js';
import { median, trimmedMean } from '../../support/fl-reference/coordinate.js';
import { krum } from '../../support/fl-reference/krum.js';

const N = 25;
const D = 33;
let dir = '';
const updates = Float32Array.from({ length: N * D }, (_, i) => Math.sin(i * 12.9898) * 3);
const weights = Float32Array.from({ length: N }, (_, c) => 1 + (c % 4));
const bytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const close = (got: readonly number[], want: ArrayLike<number>, tol = 1e-5): void => {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) <= tol, `coordinate ${i}: ${g} vs ${want[i]}`));
};

describe('x0t fl aggregate', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'x0t-fl-agg-'));
    await writeFile(join(dir, 'u.f32'), bytes(updates));
    await writeFile(join(dir, 'w.f32'), bytes(weights));
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });
  const round = { clients: N, dim: D, weights, updates };
  const args = (...more: string[]): string[] => ['fl', 'aggregate', '--clients', String(N), '--dim', String(D), '--input', join(dir, 'u.f32'), ...more];

  test('--json prints {"result": […]} equal to the reference (median, krum f=5, trimmed-mean beta=0.2)', async () => {
    for (const [rule, extra, want] of [
      ['median', [], median(round)],
      ['krum', ['--param', 'f=5'], krum(round, 5)],
      ['trimmed-mean', ['--param', 'beta=0.2'], trimmedMean(round, 0.2)],
    ] as const) {
      const r = await runCli(args('--rule', rule, ...extra, '--weights', join(dir, 'w.f32'), '--json'));
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout.toString('utf8')) as { result: number[]; rule: string };
      assert.equal(out.rule, rule);
      close(out.result, want);
    }
  });
  test('text output is one value per line; --output writes D little-endian f32', async () => {
    const text = await runCli(args('--rule', 'median'));
    assert.equal(text.code, 0, text.stderr);
    close(text.stdout.toString('utf8').trim().split('\n').map(Number), median(round));
    const file = join(dir, 'out.f32');
    const r = await runCli(args('--rule', 'median', '--output', file));
    assert.equal(r.code, 0, r.stderr);
    const raw = await readFile(file);
    close([...new Float32Array(raw.buffer, raw.byteOffset, D)], median(round));
  });
  test('wrong sizes, unknown rules and parameters are usage errors (exit 2); a rule refusing its round exits 16', async () => {
    const wrongDim = await runCli(['fl', 'aggregate', '--rule', 'median', '--clients', String(N), '--dim', String(D + 1), '--input', join(dir, 'u.f32')]);
    assert.equal(wrongDim.code, 2);
    assert.match(wrongDim.stderr, /X0T_USAGE: --input .* holds 3300 bytes; expected 3400/);
    const unknown = await runCli(args('--rule', 'mean'));
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown aggregation rule 'mean'/);
    const badParam = await runCli(args('--rule', 'median', '--param', 'f=1'));
    assert.equal(badParam.code, 2);
    assert.match(badParam.stderr, /median has no parameter 'f'/);
    const badValue = await runCli(args('--rule', 'krum', '--param', 'f=two'));
    assert.equal(badValue.code, 2);
    const tooMany = await runCli(args('--rule', 'krum', '--param', 'f=20'));
    assert.equal(tooMany.code, 16);
    assert.match(tooMany.stderr, /X0T_PLUGIN_ERROR: .*n >= 2f \+ 3/);
  });
});
