// The same signed round under each configured signature scheme — Ed25519 (node:crypto), ML-DSA-65 (the real
// plugin in a signer slot) and the Ed25519 + ML-DSA-65 composite — with nothing but the configured name changing.
// In each, a tampered update is rejected; and a coordinator configured with another scheme than its clients
// accepts nothing (the round fails with a typed reason).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlRoundFailedError, UsageError } from '../../../host/errors/index.js';
import { aggregatorFromSlot, CoordinatorDriver } from '../../../host/fl/coordinator-driver.js';
import { InProcessNetwork } from '../../../host/fl/in-process-transport.js';
import { openSignatureScheme, parseSignatureSchemeName, FL_SIGNATURE_SCHEMES } from '../../../host/fl/signature-schemes.js';
import { FL_KIND } from '../../../host/fl/wire.js';
import type { Slot } from '../../../host/runtime/slot.js';
import { closeAll, federation, keyRegistry, maxAbsDiff, openFedavg, syntheticUpdate, weightedMean } from './helpers.js';

const DIM = 64;
const ids = ['n0', 'n1', 'n2', 'n3', 'n4', 'n5'];

/** A node configuration as it would be read from a file: only `signatureScheme` differs between the runs. */
interface FlConfig { readonly signatureScheme: string; readonly coordinatorScheme?: string }

async function signedRound(config: FlConfig, aggregator: Slot) {
  const clientScheme = await openSignatureScheme(config.signatureScheme, { isolation: 'in-thread' });
  const coordScheme = config.coordinatorScheme === undefined ? clientScheme : await openSignatureScheme(config.coordinatorScheme, { isolation: 'in-thread' });
  const network = new InProcessNetwork({
    seed: 3,
    intercept: (from, _to, bytes) => {
      if (bytes[5] !== FL_KIND.update || from !== 'n2') return bytes;
      const t = bytes.slice();
      t[t.length - 5]! ^= 0x80; // flip the sign of the second-to-last float
      return t;
    },
  });
  const sent = new Map<string, { weight: number; update: Float32Array }>();
  const members = await federation({
    network, ids, scheme: clientScheme.scheme,
    train: (id) => async (round, model) => {
      const r = { weight: 1 + Number(id.slice(1)), update: syntheticUpdate(Number(id.slice(1)), round.round, model) };
      sent.set(id, r);
      return r;
    },
  });
  const transport = network.endpoint('coord');
  const driver = new CoordinatorDriver({
    transport, scheme: coordScheme.scheme, publicKeys: keyRegistry(members), aggregate: aggregatorFromSlot(aggregator), seed: 1,
  });
  try {
    for (const m of members) driver.addClient(m.id);
    const model = Float32Array.from({ length: DIM }, (_, j) => j / DIM);
    const result = await driver.runRound({
      roundId: 1, modelVersion: 0, model, selection: { kind: 'fraction', fraction: 1 }, minClients: 3, deadlineMs: 2000,
    });
    return { result, sent, algorithm: clientScheme.scheme.algorithm, publicKeyBytes: members[0]!.publicKey.length };
  } finally {
    await driver.close();
    await closeAll(members);
    await transport.close();
    await clientScheme.close();
    if (coordScheme !== clientScheme) await coordScheme.close();
  }
}

test('each configured scheme signs and verifies the same round; a tampered update is rejected in each', { timeout: 120_000 }, async () => {
  const aggregator = await openFedavg();
  try {
    const expected = { 'ed25519': 32, 'ml-dsa-65': 1952, 'ed25519+ml-dsa-65': 1984 } as const;
    for (const name of FL_SIGNATURE_SCHEMES) {
      const { result, sent, algorithm, publicKeyBytes } = await signedRound({ signatureScheme: name }, aggregator);
      assert.equal(algorithm, name);
      assert.equal(publicKeyBytes, expected[name], `${name} keys`);
      const m = result.metrics;
      assert.deepEqual([m.selected, m.received, m.invalidSignatures, m.closedBy], [6, 5, 1, 'deadline'], name);
      const honest = ids.filter((id) => id !== 'n2').map((id) => sent.get(id)!);
      assert.ok(maxAbsDiff(result.model, weightedMean(honest)) < 1e-5, name);
    }
  } finally {
    await aggregator.close();
  }
});

test('a coordinator configured with another scheme than its clients accepts no update: quorum not reached', { timeout: 60_000 }, async () => {
  const aggregator = await openFedavg();
  try {
    await assert.rejects(signedRound({ signatureScheme: 'ed25519', coordinatorScheme: 'ml-dsa-65' }, aggregator), (e: unknown) => {
      assert.ok(e instanceof FlRoundFailedError);
      assert.deepEqual(e.details['reason'], { code: 'quorum-not-reached', received: 0, needed: 3 });
      assert.equal((e.details['metrics'] as { invalidSignatures: number }).invalidSignatures, 6);
      return true;
    });
  } finally {
    await aggregator.close();
  }
});

test('scheme names outside the three are a usage error naming the configuration path', () => {
  assert.equal(parseSignatureSchemeName('ml-dsa-65'), 'ml-dsa-65');
  for (const bad of ['ML-DSA-65', 'rsa', '', 42, undefined]) {
    assert.throws(() => parseSignatureSchemeName(bad), (e: unknown) => e instanceof UsageError && e.details['path'] === 'fl.signatureScheme');
  }
});
