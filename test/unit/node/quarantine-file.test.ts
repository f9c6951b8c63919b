// The quarantine file (manifest driver.quarantineFile): its canonical text byte for byte, parsing that accepts every
// address form the admin API accepts and nothing else (each bad input an IoError naming the file and the field),
// a round trip for random address lists (fast-check), reading an absent file as "no file", and the crash-safe write:
// the folder created, the exact text in place, no temp file left, and on a failed write the old file untouched.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { IoError } from '../../../host/errors/index.js';
import {
  formatQuarantineFile,
  MAX_QUARANTINE_FILE_BYTES,
  parseQuarantineFile,
  readQuarantineFile,
  writeQuarantineFile,
} from '../../../host/node/quarantine-file.js';

const FILE = '/var/lib/x0tta6bl4/quarantine.json';

/** Asserts `f` throws an IoError naming FILE (or `path`) and the field. */
function assertUnusable(f: () => unknown, field: string, path = FILE): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof IoError, String(e));
    assert.equal(e.code, 'X0T_IO');
    assert.equal(e.details['path'], path);
    assert.equal(e.details['field'], field);
    assert.ok(e.message.includes(path), e.message);
    return true;
  });
}

describe('quarantine file: text', () => {
  it('formats the canonical text: version 1, addresses IPv4 first then IPv6, each in byte order, two-space JSON, a final newline', () => {
    const text = formatQuarantineFile(['fd00::9', '10.0.0.10', '10.0.0.9', '2001:db8::1', '9.255.0.1', '10.0.0.9']);
    assert.equal(text, '{\n  "version": 1,\n  "addresses": [\n    "9.255.0.1",\n    "10.0.0.9",\n    "10.0.0.10",\n' +
      '    "2001:db8::1",\n    "fd00::9"\n  ]\n}\n');
    assert.equal(formatQuarantineFile([]), '{\n  "version": 1,\n  "addresses": []\n}\n');
  });

  it('parses every form the admin API accepts into canonical addresses, sorted and deduplicated', () => {
    const text = JSON.stringify({
      addresses: ['FD00:0:0:0:0:0:0:0009', '10.0.0.2', '::ffff:10.0.0.1', 'fe80::1%eth0', '10.0.0.2', 'fd00::9'],
      version: 1,
    });
    assert.deepEqual(parseQuarantineFile(text, FILE), ['10.0.0.1', '10.0.0.2', 'fd00::9', 'fe80::1']);
    assert.deepEqual(parseQuarantineFile('{"version":1,"addresses":[]}', FILE), []);
  });

  it('round-trips any list of addresses (fast-check)', () => {
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
    const v6 = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 }).map((g) => g.map((x) => x.toString(16)).join(':'));
    fc.assert(fc.property(fc.array(fc.oneof(v4, v6), { maxLength: 40 }), (list) => {
      const parsed = parseQuarantineFile(JSON.stringify({ version: 1, addresses: list }), FILE);
      const text = formatQuarantineFile(parsed);
      // Canonical: parsing the canonical text gives the same list, and formatting it again the same bytes.
      assert.deepEqual(parseQuarantineFile(text, FILE), parsed);
      assert.equal(formatQuarantineFile(parseQuarantineFile(text, FILE)), text);
      assert.equal(parsed.length, new Set(parsed).size);
    }));
  });

  const bad: [string, string, string][] = [
    ['not JSON', '{"version": 1, "addresses": [', ''],
    ['empty', '', ''],
    ['a JSON array', '["10.0.0.1"]', ''],
    ['JSON null', 'null', ''],
    ['version missing', '{"addresses": []}', 'version'],
    ['version 2', '{"version": 2, "addresses": []}', 'version'],
    ['version as a string', '{"version": "1", "addresses": []}', 'version'],
    ['addresses missing', '{"version": 1}', 'addresses'],
    ['addresses an object', '{"version": 1, "addresses": {"0": "10.0.0.1"}}', 'addresses'],
    ['an address that is not one', '{"version": 1, "addresses": ["10.0.0.1", "10.0.0.256"]}', 'addresses[1]'],
    ['a host name', '{"version": 1, "addresses": ["gateway.lan"]}', 'addresses[0]'],
    ['an address with a port', '{"version": 1, "addresses": ["10.0.0.1:9471"]}', 'addresses[0]'],
    ['an empty address', '{"version": 1, "addresses": [""]}', 'addresses[0]'],
    ['an address as a number', '{"version": 1, "addresses": [167772161]}', 'addresses[0]'],
    ['an unknown field (drop counts are not kept)', '{"version": 1, "addresses": [], "drops": {}}', 'drops'],
  ];
  for (const [what, text, field] of bad) {
    it(`${what} → IoError at ${JSON.stringify(field)}`, () => assertUnusable(() => parseQuarantineFile(text, FILE), field));
  }
});

