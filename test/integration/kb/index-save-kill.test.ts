// Crash safety of saved vector indexes. A child process builds an HNSW index in the plugin (worker slot, as the node
// runs it) and saves it over and over, adding one vector per version; the test SIGKILLs it at random moments, many
// times. After every kill the file on disk must be a complete version (it loads, its tag and count agree, and it
// finds a known vector) or absent before the very first save; never a half-written file that loads. Then damaged
// copies (flipped bytes, truncations) must be refused with KbIndexCorruptError while the loaded index stays usable.
//
// The same compiled file is the child: with X0T_SAVE_KILL_PATH set it runs the save loop instead of the tests.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KbIndexCorruptError } from '../../../host/errors/index.js';
import type { VectorIndexParams } from '../../../host/kb/kb-types.js';
import { openHnswIndex, type PluginVectorIndex } from '../../../host/kb/vector-index.js';
import { seededUniform } from '../../support/seeded-uniform.js';

const DIM = 96;
const BASE = 4000;
const PARAMS: VectorIndexParams = { dim: DIM, metric: 'cosine', m: 8, efConstruction: 24, efSearch: 64, capacity: 8192, seed: 3 };

const rng = seededUniform;

/** The vector of `label`: the same in the child and the parent. */
function vectorOf(label: number): Float32Array {
  const r = rng(label + 1);
  return Float32Array.from({ length: DIM }, () => r() - 0.5);
}

function vectorsOf(labels: Uint32Array): Float32Array {
  const out = new Float32Array(labels.length * DIM);
  labels.forEach((l, i) => out.set(vectorOf(l), i * DIM));
  return out;
}

/** Child: build, then save version after version (version v holds BASE + v vectors), reporting each completed save. */
async function saveLoop(path: string, firstVersion: number): Promise<void> {
  const index = await openHnswIndex(PARAMS);
  const labels = Uint32Array.from({ length: BASE }, (_, i) => i);
  await index.add(labels, vectorsOf(labels));
  for (let v = 0; ; v++) {
    if (v > 0) await index.add(Uint32Array.of(BASE + v - 1), vectorOf(BASE + v - 1));
    const version = firstVersion + v;
    await index.save(path, `v${version}:${BASE + v}`);
    process.stdout.write(`saved ${version}\n`);
  }
}

interface Round {
  readonly saved: number[];
  readonly killedAfterMs: number;
}

/** Runs one child until its first save, lets it save for a random while, then SIGKILLs it. */
function killRound(path: string, firstVersion: number, delayMs: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url)], {
      env: { ...process.env, X0T_SAVE_KILL_PATH: path, X0T_SAVE_KILL_FIRST: String(firstVersion) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const saved: number[] = [];
    let out = '';
    let err = '';
    let armed = false;
    let t0 = 0;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const l of lines) saved.push(Number(l.replace('saved ', '')));
      if (!armed && saved.length > 0) {
        armed = true;
        t0 = performance.now();
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`saver exited on its own (code ${code}): ${err}`));
      else resolve({ saved, killedAfterMs: performance.now() - t0 });
    });
  });
}

/** Checks the file at `path` is a complete version: it loads, and count and contents match its tag. */
async function checkComplete(index: PluginVectorIndex, path: string): Promise<number> {
  const { tag } = await index.load(path);
  const m = /^v(\d+):(\d+)$/.exec(tag);
  assert.ok(m, `tag ${tag}`);
  const count = Number(m[2]);
  const info = await index.info();
  assert.equal(info.count, count, `version ${m[1]} holds ${info.count} vectors, its tag says ${count}`);
  const newest = count - 1;
  const hit = await index.search(vectorOf(newest), 1);
  assert.equal(hit.labels[0], newest, 'the last vector of the version is found');
  assert.ok(hit.distances[0]! < 1e-5);
  return Number(m[1]);
}

const childPath = process.env['X0T_SAVE_KILL_PATH'];
if (childPath !== undefined) {
  await saveLoop(childPath, Number(process.env['X0T_SAVE_KILL_FIRST'] ?? '0'));
} else {
  test('SIGKILL at random moments during repeated saves never leaves a file that loads wrong', { timeout: 240_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'x0t-save-kill-'));
    const path = join(dir, 'kb.hnsw');
    const index = await openHnswIndex(PARAMS);
    try {
      const r = rng(42);
      let lastOnDisk = -1;
      let midSave = 0;
      const rounds = 10;
      for (let round = 0; round < rounds; round++) {
        const first = round * 1000;
        const { saved } = await killRound(path, first, Math.floor(r() * 250));
        assert.ok(saved.length > 0);
        const reported = saved[saved.length - 1]!;
        if (!existsSync(path)) {
          assert.equal(lastOnDisk, -1, 'once a version was saved the file never disappears');
          continue;
        }
        const version = await checkComplete(index, path);
        // The file is the last reported save, or the one after it if the kill came between rename and report.
        assert.ok(version === reported || version === reported + 1, `on disk v${version}, child reported v${reported}`);
        assert.ok(version >= lastOnDisk, 'versions never go back');
        lastOnDisk = version;
        const temps = readdirSync(dir).filter((f) => f.startsWith(`${basename(path)}.tmp-`));
        assert.ok(temps.length <= 1, `at most the killed writer's temp file is left: ${temps.join(', ')}`);
        if (temps.length === 1) midSave++;
      }
      t.diagnostic(`${rounds} kills, ${midSave} of them in the middle of a save (a temp file was left), last version on disk v${lastOnDisk}`);
      // Stale temp files of dead writers do not pile up (each writer clears them), and some kills hit a save.
      assert.ok(midSave >= 1, `${midSave} of ${rounds} kills interrupted a save`);

      // Damaged copies of the last good file: refused, and the loaded index is kept.
      const good = readFileSync(path);
      const probe = vectorOf(0);
      const before = await index.search(probe, 5);
      const damaged = join(dirname(path), 'damaged.hnsw');
      for (let i = 0; i < 12; i++) {
        const bytes = Buffer.from(good);
        const at = Math.floor(r() * bytes.length);
        bytes[at] = bytes[at]! ^ (1 << Math.floor(r() * 8));
        writeFileSync(damaged, bytes);
        await assert.rejects(index.load(damaged), KbIndexCorruptError, `flipped bit at ${at}`);
      }
      for (const keep of [0, 50, 200, good.length >> 1, good.length - 1]) {
        writeFileSync(damaged, good.subarray(0, keep));
        await assert.rejects(index.load(damaged), KbIndexCorruptError, `truncated to ${keep}`);
      }
      assert.deepEqual(await index.search(probe, 5), before, 'the index survived every refused load');
    } finally {
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
