// 25 clients over the in-process network, Ed25519-signed updates, the real fedavg plugin in an aggregator slot:
// the new model is the weighted mean of exactly the honest on-time updates. A man-in-the-middle that changes one
// float of one client's update, a replay of another client's signed update from a third node and an update from
// an unregistered node are all counted and dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Contribution, CoordinatorEffect } from '../../../host/core/fl/coordinator-types.js';
import { Ed25519Signer } from '../../../host/crypto/ed25519-signer.js';
import { aggregatorFromSlot, CoordinatorDriver } from '../../../host/fl/coordinator-driver.js';
import { InProcessNetwork } from '../../../host/fl/in-process-transport.js';
import { decodeFlMessage, encodeFlMessage, FL_KIND, modelDigest, updateSigningMessage } from '../../../host/fl/wire.js';
import { closeAll, federation, keyRegistry, maxAbsDiff, openFedavg, sleep, syntheticUpdate, weightedMean } from './helpers.js';

const DIM = 1000;
const ids = Array.from({ length: 25 }, (_, i) => `c${String(i).padStart(2, '0')}`);
const index = (id: string): number => Number(id.slice(1));

test('25 signed clients, fedavg plugin slot: tampered, replayed and unregistered updates are rejected', { timeout: 60_000 }, async () => {
  let captured: Uint8Array | null = null;
  const network = new InProcessNetwork({
    seed: 9,
    maxDelayMs: 5,
    intercept: (from, _to, bytes) => {
      if (bytes[5] !== FL_KIND.update) return bytes;
      if (from === 'c03') captured = bytes.slice();
      if (from !== 'c07') return bytes;
      const t = bytes.slice();
      t[t.length - 1]! ^= 0x01; // one bit of the last float
      return t;
    },
  });
  const scheme = new Ed25519Signer();
  const sent = new Map<string, { weight: number; update: Float32Array }>();
  const members = await federation({
    network, ids, scheme,
    train: (id) => async (round, model) => {
      const update = syntheticUpdate(index(id), round.round, model);
      sent.set(`${round.round}/${id}`, { weight: index(id) + 1, update });
      return { update, weight: index(id) + 1, loss: 1 / (index(id) + 1) };
    },
  });
  const slot = await openFedavg();
  const coordTransport = network.endpoint('coord');
  const intruder = network.endpoint('intruder');
  const aggregates: Contribution[][] = [];
  const driver = new CoordinatorDriver({
    transport: coordTransport, scheme, publicKeys: keyRegistry(members), aggregate: aggregatorFromSlot(slot), seed: 2026,
    onEffect: (e: CoordinatorEffect) => {
      if (e.type === 'aggregate') aggregates.push([...e.contributions]);
    },
  });
  try {
    await Promise.all(members.map((m) => m.client.join('coord')));
    await sleep(30);
    assert.equal(driver.snapshot().joined.length, 25);

    const model0 = Float32Array.from({ length: DIM }, (_, j) => Math.cos(j));
    const running = driver.runRound({
      roundId: 1, modelVersion: 0, model: model0, selection: { kind: 'fraction', fraction: 1 }, minClients: 20, deadlineMs: 1500,
    });
    await sleep(200); // every honest update is in; now the intruder replays c03's and sends its own
    assert.ok(captured !== null);
    await intruder.send('coord', captured);
    const keys = await scheme.keygen();
    const fields = {
      round: 1, coordinator: 'coord', modelVersion: 0, modelDigest: modelDigest(model0), sender: 'intruder', weight: 1000, loss: null,
      update: new Float32Array(DIM).fill(1e6),
    };
    await intruder.send('coord', encodeFlMessage({ kind: 'update', ...fields, signature: await scheme.sign(keys.secretKey, updateSigningMessage(fields)) }));

    const r1 = await running;
    const m = r1.metrics;
    assert.deepEqual(
      { selected: m.selected, received: m.received, invalidSignatures: m.invalidSignatures, unknownSenders: m.unknownSenders, closedBy: m.closedBy },
      { selected: 25, received: 24, invalidSignatures: 2, unknownSenders: 1, closedBy: 'deadline' },
    );
    assert.equal(aggregates.length, 1);
    assert.deepEqual(aggregates[0]!.map((c) => c.clientId), ids.filter((id) => id !== 'c07'));
    const honest = ids.filter((id) => id !== 'c07').map((id) => sent.get(`1/${id}`)!);
    const err = maxAbsDiff(r1.model, weightedMean(honest));
    assert.ok(err < 1e-5, `fedavg differs from the weighted mean of the honest updates by ${err}`);
    assert.equal(r1.modelVersion, 1);
    assert.ok(m.bytesAccepted > 24 * DIM * 4 && m.bytesReceived > m.bytesAccepted);

    // Round 2 on the new model: a 40 % sample, closing as soon as the quorum is in.
    const r2 = await driver.runRound({
      roundId: 2, modelVersion: r1.modelVersion, model: r1.model, selection: { kind: 'fraction', fraction: 0.4 }, minClients: 5,
      deadlineMs: 3000, stragglers: 'close-at-quorum',
    });
    assert.equal(r2.metrics.selected, 10);
    assert.equal(r2.metrics.closedBy, 'quorum');
    const used = aggregates[1]!;
    assert.equal(used.length, 5);
    for (const c of used) assert.deepEqual(c.update, sent.get(`2/${c.clientId}`)!.update);
    assert.ok(maxAbsDiff(r2.model, weightedMean(used)) < 1e-5);
    await sleep(50);
    for (const mem of members) {
      assert.equal(mem.client.latestModel?.version, 2, `${mem.id} has the published model`);
      assert.deepEqual(mem.client.latestModel.digest, modelDigest(r2.model));
    }
    assert.equal(decodeFlMessage(captured).kind, 'update');
  } finally {
    await driver.close();
    await closeAll(members);
    await coordTransport.close();
    await intruder.close();
    await slot.close();
  }
});
