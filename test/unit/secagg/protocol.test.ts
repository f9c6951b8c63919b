// The secure-aggregation protocol end to end, every message through the codec: the unmasked sum equals the sum of
// the quantised inputs exactly (and the float sum within the quantisation step); clients dropping before or after
// masking are recovered; fewer than t survivors fail with a typed error; the server never sees an input in clear;
// forged or tampered messages are rejected; a client never reveals both secrets of one peer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  checkSecAggParams, expectSecAggKind, quantiseUpdate, SecAggClient, SecAggServer,
  type KeyRoster, type SecAggParams, type ShareDelivery, type UnmaskRequest,
} from '../../../host/crypto/secagg/index.js';
import { SecAggError } from '../../../host/errors/index.js';
import { ed25519Identities, randomUpdates, runSecAgg, secAggParams, type SecAggDrops } from '../../support/secagg-harness.js';

const isSecAgg = (reason: string) => (e: unknown): boolean => e instanceof SecAggError && e.reason === reason;

/** Σ quantise(x_u) over `ids` as int32, the value the protocol must reproduce exactly. */
function quantisedClearSum(p: SecAggParams, inputs: ReadonlyMap<number, Float32Array>, ids: readonly number[]): Int32Array {
  const cp = checkSecAggParams(p);
  const sum = new Int32Array(p.dim);
  for (const id of ids) {
    const q = new Int32Array(quantiseUpdate(inputs.get(id)!, cp).buffer);
    for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + q[i]!;
  }
  return sum;
}

async function checkRun(p: SecAggParams, drops: SecAggDrops, expectContributors: readonly number[], expectDropped: readonly number[]): Promise<void> {
  const inputs = randomUpdates(p);
  const { result } = await runSecAgg(p, inputs, { drops });
  assert.deepEqual(result.contributors, expectContributors);
  assert.deepEqual(result.dropped, expectDropped);
  assert.deepEqual(result.quantisedSum, quantisedClearSum(p, inputs, expectContributors));
  // The float sum: each input is off by at most half a step, plus float32 rounding of the result.
  const tol = expectContributors.length * 0.5 / p.scale + 1e-6 * expectContributors.length * p.range;
  for (let i = 0; i < p.dim; i++) {
    let clear = 0;
    for (const id of expectContributors) clear += inputs.get(id)![i]!;
    assert.ok(Math.abs(result.sum[i]! - clear) <= tol, `coordinate ${i}: ${result.sum[i]} vs ${clear}`);
  }
}

/** A hand-driven round for tests that play the server's part or tamper with messages. */
async function setupThroughRound1(p: SecAggParams, signed = false) {
  const ids = await (signed ? ed25519Identities(p) : Promise.resolve(undefined));
  const server = new SecAggServer(p, ids ? { verification: ids.verification } : {});
  const clients = new Map(p.clientIds.map((id) => [id, new SecAggClient(p, id, ids ? { signing: ids.signing.get(id)! } : {})] as const));
  for (const c of clients.values()) await server.receive(await c.advertiseKeys());
  const rosters = server.advance();
  return { server, clients, rosters, ids };
}

describe('secure aggregation: sums', () => {
  test('masked sum equals the quantised clear sum exactly, and the float sum within the quantisation step', async () => {
    await checkRun(secAggParams(5, 3, 257), {}, [100, 107, 114, 121, 128], []);
  });

  test('extreme inputs at ±range for every client do not wrap (the params bound)', async () => {
    const n = 6;
    // Largest scale the bound allows for range 1: n · scale ≤ 2^31 − 1.
    const p = secAggParams(n, 4, 3, { range: 1, scale: Math.floor(0x7fffffff / n) });
    for (const v of [1, -1, 1e9, -Infinity]) {
      const inputs = new Map(p.clientIds.map((id) => [id, Float32Array.of(v, -v, 0)] as const));
      const { result } = await runSecAgg(p, inputs);
      const q = v > 0 ? p.scale : -p.scale;
      assert.deepEqual([...result.quantisedSum], [n * q, -n * q, 0]);
    }
  });

  test('one and two clients dropping after masking are recovered: their inputs stay in the sum', async () => {
    const p = secAggParams(6, 3, 64);
    await checkRun(p, { beforeUnmask: [107] }, p.clientIds, []);
    await checkRun(p, { beforeUnmask: [100, 135] }, p.clientIds, []);
  });

  test('one and two clients dropping before masking (after sharing keys): their pairwise masks are removed', async () => {
    const p = secAggParams(6, 3, 64);
    await checkRun(p, { beforeMask: [114] }, [100, 107, 121, 128, 135], [114]);
    await checkRun(p, { beforeMask: [100, 135] }, [107, 114, 121, 128], [100, 135]);
  });

  test('dropouts at every step at once', async () => {
    const p = secAggParams(9, 4, 33);
    // 156 never advertises, 149 leaves before sharing, 100 and 142 before masking, 107 before unmasking: 4 = t remain.
    await checkRun(p, { beforeAdvertise: [156], beforeShare: [149], beforeMask: [100, 142], beforeUnmask: [107] },
      [107, 114, 121, 128, 135], [100, 142]);
  });

  test('signed rounds give the same sums', async () => {
    const p = secAggParams(5, 3, 40);
    const inputs = randomUpdates(p);
    const { result } = await runSecAgg(p, inputs, { signed: await ed25519Identities(p), drops: { beforeMask: [121], beforeUnmask: [100] } });
    assert.deepEqual(result.quantisedSum, quantisedClearSum(p, inputs, [100, 107, 114, 128]));
  });
});

