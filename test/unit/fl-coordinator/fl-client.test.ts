// The FL client on its own, driven by hand-made messages over the in-process network: it answers a RoundStart once
// (even when the network duplicates it), the transform hook's output is what gets signed, models that do not match
// their digest or come from untrusted nodes are refused, a training failure is counted and nothing is sent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ed25519Signer } from '../../../host/crypto/ed25519-signer.js';
import { FlClient, type FlClientOptions } from '../../../host/fl/fl-client.js';
import { InProcessNetwork } from '../../../host/fl/in-process-transport.js';
import { decodeFlMessage, encodeFlMessage, modelDigest, updateSigningMessage, type UpdateMessage } from '../../../host/fl/wire.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function setup(opts: Partial<FlClientOptions> = {}) {
  const network = new InProcessNetwork({ seed: 1, duplicateRate: 1 }); // every message arrives twice
  const scheme = new Ed25519Signer();
  const keys = await scheme.keygen();
  const coord = network.endpoint('coord');
  const updates: UpdateMessage[] = [];
  coord.onMessage((_from, bytes) => {
    const m = decodeFlMessage(bytes);
    if (m.kind === 'update') updates.push(m);
  });
  let trained = 0;
  const client = new FlClient({
    transport: network.endpoint('c1'), scheme, secretKey: keys.secretKey,
    train: async (_round, model) => {
      trained++;
      return { update: Float32Array.from(model, (x) => x + 1), weight: 3, loss: 0.5 };
    },
    ...opts,
  });
  return { network, scheme, keys, coord, updates, client, trained: () => trained };
}

function roundStart(model: Float32Array, digest = modelDigest(model), sender = 'coord'): Uint8Array {
  return encodeFlMessage({ kind: 'round-start', round: 4, sender, modelVersion: 2, deadlineMs: 1000, modelDigest: digest, model });
}

test('a duplicated RoundStart is answered once; the transformed update is what is signed and sent', async () => {
  const s = await setup({ transform: (_ctx, r) => ({ ...r, update: r.update.map((x) => x * 2) }) });
  const model = Float32Array.of(1, 2, 3);
  await s.coord.send('c1', roundStart(model));
  await sleep(20);
  await s.client.idle();
  await sleep(20);
  assert.equal(s.trained(), 1);
  assert.equal(s.client.stats.repeatedRoundStarts, 1);
  assert.equal(s.updates.length, 2, 'the one update, duplicated by the network');
  const u = s.updates[0]!;
  assert.deepEqual([...u.update], [4, 6, 8]);
  assert.deepEqual([u.round, u.coordinator, u.sender, u.modelVersion, u.weight, u.loss], [4, 'coord', 'c1', 2, 3, 0.5]);
  assert.equal(await s.scheme.verify(s.keys.publicKey, updateSigningMessage(u), u.signature), true);
  assert.equal(s.client.latestModel?.version, 2);
  await s.network.close();
});

test('models that do not hash to their digest, forged senders and untrusted coordinators are refused', async () => {
  const s = await setup({ trustedCoordinators: new Set(['coord']) });
  const model = Float32Array.of(1, 2);
  await s.coord.send('c1', roundStart(model, new Uint8Array(32)));
  await s.coord.send('c1', roundStart(model, modelDigest(model), 'someone-else'));
  const rogue = s.network.endpoint('rogue');
  await rogue.send('c1', encodeFlMessage({ kind: 'model', round: 9, sender: 'rogue', modelVersion: 99, modelDigest: modelDigest(model), model }));
  await sleep(20);
  assert.equal(s.trained(), 0);
  assert.equal(s.client.stats.rejected, 6);
  assert.equal(s.client.latestModel, null);
  await s.coord.send('c1', encodeFlMessage({ kind: 'model', round: 9, sender: 'coord', modelVersion: 7, modelDigest: modelDigest(model), model }));
  await sleep(20);
  assert.equal((s.client.latestModel as { version: number } | null)?.version, 7);
  await s.network.close();
});

test('a failing local training is counted and sends nothing', async () => {
  const s = await setup({ train: async () => { throw new Error('out of data'); } });
  await s.coord.send('c1', roundStart(Float32Array.of(1)));
  await sleep(20);
  await s.client.idle();
  assert.equal(s.client.stats.trainingFailures, 1);
  assert.equal(s.client.stats.lastError, 'out of data');
  assert.equal(s.updates.length, 0);
  await s.network.close();
});
