// `x0t fl simulate` end to end through the real CLI: --json prints one parseable object with every round, --plot
// writes an SVG chart, text mode prints the result table, and bad options exit with the registry's codes.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../cli/harness.js';

const SMALL = ['fl', 'simulate', '--rounds', '3', '--hidden', '16', '--eval-every', '3', '--no-progress'];
let dir = '';

interface SimulateJson {
  config: { rounds: number; hidden: number; aggregator: string };
  dim: number;
  rounds: { round: number; trainLoss: number; accuracy: number | null; received: number; bytesPerClient: number }[];
  finalAccuracy: number;
  initialAccuracy: number;
}

describe('x0t fl simulate', () => {
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'x0t-fl-sim-')); });
  after(async () => { await rm(dir, { recursive: true, force: true }); });

  test('--json prints one object with the config and 3 rounds; --plot writes an SVG with a data path', async () => {
    const plot = join(dir, 'acc.svg');
    const r = await runCli([...SMALL, '--json', '--plot', plot], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no progress bar with --no-progress');
    const out = JSON.parse(r.stdout.toString('utf8')) as SimulateJson;
    assert.equal(out.config.rounds, 3);
    assert.equal(out.config.hidden, 16);
    assert.equal(out.dim, 16 * 784 + 16 + 10 * 16 + 10);
    assert.deepEqual(out.rounds.map((x) => x.round), [1, 2, 3]);
    assert.deepEqual(out.rounds.map((x) => x.accuracy === null), [true, true, false], 'evaluated after round 3 only');
    for (const x of out.rounds) {
      assert.equal(x.received, 25);
      assert.ok(Number.isFinite(x.trainLoss) && x.trainLoss > 0);
      assert.ok(x.bytesPerClient > 4 * out.dim);
    }
    assert.equal(out.finalAccuracy, out.rounds[2]!.accuracy);
    const svg = await readFile(plot, 'utf8');
    assert.match(svg, /<svg[\s>]/);
    assert.match(svg, /<path[^>]* d="M/);
    assert.match(svg, /<\/svg>\s*$/);
  });

  test('text mode prints the result table and the summary line', async () => {
    const r = await runCli(SMALL, { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const text = r.stdout.toString('utf8');
    const header = text.split('\n').find((l) => l.includes('round'));
    assert.ok(header !== undefined, text);
    for (const col of ['train loss', 'test accuracy', 'ε spent', 'updates', 'bytes/client']) assert.ok(header.includes(col), `${col} in ${header}`);
    assert.match(text, /^\s*3\s.*%/m, 'a row for round 3 with its accuracy');
    assert.match(text, /fedavg under none \(5\/25 Byzantine\): final test accuracy \d+\.\d %/);
  });

  test('bad options: an unknown attack exits 2 (X0T_USAGE); krum with --secagg exits 42 (X0T_FL_CONFIG)', async () => {
    const attack = await runCli([...SMALL, '--attack', 'lie']);
    assert.equal(attack.code, 2, attack.stderr);
    assert.match(attack.stderr, /X0T_USAGE/);
    assert.match(attack.stderr, /lie/);
    assert.equal(attack.stdout.length, 0);

    const secagg = await runCli([...SMALL, '--aggregator', 'krum', '--secagg'], { timeoutMs: 60_000 });
    assert.equal(secagg.code, 42, secagg.stderr);
    assert.match(secagg.stderr, /X0T_FL_CONFIG/);
    assert.match(secagg.stderr, /krum/);
    assert.equal(secagg.stdout.length, 0);
  });
});