describe('secure aggregation: thresholds', () => {
  test('fewer than t survivors at any step fail with reason "threshold"', async () => {
    const p = secAggParams(5, 3, 8);
    const inputs = randomUpdates(p);
    for (const drops of [
      { beforeAdvertise: [100, 107, 114] },
      { beforeShare: [100, 107, 114] },
      { beforeMask: [100, 107, 114] },
      { beforeUnmask: [100, 107, 114] },
      { beforeMask: [100, 107], beforeUnmask: [114] },
    ]) {
      await assert.rejects(runSecAgg(p, inputs, { drops }), isSecAgg('threshold'), JSON.stringify(drops));
    }
  });

  test('a client refuses a roster or a survivor list below t', async () => {
    const p = secAggParams(4, 3, 8);
    const { clients, rosters } = await setupThroughRound1(p);
    const roster = expectSecAggKind(rosters.get(100)!, 'key-roster');
    const small: KeyRoster = { ...roster, entries: roster.entries.filter((e) => e.from === 100 || e.from === 107) };
    await assert.rejects(clients.get(100)!.shareKeys(small), isSecAgg('threshold'));
  });

  test('parameters that could wrap the ring, or a threshold outside 2..n, are refused', () => {
    const base = secAggParams(4, 3, 8);
    assert.throws(() => checkSecAggParams({ ...base, range: 1, scale: 2 ** 29 }), isSecAgg('config')); // 4 · 2^29 = 2^31
    assert.doesNotThrow(() => checkSecAggParams({ ...base, range: 1, scale: 2 ** 29 - 1 }));
    assert.throws(() => checkSecAggParams({ ...base, threshold: 1 }), isSecAgg('config'));
    assert.throws(() => checkSecAggParams({ ...base, threshold: 5 }), isSecAgg('config'));
    assert.throws(() => checkSecAggParams({ ...base, clientIds: [1, 2, 2, 3] }), isSecAgg('config'));
    assert.throws(() => checkSecAggParams({ ...base, roundId: new Uint8Array(0) }), isSecAgg('config'));
    assert.throws(() => quantiseUpdate(Float32Array.of(NaN, 0, 0, 0, 0, 0, 0, 0), checkSecAggParams(base)), isSecAgg('input'));
  });
});

