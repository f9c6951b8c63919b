// The coordinator driver with staged input: accepted updates are written into the fedavg plugin's memory as they
// arrive and the rule runs in place. The model must equal the ordinary path's (same plugin, same rows) and the
// weighted-mean reference; a round that closes without every selected client, and duplicated or tampered updates,
// must not leave wrong rows behind (the first falls back to the copying path, the others are never staged).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ed25519Signer } from '../../../host/crypto/ed25519-signer.js';
import { aggregatorFromSlot, CoordinatorDriver, type RoundStaging } from '../../../host/fl/coordinator-driver.js';
import { InProcessNetwork } from '../../../host/fl/in-process-transport.js';
import { FL_KIND } from '../../../host/fl/wire.js';
import { StagedRound } from '../../../host/runtime/staged-round.js';
import { closeAll, federation, keyRegistry, maxAbsDiff, openFedavg, sleep, syntheticUpdate, weightedMean } from './helpers.js';

const DIM = 4096;
const ids = Array.from({ length: 12 }, (_, i) => `c${String(i).padStart(2, '0')}`);
const index = (id: string): number => Number(id.slice(1));

async function runRounds(opts: { staged: boolean; silent?: string; tamper?: string; duplicate?: boolean }): Promise<{
  models: Float32Array[]; expected: Float64Array[]; stats: CoordinatorDriver['stats'];
}> {
  const network = new InProcessNetwork({
    seed: 5, maxDelayMs: 3, duplicateRate: opts.duplicate === true ? 1 : 0,
    intercept: (from, _to, bytes) => {
      if (bytes[5] !== FL_KIND.update || from !== opts.tamper) return bytes;
      const t = bytes.slice();
      t[t.length - 1]! ^= 0x40; // the signature no longer matches
      return t;
    },
  });
  const scheme = new Ed25519Signer();
  const sent = new Map<string, { weight: number; update: Float32Array }>();
  const members = await federation({
    network, ids, scheme, deterministicKeys: true,
    train: (id) => async (round, model) => {
      if (id === opts.silent) return new Promise(() => undefined); // never answers: the round closes at the deadline
      const update = syntheticUpdate(index(id), round.round, model);
      sent.set(`${round.round}/${id}`, { weight: index(id) + 1, update });
      return { update, weight: index(id) + 1 };
    },
  });
  const slot = await openFedavg();
  const staging: RoundStaging = { open: (n, d) => StagedRound.open(slot, n, d), finish: (out) => out };
  const driver = new CoordinatorDriver({
    transport: network.endpoint('coord'), scheme, publicKeys: keyRegistry(members), aggregate: aggregatorFromSlot(slot), seed: 3,
    ...(opts.staged ? { staging } : {}),
  });
  const models: Float32Array[] = [];
  const expected: Float64Array[] = [];
  try {
    await Promise.all(members.map((m) => m.client.join('coord')));
    await sleep(30);
    let model: Float32Array = Float32Array.from({ length: DIM }, (_, j) => Math.cos(j) / 4);
    for (let round = 1; round <= 3; round++) {
      const r = await driver.runRound({
        roundId: round, modelVersion: round - 1, model, selection: { kind: 'fraction', fraction: 1 }, minClients: 8,
        deadlineMs: opts.silent !== undefined || opts.tamper !== undefined ? 400 : 5000,
      });
      const honest = ids.filter((id) => id !== opts.silent && id !== opts.tamper).map((id) => sent.get(`${round}/${id}`)!);
      expected.push(weightedMean(honest));
      models.push(r.model);
      model = r.model;
    }
    return { models, expected, stats: driver.stats };
  } finally {
    await driver.close();
    await closeAll(members);
    await slot.close();
  }
}

test('staged rounds give the same model as the copying path and the weighted-mean reference', { timeout: 60_000 }, async () => {
  const staged = await runRounds({ staged: true });
  const copied = await runRounds({ staged: false });
  assert.equal(staged.stats.stagedRounds, 3);
  assert.equal(staged.stats.copiedRounds, 0);
  assert.equal(copied.stats.stagedRounds, 0);
  for (let r = 0; r < 3; r++) {
    assert.deepEqual(staged.models[r], copied.models[r], `round ${r + 1}: bit-identical to the copying path`);
    assert.ok(maxAbsDiff(staged.models[r]!, staged.expected[r]!) < 1e-5);
  }
});

test('duplicated updates are staged once; the model is still the reference', { timeout: 60_000 }, async () => {
  const res = await runRounds({ staged: true, duplicate: true });
  assert.equal(res.stats.stagedRounds, 3);
  for (let r = 0; r < 3; r++) assert.ok(maxAbsDiff(res.models[r]!, res.expected[r]!) < 1e-5, `round ${r + 1}`);
});

test('a round without every selected client, or with a refused update, falls back to copying the accepted ones', { timeout: 60_000 }, async () => {
  for (const opts of [{ silent: 'c04' }, { tamper: 'c09' }]) {
    const res = await runRounds({ staged: true, ...opts });
    assert.equal(res.stats.stagedRounds, 0, JSON.stringify(opts));
    assert.equal(res.stats.copiedRounds, 3);
    for (let r = 0; r < 3; r++) assert.ok(maxAbsDiff(res.models[r]!, res.expected[r]!) < 1e-5, `${JSON.stringify(opts)} round ${r + 1}`);
  }
});
