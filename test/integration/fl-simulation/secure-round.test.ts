// Secure aggregation carried over the FL transport (host/fl/secure-round.ts), without the trainer: clients return
// known vectors, the coordinator gets their sum within the quantisation bound. A client whose masked input arrived
// but who vanished before unmasking is still in the sum (the survivors' shares rebuild its self mask: U3 is "sent a
// masked input"); a client vanishing before masking is left out and its pairwise masks removed; below the threshold
// the round fails with FlRoundFailedError reason 'secagg'; the coordinator never receives an update in clear;
// round keys signed by the wrong key are refused; duplicated messages cost no contributor.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Ed25519Signer } from '../../../host/crypto/ed25519-signer.js';
import type { SignatureScheme } from '../../../host/crypto/primitives.js';
import { expectSecAggKind } from '../../../host/crypto/secagg/index.js';
import { FlRoundFailedError, FlUpdateInvalidError, PluginTrapError, SecAggError } from '../../../host/errors/index.js';
import { runSecureRound, secAggScale } from '../../../host/fl/secure-round.js';
import {
  clearSum, ed25519RoundKeys, knownUpdates, nodeId, pearson, quantisedAsInt32, secureFederation, sumTolerance,
  type SecAggKind, type SecureFederationOptions,
} from './helpers.js';

const N = 5;
const DIM = 257;
/** Long enough for 5 in-process clients to answer a step on a loaded machine; a dropped client costs one. */
const DEADLINE_MS = 1500;

function assertSumOf(sum: Float32Array, updates: readonly Float32Array[], members: readonly number[]): void {
  const want = clearSum(updates, members);
  const tol = sumTolerance(members.length, secAggScale(N, 8), 2 * members.length);
  assert.equal(sum.length, want.length);
  for (let k = 0; k < want.length; k++) {
    assert.ok(Math.abs(sum[k]! - want[k]!) <= tol, `coordinate ${k}: ${sum[k]} vs ${want[k]} (tolerance ${tol})`);
  }
}

/** One secure round of N clients with `updates`; `opts` may drop messages or sign keys. */
async function secureRun(updates: readonly Float32Array[], opts: Partial<SecureFederationOptions> & { verification?: Parameters<typeof runSecureRound>[0]['verification']; round?: number } = {}) {
  const fed = secureFederation({ n: N, dim: DIM, updates, ...opts });
  try {
    const res = await runSecureRound({
      transport: fed.coordinator, clients: fed.clientIds, round: opts.round ?? 1, model: new Float32Array(DIM),
      deadlineMs: DEADLINE_MS, ...(opts.verification === undefined ? {} : { verification: opts.verification }),
    });
    return { res, fed };
  } finally {
    await fed.close();
  }
}

const dropFrom = (node: string, kind: SecAggKind) => (from: string, k: SecAggKind): boolean => from === node && k === kind;

