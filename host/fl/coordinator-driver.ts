// The I/O around the pure FL coordinator (host/core/fl/coordinator.ts): it owns the timer, the transport endpoint,
// signature verification and the aggregator, turns what arrives into events and carries out the effects. One
// driver per coordinating node; a node may at the same time run an FlClient on the same endpoint, and any node
// may coordinate any round (no central server: the round's model and the client keys are all a driver needs).
//
// Verification happens here, before the core sees an update: the update message's signature is checked against
// the sender's registered public key with the configured SignatureScheme (Ed25519, ML-DSA-65 or the composite —
// the driver does not know which). Unknown senders and bad signatures are counted by the core and dropped.
import { FlCoordinator } from '../core/fl/coordinator.js';
import type { Selection } from '../core/fl/client-selection.js';
import type {
  Contribution, CoordinatorEffect, CoordinatorEvent, CoordinatorSnapshot, RoundMetrics, StragglerPolicy, UpdateVerdict,
} from '../core/fl/coordinator-types.js';
import type { SignatureScheme } from '../crypto/primitives.js';
import { FlRoundFailedError, UsageError, asX0tError, isX0tError } from '../errors/index.js';
import { decodeF32Vector, encodeAggregateRequest, type AggregateRequest } from '../../sdk/abi/generated/contract.js';
import type { Transport } from './transport.js';
import { decodeFlMessage, encodeFlMessage, modelDigest, updateSigningMessage, type UpdateMessage } from './wire.js';

/** Runs the aggregator over one round's request; the result has `dim` floats. */
export type Aggregate = (request: AggregateRequest) => Promise<Float32Array>;

/** Anything with a Slot's call signature (a Slot, or a test double over a real plugin). */
export interface CallsPlugin {
  call(fn: string, input: Uint8Array): Promise<Uint8Array>;
}

/** The aggregator capability of a slot (e.g. fedavg): one `aggregate` call with an AggregateRequest frame. */
export function aggregatorFromSlot(slot: CallsPlugin): Aggregate {
  return async (request) => decodeF32Vector(await slot.call('aggregate', encodeAggregateRequest(request))).values.slice();
}

/** A round laid out in the aggregator plugin's own memory (host/runtime StagedRound): rows are written as updates
 *  are accepted, and `aggregate` runs the rule on them in place. */
export interface StagedRoundWriter {
  readonly weights: Float32Array;
  row(c: number): Float32Array;
  /** Runs the rule (single use); the F32Vector output frame. */
  aggregate(): Promise<Uint8Array>;
  release(): Promise<void>;
}

/**
 * Staged input for the driver: each accepted update is copied straight into the aggregator's memory when it arrives,
 * and when the round closes with every selected client in, the rule runs in place (one pass over the round instead
 * of gathering, encoding and copying it into the plugin). A round that closes with fewer clients, or a staging that
 * cannot be opened, goes through `aggregate` as usual.
 */
