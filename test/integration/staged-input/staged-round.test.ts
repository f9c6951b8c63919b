// StagedRound: a federated round written client by client into an aggregator's staged input gives the same result
// as the encoded AggregateRequest through Slot.call, for every shipped aggregator that has a fast path.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CodecError, UsageError } from '../../../host/errors/index.js';
import { Slot } from '../../../host/runtime/slot.js';
import { StagedRound } from '../../../host/runtime/staged-round.js';
import { encodeAggregateRequest } from '../../../sdk/abi/generated/contract.js';
import { productSpec } from '../../support/fixtures.js';

function rows(clients: number, dim: number, seed: number): Float32Array {
  const out = new Float32Array(clients * dim);
  let x = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x / 2147483648 - 1;
  }
  return out;
}

for (const name of ['fedavg', 'median', 'krum', 'trimmed-mean']) {
  test(`${name}: a round staged client by client aggregates like the encoded frame`, async () => {
    const slot = await Slot.open(name, 'aggregator', await productSpec(name));
    try {
      // An odd client count exercises the padding after the weights.
      const clients = 7;
      const dim = 1001;
      const updates = rows(clients, dim, 11);
      const weights = Float32Array.from({ length: clients }, (_, c) => 1 + c);
      const want = await slot.call('aggregate', encodeAggregateRequest({ clients, dim, weights, updates }));
      const round = await StagedRound.open(slot, clients, dim);
      try {
        // Clients arrive out of order.
        for (const c of [3, 0, 6, 1, 5, 2, 4]) {
          round.row(c).set(updates.subarray(c * dim, (c + 1) * dim));
          round.weights[c] = weights[c]!;
        }
        assert.throws(() => round.row(clients), UsageError);
        assert.deepEqual(await round.aggregate(), want);
        assert.equal(round.path, 'in-place');
        assert.throws(() => round.weights, UsageError);
      } finally {
        await round.release();
      }
    } finally {
      await slot.close();
    }
  });
}

test('a round with a header field that is not a u32 is refused before anything is leased', async () => {
  const slot = await Slot.open('fedavg', 'aggregator', await productSpec('fedavg'));
  try {
    await assert.rejects(StagedRound.open(slot, -1, 4), CodecError);
    await assert.rejects(StagedRound.open(slot, 2, 1.5), CodecError);
  } finally {
    await slot.close();
  }
});
