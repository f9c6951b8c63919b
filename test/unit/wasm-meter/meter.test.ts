import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModuleInvalidError } from '../../../host/errors/index.js';
import { DEFAULT_METER_INTERVAL, LOOP_BATCH, METER_IMPORT_MODULE, METER_IMPORT_NAME, meterModule } from '../../../host/runtime/wasm-meter.js';
import { assemble, f32, f64, fc, FUNCREF, I32, I64, s32, s64, sectionCount, simd, str, u32, vec, type ModuleDef } from './asm.js';

type Exports = Record<string, (...args: number[]) => number>;

function instantiate(bytes: Uint8Array, imports: WebAssembly.Imports = {}): Exports {
  const mod = new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>);
  return new WebAssembly.Instance(mod, imports).exports as unknown as Exports;
}

function meterImports(check: () => void = () => {}): WebAssembly.Imports {
  return { [METER_IMPORT_MODULE]: { [METER_IMPORT_NAME]: check } };
}

const supported = (bytes: Uint8Array) => WebAssembly.validate(bytes as Uint8Array<ArrayBuffer>);

// ---------------------------------------------------------------------------------------------------------
// Interruption

const spinModule = assemble({
  types: [[[], []]],
  funcs: [{ type: 0, code: [0x03, 0x40, 0x0c, 0x00, 0x0b], export: 'spin' }], // loop br 0 end
});

test('an infinite loop calls check every `interval` iterations and unwinds when check throws', () => {
  const out = meterModule(spinModule, { interval: 1000 });
  assert.ok(supported(out));
  let calls = 0;
  const stop = new Error('deadline passed');
  const { spin } = instantiate(out, meterImports(() => { if (++calls === 5) throw stop; }));
  assert.throws(() => spin!(), (e) => e === stop);
  assert.equal(calls, 5);
});

test('a wall-clock deadline interrupts an infinite loop promptly', () => {
  const out = meterModule(spinModule);
  class Timeout extends Error {}
  let deadline = 0;
  const { spin } = instantiate(out, meterImports(() => { if (performance.now() > deadline) throw new Timeout(); }));
  const started = performance.now();
  deadline = started + 50;
  assert.throws(() => spin!(), Timeout);
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 1000, `interrupted after ${elapsed.toFixed(1)} ms`);
});

test('unbounded tail recursion (no loop at all) is interrupted at function entry', (t) => {
  const bytes = assemble({ types: [[[], []]], funcs: [{ type: 0, code: [0x12, 0x00], export: 'f' }] }); // return_call 0
  if (!supported(bytes)) return t.skip('tail calls not supported by this engine');
  const stop = new Error('stop');
  let calls = 0;
  const { f } = instantiate(meterModule(bytes, { interval: 100 }), meterImports(() => { if (++calls === 3) throw stop; }));
  assert.throws(() => f!(), (e) => e === stop);
});

