import { decodeF64Vector, encodeF32Vector } from '../generated/contract.js';
import { assertClose, expectFailure, seededRandom, type ConformanceCase } from './kit-types.js';

const echoSizes = [0, 1, 7, 1000, 65536];

// Built once per process: a slot self-tests every version it swaps in, and filling 64 KiB through a callback
// on every swap held the event loop for milliseconds.
let echoInputs: Uint8Array[] | null = null;
function inputs(): Uint8Array[] {
  if (echoInputs === null) {
    const rnd = seededRandom(1);
    echoInputs = echoSizes.map((n) => {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = Math.floor(rnd() * 256);
      return bytes;
    });
  }
  return echoInputs;
}

export const selftestKit: readonly ConformanceCase[] = [
  {
    name: 'echo returns its input unchanged',
    run: async (call) => {
      for (const input of inputs()) {
        const n = input.length;
        const out = await call('echo', input);
        if (out.length !== n) throw new Error(`echo of ${n} bytes returned ${out.length}`);
        for (let i = 0; i < n; i++) if (out[i] !== input[i]) throw new Error(`echo of ${n} bytes differs at byte ${i}`);
      }
    },
  },
  {
    name: 'sum of f32 values in f64',
    run: async (call) => {
      const rnd = seededRandom(2);
      const cases: number[][] = [[], [1, 2, 3.5], Array.from({ length: 1001 }, () => rnd() * 2 - 1)];
      for (const values of cases) {
        const v = Float32Array.from(values);
        const out = decodeF64Vector(await call('sum', encodeF32Vector({ len: v.length, values: v })));
        if (out.len !== 1) throw new Error(`sum returned ${out.len} values, expected 1`);
        let expected = 0;
        for (const x of v) expected += x;
        assertClose(out.values[0]!, expected, 1e-9, `sum of ${v.length} values`);
      }
    },
  },
  {
    name: 'sum refuses a malformed frame without trapping',
    run: async (call) => {
      await expectFailure(call('sum', Uint8Array.of(1, 2, 3)), ['X0T_PLUGIN_ERROR'], 'a 3-byte frame');
      const frame = encodeF32Vector({ len: 4, values: Float32Array.of(1, 2, 3, 4) });
      await expectFailure(call('sum', frame.subarray(0, frame.length - 4)), ['X0T_PLUGIN_ERROR'], 'a truncated frame');
      // still healthy afterwards
      const ok = decodeF64Vector(await call('sum', frame));
      assertClose(ok.values[0]!, 10, 1e-12, 'sum after refusals');
    },
  },
];
