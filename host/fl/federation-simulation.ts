// A simulated federation on one machine, with the real parts: MNIST digits split non-IID over the clients, every
// client an FlClient training the MLP in the sandboxed `trainer` plugin, a CoordinatorDriver collecting signed
// updates over the in-process transport and aggregating them in an `aggregator` plugin slot, optional Byzantine
// clients (byzantine-attacks.ts), differential privacy (dp-mechanism.ts), secure aggregation (secure-round.ts) and
// LoRA adapters as the exchanged vector. Only the network is simulated.
//
// Training follows the experiment we reproduce (Karimireddy, He & Jaggi, ICLR'22): every round each honest client
// takes `localSteps` SGD steps from the global model on its own data and keeps worker momentum over the resulting
// deltas, m ← β·m + (1 − β)·Δ; it sends m. The coordinator aggregates the sent vectors with the chosen rule and
// moves the global model by serverLr × aggregate. With LoRA the exchanged vector is the adapters (A and B of each
// layer) and the rule averages A and B separately (FedIT style): mean(B_i)·mean(A_i) ≠ mean(B_i·A_i), so this is not
// exact FedAvg of the clients' low-rank updates (FFA-LoRA freezes A to avoid the cross terms). Byzantine clients are omniscient: they see the round's honest
// vectors before answering (the coordinator's round-start effect tells the adversary who was asked).
import { DpMechanism } from './dp-mechanism.js';
import type { RoundMetrics } from '../core/fl/coordinator-types.js';
import { FlConfigError, FlRoundFailedError, UsageError } from '../errors/index.js';
import { aggregationRule, ruleSpec } from './aggregation-rules.js';
import { colludingUpdate, signFlipped, type AttackName } from './byzantine-attacks.js';
import { aggregatorFromSlot, CoordinatorDriver, type Aggregate, type RoundStaging } from './coordinator-driver.js';
import { partition, type PartitionName } from './data-partition.js';
import { FlClient, type RoundContext, type TrainResult } from './fl-client.js';
import { seededGaussian } from './gaussian-noise.js';
import { InProcessNetwork } from './in-process-transport.js';
import { loadMnist, MNIST_CLASSES, MNIST_PIXELS, subset, type Dataset } from './mnist.js';
import { SeededRandom } from './seeded-random.js';
import { runSecureRound, SecureRoundClient } from './secure-round.js';
import { openSignatureScheme, type FlSignatureSchemeName } from './signature-schemes.js';
import { poissonSample } from './poisson-sampling.js';
import { adapterCount, paramCount, type MlpArchitecture, type PluginTrainer } from './trainer.js';
import { Slot } from '../runtime/slot.js';
import { StagedRound } from '../runtime/staged-round.js';

export interface SimulationConfig {
  readonly clients: number;
  readonly byzantine: number;
  readonly attack: AttackName;
  /** IPM's ε. */
  readonly ipmEpsilon: number;
  readonly aggregator: string;
  readonly aggregatorParams: Readonly<Record<string, string>>;
  readonly rounds: number;
  readonly hidden: number;
  readonly batch: number;
  readonly localSteps: number;
  readonly clientLr: number;
  readonly serverLr: number;
  readonly momentum: number;
  readonly partition: PartitionName;
  readonly seed: number;
  /** Evaluate the global model on the test digits every this many rounds (and after the last). */
  readonly evalEvery: number;
  readonly signer: FlSignatureSchemeName;
  /** User-level DP-FedAvg: target ε at δ over all rounds, clipping norm C, and the rate q at which each client is
   *  Poisson-sampled into a round from the OS CSPRNG (1: every client every round). */
  readonly dp: { readonly epsilon: number; readonly delta: number; readonly clipNorm: number; readonly sampleRate: number } | null;
  /** Secure aggregation of the (clipped, noised) updates: the coordinator sees only their sum. */
  readonly secagg: boolean;
  /** Exchange LoRA adapters of this rank over the pretrained base (LoRA implies `pretrain`). */
  readonly lora: { readonly rank: number; readonly alpha: number } | null;
  /** Start from a base pretrained centrally on "public" data: the training digits 0–4 only, 3 epochs. Federated
   *  rounds then have the digits 5–9 to learn, so full-weight and LoRA fine-tuning can be compared. */
  readonly pretrain: boolean;
  /** Milliseconds a round's collection may take before stragglers are cut off. */
  readonly deadlineMs: number;
}