test('loop iterations are charged LOOP_BATCH at a time; entries of functions that call are charged one each', () => {
  const bytes = assemble(kitchenSink());
  // sum(n) has a loop and no call: its n + 1 loop-header executions are charged in whole batches, and its entry is
  // free. With an interval that is a multiple of the batch, check runs once per `interval` charged points.
  for (const n of [0, 30, 31, 63, 100, 1000]) {
    const charged = Math.floor((n + 1) / LOOP_BATCH) * LOOP_BATCH;
    for (const interval of [LOOP_BATCH, 2 * LOOP_BATCH, 3 * LOOP_BATCH, 100 * LOOP_BATCH]) {
      let calls = 0;
      const ex = instantiate(meterModule(bytes, { interval }), { ...sinkImports(), ...meterImports(() => { calls++; }) });
      assert.equal(calls, 0, 'the start function neither calls nor loops: nothing is charged');
      assert.equal(ex['sum']!(n), (n * (n + 1)) / 2);
      assert.equal(calls, Math.floor(charged / interval), `interval ${interval}, n ${n}`);
    }
    // An interval below the batch: one check per charge.
    let calls = 0;
    const ex = instantiate(meterModule(bytes, { interval: 1 }), { ...sinkImports(), ...meterImports(() => { calls++; }) });
    ex['sum']!(n);
    assert.equal(calls, charged / LOOP_BATCH, `interval 1, n ${n}`);
  }
  // fact(n) recurses through `call`: one point per entry, n + 1 entries.
  for (const [interval, n] of [[1, 5], [2, 5], [3, 8], [1, 0]] as const) {
    let calls = 0;
    const ex = instantiate(meterModule(bytes, { interval }), { ...sinkImports(), ...meterImports(() => { calls++; }) });
    ex['fact']!(n);
    assert.equal(calls, Math.floor((n + 1) / interval), `fact(${n}), interval ${interval}`);
  }
  // double(x) neither calls nor loops: never charged.
  let calls = 0;
  const ex = instantiate(meterModule(bytes, { interval: 1 }), { ...sinkImports(), ...meterImports(() => { calls++; }) });
  for (let i = 0; i < 100; i++) ex['double']!(i);
  assert.equal(calls, 0);
});

test('a leaf loop called from a loop is still interrupted: no work escapes the countdown for long', () => {
  // outer(n): loop n times { call inner(31) } where inner loops 31 times (one short of a batch) and calls nothing,
  // so inner's own iterations are never charged. outer's loop and entry are, and they bound the work.
  const bytes = assemble({
    types: [[[I32], [I32]]],
    funcs: [
      {
        type: 0, export: 'outer', locals: [[1, I32]],
        code: [0x03, 0x40, 0x41, 31, 0x10, 1, 0x20, 1, 0x6a, 0x21, 1, 0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b, 0x20, 1],
      },
      {
        type: 0, locals: [[1, I32]],
        code: [0x03, 0x40, 0x20, 1, 0x41, 1, 0x6a, 0x21, 1, 0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b, 0x20, 1],
      },
    ],
  });
  const n = 3200;
  let calls = 0;
  const ex = instantiate(meterModule(bytes, { interval: LOOP_BATCH }), meterImports(() => { calls++; }));
  assert.equal(ex['outer']!(n), n * 31);
  // outer: 1 entry + n iterations charged in batches; inner: nothing.
  assert.equal(calls, Math.floor((1 + Math.floor(n / LOOP_BATCH) * LOOP_BATCH) / LOOP_BATCH));
  const stop = new Error('stop');
  const spin = instantiate(meterModule(bytes, { interval: 1000 }), meterImports(() => { throw stop; }));
  assert.throws(() => spin['outer']!(0), (e) => e === stop, 'outer(0) counts down from 0: unbounded, and interrupted');
});

// ---------------------------------------------------------------------------------------------------------
// Index shifting: a module with function and global imports, a start function, element segments of every
// form, ref.func in globals and code, call_indirect, table.init, and a name section.

