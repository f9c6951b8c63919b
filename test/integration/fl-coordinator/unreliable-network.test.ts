// The driver over a lossy in-process network (seeded loss, duplication and delay that reorders), with two
// stragglers that answer after the deadline, a client that leaves mid-round, a round that misses its quorum and the
// next round that recovers. Timing is real (timers, plugin calls), so the checks are invariants: what was
// aggregated came once each from selected clients still in the round, on time and unchanged, and the model is the
// weighted mean of exactly that.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mulberry32 } from '../../../host/core/fl/client-selection.js';
import type { Contribution } from '../../../host/core/fl/coordinator-types.js';
import { Ed25519Signer } from '../../../host/crypto/ed25519-signer.js';
import { FlRoundFailedError } from '../../../host/errors/index.js';
import { aggregatorFromSlot, CoordinatorDriver } from '../../../host/fl/coordinator-driver.js';
import { InProcessNetwork } from '../../../host/fl/in-process-transport.js';
import { closeAll, federation, keyRegistry, maxAbsDiff, openFedavg, sleep, syntheticUpdate, weightedMean } from './helpers.js';

const ids = Array.from({ length: 12 }, (_, i) => `c${String(i).padStart(2, '0')}`);
const STRAGGLERS = new Set(['c00', 'c01']);
const LEAVER = 'c05';
const DEADLINE = 400;
const DIM = 16;

test('loss, duplicates, reordering, stragglers, a client leaving, quorum failure and recovery', { timeout: 60_000 }, async () => {
  // The network duplicates and delays; loss is drawn here so that it spares the stragglers and the leaver, whose
  // messages the checks below rely on.
  const lossy = mulberry32(77);
  const network = new InProcessNetwork({
    seed: 13, duplicateRate: 0.3, minDelayMs: 0, maxDelayMs: 20,
    intercept: (from, to, bytes) => (STRAGGLERS.has(from) || STRAGGLERS.has(to) || from === LEAVER || to === LEAVER || lossy() >= 0.1 ? bytes : null),
  });
  const scheme = new Ed25519Signer();
  const sent = new Map<string, Float32Array>();
  let members: Awaited<ReturnType<typeof federation>> = [];
  members = await federation({
    network, ids, scheme,
    train: (id) => async (round, model) => {
      const update = syntheticUpdate(Number(id.slice(1)), round.round, model);
      sent.set(`${round.round}/${id}`, update);
      if (STRAGGLERS.has(id)) await sleep(round.deadlineMs + 120);
      if (id === LEAVER && round.round === 1) {
        await members.find((m) => m.id === id)!.client.leave(round.coordinator);
        await sleep(60); // its update is still sent, after the leave
      }
      return { update, weight: 1 + (Number(id.slice(1)) % 4) };
    },
  });
  const slot = await openFedavg();
  const fedavg = aggregatorFromSlot(slot);
  const coordTransport = network.endpoint('coord');
  const aggregates: Contribution[][] = [];
  const selections: string[][] = [];
  const driver = new CoordinatorDriver({
    transport: coordTransport, scheme, publicKeys: keyRegistry(members), seed: 5,
    // A slow aggregator, so that the stragglers arrive while it runs and are counted as late.
    aggregate: async (req) => {
      await sleep(350);
      return fedavg(req);
    },
    onEffect: (e) => {
      if (e.type === 'aggregate') aggregates.push([...e.contributions]);
      if (e.type === 'send-round-start') selections.push([...e.to]);
    },
  });
  const check = (round: number, model: Float32Array, left: readonly string[]): Contribution[] => {
    const used = aggregates.at(-1)!;
    const who = used.map((c) => c.clientId);
    assert.equal(new Set(who).size, who.length, 'aggregated once each');
    for (const c of used) {
      assert.ok(selections.at(-1)!.includes(c.clientId), `${c.clientId} was selected`);
      assert.ok(!STRAGGLERS.has(c.clientId), `straggler ${c.clientId} was not aggregated`);
      assert.ok(!left.includes(c.clientId), `${c.clientId} had left`);
      assert.deepEqual(c.update, sent.get(`${round}/${c.clientId}`), 'unchanged');
    }
    assert.ok(maxAbsDiff(model, weightedMean(used)) < 1e-5);
    return used;
  };
  try {
    for (const m of members) driver.addClient(m.id);
    const model0 = Float32Array.from({ length: DIM }, (_, j) => j);

    const r1 = await driver.runRound({ roundId: 1, modelVersion: 0, model: model0, selection: { kind: 'fraction', fraction: 1 }, minClients: 4, deadlineMs: DEADLINE });
    check(1, r1.model, [LEAVER]);
    assert.equal(r1.metrics.left, 1);
    assert.ok(!driver.snapshot().joined.includes(LEAVER));
    assert.equal(r1.metrics.closedBy, 'deadline', 'the stragglers kept the round open until the deadline');
    assert.ok(r1.metrics.late >= 2, `late ${r1.metrics.late}: both stragglers arrived while aggregating`);
    assert.ok(r1.metrics.received >= 4 && r1.metrics.received <= 9);

    // Everyone still joined must answer: the stragglers cannot, so the quorum is missed at the deadline.
    await assert.rejects(
      driver.runRound({ roundId: 2, modelVersion: 1, model: r1.model, selection: { kind: 'fraction', fraction: 1 }, minClients: 11, deadlineMs: DEADLINE }),
      (e: unknown) => e instanceof FlRoundFailedError && (e.details['reason'] as { code: string }).code === 'quorum-not-reached',
    );
    assert.equal(driver.snapshot().phase, 'idle');

    // The next round recovers on the same model.
    const r3 = await driver.runRound({ roundId: 3, modelVersion: 1, model: r1.model, selection: { kind: 'count', count: 8 }, minClients: 3, deadlineMs: DEADLINE });
    check(3, r3.model, [LEAVER]);
    assert.equal(r3.modelVersion, 2);
    assert.equal(r3.metrics.selected, 8);
    assert.ok(network.stats.duplicated > 0 && network.stats.dropped > 0);
  } finally {
    await driver.close();
    await closeAll(members);
    await coordTransport.close();
    await slot.close();
  }
});
