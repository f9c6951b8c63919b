// The vocabulary of the federated-learning coordinator (coordinator.ts): its configuration, the events the driver
// feeds it, the effects it returns and the metrics of a round. Plain data only: numbers cross as Float32Array.
import type { Selection } from './client-selection.js';

/**
 * What happens to clients that have not reported when collection closes. Either way, an update arriving after
 * collection closed is a straggler: counted as late and discarded, never aggregated.
 * - 'until-deadline': collect until the deadline, or until every selected client still joined has reported.
 * - 'close-at-quorum': additionally close as soon as `minClients` valid updates are in (fastest rounds).
 */
export type StragglerPolicy = 'until-deadline' | 'close-at-quorum';

export interface RoundConfig {
  /** u32, strictly greater than every round this coordinator started before (a replay guard). */
  readonly roundId: number;
  /** The version of the global model clients train on; the published model is version + 1. */
  readonly modelVersion: number;
  /** SHA-256 of the global model's little-endian f32 bytes; signed updates name it. */
  readonly modelDigest: Uint8Array;
  /** Length of the model and of every update. */
  readonly dim: number;
  readonly selection: Selection;
  /** Quorum: fewer valid on-time updates than this and the round fails instead of aggregating. */
  readonly minClients: number;
  /** Collection closes at start + deadlineMs at the latest. */
  readonly deadlineMs: number;
  readonly stragglers: StragglerPolicy;
}

/** The driver's verdict on an update before the core sees it (signatures are checked outside the pure core). */
export type UpdateVerdict = 'valid' | 'bad-signature' | 'unknown-sender' | 'malformed';

export interface ReceivedUpdate {
  readonly type: 'update-received';
  readonly from: string;
  readonly round: number;
  readonly modelDigest: Uint8Array;
  readonly verdict: UpdateVerdict;
  readonly weight: number;
  readonly update: Float32Array;
  /** Size of the message on the wire, for the round's byte metrics. */
  readonly bytes: number;
}

export type CoordinatorEvent =
  | { readonly type: 'start-round'; readonly config: RoundConfig }
  | { readonly type: 'client-joined'; readonly clientId: string }
  | { readonly type: 'client-left'; readonly clientId: string }
  | ReceivedUpdate
  | { readonly type: 'tick' }
  | { readonly type: 'aggregation-done'; readonly round: number; readonly model: Float32Array }
  | { readonly type: 'aggregation-failed'; readonly round: number; readonly reason: string };

/** One accepted update, in the order the aggregate request lists them (sorted by client id). */
export interface Contribution {
  readonly clientId: string;
  readonly weight: number;
  readonly update: Float32Array;
}

export type RoundFailure =
  /** Fewer clients are joined (or selected) than the quorum needs: the round never started collecting. */
  | { readonly code: 'not-enough-clients'; readonly selected: number; readonly needed: number }
  /** Collection closed (deadline, or every remaining client reported) with fewer valid updates than the quorum. */
  | { readonly code: 'quorum-not-reached'; readonly received: number; readonly needed: number }
  | { readonly code: 'aggregation-failed'; readonly message: string };

export type StartRejection = 'busy' | 'stale-round' | 'invalid-config';

export type CloseCause = 'deadline' | 'all-reported' | 'quorum';

export interface RoundMetrics {
  readonly round: number;
  readonly modelVersion: number;
  /** Clients joined when the round started. */
  readonly eligible: number;
  readonly selected: number;
  /** Valid on-time updates: the ones aggregated (or that would have been, on a failed aggregation). */
  readonly received: number;
  /** Stragglers: valid updates from selected clients after collection closed; discarded. */
  readonly late: number;
  readonly invalidSignatures: number;
  readonly unknownSenders: number;
  /** Wrong dimension, non-finite or non-positive weight, or an undecodable update. */
  readonly malformed: number;
  readonly duplicates: number;
  /** Updates naming another round or another model digest. */
  readonly wrongRound: number;
  /** Updates from clients that were not selected, or that left the round before reporting. */
  readonly unselected: number;
  /** Selected clients that left before their update was accepted. */
  readonly left: number;
  /** Wire bytes of every update message counted for this round, and of the accepted ones. */
  readonly bytesReceived: number;
  readonly bytesAccepted: number;
  readonly startedAt: number;
  readonly closedAt: number | null;
  readonly closedBy: CloseCause | null;
  readonly finishedAt: number;
  /** start → collection closed; collection closed → model (null when aggregation never ran). */
  readonly collectMs: number | null;
  readonly aggregateMs: number | null;
  readonly totalMs: number;
}

export type CoordinatorEffect =
  /** Send RoundStart (with the global model) to each of `to`. */
  | { readonly type: 'send-round-start'; readonly round: number; readonly modelVersion: number; readonly deadlineMs: number; readonly to: readonly string[] }
  /** Tick the machine at `at` (the driver owns the timer). */
  | { readonly type: 'schedule-tick'; readonly at: number }
  /** Run the aggregator over exactly these contributions and answer aggregation-done / aggregation-failed. */
  | { readonly type: 'aggregate'; readonly round: number; readonly contributions: readonly Contribution[] }
  /** Publish the new global model to `to` (every joined client). */
  | { readonly type: 'publish-model'; readonly round: number; readonly modelVersion: number; readonly model: Float32Array; readonly to: readonly string[] }
  | { readonly type: 'round-finished'; readonly metrics: RoundMetrics }
  | { readonly type: 'round-failed'; readonly reason: RoundFailure; readonly metrics: RoundMetrics }
  | { readonly type: 'start-rejected'; readonly round: number; readonly reason: StartRejection; readonly message: string };

export type CoordinatorPhase = 'idle' | 'collecting' | 'aggregating';

export interface CoordinatorSnapshot {
  readonly phase: CoordinatorPhase;
  readonly round: number | null;
  readonly joined: readonly string[];
  readonly selected: readonly string[];
  readonly reported: readonly string[];
  readonly deadlineAt: number | null;
  readonly lastRoundId: number | null;
  readonly finishedRounds: number;
  readonly failedRounds: number;
  /** Updates for an already finished round (after its metrics were emitted), e.g. very late stragglers. */
  readonly lateAfterFinish: number;
}
