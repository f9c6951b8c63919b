// DP-FedAvg end to end: clipping on the client, the fixed denominator q·N, the noise std of the released average
// (σC/(qN)) for central placement, the same total noise for distributed placement, accounting per round, and
// calibration from a target ε.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { l2Norm } from '../../../host/core/fl/clip.js';
import { RdpAccountant } from '../../../host/core/fl/rdp-accountant.js';
import { FlConfigError } from '../../../host/errors/index.js';
import { DpMechanism, type DpMechanismConfig } from '../../../host/fl/dp-mechanism.js';
import { seededGaussian } from '../../../host/fl/gaussian-noise.js';

const base: DpMechanismConfig = {
  clipNorm: 0.5, noiseMultiplier: 1.2, placement: 'central', expectedClients: 20, populationSize: 1000, delta: 1e-5,
};

function meanAndStd(v: Float32Array, offset: number): { mean: number; std: number } {
  let s1 = 0, s2 = 0;
  for (const x of v) { const d = x - offset; s1 += d; s2 += d * d; }
  const mean = s1 / v.length;
  return { mean, std: Math.sqrt(s2 / v.length - mean * mean) };
}

/** Relative standard error of a sample std over n normal values is ≈ 1/√(2n); allow 5 of them. */
const stdTolerance = (n: number): number => 5 / Math.sqrt(2 * n);

