// `x0t fl reproduce --quick`: the CI variant of the Byzantine-robustness reproduction, end to end (each run an
// `x0t fl simulate` process with the real trainer and aggregator plugins). It checks the report's shape, that
// every run finished, and the one qualitative result that holds even after 15 rounds: Krum, which picks a single
// update, collapses under IPM (the paper: 36.6 %, ours near chance), while centred clipping does not.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../cli/harness.js';

interface Report {
  options: { quick: boolean; seeds: number; rounds: number };
  example: string;
  summary: { aggregator: string; attack: string; mean: number | null; failed: number; reference: number | null }[];
  runs: { aggregator: string; attack: string; accuracy: number | null; error: string | null }[];
}

describe('x0t fl reproduce --quick', () => {
  let dir = '';
  let report: Report;
  let stdout = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'x0t-fl-repro-'));
    const r = await runCli(['fl', 'reproduce', '--quick', '--out', dir], { timeoutMs: 600_000 });
    assert.equal(r.code, 0, r.stderr);
    stdout = r.stdout.toString('utf8');
    report = JSON.parse(await readFile(join(dir, 'fl-mnist.json'), 'utf8')) as Report;
  });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('runs every rule under ALIE and IPM once, all to completion', () => {
    assert.deepEqual(report.options, { quick: true, seeds: 1, rounds: 15, baseline: false });
    assert.equal(report.runs.length, 16);
    for (const run of report.runs) {
      assert.equal(run.error, null, `${run.aggregator}/${run.attack}: ${run.error}`);
      assert.ok(run.accuracy !== null && run.accuracy >= 0 && run.accuracy <= 1);
    }
    assert.equal(report.summary.length, 16);
    assert.equal(report.summary.find((s) => s.aggregator === 'geomed' && s.attack === 'ipm')?.reference, 16.3);
  });
  test('Krum collapses under IPM; centred clipping keeps learning', () => {
    const acc = (aggregator: string, attack: string): number => report.summary.find((s) => s.aggregator === aggregator && s.attack === attack)!.mean!;
    assert.ok(acc('krum', 'ipm') < 30, `krum under IPM: ${acc('krum', 'ipm')} %`);
    assert.ok(acc('cclip', 'ipm') > acc('krum', 'ipm') + 25, `cclip ${acc('cclip', 'ipm')} % vs krum ${acc('krum', 'ipm')} %`);
  });
  test('prints the markdown table and writes the table, JSON and chart', async () => {
    assert.match(stdout, /^\| rule \| ALIE \(ours\) \| ALIE \(paper\) \| IPM \(ours\) \| IPM \(paper\) \|$/m);
    assert.match(stdout, /^\| krum \| [\d.]+ \| 77\.3 \| [\d.]+ \| 36\.6 \|$/m);
    assert.match(report.example, /^x0t fl simulate .*--aggregator cclip --param tau=1/);
    const svg = await readFile(join(dir, 'fl-mnist.svg'), 'utf8');
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal((svg.match(/<rect [^>]*><title>/g) ?? []).length, 16, 'one bar per rule and attack');
    assert.match(await readFile(join(dir, 'fl-mnist.md'), 'utf8'), /\| cclip \|/);
  });
});