describe('secure aggregation: what the server learns', () => {
  test('no masked vector the server receives equals or correlates with any client\'s quantised input', async () => {
    const p = secAggParams(5, 3, 4096);
    const inputs = randomUpdates(p);
    const cp = checkSecAggParams(p);
    const quantised = new Map([...inputs].map(([id, x]) => [id, new Int32Array(quantiseUpdate(x, cp).buffer)] as const));
    const { serverInbox, result } = await runSecAgg(p, inputs, { drops: { beforeMask: [128], beforeUnmask: [100] } });
    const masked = serverInbox.filter((m) => m.kind === 'masked-input');
    assert.equal(masked.length, 4);
    for (const m of masked) {
      const y = new Int32Array(expectSecAggKind(m, 'masked-input').masked.buffer);
      for (const [id, q] of quantised) {
        let equal = 0;
        for (let i = 0; i < y.length; i++) if (y[i] === q[i]) equal++;
        assert.ok(equal <= 1, `masked input of ${expectSecAggKind(m, 'masked-input').from} matches client ${id} in ${equal} coordinates`);
        const r = pearson(y, q);
        // For independent vectors r ~ N(0, 1/4096): |r| < 0.1 is a 6.4σ bound.
        assert.ok(Math.abs(r) < 0.1, `correlation ${r} with client ${id}`);
      }
    }
    // Secrets revealed to the server: b only of survivors, s_sk only of the dropped, never both for one client.
    const revealed = new Map<number, Set<string>>();
    for (const m of serverInbox) {
      if (m.kind !== 'unmask-shares') continue;
      for (const s of m.shares) revealed.set(s.of, (revealed.get(s.of) ?? new Set()).add(s.type));
    }
    for (const [id, types] of revealed) {
      assert.equal(types.size, 1, `client ${id}`);
      assert.equal([...types][0], result.contributors.includes(id) ? 'self-mask' : 'masking-key');
    }
  });

  test('the server object exposes no path to an individual input', () => {
    const server = new SecAggServer(secAggParams(3, 2, 4));
    assert.deepEqual(Object.keys(server), []); // all state is in #private fields
    assert.deepEqual(Object.getOwnPropertyNames(SecAggServer.prototype).sort(), ['advance', 'constructor', 'finish', 'receive', 'round']);
    assert.throws(() => server.finish(), isSecAgg('protocol')); // no result before the protocol has run
  });

  test('a client refuses to reveal both secrets of one peer, in either order', async () => {
    const p = secAggParams(4, 3, 16);
    const all = p.clientIds; // 100, 107, 114, 121
    const claimDropped: UnmaskRequest = { kind: 'unmask-request', roundId: p.roundId, survivors: [100, 107, 114] };
    const honest: UnmaskRequest = { kind: 'unmask-request', roundId: p.roundId, survivors: [...all] };

    // b of 121 first, then a second request claiming 121 dropped (which would reveal s_sk of 121 too).
    let round = await driveToUnmask(p);
    const c100 = round.clients.get(100)!;
    const first = c100.unmask(expectSecAggKind(round.requests.get(100)!, 'unmask-request'));
    assert.ok(first.shares.some((s) => s.of === 121 && s.type === 'self-mask'));
    assert.deepEqual(c100.unmask(honest).shares, first.shares, 'repeating the same request is harmless');
    assert.throws(() => c100.unmask(claimDropped), isSecAgg('refused'));

    // The other order: s_sk of 121 first, then b of 121.
    round = await driveToUnmask(p);
    const again = round.clients.get(107)!;
    const answer = again.unmask(claimDropped);
    assert.ok(answer.shares.some((s) => s.of === 121 && s.type === 'masking-key'));
    assert.throws(() => again.unmask(honest), isSecAgg('refused'));
  });

  test('a client refuses survivor lists that omit it, are not ascending or name clients outside U2', async () => {
    const p = secAggParams(4, 2, 16);
    const { clients } = await driveToUnmask(p);
    const c = clients.get(107)!;
    const req = (survivors: number[]): UnmaskRequest => ({ kind: 'unmask-request', roundId: p.roundId, survivors });
    assert.throws(() => c.unmask(req([100, 114])), isSecAgg('protocol'));
    assert.throws(() => c.unmask(req([107, 100])), isSecAgg('protocol'));
    assert.throws(() => c.unmask(req([100, 107, 999])), isSecAgg('protocol'));
  });
});