export const DEFAULT_SIMULATION: SimulationConfig = Object.freeze({
  clients: 25, byzantine: 5, attack: 'none', ipmEpsilon: 0.1, aggregator: 'fedavg', aggregatorParams: {},
  rounds: 150, hidden: 64, batch: 32, localSteps: 1, clientLr: 0.1, serverLr: 1, momentum: 0.9, partition: 'sorted',
  seed: 1, evalEvery: 10, signer: 'ed25519', dp: null, secagg: false, lora: null, pretrain: false, deadlineMs: 30_000,
});

export interface RoundRecord {
  readonly round: number;
  /** Mean training loss the honest clients reported. */
  readonly trainLoss: number;
  /** Test accuracy of the global model after the round (evaluated rounds only). */
  readonly accuracy: number | null;
  /** (ε, δ) spent so far (DP runs only). */
  readonly epsilon: number | null;
  readonly received: number;
  readonly late: number;
  /** Bytes of one client's update message (the exchanged vector plus header and signature). */
  readonly bytesPerClient: number;
  readonly ms: number;
}

export interface SimulationResult {
  readonly config: SimulationConfig;
  readonly dim: number;
  readonly rounds: readonly RoundRecord[];
  readonly finalAccuracy: number;
  /** Base model accuracy before federated rounds (LoRA runs: the pretrained base). */
  readonly initialAccuracy: number;
  /** Rounds the coordinator aggregated in place from staged input (the rest were gathered and copied, or secure). */
  readonly stagedRounds: number;
  readonly wallMs: number;
}

/** Slots a caller may share across simulations (e.g. `x0t fl reproduce` runs many). */
export interface SimulationResources {
  readonly trainer: PluginTrainer;
  /** The trainer's slot, when the caller opened one; closed by its owner. */
  readonly trainerSlot?: Slot;
}

function checkConfig(c: SimulationConfig): void {
  const bad = (field: string, message: string): never => { throw new FlConfigError(`${field}: ${message}`, { field }); };
  if (!Number.isInteger(c.clients) || c.clients < 2 || c.clients > 255) bad('clients', 'an integer from 2 to 255');
  if (!Number.isInteger(c.byzantine) || c.byzantine < 0 || c.byzantine >= c.clients) bad('byzantine', `an integer from 0 to clients − 1 (${c.clients - 1})`);
  if (c.attack !== 'none' && c.byzantine === 0) bad('attack', `attack ${c.attack} needs byzantine ≥ 1`);
  if (!Number.isInteger(c.rounds) || c.rounds < 1) bad('rounds', 'at least 1');
  if (!(c.momentum >= 0 && c.momentum < 1)) bad('momentum', 'in [0, 1)');
  if (!(c.clientLr > 0) || !(c.serverLr > 0)) bad('lr', 'learning rates must be positive');
  if ((c.dp !== null || c.secagg) && c.aggregator !== 'fedavg') {
    bad('aggregator', `${c.dp !== null ? 'differential privacy' : 'secure aggregation'} works with the sum of the updates, i.e. fedavg; ` +
      `robust rules (${c.aggregator}) need each update in clear`);
  }
  if (c.dp !== null && !(c.dp.sampleRate > 0 && c.dp.sampleRate <= 1)) bad('dp.sampleRate', 'in (0, 1]');
  if (c.secagg && c.byzantine > 0 && c.attack !== 'none') bad('secagg', 'secure aggregation hides updates, so no omniscient attack can be simulated against it');
  aggregationRule(c.aggregator);
}