function kitchenSink(): ModuleDef {
  const end = 0x0b;
  return {
    types: [
      [[I32], [I32]], // 0
      [[], [I32]], // 1
      [[], []], // 2
      [[I32, I32], [I32]], // 3
      [[I32], [I32, I32]], // 4
    ],
    imports: [
      ['env', 'add1', { kind: 'func', type: 0 }], // func 0
      ['env', 'base', { kind: 'global', type: I32 }], // global 0
      ['env', 'neg', { kind: 'func', type: 0 }], // func 1
    ],
    funcs: [
      /* 2 */ { type: 0, code: [0x20, 0, 0x41, 2, 0x6c], export: 'double', name: 'double' },
      /* 3 */ { type: 0, code: [0x20, 0, 0x41, 3, 0x6c], export: 'triple', name: 'triple' },
      /* 4 */ { type: 0, code: [0x20, 0, 0x41, 4, 0x6c], export: 'quad', name: 'quad' },
      /* 5 */ { type: 0, code: [0x20, 0, 0x10, 0, 0x10, 2, 0x10, 1], export: 'compose', name: 'compose' },
      /* 6 */ { type: 0, code: [0x20, 0, 0x41, 0, 0x11, 0, 0], export: 'viaTable' },
      /* 7 */ { type: 0, code: [0x41, 1, 0xd2, 4, 0x26, 0, 0x20, 0, 0x41, 1, 0x11, 0, 0], export: 'viaRefFunc' },
      /* 8 */ { type: 0, code: [0x41, 2, 0x23, 2, 0x26, 0, 0x20, 0, 0x41, 2, 0x11, 0, 0], export: 'viaGlobalRef' },
      /* 9 */ { type: 0, code: [0x41, 3, 0x41, 0, 0x41, 1, ...fc(12, 2, 0), 0x20, 0, 0x41, 3, 0x11, 0, 0], export: 'viaTableInit' },
      /* 10 */ {
        type: 0, export: 'fact', name: 'fact',
        code: [0x20, 0, 0x45, 0x04, I32, 0x41, 1, 0x05, 0x20, 0, 0x20, 0, 0x41, 1, 0x6b, 0x10, 10, 0x6c, end],
      },
      /* 11 */ {
        type: 0, export: 'sum', locals: [[1, I32]],
        code: [0x02, 0x40, 0x03, 0x40, 0x20, 0, 0x45, 0x0d, 1, 0x20, 1, 0x20, 0, 0x6a, 0x21, 1,
          0x20, 0, 0x41, 1, 0x6b, 0x21, 0, 0x0c, 0, end, end, 0x20, 1],
      },
      /* 12 */ { type: 2, code: [0x23, 0, 0x41, ...s32(100), 0x6a, 0x24, 3] },
      /* 13 */ { type: 1, code: [0x23, 3], export: 'started' },
      /* 14 */ { type: 3, code: [0x20, 1, 0x20, 0, 0x11, 0, 0], export: 'callSlot' },
      /* 15 */ {
        // block (type 4) and loop (type 0): type-index block types with parameters.
        type: 0, export: 'multi', locals: [[1, I32]],
        code: [0x20, 0, 0x02, 4, 0x41, 10, end, 0x6a,
          0x03, 0, 0x41, 1, 0x6a, 0x22, 1, 0x20, 1, 0x41, ...s32(100), 0x48, 0x0d, 0, end],
      },
      /* 16 */ { type: 1, code: [0x00], export: 'boom', name: 'boom' },
    ],
    tables: [8],
    globals: [
      [I32, 1, 0x23, 0, end], // 1: mut i32 = base
      [FUNCREF, 0, 0xd2, 3, end], // 2: funcref = ref.func $triple
      [I32, 1, 0x41, 0, end], // 3: set by the start function
    ],
    start: 12,
    elems: [
      [0x00, 0x41, 0, end, ...vec([[2]])], // active, table 0 @0: double
      [0x03, 0x00, ...vec([[4]])], // declarative: quad
      [0x05, FUNCREF, ...vec([[0xd2, 5, end]])], // passive exprs: compose
      [0x06, 0x00, 0x41, 5, end, FUNCREF, ...vec([[0xd2, 3, end]])], // active, explicit table, exprs @5: triple
      [0x02, 0x00, 0x41, 6, end, 0x00, ...vec([[5]])], // active, explicit table, funcidx @6: compose
      [0x04, 0x41, 7, end, ...vec([[0xd2, 10, end]])], // active, table 0, exprs @7: fact
      [0x05, FUNCREF, ...vec([[0xd0, FUNCREF, end]])], // passive: ref.null
    ],
    names: true,
    customs: [['x0t.meta', [1, 2, 3]]],
  };
}

function sinkImports(): WebAssembly.Imports {
  return { env: { add1: (x: number) => x + 1, neg: (x: number) => -x, base: 5 } };
}

