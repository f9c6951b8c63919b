// The coordinator driver under a manual clock (timers and network deliveries run only when the test advances
// time): the deadline fails a round without waiting in real time, a failing aggregator fails the round with its
// error code, refused starts are usage errors, and messages the core never sees are counted by the driver.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ed25519Signer } from '../../../host/crypto/ed25519-signer.js';
import { FlRoundFailedError, PluginTrapError, UsageError } from '../../../host/errors/index.js';
import { CoordinatorDriver, type Aggregate, type Clock } from '../../../host/fl/coordinator-driver.js';
import { FlClient } from '../../../host/fl/fl-client.js';
import { InProcessNetwork } from '../../../host/fl/in-process-transport.js';
import { encodeFlMessage, modelDigest } from '../../../host/fl/wire.js';

/** Timers that fire only in advance(); the network delivers through the same clock. */
class ManualClock implements Clock {
  #now = 0;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  now(): number { return this.#now; }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.#now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void { this.#timers.delete(h as number); }
  /** Runs due timers in order, letting promise chains (signing, verification) settle in between. */
  async advance(ms: number): Promise<void> {
    const until = this.#now + ms;
    for (;;) {
      await new Promise((r) => setImmediate(r));
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
      if (due.length === 0) break;
      const [id, t] = due[0]!;
      this.#timers.delete(id);
      this.#now = Math.max(this.#now, t.at);
      t.fn();
    }
    this.#now = until;
  }
}

async function setup(aggregate: Aggregate, hang: ReadonlySet<string> = new Set()) {
  const clock = new ManualClock();
  const network = new InProcessNetwork({ scheduler: clock, minDelayMs: 1, maxDelayMs: 1 });
  const scheme = new Ed25519Signer();
  const ids = ['a', 'b', 'c'];
  const keys = new Map<string, Uint8Array>();
  for (const id of ids) {
    const k = await scheme.keygen();
    keys.set(id, k.publicKey);
    new FlClient({
      transport: network.endpoint(id), scheme, secretKey: k.secretKey,
      train: (_r, model) => (hang.has(id) ? new Promise(() => undefined) : Promise.resolve({ update: model.map((x) => x + 1), weight: 1 })),
    });
  }
  const transport = network.endpoint('coord');
  const driver = new CoordinatorDriver({ transport, scheme, publicKeys: keys, aggregate, seed: 1, clock });
  for (const id of ids) driver.addClient(id);
  return { clock, network, driver, transport };
}

const config = { modelVersion: 0, model: Float32Array.of(1, 2), selection: { kind: 'fraction', fraction: 1 } as const, deadlineMs: 1000 };
const mean: Aggregate = async (req) => {
  const out = new Float32Array(req.dim);
  for (let c = 0; c < req.clients; c++) for (let i = 0; i < req.dim; i++) out[i]! += req.updates[c * req.dim + i]! / req.clients;
  return out;
};

test('the deadline (on the injected clock) fails a round short of its quorum; the next round completes', async () => {
  const s = await setup(mean, new Set(['c']));
  const failed = s.driver.runRound({ ...config, roundId: 1, minClients: 3 }).then(() => null, (e: unknown) => e);
  await s.clock.advance(999);
  assert.equal(s.driver.snapshot().phase, 'collecting');
  assert.deepEqual(s.driver.snapshot().reported, ['a', 'b']);
  await s.clock.advance(10);
  const e = await failed;
  assert.ok(e instanceof FlRoundFailedError);
  assert.deepEqual(e.details['reason'], { code: 'quorum-not-reached', received: 2, needed: 3 });
  const m = e.details['metrics'] as { closedBy: string; collectMs: number };
  assert.equal(m.closedBy, 'deadline');
  assert.ok(m.collectMs >= 1000 && m.collectMs <= 1001, `closed after ${m.collectMs} ms`);
  const ok = s.driver.runRound({ ...config, roundId: 2, minClients: 2 });
  await s.clock.advance(1001);
  const r = await ok;
  assert.deepEqual([...r.model], [2, 3]);
  assert.equal(r.metrics.received, 2);
  assert.deepEqual(r.modelDigest, modelDigest(Float32Array.of(2, 3)));
  await s.network.close();
});

test('a failing aggregator fails the round with its error code; refused starts are usage errors', async () => {
  const s = await setup(async () => { throw new PluginTrapError('unreachable executed'); });
  const failed = s.driver.runRound({ ...config, roundId: 5, minClients: 2 }).then(() => null, (e: unknown) => e);
  await assert.rejects(s.driver.runRound({ ...config, roundId: 6, minClients: 2 }), (e: unknown) => e instanceof UsageError && e.details['reason'] === 'busy');
  await s.clock.advance(50);
  const e = await failed;
  assert.ok(e instanceof FlRoundFailedError);
  assert.deepEqual(e.details['reason'], { code: 'aggregation-failed', message: 'X0T_PLUGIN_TRAP: unreachable executed' });
  await assert.rejects(s.driver.runRound({ ...config, roundId: 5, minClients: 2 }), (x: unknown) => x instanceof UsageError && x.details['reason'] === 'stale-round');
  await assert.rejects(s.driver.runRound({ ...config, roundId: 7, minClients: 0 }), (x: unknown) => x instanceof UsageError && x.details['reason'] === 'invalid-config');
  await s.driver.close();
  await assert.rejects(s.driver.runRound({ ...config, roundId: 8, minClients: 1 }), UsageError);
  await s.network.close();
});

test('undecodable bytes, updates for another coordinator and joins from unregistered nodes are counted, not stepped', async () => {
  const s = await setup(mean);
  const other = s.network.endpoint('stranger');
  await other.send('coord', Uint8Array.of(1, 2, 3));
  await other.send('coord', encodeFlMessage({ kind: 'join', round: 0, sender: 'stranger' }));
  await other.send('coord', encodeFlMessage({ kind: 'join', round: 0, sender: 'a' })); // claims to be a
  await other.send('coord', encodeFlMessage({
    kind: 'update', round: 1, sender: 'stranger', coordinator: 'elsewhere', modelVersion: 0, modelDigest: new Uint8Array(32), weight: 1, loss: null,
    signature: new Uint8Array(64), update: new Float32Array(2),
  }));
  await s.clock.advance(5);
  assert.deepEqual({ ...s.driver.stats }, { undecodable: 1, misaddressed: 1, refusedMembership: 2, stagedRounds: 0, copiedRounds: 0 });
  assert.deepEqual(s.driver.snapshot().joined, ['a', 'b', 'c']);
  await s.network.close();
});