/** Adds `scale`·v to `into`, in place. */
function axpy(into: Float32Array, scale: number, v: Float32Array): void {
  for (let i = 0; i < into.length; i++) into[i] = into[i]! + scale * v[i]!;
}

/** Waits for the honest vectors of a round, so Byzantine clients can craft theirs from them. */
class Adversary {
  readonly #expected = new Map<number, Set<string>>();
  readonly #got = new Map<number, Map<string, Float32Array>>();
  readonly #waiters = new Map<number, (() => void)[]>();

  expect(round: number, honest: readonly string[]): void {
    // Rounds run one at a time: forget the older ones.
    for (const r of [...this.#expected.keys()]) if (r < round - 1) { this.#expected.delete(r); this.#got.delete(r); }
    this.#expected.set(round, new Set(honest));
    this.#got.set(round, new Map());
    this.#check(round);
  }

  report(round: number, client: string, update: Float32Array): void {
    this.#got.get(round)?.set(client, update);
    this.#check(round);
  }

  /** A failed honest client will never report: stop waiting for it. */
  giveUp(round: number, client: string): void {
    this.#expected.get(round)?.delete(client);
    this.#check(round);
  }

  async honest(round: number): Promise<Float32Array[]> {
    if (!this.#ready(round)) await new Promise<void>((resolve) => { this.#waiters.set(round, [...(this.#waiters.get(round) ?? []), resolve]); });
    return [...this.#got.get(round)!.values()];
  }

  #ready(round: number): boolean {
    const exp = this.#expected.get(round);
    const got = this.#got.get(round);
    return exp !== undefined && got !== undefined && [...exp].every((c) => got.has(c));
  }

  #check(round: number): void {
    if (!this.#ready(round)) return;
    for (const w of this.#waiters.get(round) ?? []) w();
    this.#waiters.delete(round);
  }
}

function clientId(i: number): string {
  return `client-${String(i).padStart(3, '0')}`;
}

/** Samples `n` rows of a client's data (with replacement when it has fewer): the minibatches of one round. */
function roundSample(data: Dataset, n: number, rng: SeededRandom): Dataset {
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = rng.int(data.count);
  return subset(data, idx);
}

/** A failed round whose cause is the clients' training (e.g. a learning rate that diverged) says so. */
function withClientFailures(e: unknown, clients: readonly FlClient[]): unknown {
  const failed = clients.filter((cl) => cl.stats.lastError !== null);
  if (!(e instanceof FlRoundFailedError) || failed.length === 0) return e;
  return new FlRoundFailedError(`${e.message}: ${failed.length} client(s) failed to train, e.g. ${failed[0]!.stats.lastError}`, {
    ...e.details, clientFailures: failed.length,
  }, { cause: e });
}

export interface SimulationHooks {
  /** After every round. */
  readonly onRound?: (r: RoundRecord) => void;
}

/**
 * Runs one simulated federation. The caller may pass an open trainer (to share one plugin across runs); the
 * aggregator slot, signature scheme, transport, coordinator and clients are created and closed here.
 */
export async function runSimulation(config: SimulationConfig, resources: SimulationResources, hooks: SimulationHooks = {}): Promise<SimulationResult> {
  checkConfig(config);
  const t0 = performance.now();
  const c = config;
  const { trainer } = resources;
  const mnist = await loadMnist();
  const rng = new SeededRandom(c.seed);
  const honestCount = c.clients - c.byzantine;
  const archBase: MlpArchitecture = { inputs: MNIST_PIXELS, hidden: c.hidden, classes: MNIST_CLASSES };
  const arch: MlpArchitecture = { ...archBase, rank: c.lora?.rank ?? 0 };

  // Honest clients split the training digits (non-IID by default); Byzantine clients hold an IID sample of the
  // same size (only signflip uses it: the omniscient attacks need no data).
  const parts = partition(mnist.train.y, honestCount, c.partition, new SeededRandom(c.seed + 1));
  const shardSize = Math.floor(mnist.train.count / honestCount);
  const data: Dataset[] = [];
  for (let i = 0; i < c.clients; i++) {
    if (i < honestCount) data.push(subset(mnist.train, parts[i]!));
    else data.push(subset(mnist.train, Array.from({ length: shardSize }, () => rng.int(mnist.train.count))));
  }

  // The global vector: the MLP's parameters, or (LoRA) the adapters over a base pretrained on public data.
  let base = await trainer.init(archBase, c.seed);
  const alpha = c.lora?.alpha ?? 0;
  if (c.lora !== null || c.pretrain) {
    const publicRows: number[] = [];
    for (let i = 0; i < mnist.train.count; i++) if (mnist.train.y[i]! < 5) publicRows.push(i);
    const pub = subset(mnist.train, publicRows);
    const steps = Math.ceil((3 * pub.count) / 32);
    const pre = await trainer.train({ arch: archBase, mode: 'full', lr: 0.1, steps, batch: 32, seed: c.seed + 2, params: base, x: pub.x, y: pub.y });
    base = base.map((v, i) => v + pre.delta[i]!);
  }
  let global = c.lora !== null ? await trainer.initAdapters(arch, c.seed + 3) : base.slice();
  const dim = global.length;
  if (dim !== (c.lora !== null ? adapterCount(arch) : paramCount(archBase))) throw new UsageError(`trainer returned a ${dim}-value model`);
  const evaluate = async (vec: Float32Array): Promise<number> => {
    const ev = c.lora !== null
      ? await trainer.evaluate({ arch, params: base, adapters: vec, alpha, x: mnist.test.x, y: mnist.test.y })
      : await trainer.evaluate({ arch: archBase, params: vec, x: mnist.test.x, y: mnist.test.y });
    return ev.accuracy;
  };
  const initialAccuracy = await evaluate(global);

  // DP: each round's clients are Poisson-sampled at rate q from secret randomness (q = 1: all of them), which is what
  // the accountant's amplification by sampling assumes; the sum is divided by the expected count qN.
  const sampleRate = c.dp?.sampleRate ?? 1;
  const dp = c.dp === null ? null : DpMechanism.forTargetEpsilon({
    targetEpsilon: c.dp.epsilon, delta: c.dp.delta, rounds: c.rounds, clipNorm: c.dp.clipNorm,
    placement: c.secagg ? 'distributed' : 'central', expectedClients: sampleRate * c.clients, populationSize: c.clients,
  }, seededGaussian(`x0t-fl-sim-dp-${c.seed}`));
  /** Clients in the current round (distributed DP noise is split among them). */
  let participants = c.clients;

  const signer = await openSignatureScheme(c.signer);
  const network = new InProcessNetwork({ seed: c.seed });
  const adversary = new Adversary();
  const clients: FlClient[] = [];
  const secureClients: SecureRoundClient[] = [];
  let aggSlot: Slot | null = null;
  let driver: CoordinatorDriver | null = null;
  const coordinatorId = 'coordinator';
  try {
    const rule = aggregationRule(c.aggregator);
    const frameBytes = 16 + 4 * c.clients * (dim + 1);
    aggSlot = await Slot.open('aggregator', 'aggregator', await ruleSpec(rule, { params: c.aggregatorParams, round: { frameBytes, dim } }));
    const aggregate = aggregatorFromSlot(aggSlot);

    const keys = await Promise.all(Array.from({ length: c.clients }, (_, i) => {
      const seed = new Uint8Array(signer.scheme.sizes.seedBytes);
      new DataView(seed.buffer).setUint32(0, c.seed * 1000 + i, true);
      return signer.scheme.keygen(seed);
    }));
    const publicKeys = new Map(keys.map((k, i) => [clientId(i), k.publicKey]));
    const momenta = Array.from({ length: c.clients }, () => new Float32Array(dim));
    // Secure rounds number the clients 1..n in client order (secure-round.ts); their round keys are signed.
    const secaggKeys = new Map(keys.map((k, i) => [i + 1, k.publicKey]));
    const secureFailures: string[] = [];
    const losses = new Map<number, number[]>();

    const localTrain = (i: number) => async (ctx: RoundContext, model: Float32Array): Promise<TrainResult> => {
      const r = new SeededRandom((c.seed * 0x9e3779b1 + ctx.round * 7919 + i) >>> 0);
      const batch = roundSample(data[i]!, c.batch * c.localSteps, r);
      const out = await trainer.train({
        arch, mode: c.lora !== null ? 'lora' : 'full', lr: c.clientLr, alpha, steps: c.localSteps, batch: c.batch,
        seed: r.u32(), params: c.lora !== null ? base : model, adapters: c.lora !== null ? model : undefined, x: batch.x, y: batch.y,
      });
      const m = momenta[i]!;
      for (let k = 0; k < dim; k++) m[k] = c.momentum * m[k]! + (1 - c.momentum) * out.delta[k]!;
      if (i < honestCount) losses.set(ctx.round, [...(losses.get(ctx.round) ?? []), out.meanLoss]);
      return { update: m.slice(), weight: 1, loss: out.meanLoss };
    };
    const transform = (i: number) => async (ctx: RoundContext, res: TrainResult): Promise<TrainResult> => {
      if (i < honestCount || c.attack === 'none') {
        const update = res.update;
        if (dp !== null) dp.clientPrepare(update, participants);
        if (i < honestCount) adversary.report(ctx.round, clientId(i), update);
        return { ...res, update };
      }
      if (c.attack === 'signflip') return { ...res, update: signFlipped(res.update) };
      const honest = await adversary.honest(ctx.round);
      return { ...res, update: colludingUpdate(c.attack, honest, { clients: c.clients, byzantine: c.byzantine, epsilon: c.ipmEpsilon }) };
    };

    // The coordinator's aggregate moves the global vector: x ← x + serverLr · rule(updates), or with DP
    // x ← x + serverLr · (Σ clipped / (qN) + noise).
    const finish = (agg: Float32Array, clients: number): Float32Array => {
      if (dp !== null) {
        for (let k = 0; k < agg.length; k++) agg[k] = agg[k]! * clients; // fedavg with unit weights × n = the sum
        dp.finalizeSum(agg);
      }
      const next = global.slice();
      axpy(next, c.serverLr, agg);
      return next;
    };
    const step: Aggregate = async (req) => finish(await aggregate(req), req.clients);
    // Updates go into the aggregator's memory as they are accepted; the rule then runs on them in place.
    const slot = aggSlot;
    const staging: RoundStaging = { open: (n, d) => StagedRound.open(slot, n, d), finish };

    const honestIds = Array.from({ length: honestCount }, (_, i) => clientId(i));
    const coordinatorEndpoint = network.endpoint(coordinatorId);
    driver = new CoordinatorDriver({
      transport: coordinatorEndpoint, scheme: signer.scheme, publicKeys, aggregate: step, staging, seed: c.seed,
      onEffect: (e) => { if (e.type === 'send-round-start') adversary.expect(e.round, e.to.filter((id) => honestIds.includes(id))); },
    });
    for (let i = 0; i < c.clients; i++) {
      const transport = network.endpoint(clientId(i));
      if (c.secagg) {
        const secretKey = keys[i]!.secretKey;
        secureClients.push(new SecureRoundClient({
          transport, index: i, train: localTrain(i), prepare: (u) => { dp?.clientPrepare(u, participants); },
          signing: () => ({ scheme: signer.scheme, verificationKeys: secaggKeys, secretKey }),
          onError: (e) => { secureFailures.push(e instanceof Error ? e.message : String(e)); },
        }));
      } else {
        clients.push(new FlClient({ transport, scheme: signer.scheme, secretKey: keys[i]!.secretKey, train: localTrain(i), transform: transform(i) }));
      }
      driver.addClient(clientId(i));
    }

    const records: RoundRecord[] = [];
    let metrics: RoundMetrics | null = null;
    for (let round = 1; round <= c.rounds; round++) {
      const r0 = performance.now();
      let received: number;
      let late: number;
      let bytesPerClient: number;
      const allIds = Array.from({ length: c.clients }, (_, i) => clientId(i));
      const sampled = sampleRate < 1 ? poissonSample(allIds, sampleRate) : allIds;
      participants = sampled.length;
      if (sampled.length < (c.secagg ? 2 : 1)) {
        // Nobody (or, under secure aggregation, a lone client whose "sum" would be its update) was sampled: the round
        // releases noise only, and still counts for the accountant.
        const noise = new Float32Array(dim);
        if (dp !== null) dp.finalizeSum(noise);
        axpy(global, c.serverLr, noise);
        received = 0;
        late = 0;
        bytesPerClient = 0;
      } else if (c.secagg) {
        const res = await runSecureRound({
          transport: coordinatorEndpoint, clients: sampled, ids: sampled.map((id) => allIds.indexOf(id) + 1),
          round, model: global, deadlineMs: c.deadlineMs, verification: { scheme: signer.scheme, verificationKeys: secaggKeys },
        }).catch((e: unknown) => {
          if (!(e instanceof FlRoundFailedError) || secureFailures.length === 0) throw e;
          throw new FlRoundFailedError(`${e.message}: ${secureFailures.length} client(s) failed, e.g. ${secureFailures[0]}`, { ...e.details, clientFailures: secureFailures.length }, { cause: e });
        });
        const sum = res.sum;
        if (dp !== null) dp.finalizeSum(sum);
        else for (let k = 0; k < sum.length; k++) sum[k] = sum[k]! / res.contributors;
        axpy(global, c.serverLr, sum);
        received = res.contributors;
        late = 0;
        bytesPerClient = res.bytesPerClient;
      } else {
        const out = await driver.runRound({
          roundId: round, modelVersion: round - 1, model: global,
          selection: sampleRate < 1 ? { kind: 'explicit', clients: sampled } : { kind: 'fraction', fraction: 1 },
          minClients: sampleRate < 1 ? 1 : Math.max(1, honestCount), deadlineMs: c.deadlineMs,
        }).catch((e: unknown) => { throw withClientFailures(e, clients); });
        global = out.model;
        metrics = out.metrics;
        received = metrics.received;
        late = metrics.late;
        bytesPerClient = Math.round(metrics.bytesAccepted / Math.max(1, metrics.received));
      }
      dp?.recordRound();
      const evalNow = round % c.evalEvery === 0 || round === c.rounds;
      const ls = losses.get(round) ?? [];
      losses.delete(round);
      const rec: RoundRecord = {
        round, trainLoss: ls.reduce((s, v) => s + v, 0) / Math.max(1, ls.length), accuracy: evalNow ? await evaluate(global) : null,
        epsilon: dp === null ? null : dp.spent().epsilon, received, late, bytesPerClient, ms: performance.now() - r0,
      };
      records.push(rec);
      hooks.onRound?.(rec);
    }
    const last = records[records.length - 1]!;
    return {
      config: c, dim, rounds: records, finalAccuracy: last.accuracy ?? (await evaluate(global)), initialAccuracy,
      stagedRounds: driver.stats.stagedRounds, wallMs: performance.now() - t0,
    };
  } finally {
    for (const cl of clients) cl.close();
    for (const cl of secureClients) cl.close();
    await driver?.close();
    await aggSlot?.close();
    await signer.close();
  }
}
