// Our plugins are standard Extism plugins: the stock host @extism/extism 1.0.3 calls their Extism
// twins (`echo`, `sum`, `aggregate`) and gets results equal to plain TypeScript references within
// 1e-5, through the generated typed clients. Also runs a plugin built with the stock PDK only.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createPlugin, type Plugin } from '@extism/extism';

import { AggregatorClient, SelftestClient, type CallFn } from '../../../sdk/abi/generated/clients.js';
import { decodeF64Vector, encodeAggregateRequest, encodeF32Vector } from '../../../sdk/abi/generated/contract.js';
import { fedavgRef, maxRelErr, randomF32, rng, sumRef } from './reference.js';
import { readRepoFile } from './support.js';

const TOLERANCE = 1e-5;

async function load(wasmRel: string, config: Record<string, string> = {}, logger?: Console): Promise<Plugin> {
  return createPlugin({ wasm: [{ data: readRepoFile(wasmRel) }] }, { useWasi: false, config, ...(logger ? { logger } : {}) });
}

function callVia(plugin: Plugin): CallFn {
  return async (fn, input) => {
    // A copy: 1.0.3 sends a subarray's whole underlying buffer.
    const out = await plugin.call(fn, input.slice());
    if (out === null) throw new Error(`${fn} returned no output`);
    return out.bytes().slice();
  };
}