test('a module with imports, start, elements, ref.func and call_indirect computes the same after metering', () => {
  const bytes = assemble(kitchenSink());
  assert.ok(supported(bytes), 'the hand-assembled module is valid');
  const out = meterModule(bytes, { interval: 7 });
  assert.ok(supported(out));
  let calls = 0;
  const a = instantiate(bytes, sinkImports());
  const b = instantiate(out, { ...sinkImports(), ...meterImports(() => { calls++; }) });
  assert.equal(b['started']!(), 105);
  for (const x of [0, 1, 5, 10, -3]) {
    for (const name of ['double', 'triple', 'quad', 'compose', 'viaTable', 'viaRefFunc', 'viaGlobalRef', 'viaTableInit', 'multi']) {
      assert.equal(b[name]!(x), a[name]!(x), `${name}(${x})`);
    }
    for (const slot of [0, 5, 6, 7]) assert.equal(b['callSlot']!(slot, x & 7), a['callSlot']!(slot, x & 7), `callSlot(${slot}, ${x})`);
  }
  assert.equal(b['fact']!(10), 3628800);
  assert.equal(b['sum']!(1000), 500500);
  assert.equal(b['compose']!(4), -10);
  assert.equal(b['viaTableInit']!(4), -10);
  assert.equal(b['multi']!(5), 100);
  assert.equal(b['multi']!(200), 211);
  assert.ok(calls > 0);
});

test('exports, imports and the existing [] -> [] type are kept; one import and one global are added', () => {
  const bytes = assemble(kitchenSink());
  const out = meterModule(bytes);
  const before = new WebAssembly.Module(bytes);
  const after = new WebAssembly.Module(out);
  assert.deepEqual(WebAssembly.Module.exports(after), WebAssembly.Module.exports(before));
  assert.deepEqual(WebAssembly.Module.imports(after), [
    ...WebAssembly.Module.imports(before),
    { module: METER_IMPORT_MODULE, name: METER_IMPORT_NAME, kind: 'function' },
  ]);
  assert.equal(sectionCount(out, 1), 5, 'type [] -> [] reused');
  assert.equal(sectionCount(out, 6), 4, 'one global appended');
  assert.deepEqual(
    WebAssembly.Module.customSections(after, 'x0t.meta').map((b) => [...new Uint8Array(b)]),
    [[1, 2, 3]],
  );
});

test('the name section follows the functions it names', () => {
  const bytes = assemble(kitchenSink());
  const out = meterModule(bytes);
  const stackOf = (ex: Exports) => {
    try { ex['boom']!(); } catch (e) { return String((e as Error).stack); }
    return '';
  };
  assert.match(stackOf(instantiate(bytes, sinkImports())), /boom/);
  assert.match(stackOf(instantiate(out, { ...sinkImports(), ...meterImports() })), /boom/);
  assert.ok(WebAssembly.Module.customSections(new WebAssembly.Module(out), 'name').length === 1);
});

test('a type [] -> [] is added when missing; sections are created when absent', () => {
  const noEmptyType = assemble({
    types: [[[I32], [I32]]],
    funcs: [{ type: 0, code: [0x20, 0, 0x41, 1, 0x6a], export: 'inc' }],
  });
  const out = meterModule(noEmptyType);
  assert.ok(supported(out));
  assert.equal(sectionCount(out, 1), 2);
  assert.equal(instantiate(out, meterImports())['inc']!(41), 42);

  const empty = Uint8Array.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const metered = meterModule(empty);
  assert.ok(supported(metered));
  assert.deepEqual(WebAssembly.Module.imports(new WebAssembly.Module(metered)), [
    { module: METER_IMPORT_MODULE, name: METER_IMPORT_NAME, kind: 'function' },
  ]);
});

