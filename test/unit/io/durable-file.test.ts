import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { IoError } from '../../../host/errors/index.js';
import { replaceFile, replaceFileWith, replaceFileWithSync } from '../../../host/io/durable-file.js';

const dir = mkdtempSync(join(tmpdir(), 'x0t-durable-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a replaced file holds the new bytes, the folder is created, and no temp file is left', async () => {
  const path = join(dir, 'a', 'b', 'file.bin');
  await replaceFileWith(path, Uint8Array.of(1, 2, 3));
  assert.deepEqual([...readFileSync(path)], [1, 2, 3]);
  await replaceFileWith(path, 'text');
  assert.equal(readFileSync(path, 'utf8'), 'text');
  replaceFileWithSync(path, 'sync');
  assert.equal(readFileSync(path, 'utf8'), 'sync');
  assert.deepEqual(readdirSync(join(dir, 'a', 'b')), ['file.bin']);
});

test('a secret file is 0600 whatever the umask, in both forms', async () => {
  const old = process.umask(0o077);
  try {
    const a = join(dir, 'secret-a');
    await replaceFileWith(a, 'k', { mode: 0o600 });
    assert.equal(statSync(a).mode & 0o777, 0o600);
    process.umask(0o022);
    const b = join(dir, 'secret-b');
    replaceFileWithSync(b, 'k', { mode: 0o600 });
    assert.equal(statSync(b).mode & 0o777, 0o600);
    const c = join(dir, 'public');
    process.umask(0o077);
    await replaceFileWith(c, 'p', { mode: 0o644 });
    assert.equal(statSync(c).mode & 0o777, 0o644, 'the umask does not take bits off the requested mode');
  } finally {
    process.umask(old);
  }
});

test('a write that fails keeps the previous file, removes its temp file and is an IoError naming the path', async () => {
  const path = join(dir, 'kept.json');
  await replaceFileWith(path, 'v1');
  await assert.rejects(
    replaceFile(path, async (fh) => {
      await fh.write('partial');
      throw new Error('writer failed');
    }, { what: 'test file' }),
    (e: unknown) => e instanceof IoError && e.details['path'] === path && /test file/.test(e.message),
  );
  assert.equal(readFileSync(path, 'utf8'), 'v1');
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('kept.json.tmp-')), []);
  // The target is a non-empty folder: the rename fails after the temp file was written and synced.
  const blocked = join(dir, 'blocked');
  mkdirSync(join(blocked, 'inside'), { recursive: true });
  assert.throws(() => replaceFileWithSync(blocked, 'x'), (e: unknown) => e instanceof IoError && e.details['path'] === blocked);
  await assert.rejects(replaceFileWith(blocked, 'x'), (e: unknown) => e instanceof IoError && e.details['path'] === blocked);
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('blocked.tmp-')), []);
  // Without createFolder, a missing folder is an error rather than created.
  const nowhere = join(dir, 'missing', 'f');
  await assert.rejects(replaceFileWith(nowhere, 'x', { createFolder: false }), (e: unknown) => e instanceof IoError && e.details['code'] === 'ENOENT');
  writeFileSync(join(dir, 'plain'), 'x');
  assert.throws(() => replaceFileWithSync(join(dir, 'plain', 'f'), 'x'), (e: unknown) => e instanceof IoError);
});

test('concurrent replacements of one path take turns: all succeed and the last one started wins', async () => {
  const path = join(dir, 'busy.json');
  await Promise.all(Array.from({ length: 20 }, (_, i) => replaceFileWith(path, `v${i}`)));
  assert.equal(readFileSync(path, 'utf8'), 'v19');
  assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('busy.json.tmp-')), []);
});
