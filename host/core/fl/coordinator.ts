// The federated-learning coordinator of one node as a pure state machine (the etcd-raft habit, like
// slot-lifecycle.ts): `step(event, now)` returns effects for the driver (host/fl/coordinator-driver.ts) to carry
// out. No I/O, no timers, no randomness but the seed it is given, so every path — stragglers, duplicates, a client
// leaving mid-round, a quorum failure and the next round — is testable by a transcript of events.
//
// A round: idle → start-round (select clients, send RoundStart, schedule the deadline) → collecting (classify each
// update; accept valid, on-time, first updates of selected clients) → collection closes (deadline, every remaining
// client reported, or quorum under 'close-at-quorum') → aggregating (the driver runs the aggregator) → publish the
// model and finish with metrics → idle. Without a quorum the round fails with a typed reason and the node is idle
// again: the next round can start. Any node can run one; nothing here assumes a central server.
import { selectClients, selectionSize } from './client-selection.js';
import type {
  CloseCause, Contribution, CoordinatorEffect, CoordinatorEvent, CoordinatorPhase, CoordinatorSnapshot, ReceivedUpdate,
  RoundConfig, RoundFailure, RoundMetrics, StartRejection,
} from './coordinator-types.js';

interface Counters {
  late: number;
  invalidSignatures: number;
  unknownSenders: number;
  malformed: number;
  duplicates: number;
  wrongRound: number;
  unselected: number;
  left: number;
  bytesReceived: number;
  bytesAccepted: number;
}

interface Round {
  readonly config: RoundConfig;
  readonly eligible: number;
  readonly selected: ReadonlySet<string>;
  /** Selected clients that left before reporting. */
  readonly departed: Set<string>;
  readonly accepted: Map<string, Contribution>;
  readonly startedAt: number;
  readonly deadlineAt: number;
  closedAt: number | null;
  closedBy: CloseCause | null;
  readonly counters: Counters;
}

const U32_MAX = 0xffff_ffff;

