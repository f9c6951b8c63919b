// A federated-learning client on one node: answers a coordinator's RoundStart by training locally on the global
// model it carries, lets a hook transform the result (the simulation plugs Byzantine attacks and DP clipping/noise
// there), signs the update with its SignatureScheme and sends it back. It also keeps the newest published model,
// so the node can coordinate the next round itself (no central server).
import type { SignatureScheme } from '../crypto/primitives.js';
import { FlUpdateInvalidError } from '../errors/index.js';
import type { Transport } from './transport.js';
import {
  decodeFlMessage, encodeFlMessage, modelDigest, updateSigningMessage, type ModelMessage, type RoundStartMessage,
} from './wire.js';

/** What a client knows about the round it is asked to train for. */
export interface RoundContext {
  readonly round: number;
  readonly coordinator: string;
  readonly modelVersion: number;
  readonly modelDigest: Uint8Array;
  readonly deadlineMs: number;
}

export interface TrainResult {
  readonly update: Float32Array;
  /** e.g. the number of local samples; an f32 on the wire. */
  readonly weight: number;
  readonly loss?: number;
}

export type LocalTrain = (round: RoundContext, globalModel: Float32Array) => Promise<TrainResult>;
/** Runs after training, before signing: what it returns is what is signed and sent. */
export type UpdateTransform = (round: RoundContext, result: TrainResult) => TrainResult | Promise<TrainResult>;

export interface KnownModel {
  readonly version: number;
  readonly digest: Uint8Array;
  readonly model: Float32Array;
  readonly from: string;
  readonly round: number;
}

export interface FlClientOptions {
  readonly transport: Transport;
  readonly scheme: SignatureScheme;
  readonly secretKey: Uint8Array;
  readonly train: LocalTrain;
  readonly transform?: UpdateTransform;
  /** Called when a newer model is adopted (from a RoundStart or a published model). */
  readonly onModel?: (model: KnownModel) => void;
  /**
   * Nodes whose RoundStart and model messages are accepted; any node when absent (every node may coordinate).
   * RoundStart and model messages are not signed: this allow-list, over a transport whose sender ids are
   * authenticated, is what keeps an arbitrary node from publishing a model to this client.
   */
  readonly trustedCoordinators?: ReadonlySet<string>;
}

export interface FlClientStats {
  answered: number;
  /** Duplicate RoundStarts for a round already answered (the network may duplicate). */
  repeatedRoundStarts: number;
  /** RoundStart or model messages whose model does not hash to the digest they name, whose sender is forged, or
   *  from a node not among trustedCoordinators. */
  rejected: number;
  trainingFailures: number;
  lastError: string | null;
}

export class FlClient {
  readonly stats: FlClientStats = { answered: 0, repeatedRoundStarts: 0, rejected: 0, trainingFailures: 0, lastError: null };
  readonly #opts: FlClientOptions;
  readonly #answered = new Set<string>();
  readonly #unsubscribe: () => void;
  readonly #inFlight = new Set<Promise<void>>();
  #latest: KnownModel | null = null;

  constructor(opts: FlClientOptions) {
    this.#opts = opts;
    this.#unsubscribe = opts.transport.onMessage((from, bytes) => this.#onMessage(from, bytes));
  }

  get id(): string {
    return this.#opts.transport.id;
  }

  /** The newest model this client has seen (highest version), or null. */
  get latestModel(): KnownModel | null {
    return this.#latest;
  }

  /** Tells a coordinator this client is available for its rounds. */
  join(coordinator: string): Promise<void> {
    return this.#opts.transport.send(coordinator, encodeFlMessage({ kind: 'join', round: 0, sender: this.id }));
  }

  leave(coordinator: string): Promise<void> {
    return this.#opts.transport.send(coordinator, encodeFlMessage({ kind: 'leave', round: 0, sender: this.id }));
  }

  /** Resolves when every round being answered has been sent (or failed). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  /** Stops answering; the transport stays open (it may be shared with a coordinator). */
  close(): void {
    this.#unsubscribe();
  }

  #adopt(m: RoundStartMessage | ModelMessage, version: number): void {
    if (this.#latest !== null && this.#latest.version >= version) return;
    this.#latest = { version, digest: m.modelDigest, model: m.model, from: m.sender, round: m.round };
    this.#opts.onModel?.(this.#latest);
  }

  #onMessage(from: string, bytes: Uint8Array): void {
    let m;
    try {
      m = decodeFlMessage(bytes);
    } catch {
      return; // not ours to count: the coordinator side counts undecodable messages
    }
    if (m.kind !== 'round-start' && m.kind !== 'model') return;
    const trusted = this.#opts.trustedCoordinators === undefined || this.#opts.trustedCoordinators.has(from);
    if (!trusted || m.sender !== from || !sameBytes(modelDigest(m.model), m.modelDigest)) {
      this.stats.rejected++;
      return;
    }
    if (m.kind === 'model') {
      this.#adopt(m, m.modelVersion);
      return;
    }
    const key = `${from}\u0000${m.round}`;
    if (this.#answered.has(key)) {
      this.stats.repeatedRoundStarts++;
      return;
    }
    this.#answered.add(key);
    this.#adopt(m, m.modelVersion);
    const job = this.#answer(m).finally(() => this.#inFlight.delete(job));
    this.#inFlight.add(job);
  }

  async #answer(m: RoundStartMessage): Promise<void> {
    const ctx: RoundContext = {
      round: m.round, coordinator: m.sender, modelVersion: m.modelVersion, modelDigest: m.modelDigest, deadlineMs: m.deadlineMs,
    };
    try {
      let result = await this.#opts.train(ctx, m.model.slice());
      if (this.#opts.transform !== undefined) result = await this.#opts.transform(ctx, result);
      // A diverged local training (NaN/∞) is this client's failure, not an update: never signed or sent.
      const bad = result.update.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0 || !Number.isFinite(result.weight)) {
        throw new FlUpdateInvalidError(`round ${m.round}: local training produced a non-finite ${bad >= 0 ? `update (coordinate ${bad})` : 'weight'}`, {
          round: m.round, coordinate: bad,
        });
      }
      const fields = {
        round: m.round, coordinator: m.sender, modelVersion: m.modelVersion, modelDigest: m.modelDigest, sender: this.id,
        weight: Math.fround(result.weight), loss: result.loss === undefined ? null : Math.fround(result.loss), update: result.update,
      };
      const signature = await this.#opts.scheme.sign(this.#opts.secretKey, updateSigningMessage(fields));
      await this.#opts.transport.send(m.sender, encodeFlMessage({ kind: 'update', ...fields, signature }));
      this.stats.answered++;
    } catch (e) {
      this.stats.trainingFailures++;
      this.stats.lastError = e instanceof Error ? e.message : String(e);
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