describe('secure round over the in-process transport', () => {
  test('all clients: the coordinator gets the clear sum within the quantisation bound', async () => {
    const updates = knownUpdates(N, DIM, 11);
    const { res } = await secureRun(updates);
    assert.equal(res.contributors, N);
    assert.equal(res.dropped, 0);
    assertSumOf(res.sum, updates, [0, 1, 2, 3, 4]);
  });

  test('a client gone after its masked input arrived (its unmask shares swallowed) is still in the sum', async () => {
    const updates = knownUpdates(N, DIM, 12);
    const { res, fed } = await secureRun(updates, { drop: dropFrom(nodeId(2), 'unmask-shares') });
    assert.ok(fed.toCoordinator.some((m) => m.from === nodeId(2) && m.msg.kind === 'masked-input'));
    assert.ok(!fed.toCoordinator.some((m) => m.from === nodeId(2) && m.msg.kind === 'unmask-shares'));
    // Bonawitz's U3 is the set that sent masked inputs: the other four rebuild node-2's self mask b.
    assert.equal(res.contributors, N);
    assert.equal(res.dropped, 0);
    assertSumOf(res.sum, updates, [0, 1, 2, 3, 4]);
  });

  test('a client gone before masking (its masked input swallowed) is left out: the sum is over the rest', async () => {
    const updates = knownUpdates(N, DIM, 13);
    const { res } = await secureRun(updates, { drop: dropFrom(nodeId(3), 'masked-input') });
    assert.equal(res.contributors, N - 1);
    assert.equal(res.dropped, 1);
    assertSumOf(res.sum, updates, [0, 1, 2, 4]);
  });

  test('fewer than the threshold (3 of 5) masked inputs: FlRoundFailedError, reason secagg', async () => {
    const updates = knownUpdates(N, DIM, 14);
    const gone = new Set([nodeId(0), nodeId(1), nodeId(4)]);
    await assert.rejects(
      secureRun(updates, { drop: (from, kind) => gone.has(from) && kind === 'masked-input' }),
      (e: unknown) => {
        assert.ok(e instanceof FlRoundFailedError, String(e));
        assert.equal(e.code, 'X0T_FL_ROUND_FAILED');
        assert.equal(e.details['reason'], 'secagg');
        assert.equal(e.details['cause'], 'X0T_SECAGG');
        assert.ok(e.cause instanceof SecAggError && e.cause.reason === 'threshold', String(e.cause));
        return true;
      },
    );
  });

  test('the coordinator never receives an update in clear: no masked vector equals or correlates with any update', async () => {
    const dim = 4096;
    const updates = knownUpdates(N, dim, 15);
    const fed = secureFederation({ n: N, dim, updates, drop: dropFrom(nodeId(1), 'unmask-shares') });
    try {
      const res = await runSecureRound({ transport: fed.coordinator, clients: fed.clientIds, round: 7, model: new Float32Array(dim), deadlineMs: DEADLINE_MS });
      assert.equal(res.contributors, N);
      const quantised = updates.map((u) => quantisedAsInt32(u, N));
      const masked = fed.toCoordinator.filter((m) => m.msg.kind === 'masked-input');
      assert.equal(masked.length, N);
      for (const m of masked) {
        const y = new Int32Array(expectSecAggKind(m.msg, 'masked-input').masked.slice().buffer);
        assert.equal(y.length, dim);
        quantised.forEach((q, i) => {
          let equal = 0;
          for (let k = 0; k < dim; k++) if (y[k] === q[k]) equal++;
          assert.ok(equal <= 1, `masked input from ${m.from} matches ${nodeId(i)}'s update in ${equal} coordinates`);
          const r = pearson(y, q);
          // Independent vectors: r ~ N(0, 1/4096), so |r| < 0.1 is a 6.4σ bound.
          assert.ok(Math.abs(r) < 0.1, `masked input from ${m.from} correlates with ${nodeId(i)}'s update: r = ${r}`);
        });
      }
      // Nothing else the coordinator receives carries a vector of the update's length: keys, sealed shares, seeds.
      for (const m of fed.toCoordinator) {
        assert.ok(['advertise-keys', 'share-keys', 'masked-input', 'unmask-shares'].includes(m.msg.kind), m.msg.kind);
      }
      // What it learns is only the sum (and it matches).
      assertSumOf(res.sum, updates, [0, 1, 2, 3, 4]);
    } finally {
      await fed.close();
    }
  });

  test('signed round keys: all valid signatures give the sum; keys signed by a wrong key are refused and that client left out', async () => {
    const updates = knownUpdates(N, DIM, 16);
    const { verification, secretKeys } = await ed25519RoundKeys(N);
    const signing = (i: number) => ({ ...verification, secretKey: secretKeys[i]! });
    const ok = await secureRun(updates, { signing, verification });
    assert.equal(ok.res.contributors, N);
    assertSumOf(ok.res.sum, updates, [0, 1, 2, 3, 4]);

    const impostor = (await new Ed25519Signer().keygen()).secretKey;
    const bad = await secureRun(updates, { signing: (i) => (i === 2 ? { ...verification, secretKey: impostor } : signing(i)), verification });
    assert.equal(bad.res.contributors, N - 1);
    assertSumOf(bad.res.sum, updates, [0, 1, 3, 4]);
    // Node-2 advertised keys, but was never sent the roster: nothing else of it reached the coordinator.
    assert.deepEqual(bad.fed.toCoordinator.filter((m) => m.from === nodeId(2)).map((m) => m.msg.kind), ['advertise-keys']);

    // Unsigned keys where the coordinator requires signatures are refused the same way.
    const unsigned = await secureRun(updates, { signing: (i) => (i === 4 ? undefined : signing(i)), verification });
    assert.equal(unsigned.res.contributors, N - 1);
    assertSumOf(unsigned.res.sum, updates, [0, 1, 2, 3]);
  });

  test('every message delivered twice, with jitter: no client is lost to a late duplicate of an earlier step', async () => {
    const updates = knownUpdates(N, DIM, 17);
    for (const seed of [1, 2, 3]) {
      const { res } = await secureRun(updates, { network: { seed, duplicateRate: 1, minDelayMs: 0, maxDelayMs: 40 } });
      assert.equal(res.contributors, N, `seed ${seed}: ${res.contributors} contributors`);
      assertSumOf(res.sum, updates, [0, 1, 2, 3, 4]);
    }
  });

  test('a client whose training fails drops out of the round (no unhandled rejection); the others are summed', async () => {
    const updates = knownUpdates(N, DIM, 18);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => { unhandled.push(e); };
    process.on('unhandledRejection', onUnhandled);
    try {
      const trap = new PluginTrapError('trainer trapped', {});
      const { res, fed } = await secureRun(updates, { train: (i) => (i === 1 ? async () => { throw trap; } : undefined) });
      // Let any rejection nobody handled surface before looking.
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(unhandled, []);
      assert.equal(res.contributors, N - 1);
      assertSumOf(res.sum, updates, [0, 2, 3, 4]);
      assert.ok(fed.clientErrors.includes(trap), `client errors: ${fed.clientErrors.map(String).join('; ')}`);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('a client whose update is not finite refuses to mask it (FlUpdateInvalidError) instead of sending it clipped', async () => {
    const updates = knownUpdates(N, DIM, 19);
    const diverged = updates[3]!.slice();
    diverged[5] = Infinity;
    const { res, fed } = await secureRun(updates, { train: (i) => (i === 3 ? async () => ({ update: diverged.slice(), weight: 1 }) : undefined) });
    assert.equal(res.contributors, N - 1);
    assertSumOf(res.sum, updates, [0, 1, 2, 4]);
    assert.ok(fed.clientErrors.some((e) => e instanceof FlUpdateInvalidError), `client errors: ${fed.clientErrors.map(String).join('; ')}`);
  });

  test('a signature check slower than the other answers still counts: the step closes only after every receive settled', async () => {
    const updates = knownUpdates(N, DIM, 20);
    const { verification, secretKeys } = await ed25519RoundKeys(N);
    const slowKey = verification.verificationKeys.get(1)!;
    const inner = verification.scheme;
    // Ed25519 underneath; verifying node-0's key takes 100 ms (think of a slower scheme or a key lookup).
    const slowScheme: SignatureScheme = {
      algorithm: inner.algorithm, sizes: inner.sizes,
      keygen: (seed) => inner.keygen(seed),
      sign: (sk, msg, o) => inner.sign(sk, msg, o),
      verify: async (pk, msg, sig, o) => {
        if (pk === slowKey) await new Promise((r) => setTimeout(r, 100));
        return inner.verify(pk, msg, sig, o);
      },
    };
    const { res } = await secureRun(updates, {
      signing: (i) => ({ ...verification, secretKey: secretKeys[i]! }),
      verification: { scheme: slowScheme, verificationKeys: verification.verificationKeys },
    });
    assert.equal(res.contributors, N);
    assertSumOf(res.sum, updates, [0, 1, 2, 3, 4]);
  });
});