describe('DpMechanism', () => {
  test('central: the released average is sum/(qN) plus N(0, (sigma C/(qN))^2) per coordinate', () => {
    const dp = new DpMechanism(base, seededGaussian('central'));
    assert.equal(dp.samplingRate, 0.02);
    const expectedStd = (1.2 * 0.5) / 20;
    assert.equal(dp.averageNoiseStd, expectedStd);
    const n = 200_000;
    const sum = new Float32Array(n).fill(4); // e.g. the sum of 20 clipped updates of 0.2 each
    const out = dp.finalizeSum(sum);
    assert.equal(out, sum); // in place
    const { mean, std } = meanAndStd(out, 4 / 20);
    assert.ok(Math.abs(std / expectedStd - 1) < stdTolerance(n), `std ${std} vs ${expectedStd}`);
    assert.ok(Math.abs(mean) < 5 * expectedStd / Math.sqrt(n), `mean ${mean}`);
  });

  test('distributed: m clients each add N(0, sigma^2 C^2/m); the summed average carries the central noise', () => {
    const cfg = { ...base, placement: 'distributed' as const };
    const n = 100_000;
    const m = 16;
    const sum = new Float64Array(n);
    const shares: number[] = [];
    for (let c = 0; c < m; c++) {
      // Each client has its own sampler (its own CSPRNG in a real deployment).
      const client = new DpMechanism(cfg, seededGaussian(`client-${c}`));
      const update = new Float32Array(n); // a zero delta: what remains is this client's noise share
      const r = client.clientPrepare(update, m);
      assert.deepEqual(r, { clipped: false, norm: 0 });
      if (c === 0) shares.push(meanAndStd(update, 0).std);
      for (let i = 0; i < n; i++) sum[i]! += update[i]!;
    }
    const perClient = (1.2 * 0.5) / Math.sqrt(m);
    assert.ok(Math.abs(shares[0]! / perClient - 1) < stdTolerance(n), `client share std ${shares[0]}`);
    const coordinator = new DpMechanism(cfg, seededGaussian('coordinator'));
    const out = coordinator.finalizeSum(Float32Array.from(sum));
    const { std } = meanAndStd(out, 0);
    const central = new DpMechanism(base, seededGaussian('central-2')).finalizeSum(new Float32Array(n));
    const centralStd = meanAndStd(central, 0).std;
    assert.ok(Math.abs(std / coordinator.averageNoiseStd - 1) < stdTolerance(n), `distributed std ${std}`);
    assert.ok(Math.abs(std / centralStd - 1) < 2 * stdTolerance(n), `distributed ${std} vs central ${centralStd}`);
  });

  test('clientPrepare clips in place to C (central placement adds nothing on the client)', () => {
    const dp = new DpMechanism(base, seededGaussian('clip'));
    const update = Float32Array.of(3, 4, 0, 0);
    const r = dp.clientPrepare(update, 20);
    assert.deepEqual(r, { clipped: true, norm: 5 });
    assert.ok(l2Norm(update) <= 0.5 && l2Norm(update) > 0.4999);
    const small = Float32Array.of(0.1, 0.1);
    assert.deepEqual(dp.clientPrepare(small, 20), { clipped: false, norm: l2Norm(Float32Array.of(0.1, 0.1)) });
    assert.deepEqual(small, Float32Array.of(0.1, 0.1));
  });

  test('each recorded round is one step (sigma, q) of the accountant', () => {
    const dp = new DpMechanism(base, seededGaussian('acct'));
    assert.deepEqual(dp.spent(), { epsilon: 0, delta: 1e-5, rounds: 0, order: dp.spent().order });
    const reference = new RdpAccountant();
    const seen: number[] = [];
    for (let r = 1; r <= 30; r++) {
      dp.recordRound();
      reference.step(1.2, 0.02);
      const s = dp.spent();
      assert.equal(s.rounds, r);
      assert.equal(s.epsilon, reference.epsilon(1e-5).epsilon);
      seen.push(s.epsilon);
    }
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!);
  });

  test('forTargetEpsilon: after the planned rounds eps is at most the target, and within 0.1 % of it', () => {
    for (const [targetEpsilon, rounds, expectedClients, populationSize] of [[2, 100, 50, 1000], [8, 500, 10, 100], [0.5, 20, 100, 10_000]] as const) {
      const dp = DpMechanism.forTargetEpsilon(
        { targetEpsilon, rounds, clipNorm: 1, placement: 'central', expectedClients, populationSize, delta: 1e-5 },
        seededGaussian('target'),
      );
      for (let r = 0; r < rounds; r++) dp.recordRound();
      const { epsilon } = dp.spent();
      assert.ok(epsilon <= targetEpsilon && epsilon > targetEpsilon * 0.999, `target ${targetEpsilon}: eps ${epsilon}`);
      assert.equal(dp.config.noiseMultiplier > 0, true);
    }
  });

  test('bad configurations are FlConfigErrors naming the field', () => {
    const field = (f: string) => (e: unknown): boolean => e instanceof FlConfigError && e.details['field'] === f;
    const g = seededGaussian('bad');
    assert.throws(() => new DpMechanism({ ...base, expectedClients: 1001 }, g), field('expectedClients'));
    assert.throws(() => new DpMechanism({ ...base, expectedClients: 0 }, g), field('expectedClients'));
    assert.throws(() => new DpMechanism({ ...base, populationSize: 10.5 }, g), field('populationSize'));
    assert.throws(() => new DpMechanism({ ...base, placement: 'local' as never }, g), field('placement'));
    assert.throws(() => new DpMechanism({ ...base, clipNorm: 0 }, g), field('clipNorm'));
    assert.throws(() => new DpMechanism({ ...base, noiseMultiplier: -1 }, g), field('noiseMultiplier'));
    assert.throws(() => new DpMechanism({ ...base, delta: 1 }, g), field('delta'));
    assert.throws(() => new DpMechanism(base, g).clientPrepare(new Float32Array(2), 0), field('participants'));
    const target = { targetEpsilon: 1, rounds: 10, clipNorm: 1, placement: 'central' as const, expectedClients: 10, populationSize: 100, delta: 1e-5 };
    assert.throws(() => DpMechanism.forTargetEpsilon({ ...target, rounds: 0 }, g), field('rounds'));
    assert.throws(() => DpMechanism.forTargetEpsilon({ ...target, targetEpsilon: -1 }, g), field('targetEpsilon'));
  });
});