test('global imports come before the countdown global; metering twice still works', () => {
  const bytes = assemble({
    imports: [['env', 'g', { kind: 'global', type: I32, mutable: true }], ['env', 'h', { kind: 'global', type: I64 }]],
    types: [[[], [I32]], [[], []]],
    funcs: [
      // bump calls a no-op first, so its entry is charged.
      { type: 0, code: [0x10, 1, 0x23, 0, 0x41, 1, 0x6a, 0x24, 0, 0x23, 0, 0x23, 1, 0xa7, 0x6a], export: 'bump' },
      { type: 1, code: [] },
    ],
  });
  const g = new WebAssembly.Global({ value: 'i32', mutable: true }, 10);
  const imports: WebAssembly.Imports = { env: { g, h: 100n as unknown as number } };
  const once = meterModule(bytes, { interval: 1 });
  const twice = meterModule(once, { interval: 2 });
  assert.ok(supported(once) && supported(twice));
  let calls = 0;
  const ex = instantiate(twice, { ...imports, ...meterImports(() => { calls++; }) });
  assert.equal(ex['bump']!(), 111);
  assert.equal(g.value, 11);
  assert.equal(calls, 1, 'the inner meter (interval 1) fires once; the outer (interval 2) not yet');
});

// ---------------------------------------------------------------------------------------------------------
// Instruction coverage: results match between the original and the metered module.

function compareAll(def: ModuleDef, inputs: readonly number[], t: { skip(msg: string): void }, imports: WebAssembly.Imports = {}): void {
  const bytes = assemble(def);
  if (!supported(bytes)) {
    let why = '';
    try { new WebAssembly.Module(bytes); } catch (e) { why = (e as Error).message; }
    t.skip(`feature not supported by this engine: ${why}`);
    return;
  }
  const out = meterModule(bytes, { interval: 3 });
  assert.ok(supported(out), 'metered module validates');
  for (const f of def.funcs ?? []) {
    if (!f.export) continue;
    for (const x of inputs) {
      const a = instantiate(bytes, imports)[f.export]!(x);
      const b = instantiate(out, { ...imports, ...meterImports() })[f.export]!(x);
      assert.equal(b, a, `${f.export}(${x})`);
    }
  }
}

test('bulk memory, sign extension, saturating truncation, select t, br_table, constants', (t) => {
  const end = 0x0b;
  compareAll({
    types: [[[I32], [I32]]],
    memories: [1],
    dataCount: 1,
    data: [[0x01, ...vec([...'HELLOxyz'].map((c) => [c.charCodeAt(0)]))]], // passive
    funcs: [
      {
        type: 0, export: 'bulk',
        code: [
          0x41, 0, 0x41, ...s32(0xab), 0x41, 16, ...fc(11, 0), // memory.fill
          0x41, 16, 0x41, 0, 0x41, 4, ...fc(8, 0, 0), // memory.init
          ...fc(9, 0), // data.drop
          0x41, 32, 0x41, 16, 0x41, 4, ...fc(10, 0, 0), // memory.copy
          0x41, 32, 0x28, 2, 0, // i32.load
          0x41, 15, 0x2d, 0, 0, 0x6a, // i32.load8_u
          0x41, 0, 0x20, 0, 0x36, 2, ...u32(100), 0x41, 0, 0x28, 2, ...u32(100), 0x6a, // store/load with offsets
        ],
      },
      {
        type: 0, export: 'numeric', locals: [[1, I32]],
        code: [
          0x20, 0, 0xc0, // i32.extend8_s
          0x42, ...s64(-1234567890123n), 0xc4, 0xa7, 0x6a, // i64.const, i64.extend32_s, i32.wrap_i64
          0x44, ...f64(1e300), ...fc(3), 0x6a, // i32.trunc_sat_f64_u
          0x43, ...f32(-7.9), ...fc(0), 0x6a, // i32.trunc_sat_f32_s
          0x42, ...s64(1n << 62n), 0x44, ...f64(3.5), ...fc(6), 0x7c, 0xa7, 0x6a, // i64.trunc_sat_f64_s, i64.add
          0x41, 1, 0x41, 2, 0x20, 0, 0x1c, 1, I32, 0x6a, // select (result i32)
          0x41, 1, 0x41, 2, 0x20, 0, 0x1b, 0x6a, // select
          0x21, 1,
          0x02, 0x40, 0x02, 0x40, 0x02, 0x40,
          0x20, 0, 0x41, 3, 0x70, 0x0e, 2, 0, 1, 2, // br_table [0 1] 2
          end, 0x20, 1, 0x41, ...s32(100), 0x6a, 0x21, 1,
          end, 0x20, 1, 0x41, ...s32(1000), 0x6a, 0x21, 1,
          end, 0x20, 1,
          0x41, ...s32(-2147483648), 0x6a, 0x41, ...s32(2147483647), 0x6a,
        ],
      },
    ],
  }, [0, 1, 2, 3, 127, 128, -1, 1000], t);
});

