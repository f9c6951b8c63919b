// meterModule never fails with anything but ModuleInvalidError, whatever bytes it is given; and whenever its
// input is a valid module, its output is one too.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { ModuleInvalidError } from '../../../host/errors/index.js';
import { meterModule } from '../../../host/runtime/wasm-meter.js';
import { assemble, FUNCREF, I32 } from './asm.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const valid = (b: Uint8Array): boolean => WebAssembly.validate(b as Uint8Array<ArrayBuffer>);
const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** A small valid module with most section kinds, used as a seed for truncations and mutations. */
const seed = assemble({
  types: [[[I32], [I32]], [[], []]],
  imports: [['env', 'f', { kind: 'func', type: 0 }], ['env', 'g', { kind: 'global', type: I32 }]],
  funcs: [
    { type: 0, code: [0x20, 0, 0x10, 0, 0x10, 2], export: 'a', name: 'a' },
    { type: 0, locals: [[1, I32]], code: [0x03, 0x40, 0x20, 0, 0x0d, 0, 0x0b, 0x20, 0, 0x41, 0, 0x11, 0, 0], export: 'b', name: 'b' },
    { type: 1, code: [0x02, 0x40, 0x0b] },
  ],
  tables: [2],
  memories: [1],
  globals: [[FUNCREF, 0, 0xd2, 2, 0x0b]],
  start: 4,
  elems: [[0x00, 0x41, 0, 0x0b, 1, 2], [0x05, FUNCREF, 1, 0xd2, 3, 0x0b]],
  data: [[0x00, 0x41, 0, 0x0b, 2, 7, 8]],
  names: true,
  customs: [['other', [9]]],
});

function seeds(): Uint8Array[] {
  const list = [seed];
  for (const dir of ['wasm', 'test/fixtures/wasm']) {
    const d = path.join(ROOT, dir);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) if (f.endsWith('.wasm')) list.push(new Uint8Array(readFileSync(path.join(d, f))));
  }
  return list.filter((b) => valid(b));
}

/** Runs meterModule; fails the property on any error other than ModuleInvalidError. */
function meterOrRefuse(bytes: Uint8Array): Uint8Array | undefined {
  try {
    return meterModule(bytes);
  } catch (e) {
    if (e instanceof ModuleInvalidError) return undefined;
    throw e;
  }
}

test('random bytes (with and without a wasm header) are refused with ModuleInvalidError only', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), fc.boolean(), (tail, withHeader) => {
    const bytes = withHeader ? Uint8Array.from([...HEADER, ...tail]) : tail;
    meterOrRefuse(bytes);
  }), { numRuns: 2000 });
});

test('random section-shaped bytes are refused with ModuleInvalidError only', () => {
  const sectionArb = fc.tuple(fc.integer({ min: 0, max: 13 }), fc.uint8Array({ maxLength: 40 }))
    .map(([id, content]) => [id, content.length, ...content]);
  fc.assert(fc.property(fc.array(sectionArb, { maxLength: 6 }), (secs) => {
    const bytes = Uint8Array.from([...HEADER, ...secs.flat()]);
    const out = meterOrRefuse(bytes);
    if (out && valid(bytes)) assert.ok(valid(out));
  }), { numRuns: 2000 });
});

test('truncations of valid modules are refused with ModuleInvalidError only', () => {
  const all = seeds();
  fc.assert(fc.property(fc.integer({ min: 0, max: all.length - 1 }), fc.double({ min: 0, max: 1, noNaN: true }), (which, frac) => {
    const full = all[which]!;
    const cut = Math.min(full.length - 1, Math.floor(full.length * frac));
    const bytes = full.subarray(0, cut);
    const out = meterOrRefuse(bytes);
    if (out && valid(bytes)) assert.ok(valid(out));
  }), { numRuns: 500 });
});

test('byte mutations of valid modules: refused with ModuleInvalidError when invalid, metered to a valid module when valid', () => {
  const all = seeds();
  let stillValid = 0;
  fc.assert(fc.property(
    fc.integer({ min: 0, max: all.length - 1 }),
    fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
    (which, edits) => {
      const bytes = Uint8Array.from(all[which]!);
      for (const [at, value] of edits) bytes[Math.floor(at * bytes.length)] = value;
      if (!valid(bytes)) {
        meterOrRefuse(bytes);
        return;
      }
      // V8 accepts the input: the meter must rewrite it (exception handling aside) into a valid module.
      stillValid++;
      let out: Uint8Array;
      try {
        out = meterModule(bytes);
      } catch (e) {
        if (e instanceof ModuleInvalidError && /exception handling/.test(e.message)) return;
        throw e;
      }
      assert.ok(valid(out), 'a valid input must give a valid output');
    },
  ), { numRuns: 1500 });
  assert.ok(stillValid > 0, 'some mutations kept the module valid');
});