describe('secure aggregation: forged and tampered messages', () => {
  test('a roster in which the server swapped a client\'s keys for its own is rejected by every signed client', async () => {
    const p = secAggParams(4, 3, 8);
    const { rosters, clients } = await setupThroughRound1(p, true);
    const roster = expectSecAggKind(rosters.get(100)!, 'key-roster');
    const mitm = await setupThroughRound1(p); // another, unsigned party's keys stand in for the server's
    const fake = expectSecAggKind(mitm.rosters.get(121)!, 'key-roster').entries.find((e) => e.from === 121)!;
    const forged: KeyRoster = {
      ...roster,
      entries: roster.entries.map((e) => (e.from === 121 ? { ...e, encryptionKey: fake.encryptionKey, maskingKey: fake.maskingKey } : e)),
    };
    for (const id of [100, 107, 114]) await assert.rejects(clients.get(id)!.shareKeys(forged), isSecAgg('signature'));
    // The same roster unmodified is accepted.
    await clients.get(100)!.shareKeys(roster);
    // Without signatures the same swap goes unnoticed: this is what the signatures add.
    const unsigned = await setupThroughRound1(p);
    const plain = expectSecAggKind(unsigned.rosters.get(100)!, 'key-roster');
    const swapped: KeyRoster = {
      ...plain,
      entries: plain.entries.map((e) => (e.from === 121 ? { ...e, encryptionKey: fake.encryptionKey, maskingKey: fake.maskingKey } : e)),
    };
    await unsigned.clients.get(100)!.shareKeys(swapped);
  });

  test('a signed server rejects unsigned keys, keys signed by another client and keys of an unknown client', async () => {
    const p = secAggParams(3, 2, 8);
    const ids = await ed25519Identities(p);
    const server = new SecAggServer(p, { verification: ids.verification });
    const honest = await new SecAggClient(p, 100, { signing: ids.signing.get(100)! }).advertiseKeys();
    await assert.rejects(server.receive({ ...honest, signature: new Uint8Array(0) }), isSecAgg('signature'));
    const other = await new SecAggClient(p, 107, { signing: ids.signing.get(107)! }).advertiseKeys();
    await assert.rejects(server.receive({ ...other, from: 100 }), isSecAgg('signature'));
    const flipped = honest.maskingKey.slice();
    flipped[0] = flipped[0]! ^ 1;
    await assert.rejects(server.receive({ ...honest, maskingKey: flipped }), isSecAgg('signature'));
    await assert.rejects(server.receive({ ...honest, from: 5 }), isSecAgg('protocol'));
    await server.receive(honest);
    await assert.rejects(server.receive(honest), isSecAgg('protocol'), 'duplicate');
  });

  test('a tampered or misdirected share ciphertext is rejected by the recipient', async () => {
    const p = secAggParams(4, 3, 8);
    const { server, clients, rosters } = await setupThroughRound1(p);
    for (const [id, r] of rosters) await server.receive(await clients.get(id)!.shareKeys(expectSecAggKind(r, 'key-roster')));
    const deliveries = server.advance();
    const d107 = expectSecAggKind(deliveries.get(107)!, 'share-delivery');
    const d114 = expectSecAggKind(deliveries.get(114)!, 'share-delivery');
    const x = new Float32Array(p.dim);
    const tampered: ShareDelivery = {
      ...d107,
      ciphertexts: d107.ciphertexts.map((c, i) => {
        if (i !== 0) return c;
        const sealed = c.sealed.slice();
        sealed[20] = sealed[20]! ^ 0x40;
        return { ...c, sealed };
      }),
    };
    assert.throws(() => clients.get(107)!.maskInput(tampered, x), isSecAgg('decrypt'));
    // 114's ciphertext from 100, handed to 107 as if it were 107's: the AEAD binds sender and recipient.
    const from100to114 = d114.ciphertexts.find((c) => c.from === 100)!;
    const misdirected: ShareDelivery = { ...d107, ciphertexts: d107.ciphertexts.map((c) => (c.from === 100 ? from100to114 : c)) };
    assert.throws(() => clients.get(107)!.maskInput(misdirected, x), isSecAgg('decrypt'));
    // The genuine delivery still works (the failures above changed nothing).
    clients.get(107)!.maskInput(d107, x);
  });

  test('messages of another round, out of step, or from clients outside the step are refused', async () => {
    const p = secAggParams(4, 3, 8);
    const { server, clients, rosters } = await setupThroughRound1(p);
    const roster = expectSecAggKind(rosters.get(100)!, 'key-roster');
    await assert.rejects(clients.get(100)!.shareKeys({ ...roster, roundId: Uint8Array.of(1, 2, 3) }), isSecAgg('protocol'));
    assert.throws(() => clients.get(100)!.unmask({ kind: 'unmask-request', roundId: p.roundId, survivors: [] }), isSecAgg('protocol'));
    await assert.rejects(clients.get(100)!.advertiseKeys(), isSecAgg('protocol'));
    const masked = { kind: 'masked-input' as const, roundId: p.roundId, from: 100, masked: new Uint32Array(p.dim) };
    await assert.rejects(server.receive(masked), isSecAgg('protocol'), 'round 2 message in round 1');
    const share = await clients.get(100)!.shareKeys(roster);
    await assert.rejects(server.receive({ ...share, roundId: Uint8Array.of(9) }), isSecAgg('protocol'));
    await assert.rejects(server.receive({ ...share, ciphertexts: share.ciphertexts.slice(1) }), isSecAgg('protocol'));
    await server.receive(share);
    await assert.rejects(server.receive(share), isSecAgg('protocol'), 'duplicate');
  });
});

async function driveToUnmask(p: SecAggParams) {
  const inputs = randomUpdates(p);
  const { server, clients, rosters } = await setupThroughRound1(p);
  for (const [id, r] of rosters) await server.receive(await clients.get(id)!.shareKeys(expectSecAggKind(r, 'key-roster')));
  const deliveries = server.advance();
  for (const [id, d] of deliveries) await server.receive(clients.get(id)!.maskInput(expectSecAggKind(d, 'share-delivery'), inputs.get(id)!));
  return { server, clients, requests: server.advance() };
}

function pearson(a: Int32Array, b: Int32Array): number {
  let ma = 0, mb = 0;
  for (let i = 0; i < a.length; i++) { ma += a[i]!; mb += b[i]!; }
  ma /= a.length; mb /= b.length;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < a.length; i++) {
    const da = a[i]! - ma, db = b[i]! - mb;
    sab += da * db; saa += da * da; sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}