export interface RoundStaging {
  open(clients: number, dim: number): Promise<StagedRoundWriter>;
  /** The new model from the rule's output over `clients` updates (what `aggregate` does after its slot call). */
  finish(ruleOutput: Float32Array, clients: number): Promise<Float32Array> | Float32Array;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface CoordinatorDriverOptions {
  readonly transport: Transport;
  /** The scheme clients sign updates with (configuration: see signature-schemes.ts). */
  readonly scheme: SignatureScheme;
  /** Registered client public keys by node id; an update or join from an id not here is refused. */
  readonly publicKeys: ReadonlyMap<string, Uint8Array>;
  readonly aggregate: Aggregate;
  /** Write accepted updates into the aggregator's memory as they arrive (see RoundStaging). */
  readonly staging?: RoundStaging;
  /** u32 seed of client selection. */
  readonly seed: number;
  readonly clock?: Clock;
  /** Sees every effect the core returns, after the driver carried it out (telemetry, tests). */
  readonly onEffect?: (effect: CoordinatorEffect) => void;
}

export interface RunRoundConfig {
  readonly roundId: number;
  readonly modelVersion: number;
  /** The global model clients train on this round. */
  readonly model: Float32Array;
  readonly selection: Selection;
  readonly minClients: number;
  readonly deadlineMs: number;
  /** 'until-deadline' by default. */
  readonly stragglers?: StragglerPolicy;
}

export interface RoundResult {
  readonly model: Float32Array;
  readonly modelVersion: number;
  readonly modelDigest: Uint8Array;
  readonly metrics: RoundMetrics;
}

/** Messages the core never sees, counted here. */
export interface DriverStats {
  undecodable: number;
  /** Updates addressed to another coordinator. */
  misaddressed: number;
  /** Join/leave from ids without a registered key, or whose claimed sender is not the network sender. */
  refusedMembership: number;
  /** Rounds aggregated in place from staged input, and rounds whose updates were gathered and copied. */
  stagedRounds: number;
  copiedRounds: number;
}

/** The staged round of the round being collected: selected client → row, the lease, the writes in flight. */
interface Staged {
  readonly round: number;
  readonly rows: ReadonlyMap<string, number>;
  readonly writer: Promise<StagedRoundWriter | null>;
  readonly writes: Promise<void>[];
}

interface Pending {
  readonly roundId: number;
  readonly model: Float32Array;
  readonly digest: Uint8Array;
  published: { model: Float32Array; modelVersion: number } | null;
  resolve(r: RoundResult): void;
  reject(e: Error): void;
}

export class CoordinatorDriver {
  readonly stats: DriverStats = { undecodable: 0, misaddressed: 0, refusedMembership: 0, stagedRounds: 0, copiedRounds: 0 };
  readonly #core: FlCoordinator;
  readonly #opts: CoordinatorDriverOptions;
  readonly #clock: Clock;
  readonly #unsubscribe: () => void;
  #timer: unknown = null;
  #pending: Pending | null = null;
  #staged: Staged | null = null;
  #closed = false;

  constructor(opts: CoordinatorDriverOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? SYSTEM_CLOCK;
    this.#core = new FlCoordinator(opts.seed);
    this.#unsubscribe = opts.transport.onMessage((from, bytes) => this.#onMessage(from, bytes));
  }

  get id(): string {
    return this.#opts.transport.id;
  }

  snapshot(): CoordinatorSnapshot {
    return this.#core.snapshot();
  }

  /** Makes a client eligible without waiting for its join message (e.g. from configuration or a membership service). */
  addClient(id: string): void {
    this.#step({ type: 'client-joined', clientId: id });
  }

  removeClient(id: string): void {
    this.#step({ type: 'client-left', clientId: id });
  }

  /**
   * Runs one round to its end: resolves with the new model and the round's metrics, or rejects with
   * FlRoundFailedError (details.reason: the core's RoundFailure; details.metrics) — the driver is then idle and the
   * next round can start — or UsageError when the core refuses to start (details.reason: busy, stale-round,
   * invalid-config).
   */
  runRound(config: RunRoundConfig): Promise<RoundResult> {
    if (this.#closed) return Promise.reject(new UsageError('coordinator driver is closed'));
    if (this.#pending !== null) {
      return Promise.reject(new UsageError(`round ${this.#pending.roundId} is still running`, { reason: 'busy' }));
    }
    if (!(config.model instanceof Float32Array) || config.model.length === 0) {
      return Promise.reject(new UsageError('runRound: model must be a non-empty Float32Array', { path: 'model' }));
    }
    const digest = modelDigest(config.model);
    return new Promise<RoundResult>((resolve, reject) => {
      this.#pending = { roundId: config.roundId, model: config.model, digest, published: null, resolve, reject };
      this.#step({
        type: 'start-round',
        config: {
          roundId: config.roundId, modelVersion: config.modelVersion, modelDigest: digest, dim: config.model.length,
          selection: config.selection, minClients: config.minClients, deadlineMs: config.deadlineMs,
          stragglers: config.stragglers ?? 'until-deadline',
        },
      });
    });
  }