test('reference types and table instructions', (t) => {
  compareAll({
    types: [[[I32], [I32]]],
    tables: [2],
    elems: [[0x03, 0x00, ...vec([[0]])]], // declarative: func 0
    funcs: [{
      type: 0, export: 'refs',
      code: [
        0xd0, FUNCREF, 0x41, 3, ...fc(15, 0), // table.grow → 2
        ...fc(16, 0), 0x6a, // table.size → 5
        0x41, 0, 0xd2, 0, 0x41, 5, ...fc(17, 0), // table.fill with ref.func 0
        0x41, 4, 0xd0, FUNCREF, 0x26, 0, // table.set 4 null
        0x41, 0, 0x41, 3, 0x41, 2, ...fc(14, 0, 0), // table.copy
        0x41, 1, 0x25, 0, 0xd1, 0x6a, // table.get 1 ref.is_null
        0x41, 0, 0x25, 0, 0xd1, 0x6a,
        ...fc(13, 0), // elem.drop
        0x20, 0, 0x6a,
      ],
    }],
  }, [0, 9], t);
});

test('SIMD: loads, stores, lanes, shuffle, constants, multi-byte sub-opcodes', (t) => {
  const lanes = Array.from({ length: 16 }, (_, i) => i + 1);
  compareAll({
    types: [[[I32], [I32]]],
    memories: [1],
    funcs: [{
      type: 0, export: 'simd',
      code: [
        0x41, ...s32(64), 0x20, 0, ...simd(0x11), ...simd(0x0b, 4, 0), // i32x4.splat, v128.store
        0x41, ...s32(64), ...simd(0x00, 4, 0), // v128.load
        ...simd(0x0c, ...lanes), ...simd(0xae), // v128.const, i32x4.add (0xAE = 2-byte LEB)
        ...simd(0x0c, ...lanes.map((x) => x * 3)),
        ...simd(0x0d, 0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23), // i8x16.shuffle
        ...simd(0x1b, 2), // i32x4.extract_lane 2
        0x41, ...s32(65), 0x41, ...s32(64), ...simd(0x5c, 2, 0), ...simd(0x54, 0, 0, 3), ...simd(0x16, 3), 0x6a, // load32_zero, load8_lane, extract_lane_u
        0x41, ...s32(64), 0x41, ...s32(64), ...simd(0x5d, 3, 0), ...simd(0x5b, 3, 8, 1), // load64_zero, store64_lane
        ...simd(0x0c, ...lanes), ...simd(0x1d, 1), 0xa7, 0x6a, // i64x2.extract_lane
        0x43, ...f32(6.25), ...simd(0x13), ...simd(0xe3), ...simd(0x1f, 0), 0xa8, 0x6a, // f32x4.splat sqrt extract
        0x20, 0, ...simd(0x0f), 0x41, 9, ...simd(0x17, 0), // i8x16.splat replace_lane
        ...simd(0xfe), ...simd(0x5f), ...simd(0x21, 1), ...fc(2), 0x6a, // f64x2.convert_low_i32x4_s, promote, extract
        0x41, ...s32(72), 0x28, 2, 0, 0x6a,
        ...simd(0x0c, ...lanes), ...simd(0x53), 0x6a, // v128.any_true
        ...simd(0x0c, ...lanes), ...simd(0x0c, ...lanes), ...simd(0xba), ...simd(0xa4), 0x6a, // i32x4.dot_i16x8_s, bitmask
      ],
    }],
  }, [0, 1, 7, -5, 0x01020304], t);
});

