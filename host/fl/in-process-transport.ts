// An in-process network of Transport endpoints for tests and simulations: a hub delivers messages between
// endpoints of one process, asynchronously (never inside send), optionally with seeded loss, duplication and
// random delay (which reorders), and an interceptor that may rewrite or swallow a message in flight (a
// man-in-the-middle for tampering tests). Deterministic for a given seed and send order.
import { mulberry32 } from '../core/fl/client-selection.js';
import { UsageError } from '../errors/index.js';
import type { MessageHandler, Transport } from './transport.js';

export interface Scheduler {
  setTimeout(fn: () => void, ms: number): unknown;
}

export interface InProcessNetworkOptions {
  /** u32 seed of the loss/duplicate/delay draws. */
  readonly seed?: number;
  /** Probability in [0, 1] that a message is dropped. */
  readonly dropRate?: number;
  /** Probability in [0, 1] that a delivered message is delivered a second time (with its own delay). */
  readonly duplicateRate?: number;
  /** Each delivery waits a uniform draw in [minDelayMs, maxDelayMs]; different draws reorder messages. */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Sees every message before the loss draw; returns the bytes to deliver (possibly changed) or null to drop. */
  readonly intercept?: (from: string, to: string, bytes: Uint8Array) => Uint8Array | null;
  readonly scheduler?: Scheduler;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  /** Sent to an id with no open endpoint (silently lost, as on a real network). */
  unroutable: number;
}

function probability(p: number | undefined, what: string): number {
  const v = p ?? 0;
  if (!(v >= 0 && v <= 1)) throw new UsageError(`in-process network: ${what} must be in [0, 1], got ${v}`, { what });
  return v;
}

export class InProcessNetwork {
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, unroutable: 0 };
  readonly #endpoints = new Map<string, InProcessEndpoint>();
  readonly #random: () => number;
  readonly #drop: number;
  readonly #duplicate: number;
  readonly #minDelay: number;
  readonly #maxDelay: number;
  readonly #intercept: InProcessNetworkOptions['intercept'];
  readonly #scheduler: Scheduler;

  constructor(opts: InProcessNetworkOptions = {}) {
    this.#random = mulberry32(opts.seed ?? 1);
    this.#drop = probability(opts.dropRate, 'dropRate');
    this.#duplicate = probability(opts.duplicateRate, 'duplicateRate');
    this.#minDelay = opts.minDelayMs ?? 0;
    this.#maxDelay = opts.maxDelayMs ?? this.#minDelay;
    if (!(this.#minDelay >= 0 && this.#maxDelay >= this.#minDelay)) {
      throw new UsageError(`in-process network: need 0 <= minDelayMs <= maxDelayMs, got ${this.#minDelay}, ${this.#maxDelay}`, { what: 'delay' });
    }
    this.#intercept = opts.intercept;
    this.#scheduler = opts.scheduler ?? { setTimeout: (fn, ms) => setTimeout(fn, ms) };
  }

  /** A new endpoint for node `id`; ids are unique while open. */
  endpoint(id: string): Transport {
    if (this.#endpoints.has(id)) throw new UsageError(`in-process network: endpoint ${id} is already open`, { id });
    const e = new InProcessEndpoint(id, this);
    this.#endpoints.set(id, e);
    return e;
  }

  /** Closes every open endpoint; messages still in flight are then unroutable. */
  async close(): Promise<void> {
    await Promise.all([...this.#endpoints.values()].map((e) => e.close()));
  }

  /** @internal */ detach(e: InProcessEndpoint): void {
    if (this.#endpoints.get(e.id) === e) this.#endpoints.delete(e.id);
  }

  /** @internal */ route(from: string, to: string, bytes: Uint8Array): void {
    this.stats.sent++;
    const data = this.#intercept === undefined ? bytes : this.#intercept(from, to, bytes);
    if (data === null || this.#random() < this.#drop) {
      this.stats.dropped++;
      return;
    }
    const copies = this.#random() < this.#duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      const delay = this.#minDelay + this.#random() * (this.#maxDelay - this.#minDelay);
      const copy = data.slice();
      this.#scheduler.setTimeout(() => {
        const target = this.#endpoints.get(to);
        if (target === undefined) {
          this.stats.unroutable++;
          return;
        }
        this.stats.delivered++;
        target.deliver(from, copy);
      }, delay);
    }
  }
}

class InProcessEndpoint implements Transport {
  readonly #handlers = new Set<MessageHandler>();
  #closed = false;

  constructor(readonly id: string, private readonly network: InProcessNetwork) {}

  async send(to: string, bytes: Uint8Array): Promise<void> {
    if (this.#closed) throw new UsageError(`in-process endpoint ${this.id} is closed`, { id: this.id });
    this.network.route(this.id, to, bytes.slice());
  }

  onMessage(handler: MessageHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  deliver(from: string, bytes: Uint8Array): void {
    if (this.#closed) return;
    // Each handler gets its own copy, so one cannot change what another sees.
    for (const h of [...this.#handlers]) h(from, this.#handlers.size > 1 ? bytes.slice() : bytes);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#handlers.clear();
    this.network.detach(this);
  }
}
