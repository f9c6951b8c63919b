// `x0t pqc …` end to end: the real CLI in a child process, opening the real ML-KEM-768 / ML-DSA-65 plugins. Every
// command, its output formats, its input forms (hex, hex file, raw file, raw:, stdin), its exit codes, and the
// round trips a script would do. Seeded results are checked against @noble/post-quantum as the reference.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ml_kem768_x25519 } from '@noble/post-quantum/hybrid.js';
import { ml_dsa65 } from '@noble/post-quantum/ml-dsa.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { jsonError, runCli, type CliResult } from '../cli/harness.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const rand = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const out = (r: CliResult): string => r.stdout.toString('utf8');

/** `name: hex` lines → {name: hex}. */
function fields(r: CliResult): Record<string, string> {
  const o: Record<string, string> = {};
  for (const line of out(r).trim().split('\n')) {
    const m = /^([a-z]+): ([0-9a-f]*)$/.exec(line);
    assert.ok(m, `unexpected line ${JSON.stringify(line)}`);
    o[m[1]!] = m[2]!;
  }
  return o;
}

function ok(r: CliResult): void {
  assert.equal(r.code, 0, `exit ${r.code}, stderr: ${r.stderr}`);
}

function fails(r: CliResult, exitCode: number, code: string): void {
  assert.equal(r.code, exitCode, `exit ${r.code}, stderr: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^x0t: ${code}: `, 'm'));
  assert.equal(out(r), '', 'nothing on stdout');
}

