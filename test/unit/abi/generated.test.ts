// The generator (sdk/tools/gen-abi.ts): committed generated files are current (`--check`), the
// output is deterministic and marked, the check mode catches drift, and bad contracts are refused.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import { ContractError, GENERATED_HEADER, generate, parseContract } from '../../../sdk/tools/gen-abi.js';
import { ROOT } from './support.js';

const GEN = path.join(ROOT, 'dist/sdk/tools/gen-abi.js');
const contractJson = (): Record<string, unknown> =>
  JSON.parse(readFileSync(path.join(ROOT, 'sdk/abi/contract.json'), 'utf8')) as Record<string, unknown>;

function gen(args: string[]): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, [GEN, ...args], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

describe('gen-abi', () => {
  it('the committed generated files are up to date (npm run check:generated)', () => {
    const r = gen(['--check']);
    assert.equal(r.status, 0, r.out);
  });

  it('is deterministic and marks every file as generated', () => {
    const a = generate(parseContract(contractJson()));
    const b = generate(parseContract(contractJson()));
    assert.deepEqual([...a.entries()], [...b.entries()]);
    for (const [file, text] of a) {
      assert.ok(text.startsWith(`${GENERATED_HEADER}\n`), file);
      assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'), file);
    }
    assert.ok(a.has('sdk/abi/generated/contract.ts'));
    assert.ok(a.has('sdk/abi/generated/clients.ts'));
    assert.ok(a.has('sdk/as/generated/frames.ts'));
    assert.ok(a.has('sdk/as/generated/exports-selftest.ts'));
    assert.ok(a.has('sdk/as/generated/exports-aggregator.ts'));
  });

  it('--check fails on drift and stale files; a normal run repairs both', () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'x0t-gen-'));
    try {
      cpSync(path.join(ROOT, 'sdk/abi/contract.json'), path.join(tmp, 'sdk/abi/contract.json'));
      cpSync(path.join(ROOT, 'sdk/abi/generated'), path.join(tmp, 'sdk/abi/generated'), { recursive: true });
      cpSync(path.join(ROOT, 'sdk/as/generated'), path.join(tmp, 'sdk/as/generated'), { recursive: true });
      assert.equal(gen(['--check', '--root', tmp]).status, 0);

      const c = contractJson();
      (c['frames'] as Record<string, { doc: string }>)['F32Vector']!.doc = 'Changed.';
      writeFileSync(path.join(tmp, 'sdk/abi/contract.json'), JSON.stringify(c));
      writeFileSync(path.join(tmp, 'sdk/as/generated/exports-gone.ts'), '// old\n');
      const drift = gen(['--check', '--root', tmp]);
      assert.equal(drift.status, 1);
      assert.match(drift.out, /out of date: sdk\/abi\/generated\/contract\.ts/);
      assert.match(drift.out, /stale\): sdk\/as\/generated\/exports-gone\.ts/);

      assert.equal(gen(['--root', tmp]).status, 0);
      assert.ok(!existsSync(path.join(tmp, 'sdk/as/generated/exports-gone.ts')));
      assert.match(readFileSync(path.join(tmp, 'sdk/abi/generated/contract.ts'), 'utf8'), /Changed\./);
      assert.equal(gen(['--check', '--root', tmp]).status, 0);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('refuses broken contracts with the path of the problem', () => {
    const cases: [string, (c: Record<string, any>) => void, RegExp][] = [
      ['magic length', (c) => { c.frames.F32Vector.magic = 'F32'; }, /frames\.F32Vector\.magic/],
      ['duplicate magic', (c) => { c.frames.F64Vector.magic = 'F32V'; }, /already used by F32Vector/],
      ['unknown length field', (c) => { c.frames.F32Vector.sections[0].length = ['n']; }, /sections\[0\]\.length\[0\]/],
      ['unknown type', (c) => { c.frames.F32Vector.sections[0].type = 'f16'; }, /sections\[0\]\.type/],
      ['reserved header', (c) => { c.frames.F32Vector.header = ['ptr']; }, /reserved/],
      ['unknown frame', (c) => { c.capabilities.selftest.functions.sum.input = 'Nope'; }, /functions\.sum\.input/],
      ['missing status', (c) => { delete c.status.internal; }, /status\.internal/],
      ['x0t_ prefix', (c) => { c.capabilities.selftest.functions.x0t_x = { input: 'bytes', output: 'bytes', doc: 'x' }; }, /reserved for the fast path/],
      ['signature clash', (c) => { c.capabilities.aggregator.functions.echo = { input: 'F32Vector', output: 'bytes', doc: 'x' }; }, /another capability declares echo/],
    ];
    for (const [what, edit, pattern] of cases) {
      const c = contractJson() as Record<string, any>;
      edit(c);
      assert.throws(() => parseContract(c), (e: unknown) => e instanceof ContractError && pattern.test(e.message), what);
    }
    assert.doesNotThrow(() => parseContract(contractJson()));
  });
});