describe('Extism twins under @extism/extism 1.0.3', () => {
  describe('selftest', () => {
    let plugin: Plugin;
    let client: SelftestClient;
    before(async () => {
      plugin = await load('wasm/selftest.wasm');
      client = new SelftestClient(callVia(plugin));
    });
    after(async () => { await plugin.close(); });

    it('echo returns its input, at every size around the 8-byte kernel word', async () => {
      const next = rng(1);
      for (const n of [0, 1, 7, 8, 9, 15, 16, 1000, 65537]) {
        const input = Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
        assert.deepEqual(await client.echo(input), input, `n=${n}`);
      }
      assert.equal(new TextDecoder().decode(await client.echo(new TextEncoder().encode('héllo wörld ✓'))), 'héllo wörld ✓');
    });

    it('sum equals the f64 reference', async () => {
      const next = rng(2);
      for (const n of [0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 1000, 4099]) {
        const values = randomF32(n, next, 100);
        const out = await client.sum({ len: n, values });
        assert.equal(out.len, 1);
        assert.ok(maxRelErr(out.values, [sumRef(values)]) <= TOLERANCE, `n=${n}: ${out.values[0]} vs ${sumRef(values)}`);
      }
    });

    it('a bad frame is an Extism error naming the status', async () => {
      const frame = new Uint8Array(12);
      new DataView(frame.buffer).setUint32(0, 0x56323346, true);
      new DataView(frame.buffer).setUint32(4, 1, true);
      await assert.rejects(plugin.call('sum', frame), /badInput: F32Vector: frame is 12 bytes but its header \(len=1\) describes 16/);
      await assert.rejects(plugin.call('sum', new Uint8Array(3)), /badInput: F32Vector: frame is 3 bytes, shorter than its 8-byte header/);
    });
  });

  describe('fedavg', () => {
    let plugin: Plugin;
    let client: AggregatorClient;
    before(async () => {
      plugin = await load('wasm/fedavg.wasm');
      client = new AggregatorClient(callVia(plugin));
    });
    after(async () => { await plugin.close(); });

    it('aggregate equals the weighted-mean reference', async () => {
      const next = rng(3);
      const shapes: [number, number][] = [[1, 1], [1, 5], [3, 5], [4, 16], [5, 17], [8, 3], [7, 1001], [9, 8200]];
      for (const [clients, dim] of shapes) {
        const weights = Float32Array.from({ length: clients }, () => 1 + Math.floor(next() * 1000));
        const updates = randomF32(clients * dim, next);
        const out = await client.aggregate({ clients, dim, weights, updates });
        assert.equal(out.len, dim);
        const err = maxRelErr(out.values, fedavgRef(clients, dim, weights, updates));
        assert.ok(err <= TOLERANCE, `${clients}x${dim}: error ${err}`);
      }
    });

    it('zero weights are allowed per client, but not in total', async () => {
      const weights = new Float32Array([0, 2, 0]);
      const updates = new Float32Array([9, 9, 1, 3, 9, 9]);
      const out = await client.aggregate({ clients: 3, dim: 2, weights, updates });
      assert.deepEqual(Array.from(out.values), [1, 3]);
      await assert.rejects(client.aggregate({ clients: 2, dim: 2, weights: new Float32Array(2), updates: new Float32Array(4) }),
        /badInput: aggregate: total weight is zero/);
      await assert.rejects(client.aggregate({ clients: 0, dim: 4, weights: new Float32Array(0), updates: new Float32Array(0) }),
        /badInput: aggregate: total weight is zero/);
    });

    it('negative or non-finite weights and malformed frames are bad input', async () => {
      await assert.rejects(client.aggregate({ clients: 2, dim: 1, weights: new Float32Array([1, -1]), updates: new Float32Array(2) }),
        /badInput: aggregate: weights must be finite and >= 0/);
      await assert.rejects(client.aggregate({ clients: 1, dim: 1, weights: new Float32Array([Number.NaN]), updates: new Float32Array(1) }),
        /badInput: aggregate: weights must be finite/);
      const frame = encodeAggregateRequest({ clients: 2, dim: 3, weights: new Float32Array([1, 1]), updates: new Float32Array(6) });
      await assert.rejects(plugin.call('aggregate', frame.slice(0, frame.length - 8)), /badInput: AggregateRequest: frame is 40 bytes/);
      const hostile = frame.slice();
      new DataView(hostile.buffer).setUint32(4, 0xffffffff, true);
      new DataView(hostile.buffer).setUint32(8, 0xffffffff, true);
      await assert.rejects(plugin.call('aggregate', hostile), /describes more than 4 GiB/);
    });
  });

  describe('pdk-plain (built with @extism/as-pdk only)', () => {
    let plugin: Plugin;
    before(async () => { plugin = await load('test/fixtures/wasm/pdk-plain.wasm'); });
    after(async () => { await plugin.close(); });

    it('runs echo and count_vowels', async () => {
      assert.equal((await plugin.call('echo', 'plain PDK'))?.text(), 'plain PDK');
      assert.deepEqual((await plugin.call('count_vowels', 'Hello, World: AEIOU'))?.json(), { count: 8 });
    });
  });

  describe('flaky (var)', () => {
    it('16 good calls of each function, then traps on every call: the counts survive in vars', async () => {
      const plugin = await load('test/fixtures/wasm/flaky.wasm');
      try {
        const frame = encodeF32Vector({ len: 1, values: new Float32Array([2]) });
        for (let i = 0; i < 16; i++) {
          assert.equal((await plugin.call('echo', 'x'))?.text(), 'x');
          assert.equal(decodeF64Vector((await plugin.call('sum', frame.slice()))!.bytes()).values[0], 2);
        }
        for (let i = 0; i < 3; i++) {
          await assert.rejects(plugin.call('echo', 'x'), /unreachable/);
          await assert.rejects(plugin.call('sum', frame.slice()), /unreachable/);
        }
      } finally {
        await plugin.close();
      }
    });
  });

  describe('logger (log, config, var)', () => {
    it('appends config suffix and logs through the host', async () => {
      const lines: string[] = [];
      const record = (...a: unknown[]): void => { lines.push(a.map(String).join(' ')); };
      const logger = { info: record, debug: record, warn: record, error: record, trace: record, log: record } as unknown as Console;
      const plugin = await load('test/fixtures/wasm/logger.wasm', { suffix: '!?' }, logger);
      try {
        assert.equal((await plugin.call('echo', 'hi'))?.text(), 'hi!?');
        assert.equal((await plugin.call('echo', 'hoho'))?.text(), 'hoho!?');
        assert.deepEqual(lines, ['echo: 2 bytes', 'echo: 4 bytes']);
      } finally {
        await plugin.close();
      }
    });
  });
});
