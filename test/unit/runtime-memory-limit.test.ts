import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ModuleInvalidError, PluginMemoryLimitError } from '../../host/errors/index.js';
import { limitModuleMemory } from '../../host/runtime/wasm-memory-limit.js';

// (module (memory (export "memory") MIN [MAX])) written out by hand.
function moduleWithMemory(min: number, max?: number): Uint8Array {
  const leb = (v: number) => { const o: number[] = []; do { let b = v & 0x7f; v >>>= 7; if (v) b |= 0x80; o.push(b); } while (v); return o; };
  const limits = max === undefined ? [0x00, ...leb(min)] : [0x01, ...leb(min), ...leb(max)];
  const mem = [0x01, ...limits];
  const exp = [0x01, 0x06, ...Buffer.from('memory'), 0x02, 0x00];
  return Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, ...leb(mem.length), ...mem, 7, ...leb(exp.length), ...exp]);
}

function maxOf(bytes: Uint8Array): number | undefined {
  const b = bytes as Uint8Array<ArrayBuffer>;
  const m = new WebAssembly.Instance(new WebAssembly.Module(b)).exports['memory'] as WebAssembly.Memory;
  let pages = m.buffer.byteLength / 65536;
  try { for (;;) { m.grow(1); pages++; if (pages > 70000) return undefined; } } catch { return pages; }
}

test('a memory without a maximum gets the limit; V8 then refuses growth past it', () => {
  const out = limitModuleMemory(moduleWithMemory(1), 4).bytes;
  assert.equal(maxOf(out), 4);
});

test('a declared maximum above the limit is lowered, one below is kept', () => {
  assert.equal(maxOf(limitModuleMemory(moduleWithMemory(1, 100), 8).bytes), 8);
  assert.equal(maxOf(limitModuleMemory(moduleWithMemory(1, 3), 8).bytes), 3);
});

test('a module that needs more than the limit to start is refused', () => {
  assert.throws(() => limitModuleMemory(moduleWithMemory(10), 4), PluginMemoryLimitError);
});

test('non-modules and truncated modules are refused with a typed error, never anything else', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 65536 }), (bytes, limit) => {
    try {
      limitModuleMemory(bytes, limit);
    } catch (e) {
      assert.ok(e instanceof ModuleInvalidError || e instanceof PluginMemoryLimitError, String(e));
    }
  }));
  const good = moduleWithMemory(2, 9);
  for (let cut = 9; cut < good.length; cut++) {
    try { limitModuleMemory(good.subarray(0, cut), 4); } catch (e) { assert.ok(e instanceof ModuleInvalidError || e instanceof PluginMemoryLimitError); }
  }
});
