// A rough figure of what metering costs in a hot loop and in a call-heavy loop. Reported, not asserted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { METER_IMPORT_MODULE, METER_IMPORT_NAME, meterModule } from '../../../host/runtime/wasm-meter.js';
import { assemble, I32 } from './asm.js';

const N = 10_000_000;

const bytes = assemble({
  types: [[[I32], [I32]], [[I32, I32], [I32]]],
  funcs: [
    {
      // sum(n): acc = 0; i = 0; loop { acc += i; i++; br_if (i != n) }
      type: 0, export: 'sum', locals: [[2, I32]],
      code: [0x03, 0x40, 0x20, 1, 0x20, 2, 0x6a, 0x21, 1, 0x20, 2, 0x41, 1, 0x6a, 0x22, 2, 0x20, 0, 0x47, 0x0d, 0, 0x0b, 0x20, 1],
    },
    {
      // calls(n): the same loop, but the addition is a call to a (non-inlined by us) function.
      type: 0, export: 'calls', locals: [[2, I32]],
      code: [0x03, 0x40, 0x20, 1, 0x20, 2, 0x10, 2, 0x21, 1, 0x20, 2, 0x41, 1, 0x6a, 0x22, 2, 0x20, 0, 0x47, 0x0d, 0, 0x0b, 0x20, 1],
    },
    { type: 1, code: [0x20, 0, 0x20, 1, 0x6a] },
  ],
});

type Ex = { sum(n: number): number; calls(n: number): number };

function instance(b: Uint8Array<ArrayBuffer>): Ex {
  return new WebAssembly.Instance(new WebAssembly.Module(b), {
    [METER_IMPORT_MODULE]: { [METER_IMPORT_NAME]: () => {} },
  }).exports as unknown as Ex;
}

function best(f: () => number, expected: number): number {
  let min = Infinity;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = f();
    min = Math.min(min, performance.now() - t0);
    assert.equal(r, expected);
  }
  return min;
}

test('metering overhead on a 10M-iteration loop (diagnostic only)', (t) => {
  const plain = instance(bytes);
  const metered = instance(meterModule(bytes));
  const expected = Number((BigInt(N) * BigInt(N - 1) / 2n) & 0xffffffffn) | 0;
  for (const kind of ['sum', 'calls'] as const) {
    const a = best(() => plain[kind](N), expected);
    const b = best(() => metered[kind](N), expected);
    t.diagnostic(`${kind}: plain ${a.toFixed(1)} ms, metered ${b.toFixed(1)} ms, overhead ${(((b - a) / a) * 100).toFixed(0)}% ` +
      `(${(((b - a) * 1e6) / N).toFixed(2)} ns per iteration)`);
  }
});