describe('quarantine file: on disk', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'x0t-qfile-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('an absent file reads as null (no file, not an empty list)', async () => {
    assert.equal(await readQuarantineFile(join(dir, 'absent.json')), null);
  });

  it('writes the canonical text, creating the folder, leaving no temp file; a rewrite replaces it', async () => {
    const file = join(dir, 'state', 'deeper', 'q.json');
    writeQuarantineFile(file, ['fd00::2', '10.0.0.3']);
    assert.equal(await readFile(file, 'utf8'), formatQuarantineFile(['10.0.0.3', 'fd00::2']));
    assert.deepEqual(await readQuarantineFile(file), ['10.0.0.3', 'fd00::2']);
    writeQuarantineFile(file, []);
    assert.deepEqual(await readQuarantineFile(file), []);
    assert.deepEqual(await readdir(join(dir, 'state', 'deeper')), ['q.json']);
  });

  it('a file that cannot be read as a list fails with the path: malformed JSON, not UTF-8, a folder, too large', async () => {
    const malformed = join(dir, 'malformed.json');
    await writeFile(malformed, '{"version": 1, "addresses": ["10.0.0.1",');
    await assert.rejects(readQuarantineFile(malformed), (e: unknown) => e instanceof IoError && e.details['path'] === malformed && e.details['field'] === '');
    const binary = join(dir, 'binary.json');
    await writeFile(binary, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]));
    await assert.rejects(readQuarantineFile(binary), (e: unknown) => e instanceof IoError && e.details['path'] === binary && /UTF-8/.test(e.message));
    const folder = join(dir, 'folder.json');
    await mkdir(folder);
    await assert.rejects(readQuarantineFile(folder), (e: unknown) => e instanceof IoError && e.details['path'] === folder && e.details['code'] === 'EISDIR');
    const huge = join(dir, 'huge.json');
    await writeFile(huge, ' '.repeat(MAX_QUARANTINE_FILE_BYTES + 1));
    await assert.rejects(readQuarantineFile(huge), (e: unknown) => e instanceof IoError && e.details['path'] === huge);
  });

  it('a failed write throws IoError with the path and leaves the previous file and no temp file', async () => {
    // The target is a non-empty folder: the rename over it fails after the temp file was written and synced.
    const sub = join(dir, 'blocked');
    const target = join(sub, 'q.json');
    await mkdir(join(target, 'inside'), { recursive: true });
    assert.throws(() => writeQuarantineFile(target, ['10.0.0.1']), (e: unknown) => e instanceof IoError && e.details['path'] === target);
    assert.deepEqual(await readdir(sub), ['q.json']);
    // The folder is a file: nothing can be created under it.
    const notDir = join(dir, 'plain');
    await writeFile(notDir, 'x');
    const under = join(notDir, 'q.json');
    assert.throws(() => writeQuarantineFile(under, ['10.0.0.1']), (e: unknown) => e instanceof IoError && e.details['path'] === under);
    // The previous file survives a failed replacement.
    const kept = join(dir, 'kept', 'q.json');
    writeQuarantineFile(kept, ['10.0.0.7']);
    await mkdir(`${kept}.tmp-${process.pid}`); // the temp name taken by a folder: the write cannot even start
    assert.throws(() => writeQuarantineFile(kept, ['10.0.0.8']), (e: unknown) => e instanceof IoError && e.details['path'] === kept);
    assert.deepEqual(await readQuarantineFile(kept), ['10.0.0.7']);
  });
});
