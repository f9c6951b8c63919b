// Plugins from other Extism PDKs run unmodified: a Rust PDK module (extism-pdk from crates.io) gives the same
// answers through our host as through @extism/extism, in both isolations.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import createPlugin from '@extism/extism';
import { PluginReportedError } from '../../../host/errors/index.js';
import { loadPlugin } from '../../../host/runtime/instantiate.js';
import { seededRandom } from '../../../sdk/abi/conformance/kit-types.js';
import { fixtureSpec } from '../../support/fixtures.js';

describe('a Rust PDK plugin', () => {
  for (const isolation of ['worker', 'in-thread'] as const) {
    test(`${isolation}: echo, count_vowels and its error path agree with @extism/extism`, async () => {
      const spec = await fixtureSpec('pdk-rust', { isolation, limits: { callTimeoutMs: isolation === 'in-thread' ? 25 : 1000 } });
      const ours = await loadPlugin(spec);
      const peer = await createPlugin({ wasm: [{ data: readFileSync(spec.wasm.path), name: 'main' }] }, { useWasi: false });
      try {
        const rnd = seededRandom(9);
        for (const n of [0, 1, 7, 8, 9, 1000, 65_537]) {
          const input = Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
          const a = await ours.call('echo', input);
          const b = (await peer.call(['main', 'echo'], input))?.bytes() ?? new Uint8Array(0);
          assert.deepEqual(a, input);
          assert.deepEqual(a, Uint8Array.from(b));
          await peer.reset();
        }
        const text = new TextEncoder().encode('Hello, mesh of Raspberry Pis and OpenWrt routers');
        const ourCount = new TextDecoder().decode(await ours.call('count_vowels', text));
        const peerCount = (await peer.call(['main', 'count_vowels'], text))!.text();
        assert.equal(ourCount, peerCount);
        assert.deepEqual(JSON.parse(ourCount), { count: 13 });
        await assert.rejects(ours.call('fail', Uint8Array.of(1)), (e: unknown) => {
          assert.ok(e instanceof PluginReportedError);
          assert.match(e.message, /refuses on purpose/);
          return true;
        });
        assert.deepEqual(await ours.call('echo', Uint8Array.of(5, 6)), Uint8Array.of(5, 6), 'still serving after a reported error');
        for (let i = 0; i < 20_000; i++) {
          const out = await ours.call('echo', Uint8Array.of(i & 255, i >> 8));
          if (out[0] !== (i & 255)) assert.fail(`call ${i} returned wrong bytes`);
        }
      } finally {
        await ours.close();
        await peer.close();
      }
    });
  }
});