test('atomics on an ordinary memory', (t) => {
  compareAll({
    types: [[[I32], [I32]]],
    memories: [1],
    funcs: [{
      type: 0, export: 'atomic',
      code: [
        0x41, 0, 0x20, 0, 0xfe, 0x1e, 2, 0, // i32.atomic.rmw.add → old
        0xfe, 0x03, 0x00, // atomic.fence
        0x41, 0, 0xfe, 0x10, 2, 0, 0x6a, // i32.atomic.load
        0x41, 0, 0x41, 1, 0xfe, 0x00, 2, 0, 0x6a, // memory.atomic.notify
        0x41, 8, 0x42, 7, 0xfe, 0x18, 3, 0, // i64.atomic.store
        0x41, 8, 0x42, 7, 0x42, 9, 0xfe, 0x49, 3, 0, 0xa7, 0x6a, // i64.atomic.rmw.cmpxchg
      ],
    }],
  }, [1, 5], t);
});

test('memory.size / memory.grow and an if/else with a value type', (t) => {
  compareAll({
    types: [[[I32], [I32]]],
    memories: [1],
    funcs: [{
      type: 0, export: 'mem',
      code: [0x20, 0, 0x04, I32, 0x41, 1, 0x40, 0, 0x05, 0x3f, 0, 0x0b, 0x3f, 0, 0x6a],
    }],
  }, [0, 1], t);
});

// ---------------------------------------------------------------------------------------------------------
// Refusals

test('unknown opcodes, exception handling and bad indices are refused with ModuleInvalidError', () => {
  const withBody = (code: number[], extra: Partial<ModuleDef> = {}) =>
    assemble({ types: [[[], []]], funcs: [{ type: 0, code }], ...extra });
  const cases: [string, Uint8Array][] = [
    ['opcode 0xFF', withBody([0xff])],
    ['opcode 0x27', withBody([0x27])],
    ['0xFC 18', withBody(fc(18))],
    ['SIMD gap 0x9A', withBody([0x41, 0, ...simd(0x9a)])],
    ['0xFE 0x04', withBody([0xfe, 0x04])],
    ['try', withBody([0x06, 0x40, 0x0b])],
    ['call out of range', withBody([0x10, 5])],
    ['body ends early', withBody([0x02, 0x40])],
    ['GC type', Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 3, 1, 0x5f, 0])],
    ['bad magic', Uint8Array.from([0, 0x61, 0x73, 0x6e, 1, 0, 0, 0])],
    ['component', Uint8Array.from([0, 0x61, 0x73, 0x6d, 0x0d, 0, 1, 0])],
    ['unknown section', Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 14, 0])],
    ['export of bad function', assemble({ exports: [[...str('x'), 0x00, 0]] })],
  ];
  for (const [what, bytes] of cases) {
    assert.throws(() => meterModule(bytes), ModuleInvalidError, what);
  }
});

test('the interval must be a positive 32-bit integer', () => {
  for (const interval of [0, -1, 1.5, 2 ** 31, Number.NaN]) {
    assert.throws(() => meterModule(spinModule, { interval }), RangeError, String(interval));
  }
  assert.ok(supported(meterModule(spinModule, { interval: 2 ** 31 - 1 })));
  assert.equal(DEFAULT_METER_INTERVAL, 10_000);
});
