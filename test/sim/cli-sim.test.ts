// `x0t sim` end to end through the real CLI, small (10 nodes): the report files are written (report.json parses
// and holds every fault, report.md has the tables, routes.svg has the curve and fault markers), the same seed gives
// a byte-identical report.json, --json prints the summary, the progress bar goes to stderr, bad options exit 2.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../integration/cli/harness.js';

const SMALL = ['sim', '--nodes', '10', '--topology', 'grid', '--faults', 'link-cut,blackhole,crash', '--faults-per-kind', '1', '--seed', '3'];
let dir = '';

describe('x0t sim', () => {
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'x0t-sim-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('writes report.json, report.md and routes.svg; the same seed gives the same report.json', async () => {
    const r1 = await runCli([...SMALL, '--out', join(dir, 'a'), '--no-progress'], { timeoutMs: 60_000 });
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal(r1.stderr, '');
    const text = r1.stdout.toString('utf8');
    assert.match(text, /^event\s+count\s+recovered/m);
    assert.match(text, /link-cut\s+1\s+1\s+\d+ ms/);
    assert.match(text, /silent-detection bound 1450 ms; control \d+ B\/s per node/);
    const json = await readFile(join(dir, 'a', 'report.json'), 'utf8');
    const report = JSON.parse(json) as { faults: { kind: string; recoveryMs: number | null }[]; topology: { nodes: number }; samples: unknown[] };
    assert.equal(report.topology.nodes, 10);
    assert.deepEqual(report.faults.map((f) => f.kind).sort(), ['blackhole', 'crash', 'heal-blackhole', 'heal-crash', 'heal-link-cut', 'link-cut']);
    assert.ok(report.faults.every((f) => f.recoveryMs !== null));
    assert.ok(report.samples.length > 100);
    const md = await readFile(join(dir, 'a', 'report.md'), 'utf8');
    assert.match(md, /^# x0t sim — 10 nodes, grid topology, seed 3/);
    assert.match(md, /\| link-cut \| 1 \| 1 \|/);
    const svg = await readFile(join(dir, 'a', 'routes.svg'), 'utf8');
    assert.match(svg, /<svg[\s>]/);
    assert.match(svg, /<path d="M/);
    assert.equal((svg.match(/stroke-dasharray/g) ?? []).length, 6, 'one marker per fault and heal');

    const r2 = await runCli([...SMALL, '--out', join(dir, 'b'), '--json'], { timeoutMs: 60_000 });
    assert.equal(r2.code, 0, r2.stderr);
    assert.equal(await readFile(join(dir, 'b', 'report.json'), 'utf8'), json);
    const out = JSON.parse(r2.stdout.toString('utf8')) as { summary: { silentDetectionBoundMs: number }; files: string[] };
    assert.equal(out.summary.silentDetectionBoundMs, 1450);
    assert.equal(out.files.length, 3);
    assert.match(r2.stderr, /sim 10 grid \[#+\] \d+\/\d+/, 'progress bar on stderr');
  });

  test('bad options exit with a usage error', async () => {
    for (const args of [['sim', '--topology', 'torus'], ['sim', '--faults', 'meteor'], ['sim', '--loss', '2'], ['sim', '--nodes', '1']]) {
      const r = await runCli(args, { timeoutMs: 30_000 });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /X0T_USAGE/);
    }
  });
});