  /** Stops listening and timing; a running round rejects. The transport stays open (it may be shared). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#settle((p) => p.reject(new UsageError('coordinator driver closed during the round', { round: p.roundId })));
    await this.#dropStaged();
  }

  /** Releases the staged round, if any (a failed or abandoned round, or one aggregated the ordinary way). */
  async #dropStaged(): Promise<void> {
    const st = this.#staged;
    this.#staged = null;
    const w = await st?.writer;
    await w?.release().catch(() => undefined);
  }

  #settle(f: (p: Pending) => void): void {
    const p = this.#pending;
    this.#pending = null;
    if (p !== null) f(p);
  }

  #step(event: CoordinatorEvent): void {
    if (this.#closed) return;
    const effects = this.#core.step(event, this.#clock.now());
    for (const e of effects) {
      this.#apply(e);
      this.#opts.onEffect?.(e);
    }
    // A timer can fire a little before the deadline by the clock's reckoning: keep ticking until it has passed.
    const snap = this.#core.snapshot();
    if (event.type === 'tick' && snap.phase === 'collecting' && snap.deadlineAt !== null) this.#schedule(snap.deadlineAt);
  }

  #schedule(at: number): void {
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      this.#step({ type: 'tick' });
    }, Math.max(0, at - this.#clock.now()) + 1);
  }

  #send(to: string, bytes: Uint8Array): void {
    this.#opts.transport.send(to, bytes).catch(() => undefined); // best effort, as the transport itself
  }

  #apply(e: CoordinatorEffect): void {
    const p = this.#pending;
    switch (e.type) {
      case 'send-round-start': {
        if (p === null) return;
        const bytes = encodeFlMessage({
          kind: 'round-start', round: e.round, sender: this.id, modelVersion: e.modelVersion, deadlineMs: Math.ceil(e.deadlineMs),
          modelDigest: p.digest, model: p.model,
        });
        for (const to of e.to) this.#send(to, bytes);
        if (this.#opts.staging !== undefined && e.to.length > 0) {
          void this.#dropStaged();
          // Unavailable staging (e.g. a plugin without the fast path, or no memory for a second instance) is not an
          // error: the round is then aggregated the ordinary way.
          const writer = this.#opts.staging.open(e.to.length, p.model.length).catch(() => null);
          this.#staged = { round: e.round, rows: new Map(e.to.map((id, i) => [id, i])), writer, writes: [] };
        }
        return;
      }
      case 'schedule-tick':
        this.#schedule(e.at);
        return;
      case 'aggregate':
        void this.#aggregate(e.round, e.contributions);
        return;
      case 'publish-model': {
        const bytes = encodeFlMessage({
          kind: 'model', round: e.round, sender: this.id, modelVersion: e.modelVersion, modelDigest: modelDigest(e.model), model: e.model,
        });
        for (const to of e.to) this.#send(to, bytes);
        if (p !== null) p.published = { model: e.model, modelVersion: e.modelVersion };
        return;
      }
      case 'round-finished':
        if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
        this.#timer = null;
        this.#settle((q) => {
          const pub = q.published!;
          q.resolve({ model: pub.model, modelVersion: pub.modelVersion, modelDigest: modelDigest(pub.model), metrics: e.metrics });
        });
        return;
      case 'round-failed':
        void this.#dropStaged();
        if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
        this.#timer = null;
        this.#settle((q) => q.reject(new FlRoundFailedError(`round ${e.metrics.round} failed: ${e.reason.code}`, {
          round: e.metrics.round, reason: e.reason, metrics: e.metrics,
        })));
        return;
      case 'start-rejected':
        this.#settle((q) => q.reject(new UsageError(`round ${e.round} not started (${e.reason}): ${e.message}`, { round: e.round, reason: e.reason })));
        return;
    }
  }

  async #aggregate(round: number, contributions: readonly Contribution[]): Promise<void> {
    // The last update's row is written right after the step that closed the round returns: yield once first.
    await Promise.resolve();
    const st = this.#staged !== null && this.#staged.round === round ? this.#staged : null;
    if (st !== null) {
      this.#staged = null;
      const writer = await st.writer;
      // In place only when the round holds exactly the selected clients, in row order (both sorted by id).
      if (writer !== null && contributions.length === st.rows.size && contributions.every((c, i) => st.rows.get(c.clientId) === i)) {
        try {
          await Promise.all(st.writes);
          const out = decodeF32Vector(await writer.aggregate()).values.slice();
          const model = await this.#opts.staging!.finish(out, contributions.length);
          if (!(model instanceof Float32Array) || model.length !== out.length) {
            throw new UsageError(`staged aggregation gave ${model?.length} floats, expected ${out.length}`);
          }
          this.stats.stagedRounds++;
          this.#step({ type: 'aggregation-done', round, model });
        } catch (err) {
          const x = isX0tError(err) ? err : asX0tError(err);
          this.#step({ type: 'aggregation-failed', round, reason: `${x.code}: ${x.message}` });
        } finally {
          await writer.release().catch(() => undefined);
        }
        return;
      }
      await writer?.release().catch(() => undefined);
    }
    this.stats.copiedRounds++;
    const dim = contributions[0]!.update.length;
    const weights = Float32Array.from(contributions, (c) => c.weight);
    const updates = new Float32Array(contributions.length * dim);
    contributions.forEach((c, i) => updates.set(c.update, i * dim));
    try {
      const model = await this.#opts.aggregate({ clients: contributions.length, dim, weights, updates });
      if (!(model instanceof Float32Array) || model.length !== dim) {
        throw new UsageError(`aggregator returned ${model?.length} floats, expected ${dim}`);
      }
      this.#step({ type: 'aggregation-done', round, model });
    } catch (err) {
      const x = isX0tError(err) ? err : asX0tError(err);
      this.#step({ type: 'aggregation-failed', round, reason: `${x.code}: ${x.message}` });
    }
  }

  #onMessage(from: string, bytes: Uint8Array): void {
    let m;
    try {
      m = decodeFlMessage(bytes);
    } catch {
      this.stats.undecodable++;
      return;
    }
    switch (m.kind) {
      case 'join':
      case 'leave':
        if (m.sender !== from || !this.#opts.publicKeys.has(from)) {
          this.stats.refusedMembership++;
          return;
        }
        this.#step(m.kind === 'join' ? { type: 'client-joined', clientId: from } : { type: 'client-left', clientId: from });
        return;
      case 'update':
        if (m.coordinator !== this.id) {
          this.stats.misaddressed++;
          return;
        }
        void this.#verifyAndStep(from, m, bytes.length);
        return;
      default:
        return; // round-start and model are for clients; extensions for sub-protocols not run here
    }
  }

  async #verify(from: string, m: UpdateMessage): Promise<UpdateVerdict> {
    // The network's sender must be the signed sender: a valid signature relayed by another node is not accepted.
    if (m.sender !== from) return 'bad-signature';
    const key = this.#opts.publicKeys.get(m.sender);
    if (key === undefined) return 'unknown-sender';
    try {
      const ok = await this.#opts.scheme.verify(key, updateSigningMessage(m), m.signature);
      return ok ? 'valid' : 'bad-signature';
    } catch {
      return 'bad-signature'; // a registered key the scheme refuses (wrong length for this scheme)
    }
  }

  async #verifyAndStep(from: string, m: UpdateMessage, bytes: number): Promise<void> {
    const verdict = await this.#verify(from, m);
    const st = this.#staged;
    const row = st !== null && st.round === m.round && verdict === 'valid' ? st.rows.get(m.sender) : undefined;
    const before = row !== undefined && this.#core.snapshot().reported.includes(m.sender);
    this.#step({
      type: 'update-received', from: m.sender, round: m.round, modelDigest: m.modelDigest, verdict, weight: m.weight,
      update: m.update, bytes,
    });
    // Only an update the core has just accepted goes into the staged round (never a duplicate, late or malformed one).
    if (st !== null && row !== undefined && !before && this.#core.snapshot().reported.includes(m.sender)) {
      st.writes.push(st.writer.then((w) => {
        if (w === null) return;
        w.row(row).set(m.update);
        w.weights[row] = m.weight;
      }));
    }
  }
}
