// The crash-safe index file: a round trip keeps parameters, tag and payload; any flipped byte, truncation or trailing
// garbage is a KbIndexCorruptError with a plain reason; a failed write leaves the previous file; stale temp files of
// dead writers are cleaned up.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KbIndexCorruptError } from '../../../host/errors/index.js';
import { readIndexFile, writeIndexFile, type IndexFileMeta } from '../../../host/kb/index-file.js';

const dir = mkdtempSync(join(tmpdir(), 'x0t-index-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const META: IndexFileMeta = {
  kind: 'hnsw', tag: 'kb-digest:ab12 ✓',
  params: { dim: 384, metric: 'cosine', m: 32, efConstruction: 200, efSearch: 256, capacity: 4096, seed: 100 },
};

test('a written file reads back with the same parameters, tag and payload (written in pieces)', async () => {
  const path = join(dir, 'round-trip.idx');
  const payload = randomBytes(100_003);
  await writeIndexFile(path, META, [payload.subarray(0, 7), payload.subarray(7, 65_536), payload.subarray(65_536)]);
  const back = await readIndexFile(path);
  assert.equal(back.kind, 'hnsw');
  assert.equal(back.tag, META.tag);
  assert.deepEqual(back.params, META.params);
  assert.ok(Buffer.from(back.payload).equals(payload));
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temp file is left behind');
});

test('every flipped byte, truncation and appended byte is detected as KbIndexCorruptError', async () => {
  const path = join(dir, 'damaged.idx');
  const payload = randomBytes(2000);
  await writeIndexFile(path, META, [payload]);
  const good = readFileSync(path);
  const reasons = new Set<string>();
  const expectCorrupt = async (bytes: Buffer, what: string): Promise<void> => {
    writeFileSync(path, bytes);
    await assert.rejects(readIndexFile(path), (e: unknown) => {
      assert.ok(e instanceof KbIndexCorruptError, `${what}: ${String(e)}`);
      assert.equal(e.code, 'X0T_KB_INDEX_CORRUPT');
      reasons.add(String(e.details['reason']));
      return true;
    }, what);
  };
  for (let at = 0; at < good.length; at += at < 200 ? 1 : 97) {
    const bad = Buffer.from(good);
    bad[at] = bad[at]! ^ (1 << (at % 8));
    await expectCorrupt(bad, `bit flipped at byte ${at}`);
  }
  for (const keep of [0, 1, 60, 119, 120, 140, good.length - 1]) await expectCorrupt(good.subarray(0, keep), `truncated to ${keep}`);
  await expectCorrupt(Buffer.concat([good, Buffer.of(0)]), 'one byte appended');
  // The messages say what is wrong, in words.
  assert.ok([...reasons].some((r) => r.includes('payload checksum')));
  assert.ok([...reasons].some((r) => r.includes('header checksum')));
  assert.ok([...reasons].some((r) => r.includes('truncated')));
});

test('a write that fails half-way leaves the previous file and no temp file', async () => {
  const path = join(dir, 'kept.idx');
  await writeIndexFile(path, META, [Buffer.from('first version')]);
  async function* failing(): AsyncGenerator<Uint8Array> {
    yield Buffer.alloc(1 << 16, 1);
    throw new Error('the plugin failed mid-save');
  }
  await assert.rejects(writeIndexFile(path, { ...META, tag: 'second' }, failing()), /mid-save/);
  const back = await readIndexFile(path);
  assert.equal(back.tag, META.tag);
  assert.equal(Buffer.from(back.payload).toString(), 'first version');
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('kept.idx.tmp-')), []);
});

test('temp files of dead writers are removed by the next write; a live writer\'s is left alone', async () => {
  const path = join(dir, 'stale.idx');
  const dead = `${path}.tmp-2147483646`; // no such process
  const live = `${path}.tmp-${process.ppid}`;
  writeFileSync(dead, 'torn');
  writeFileSync(live, 'in progress');
  await writeIndexFile(path, META, [Buffer.from('x')]);
  const names = readdirSync(dir).filter((f) => f.startsWith('stale.idx'));
  assert.deepEqual(names.sort(), ['stale.idx', `stale.idx.tmp-${process.ppid}`]);
  rmSync(live);
});