function zeroCounters(): Counters {
  return {
    late: 0, invalidSignatures: 0, unknownSenders: 0, malformed: 0, duplicates: 0, wrongRound: 0, unselected: 0,
    left: 0, bytesReceived: 0, bytesAccepted: 0,
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= U32_MAX;
}

/** Why a configuration cannot start a round, or null when it can. */
export function roundConfigProblem(c: RoundConfig): string | null {
  if (!isU32(c.roundId)) return `roundId must be a u32, got ${c.roundId}`;
  if (!isU32(c.modelVersion) || c.modelVersion === U32_MAX) return `modelVersion must be a u32 below 2^32-1, got ${c.modelVersion}`;
  if (!(c.modelDigest instanceof Uint8Array) || c.modelDigest.length !== 32) return 'modelDigest must be 32 bytes (SHA-256)';
  if (!Number.isInteger(c.dim) || c.dim < 1) return `dim must be a positive integer, got ${c.dim}`;
  if (!Number.isInteger(c.minClients) || c.minClients < 1) return `minClients must be a positive integer, got ${c.minClients}`;
  if (!(Number.isFinite(c.deadlineMs) && c.deadlineMs > 0)) return `deadlineMs must be positive, got ${c.deadlineMs}`;
  if (c.selection.kind === 'fraction' && !(c.selection.fraction > 0 && c.selection.fraction <= 1)) {
    return `selection.fraction must be in (0, 1], got ${c.selection.fraction}`;
  }
  if (c.selection.kind === 'count' && !(Number.isInteger(c.selection.count) && c.selection.count >= 1)) {
    return `selection.count must be a positive integer, got ${c.selection.count}`;
  }
  if (c.selection.kind === 'explicit' && !(Array.isArray(c.selection.clients) && c.selection.clients.every((id) => typeof id === 'string'))) {
    return 'selection.clients must be an array of client ids';
  }
  if (c.stragglers !== 'until-deadline' && c.stragglers !== 'close-at-quorum') return `unknown straggler policy ${String(c.stragglers)}`;
  return null;
}

export class FlCoordinator {
  readonly #seed: number;
  readonly #joined = new Set<string>();
  #phase: CoordinatorPhase = 'idle';
  #round: Round | null = null;
  #lastRoundId: number | null = null;
  #finished = 0;
  #failed = 0;
  #lateAfterFinish = 0;

  /** `seed` (u32) drives client selection; the same seed and events give the same rounds. */
  constructor(seed: number) {
    this.#seed = seed >>> 0;
  }

  snapshot(): CoordinatorSnapshot {
    const r = this.#round;
    return {
      phase: this.#phase,
      round: r?.config.roundId ?? null,
      joined: [...this.#joined].sort(),
      selected: r === null ? [] : [...r.selected],
      reported: r === null ? [] : [...r.accepted.keys()].sort(),
      deadlineAt: r?.deadlineAt ?? null,
      lastRoundId: this.#lastRoundId,
      finishedRounds: this.#finished,
      failedRounds: this.#failed,
      lateAfterFinish: this.#lateAfterFinish,
    };
  }

  step(event: CoordinatorEvent, now: number): CoordinatorEffect[] {
    const effects = this.#expire(now);
    switch (event.type) {
      case 'start-round':
        effects.push(...this.#start(event.config, now));
        break;
      case 'client-joined':
        this.#joined.add(event.clientId);
        break;
      case 'client-left':
        effects.push(...this.#leave(event.clientId, now));
        break;
      case 'update-received':
        effects.push(...this.#update(event, now));
        break;
      case 'tick':
        break;
      case 'aggregation-done':
        if (this.#phase === 'aggregating' && this.#round?.config.roundId === event.round) {
          effects.push(...this.#finish(event.model, now));
        }
        break;
      case 'aggregation-failed':
        if (this.#phase === 'aggregating' && this.#round?.config.roundId === event.round) {
          effects.push(...this.#fail({ code: 'aggregation-failed', message: event.reason }, now));
        }
        break;
    }
    return effects;
  }

  #reject(round: number, reason: StartRejection, message: string): CoordinatorEffect[] {
    return [{ type: 'start-rejected', round, reason, message }];
  }

  #start(config: RoundConfig, now: number): CoordinatorEffect[] {
    if (this.#phase !== 'idle') {
      return this.#reject(config.roundId, 'busy', `round ${this.#round?.config.roundId} is still ${this.#phase}`);
    }
    const problem = roundConfigProblem(config);
    if (problem !== null) return this.#reject(config.roundId, 'invalid-config', problem);
    if (this.#lastRoundId !== null && config.roundId <= this.#lastRoundId) {
      return this.#reject(config.roundId, 'stale-round', `round ids must increase: ${config.roundId} <= ${this.#lastRoundId}`);
    }
    this.#lastRoundId = config.roundId;
    const eligible = [...this.#joined];
    const selected = selectClients(eligible, config.selection, this.#seed, config.roundId);
    this.#round = {
      config,
      eligible: eligible.length,
      selected: new Set(selected),
      departed: new Set(),
      accepted: new Map(),
      startedAt: now,
      deadlineAt: now + config.deadlineMs,
      closedAt: null,
      closedBy: null,
      counters: zeroCounters(),
    };
    if (selected.length < config.minClients) {
      const wanted = selectionSize(config.selection, eligible.length);
      return this.#fail({ code: 'not-enough-clients', selected: wanted, needed: config.minClients }, now);
    }
    this.#phase = 'collecting';
    return [
      { type: 'send-round-start', round: config.roundId, modelVersion: config.modelVersion, deadlineMs: config.deadlineMs, to: selected },
      { type: 'schedule-tick', at: this.#round.deadlineAt },
    ];
  }

  #leave(clientId: string, now: number): CoordinatorEffect[] {
    this.#joined.delete(clientId);
    const r = this.#round;
    if (this.#phase !== 'collecting' || r === null) return [];
    if (!r.selected.has(clientId) || r.accepted.has(clientId) || r.departed.has(clientId)) return [];
    r.departed.add(clientId);
    r.counters.left++;
    return this.#maybeClose(now);
  }

  /** Classifies one update; only a valid, on-time, first update from a selected client still in the round counts. */
  #update(e: ReceivedUpdate, now: number): CoordinatorEffect[] {
    const r = this.#round;
    const current = r !== null && this.#phase !== 'idle' && e.round === r.config.roundId;
    if (!current) {
      if (r !== null && this.#phase === 'idle' && e.round === r.config.roundId) {
        this.#lateAfterFinish++;
        return [];
      }
      if (r !== null && this.#phase !== 'idle') {
        r.counters.bytesReceived += e.bytes;
        r.counters.wrongRound++;
      }
      return [];
    }
    const c = r.counters;
    c.bytesReceived += e.bytes;
    switch (e.verdict) {
      case 'bad-signature': c.invalidSignatures++; return [];
      case 'unknown-sender': c.unknownSenders++; return [];
      case 'malformed': c.malformed++; return [];
      case 'valid': break;
    }
    if (!sameBytes(e.modelDigest, r.config.modelDigest)) { c.wrongRound++; return []; }
    if (!r.selected.has(e.from) || r.departed.has(e.from)) { c.unselected++; return []; }
    if (this.#phase !== 'collecting') { c.late++; return []; }
    if (r.accepted.has(e.from)) { c.duplicates++; return []; }
    if (e.update.length !== r.config.dim || !(Number.isFinite(e.weight) && e.weight > 0)) { c.malformed++; return []; }
    r.accepted.set(e.from, { clientId: e.from, weight: e.weight, update: e.update });
    c.bytesAccepted += e.bytes;
    return this.#maybeClose(now);
  }

  /** Collection closes early when every selected client still in the round reported, or at quorum if asked. */
  #maybeClose(now: number): CoordinatorEffect[] {
    const r = this.#round!;
    const outstanding = r.selected.size - r.departed.size - r.accepted.size;
    if (outstanding <= 0) return this.#close('all-reported', now);
    if (r.config.stragglers === 'close-at-quorum' && r.accepted.size >= r.config.minClients) return this.#close('quorum', now);
    return [];
  }

  #expire(now: number): CoordinatorEffect[] {
    if (this.#phase !== 'collecting' || now < this.#round!.deadlineAt) return [];
    return this.#close('deadline', now);
  }

  #close(cause: CloseCause, now: number): CoordinatorEffect[] {
    const r = this.#round!;
    r.closedAt = now;
    r.closedBy = cause;
    if (r.accepted.size < r.config.minClients) {
      return this.#fail({ code: 'quorum-not-reached', received: r.accepted.size, needed: r.config.minClients }, now);
    }
    this.#phase = 'aggregating';
    const contributions = [...r.accepted.values()].sort((a, b) => (a.clientId < b.clientId ? -1 : a.clientId > b.clientId ? 1 : 0));
    return [{ type: 'aggregate', round: r.config.roundId, contributions }];
  }

  #finish(model: Float32Array, now: number): CoordinatorEffect[] {
    const r = this.#round!;
    this.#phase = 'idle';
    this.#finished++;
    return [
      { type: 'publish-model', round: r.config.roundId, modelVersion: r.config.modelVersion + 1, model, to: [...this.#joined].sort() },
      { type: 'round-finished', metrics: this.#metrics(now) },
    ];
  }

  #fail(reason: RoundFailure, now: number): CoordinatorEffect[] {
    this.#phase = 'idle';
    this.#failed++;
    return [{ type: 'round-failed', reason, metrics: this.#metrics(now) }];
  }

  #metrics(now: number): RoundMetrics {
    const r = this.#round!;
    const c = r.counters;
    const aggregated = r.closedAt !== null && r.accepted.size >= r.config.minClients;
    return {
      round: r.config.roundId,
      modelVersion: r.config.modelVersion,
      eligible: r.eligible,
      selected: r.selected.size,
      received: r.accepted.size,
      late: c.late,
      invalidSignatures: c.invalidSignatures,
      unknownSenders: c.unknownSenders,
      malformed: c.malformed,
      duplicates: c.duplicates,
      wrongRound: c.wrongRound,
      unselected: c.unselected,
      left: c.left,
      bytesReceived: c.bytesReceived,
      bytesAccepted: c.bytesAccepted,
      startedAt: r.startedAt,
      closedAt: r.closedAt,
      closedBy: r.closedBy,
      finishedAt: now,
      collectMs: r.closedAt === null ? null : r.closedAt - r.startedAt,
      aggregateMs: aggregated && r.closedAt !== null ? now - r.closedAt : null,
      totalMs: now - r.startedAt,
    };
  }
}
