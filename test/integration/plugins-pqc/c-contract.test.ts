// The C side of the contract (sdk/c/x0t-contract.h and the frame layouts in sdk/c/x0t.c) is written by hand; this
// keeps it equal to sdk/abi/contract.json: ABI version, status codes, magics, header fields, sections (element size
// and length factors), all in contract order.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../../support/fixtures.js';

interface Contract {
  abiVersion: number;
  status: Record<string, number>;
  frames: Record<string, { magic: string; header: string[]; sections: { name: string; type: string; length: string[] }[] }>;
}

const contract = JSON.parse(readFileSync(join(ROOT, 'sdk/abi/contract.json'), 'utf8')) as Contract;
const header = readFileSync(join(ROOT, 'sdk/c/x0t-contract.h'), 'utf8');
const source = readFileSync(join(ROOT, 'sdk/c/x0t.c'), 'utf8');
const ELEM_BYTES: Record<string, number> = { u8: 1, u32: 4, i32: 4, f32: 4, f64: 8 };
const STATUS_MACROS: Record<string, string> = { ok: 'OK', badInput: 'BAD_INPUT', internal: 'INTERNAL', unsupported: 'UNSUPPORTED' };

function define(name: string): string {
  const m = new RegExp(`^#define ${name} (.+?)\\s*(/\\*.*)?$`, 'm').exec(header);
  assert.ok(m, `x0t-contract.h defines ${name}`);
  return m[1]!.trim();
}

function enums(frame: string): string[][] {
  return [...header.matchAll(/enum\s*\{([^}]*)\}/g)]
    .map((m) => m[1]!.split(',').map((x) => x.trim()).filter((x) => x !== ''))
    .filter((members) => members[0]!.startsWith(`X0T_${frame}_`))
    .map((members) => members.map((x) => x.slice(`X0T_${frame}_`.length)));
}

test('sdk/c/x0t-contract.h and the layouts in sdk/c/x0t.c match sdk/abi/contract.json', () => {
  assert.equal(Number(define('X0T_ABI_VERSION')), contract.abiVersion);
  for (const [name, value] of Object.entries(contract.status)) {
    const macro = STATUS_MACROS[name];
    assert.ok(macro, `status ${name} has a C macro name`);
    assert.equal(Number(define(`X0T_STATUS_${macro}`).replace(/[()]/g, '')), value, name);
  }
  for (const [frame, def] of Object.entries(contract.frames)) {
    const magic = [...def.magic].reduce((v, ch, i) => v + ch.charCodeAt(0) * 2 ** (8 * i), 0);
    assert.equal(Number(define(`X0T_MAGIC_${frame}`).replace(/u$/, '')), magic, `${frame} magic`);
    const [headerEnum, sectionEnum = []] = enums(frame);
    assert.deepEqual(headerEnum, def.header, `${frame} header field enum`);
    assert.deepEqual(sectionEnum, def.sections.map((s) => s.name), `${frame} section enum`);
    assert.match(header, new RegExp(`extern const x0t_frame_layout X0T_FRAME_${frame};`), `${frame} layout declared`);

    const layout = new RegExp(`const x0t_frame_layout X0T_FRAME_${frame} = \\{\\s*"${frame}", "${def.magic}", X0T_MAGIC_${frame}, ${def.header.length}, (\\w+), ${def.sections.length}, (\\w+)\\};`).exec(source);
    assert.ok(layout, `x0t.c defines X0T_FRAME_${frame} with ${def.header.length} header fields and ${def.sections.length} sections`);
    const names = new RegExp(`static const char \\*const ${frame}_h\\[\\] = \\{([^}]*)\\};`).exec(source);
    assert.ok(names, `${frame}_h`);
    assert.deepEqual([...names[1]!.matchAll(/"(\w+)"/g)].map((m) => m[1]), def.header, `${frame} header names`);
    if (def.sections.length === 0) {
      assert.equal(layout[2], 'NULL');
      continue;
    }
    const sections = new RegExp(`static const x0t_section_layout ${frame}_s\\[\\] = \\{(.*?)\\};`, 's').exec(source);
    assert.ok(sections, `${frame}_s`);
    const parsed = [...sections[1]!.matchAll(/U8\("(\w+)", (\d+)\)|\{"(\w+)", (\d+), (\d+), \{(\d+), (\d+), (\d+)\}\}/g)].map((m) =>
      m[1] !== undefined
        ? { name: m[1], elem: 1, factors: [Number(m[2])] }
        : { name: m[3]!, elem: Number(m[4]), factors: [Number(m[6]), Number(m[7]), Number(m[8])].slice(0, Number(m[5])) });
    assert.deepEqual(parsed, def.sections.map((s) => ({
      name: s.name, elem: ELEM_BYTES[s.type], factors: s.length.map((f) => def.header.indexOf(f)),
    })), `${frame} sections`);
  }
});
