// No central server: every node runs a client and a coordinator on the same transport endpoint. Node A coordinates
// round 1; node C, which took part as a client and received A's published model, coordinates round 2 on that
// model; the model continues (version 1 → 2, each the weighted mean of the updates trained on its predecessor).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ed25519Signer } from '../../../host/crypto/ed25519-signer.js';
import { aggregatorFromSlot } from '../../../host/fl/coordinator-driver.js';
import { InProcessNetwork } from '../../../host/fl/in-process-transport.js';
import { modelDigest } from '../../../host/fl/wire.js';
import { closeAll, coordinate, federation, joinAll, maxAbsDiff, openFedavg, sleep, syntheticUpdate, weightedMean } from './helpers.js';

const ids = ['A', 'B', 'C', 'D', 'E', 'F'];
const DIM = 32;

test('node A coordinates round 1, node C round 2 on the model A published, over one in-process network', { timeout: 60_000 }, async () => {
  const network = new InProcessNetwork({ seed: 4, minDelayMs: 1, maxDelayMs: 10 });
  const scheme = new Ed25519Signer();
  const trained = new Map<string, { weight: number; update: Float32Array; base: string }>();
  const members = await federation({
    network, ids, scheme, deterministicKeys: true,
    train: (id) => async (round, model) => {
      const r = { weight: ids.indexOf(id) + 1, update: syntheticUpdate(ids.indexOf(id), round.round, model) };
      trained.set(`${round.round}/${id}`, { ...r, base: Buffer.from(modelDigest(model)).toString('hex') });
      return r;
    },
  });
  const slot = await openFedavg();
  try {
    const byId = new Map(members.map((m) => [m.id, m]));
    const a = coordinate(byId.get('A')!, members, scheme, aggregatorFromSlot(slot), 1);
    const c = coordinate(byId.get('C')!, members, scheme, aggregatorFromSlot(slot), 2);
    await joinAll(members, 'A');
    await joinAll(members, 'C');
    assert.equal(a.snapshot().joined.length, 6);
    assert.equal(c.snapshot().joined.length, 6);

    const model0 = Float32Array.from({ length: DIM }, (_, j) => (j % 5) / 5);
    const r1 = await a.runRound({ roundId: 1, modelVersion: 0, model: model0, selection: { kind: 'fraction', fraction: 1 }, minClients: 4, deadlineMs: 2000 });
    assert.equal(r1.metrics.received, 6);
    assert.ok(maxAbsDiff(r1.model, weightedMean(ids.map((id) => trained.get(`1/${id}`)!))) < 1e-5);
    await sleep(40); // the published model reaches every client

    // C knows the model only from what A published: it coordinates the next round on it.
    const known = byId.get('C')!.client.latestModel!;
    assert.equal(known.version, 1);
    assert.equal(known.from, 'A');
    assert.deepEqual(known.model, r1.model);
    const r2 = await c.runRound({ roundId: 2, modelVersion: known.version, model: known.model, selection: { kind: 'count', count: 4 }, minClients: 3, deadlineMs: 2000 });
    assert.equal(r2.modelVersion, 2);
    assert.equal(r2.metrics.selected, 4);
    const round2 = ids.filter((id) => trained.has(`2/${id}`));
    assert.equal(round2.length, 4);
    for (const id of round2) assert.equal(trained.get(`2/${id}`)!.base, Buffer.from(modelDigest(r1.model)).toString('hex'), `${id} trained on v1`);
    assert.ok(maxAbsDiff(r2.model, weightedMean(round2.map((id) => trained.get(`2/${id}`)!))) < 1e-5);
    await sleep(40);
    for (const m of members) assert.equal(m.client.latestModel?.version, 2, `${m.id} has v2 from C`);
    // A's own coordinator is idle and can take round 3 on C's model.
    const r3 = await a.runRound({ roundId: 3, modelVersion: 2, model: byId.get('A')!.client.latestModel!.model, selection: { kind: 'count', count: 3 }, minClients: 3, deadlineMs: 2000 });
    assert.equal(r3.modelVersion, 3);
  } finally {
    await closeAll(members);
    await slot.close();
  }
});