let tmp = '';
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'x0t-cli-pqc-'));
});
after(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('x0t pqc kem (ML-KEM-768)', { concurrency: true }, () => {
  test('keygen --seed prints pk and sk lines, equal to FIPS 203 KeyGen_internal(d, z) (noble)', async () => {
    const seed = rand(64);
    const r = await runCli(['pqc', 'kem', 'keygen', '--seed', hex(seed)]);
    ok(r);
    const f = fields(r);
    assert.deepEqual(Object.keys(f), ['pk', 'sk']);
    const ref = ml_kem768.keygen(seed);
    assert.equal(f['pk'], hex(ref.publicKey));
    assert.equal(f['sk'], hex(ref.secretKey));
  });

  test('encaps --randomness is deterministic and equals noble; decaps prints the bare ss', async () => {
    const ref = ml_kem768.keygen(rand(64));
    const m = rand(32);
    const r = await runCli(['pqc', 'kem', 'encaps', '--pk', hex(ref.publicKey), '--randomness', hex(m), '--json']);
    ok(r);
    const o = JSON.parse(out(r)) as Record<string, string>;
    const e = ml_kem768.encapsulate(ref.publicKey, m);
    assert.deepEqual(o, { algorithm: 'ml-kem-768', ct: hex(e.cipherText), ss: hex(e.sharedSecret) });
    const d = await runCli(['pqc', 'kem', 'decaps', '--sk', hex(ref.secretKey), '--ct', o['ct']!]);
    ok(d);
    assert.equal(out(d), `${hex(e.sharedSecret)}\n`);
  });

  test('round trip through files: keygen --out-dir → encaps --pk FILE → decaps --sk FILE --ct FILE', async () => {
    const dir = join(tmp, 'kem-files');
    const k = await runCli(['pqc', 'kem', 'keygen', '--out-dir', dir]);
    ok(k);
    assert.equal(out(k), `pk: ${join(dir, 'pk')}\nsk: ${join(dir, 'sk')}\n`);
    assert.equal((await readFile(join(dir, 'pk'))).length, 1184);
    assert.equal((await readFile(join(dir, 'sk'))).length, 2400);
    assert.equal((await stat(join(dir, 'sk'))).mode & 0o777, 0o600, 'secret key file is private');
    const e = await runCli(['pqc', 'kem', 'encaps', '--pk', join(dir, 'pk'), '--out-dir', join(dir, 'enc'), '--json']);
    ok(e);
    assert.deepEqual(JSON.parse(out(e)), { algorithm: 'ml-kem-768', files: { ct: join(dir, 'enc', 'ct'), ss: join(dir, 'enc', 'ss') } });
    const d = await runCli(['pqc', 'kem', 'decaps', '--sk', join(dir, 'sk'), '--ct', join(dir, 'enc', 'ct')]);
    ok(d);
    assert.equal(out(d).trim(), hex(await readFile(join(dir, 'enc', 'ss'))));
    // --out-dir does not overwrite without --force.
    fails(await runCli(['pqc', 'kem', 'keygen', '--out-dir', dir]), 4, 'X0T_IO');
    ok(await runCli(['pqc', 'kem', 'keygen', '--out-dir', dir, '--force']));
  });

  test('wrong lengths are X0T_CRYPTO_INPUT, exit 7', async () => {
    const kp = ml_kem768.keygen(rand(64));
    const e = ml_kem768.encapsulate(kp.publicKey);
    const cases = [
      ['keygen', '--seed', hex(rand(32))],
      ['encaps', '--pk', hex(kp.publicKey.subarray(1))],
      ['encaps', '--pk', hex(kp.publicKey), '--randomness', hex(rand(31))],
      ['decaps', '--sk', hex(kp.secretKey), '--ct', hex(e.cipherText.subarray(1))],
      ['decaps', '--sk', hex(kp.secretKey.subarray(1)), '--ct', hex(e.cipherText)],
    ];
    for (const c of cases) fails(await runCli(['pqc', 'kem', ...c]), 7, 'X0T_CRYPTO_INPUT');
  });
});

describe('x0t pqc xwing', { concurrency: true }, () => {
  test('keygen --seed / encaps --randomness equal noble ml_kem768_x25519; decaps recovers ss', async () => {
    const seed = rand(32);
    const eseed = rand(64);
    const k = await runCli(['pqc', 'xwing', 'keygen', '--seed', hex(seed)]);
    ok(k);
    const kp = fields(k);
    const ref = ml_kem768_x25519.keygen(seed);
    assert.deepEqual(kp, { pk: hex(ref.publicKey), sk: hex(seed) });
    const e = await runCli(['pqc', 'xwing', 'encaps', '--pk', kp['pk']!, '--randomness', hex(eseed)]);
    ok(e);
    const enc = fields(e);
    const refEnc = ml_kem768_x25519.encapsulate(ref.publicKey, eseed);
    assert.deepEqual(enc, { ct: hex(refEnc.cipherText), ss: hex(refEnc.sharedSecret) });
    // Hex text files (with a trailing newline) are decoded.
    await writeFile(join(tmp, 'xwing.sk.hex'), `${kp['sk']}\n`);
    await writeFile(join(tmp, 'xwing.ct.hex'), `${enc['ct']}\n`);
    const d = await runCli(['pqc', 'xwing', 'decaps', '--sk', join(tmp, 'xwing.sk.hex'), '--ct', join(tmp, 'xwing.ct.hex')]);
    ok(d);
    assert.equal(out(d), `${enc['ss']}\n`);
  });

  test('round trip keygen → encaps → decaps with fresh randomness, --json', async () => {
    const k = await runCli(['pqc', 'xwing', 'keygen', '--json']);
    ok(k);
    const kp = JSON.parse(out(k)) as Record<string, string>;
    assert.equal(kp['algorithm'], 'x-wing');
    assert.equal(kp['pk']!.length, 2 * 1216);
    assert.equal(kp['sk']!.length, 2 * 32);
    const e = JSON.parse(out(await runCli(['pqc', 'xwing', 'encaps', '--pk', kp['pk']!, '--json']))) as Record<string, string>;
    assert.equal(e['ct']!.length, 2 * 1120);
    const d = JSON.parse(out(await runCli(['pqc', 'xwing', 'decaps', '--sk', kp['sk']!, '--ct', e['ct']!, '--json']))) as Record<string, string>;
    assert.deepEqual(d, { algorithm: 'x-wing', ss: e['ss'] });
    assert.equal(hex(ml_kem768_x25519.decapsulate(unhex(e['ct']!), unhex(kp['sk']!))), e['ss']);
  });

  test('wrong lengths are exit 7; an ML-KEM key is not an X-Wing key', async () => {
    const mk = ml_kem768.keygen(rand(64));
    fails(await runCli(['pqc', 'xwing', 'encaps', '--pk', hex(mk.publicKey)]), 7, 'X0T_CRYPTO_INPUT');
    fails(await runCli(['pqc', 'xwing', 'keygen', '--seed', hex(rand(64))]), 7, 'X0T_CRYPTO_INPUT');
    fails(await runCli(['pqc', 'xwing', 'decaps', '--sk', hex(rand(32)), '--ct', hex(rand(1088))]), 7, 'X0T_CRYPTO_INPUT');
  });
});

describe('x0t pqc dsa keygen / sign / verify (ML-DSA-65)', { concurrency: true }, () => {
  test('keygen --seed equals FIPS 204 KeyGen_internal(ξ) (noble); sign --deterministic equals noble', async () => {
    const xi = rand(32);
    const k = await runCli(['pqc', 'dsa', 'keygen', '--seed', hex(xi)]);
    ok(k);
    const kp = fields(k);
    const ref = ml_dsa65.keygen(xi);
    assert.deepEqual(kp, { pk: hex(ref.publicKey), sk: hex(ref.secretKey) });
    const msg = rand(77);
    const ctx = rand(9);
    const s = await runCli(['pqc', 'sign', '--sk', kp['sk']!, '--msg', hex(msg), '--deterministic', '--context', hex(ctx)]);
    ok(s);
    assert.equal(out(s).trim(), hex(ml_dsa65.sign(msg, ref.secretKey, { context: ctx, extraEntropy: false })));
  });

  test('sign → verify exits 0 and prints valid; a tampered message, signature or context exits 1 and prints invalid', async () => {
    const dir = join(tmp, 'dsa');
    ok(await runCli(['pqc', 'dsa', 'keygen', '--out-dir', dir]));
    const msgFile = join(tmp, 'dsa-msg.bin');
    await writeFile(msgFile, Uint8Array.of(0, 1, 2, 250, 251, 252)); // not hex: used byte for byte
    const s = await runCli(['pqc', 'sign', '--sk', join(dir, 'sk'), '--msg', msgFile, '--out-dir', dir]);
    ok(s);
    assert.equal((await readFile(join(dir, 'sig'))).length, 3309);
    const v = await runCli(['pqc', 'verify', '--pk', join(dir, 'pk'), '--msg', '000102fafbfc', '--sig', join(dir, 'sig')]);
    ok(v);
    assert.equal(out(v), 'valid\n');
    const bad = await runCli(['pqc', 'verify', '--pk', join(dir, 'pk'), '--msg', '000102fafbfd', '--sig', join(dir, 'sig')]);
    assert.equal(bad.code, 1, bad.stderr);
    assert.equal(out(bad), 'invalid\n');
    assert.equal(bad.stderr, '');
    const sig = await readFile(join(dir, 'sig'));
    sig[100]! ^= 1;
    const badSig = await runCli(['pqc', 'verify', '--pk', join(dir, 'pk'), '--msg', msgFile, '--sig', hex(sig), '--json']);
    assert.equal(badSig.code, 1);
    assert.deepEqual(JSON.parse(out(badSig)), { algorithm: 'ml-dsa-65', valid: false });
    const badCtx = await runCli(['pqc', 'verify', '--pk', join(dir, 'pk'), '--msg', msgFile, '--sig', join(dir, 'sig'), '--context', '01']);
    assert.equal(badCtx.code, 1);
    const short = await runCli(['pqc', 'verify', '--pk', join(dir, 'pk'), '--msg', msgFile, '--sig', '00ff']);
    assert.equal(short.code, 1, 'a signature of the wrong length is invalid, not an error');
    assert.equal(out(short), 'invalid\n');
  });

  test('messages from stdin (-) and raw:FILE (a file that looks like hex, used byte for byte)', async () => {
    const k = fields(await runCli(['pqc', 'dsa', 'keygen']));
    const hexLooking = join(tmp, 'cafe.txt');
    await writeFile(hexLooking, 'cafe');
    const sRaw = await runCli(['pqc', 'sign', '--sk', k['sk']!, '--msg', `raw:${hexLooking}`]);
    ok(sRaw);
    // 'cafe' read raw is the 4 bytes 63 61 66 65 …
    ok(await runCli(['pqc', 'verify', '--pk', k['pk']!, '--msg', hex(Buffer.from('cafe')), '--sig', out(sRaw).trim()]));
    // … and read as a file it is hex: the 2 bytes ca fe.
    const asHex = await runCli(['pqc', 'verify', '--pk', k['pk']!, '--msg', hexLooking, '--sig', out(sRaw).trim()]);
    assert.equal(asHex.code, 1);
    const sStdin = await runCli(['pqc', 'sign', '--sk', k['sk']!, '--msg', '-'], { stdin: Uint8Array.of(1, 2, 3, 0xff) });
    ok(sStdin);
    ok(await runCli(['pqc', 'verify', '--pk', k['pk']!, '--msg', '010203ff', '--sig', out(sStdin).trim()]));
  });
});

describe('x0t pqc: composite Ed25519 + ML-DSA-65', { concurrency: true }, () => {
  test('keygen --alg, then sign and verify recognise the algorithm by key length; tampering exits 1', async () => {
    const k = await runCli(['pqc', 'dsa', 'keygen', '--alg', 'ed25519+ml-dsa-65', '--seed', hex(rand(64)), '--json']);
    ok(k);
    const kp = JSON.parse(out(k)) as Record<string, string>;
    assert.equal(kp['algorithm'], 'ed25519+ml-dsa-65');
    assert.equal(kp['pk']!.length, 2 * 1984);
    assert.equal(kp['sk']!.length, 2 * 4064);
    const s = await runCli(['pqc', 'sign', '--sk', kp['sk']!, '--msg', 'abcd', '--context', '0102', '--json']);
    ok(s);
    const sig = (JSON.parse(out(s)) as Record<string, string>)['sig']!;
    assert.equal(sig.length, 2 * 3373);
    const v = await runCli(['pqc', 'verify', '--pk', kp['pk']!, '--msg', 'abcd', '--sig', sig, '--context', '0102']);
    ok(v);
    assert.equal(out(v), 'valid\n');
    for (const i of [10, 64 + 10]) {
      const t = unhex(sig);
      t[i]! ^= 1;
      const r = await runCli(['pqc', 'verify', '--pk', kp['pk']!, '--msg', 'abcd', '--sig', hex(t), '--context', '0102']);
      assert.equal(r.code, 1, `byte ${i}`);
      assert.equal(out(r), 'invalid\n');
    }
    assert.equal((await runCli(['pqc', 'verify', '--pk', kp['pk']!, '--msg', 'abcd', '--sig', sig])).code, 1, 'context binds');
    // --alg naming the other algorithm than the key: a length error.
    fails(await runCli(['pqc', 'sign', '--alg', 'ml-dsa-65', '--sk', kp['sk']!, '--msg', 'abcd']), 7, 'X0T_CRYPTO_INPUT');
  });
});

describe('x0t pqc: usage and I/O errors', { concurrency: true }, () => {
  test('bad hex in a hex-only option → exit 2; a missing input file → exit 4; a key of no known length → exit 7', async () => {
    fails(await runCli(['pqc', 'kem', 'keygen', '--seed', 'xyz']), 2, 'X0T_USAGE');
    fails(await runCli(['pqc', 'sign', '--sk', '00', '--msg', '00', '--context', '0g']), 2, 'X0T_USAGE');
    fails(await runCli(['pqc', 'kem', 'encaps', '--pk', join(tmp, 'missing.pk')]), 4, 'X0T_IO');
    fails(await runCli(['pqc', 'kem', 'encaps', '--pk', 'abc']), 4, 'X0T_IO'); // odd-length hex is a path
    fails(await runCli(['pqc', 'verify', '--pk', '0011', '--msg', '', '--sig', '']), 7, 'X0T_CRYPTO_INPUT');
    fails(await runCli(['pqc', 'kem', 'decaps', '--sk', '00']), 2, 'X0T_USAGE'); // --ct missing
    fails(await runCli(['pqc', 'dsa', 'keygen', '--alg', 'rsa']), 2, 'X0T_USAGE');
  });

  test('--json errors are one JSON object on stderr', async () => {
    const r = await runCli(['pqc', 'kem', 'encaps', '--pk', '00', '--json']);
    assert.equal(r.code, 7);
    const e = jsonError(r.stderr);
    assert.equal(e.code, 'X0T_CRYPTO_INPUT');
    assert.equal(e.details['expected'], 1184);
  });

  test('--help states the input rule', async () => {
    const r = await runCli(['pqc', 'sign', '--help']);
    ok(r);
    assert.match(out(r), /raw:FILE/);
    assert.match(out(r), /even length/);
  });
});
