// Scale check from the issue: n = 25 clients, dim = 100,000, t = 13, signed, with two clients dropping before
// masking and two after. Prints the wall time and the bytes each client sends; asserts correctness, not speed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSecAggParams, quantiseUpdate } from '../../../host/crypto/secagg/index.js';
import { ed25519Identities, randomUpdates, runSecAgg, secAggParams } from '../../support/secagg-harness.js';

test('n = 25, dim = 100,000, t = 13 completes and sums correctly', async (t) => {
  const p = secAggParams(25, 13, 100_000);
  const inputs = randomUpdates(p);
  const signed = await ed25519Identities(p);
  const [m1, m2, u1, u2] = [p.clientIds[3]!, p.clientIds[17]!, p.clientIds[0]!, p.clientIds[24]!];
  const started = performance.now();
  const run = await runSecAgg(p, inputs, { signed, drops: { beforeMask: [m1, m2], beforeUnmask: [u1, u2] } });
  const ms = performance.now() - started;

  const contributors = p.clientIds.filter((id) => id !== m1 && id !== m2);
  assert.deepEqual(run.result.contributors, contributors);
  const cp = checkSecAggParams(p);
  const expected = new Int32Array(p.dim);
  for (const id of contributors) {
    const q = new Int32Array(quantiseUpdate(inputs.get(id)!, cp).buffer);
    for (let i = 0; i < p.dim; i++) expected[i] = expected[i]! + q[i]!;
  }
  assert.deepEqual(run.result.quantisedSum, expected);
  const sent = [...run.bytesSent.values()];
  t.diagnostic(`secagg n=25 dim=100000 t=13 (signed, 2 drops before and 2 after masking, all parties in one thread): ${ms.toFixed(0)} ms; ` +
    `bytes sent per surviving client: ${Math.max(...sent)} (masked vector ${4 * p.dim})`);
});
