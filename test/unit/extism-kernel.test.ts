// Properties of our Extism kernel: what a plugin stores it reads back, out-of-bounds access is a typed trap,
// limits are typed errors, and nothing leaks from one call into the next.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PluginMemoryLimitError, PluginTrapError, X0tError } from '../../host/errors/index.js';
import { ExtismKernel } from '../../host/runtime/extism-kernel.js';

type Fn = (...args: never[]) => unknown;
const call = (imports: Record<string, Fn>, name: string, ...args: unknown[]): unknown =>
  (imports[name] as unknown as (...a: unknown[]) => unknown)(...args);

test('bytes stored in allocated blocks read back, and input reads see exactly the input', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { maxLength: 20 }), (input, blocks) => {
    const k = new ExtismKernel(1 << 20, {}, () => {});
    const env = k.coreImports();
    k.begin(input);
    assert.equal(call(env, 'input_length'), BigInt(input.length));
    for (let i = 0; i < input.length; i++) assert.equal(call(env, 'input_load_u8', BigInt(i)), input[i]);
    const placed = blocks.map((b) => {
      const off = call(env, 'alloc', BigInt(b.length)) as bigint;
      b.forEach((x, i) => call(env, 'store_u8', off + BigInt(i), x));
      return off;
    });
    placed.forEach((off, j) => {
      assert.equal(call(env, 'length', off), BigInt(blocks[j]!.length));
      blocks[j]!.forEach((x, i) => assert.equal(call(env, 'load_u8', off + BigInt(i)), x));
    });
    if (placed.length > 0) {
      const last = placed.at(-1)!;
      call(env, 'output_set', last, BigInt(blocks.at(-1)!.length));
      assert.deepEqual(k.outputView(), blocks.at(-1));
    }
  }));
});

test('out-of-bounds loads, stores and input reads are typed traps; over-allocation is a typed memory error', () => {
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: 1n << 40n }), fc.integer({ min: 0, max: 100 }), (addr, n) => {
    const k = new ExtismKernel(65536, {}, () => {});
    const env = k.coreImports();
    k.begin(new Uint8Array(n));
    for (const f of [() => call(env, 'load_u64', addr), () => call(env, 'store_u8', addr, 1), () => call(env, 'input_load_u8', addr)]) {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof PluginTrapError, String(e));
      }
    }
  }));
  const k = new ExtismKernel(65536, {}, () => {});
  k.begin(new Uint8Array(0));
  assert.throws(() => call(k.coreImports(), 'alloc', 70_000n), PluginMemoryLimitError);
  assert.throws(() => call(k.coreImports(), 'output_set', 12345n, 1n), PluginTrapError);
});

test('each call starts with an empty arena; vars persist and are capped', () => {
  const k = new ExtismKernel(1 << 20, { key: 'value' }, () => {});
  const env = k.coreImports();
  const vars = k.varImports();
  const cfg = k.configImports();
  const enc = new TextEncoder();
  const put = (bytes: Uint8Array): bigint => {
    const off = call(env, 'alloc', BigInt(bytes.length)) as bigint;
    bytes.forEach((x, i) => call(env, 'store_u8', off + BigInt(i), x));
    return off;
  };
  k.begin(Uint8Array.of(1, 2, 3));
  call(vars, 'var_set', put(enc.encode('n')), put(Uint8Array.of(42)));
  const v = call(cfg, 'config_get', put(enc.encode('key'))) as bigint;
  assert.equal(new TextDecoder().decode(Uint8Array.from({ length: 5 }, (_, i) => call(env, 'load_u8', v + BigInt(i)) as number)), 'value');
  assert.equal(call(cfg, 'config_get', put(enc.encode('missing'))), 0n);
  k.begin(Uint8Array.of(9));
  assert.equal(k.outputView().length, 0, 'no output carried over');
  const got = call(vars, 'var_get', put(enc.encode('n'))) as bigint;
  assert.equal(call(env, 'load_u8', got), 42);
  assert.throws(() => call(vars, 'var_set', put(enc.encode('big')), put(new Uint8Array(1024 * 1024 + 1))), (e: unknown) => e instanceof X0tError);
});
