// Drives the mesh's pure state machines (router, sessions) on a timer: one timeout at a time, re-armed after each
// run for the router's next deadline, no sooner than MIN_DELAY_MS and no later than MAX_DELAY_MS (the sessions'
// retransmits and rekeys have no deadline of their own to offer; probe timeouts are ≥ 150 ms, so 50 ms is fine). No busy loop: between runs the process sleeps; `poke()` runs as soon as the event
// loop is free (after an event that produced work, e.g. a session coming up), without stacking timers.
export interface TickSchedulerOptions {
  /** One run; returns when the next is due (ms, same clock as `now`). The timer waits until then, within 20–50 ms. */
  readonly run: (nowMs: number) => number;
  readonly onError: (error: unknown) => void;
  readonly now?: () => number;
}

export const MIN_DELAY_MS = 20;
export const MAX_DELAY_MS = 50;

export class TickScheduler {
  readonly #opts: TickSchedulerOptions;
  #nextAt = -Infinity;
  #timer: NodeJS.Timeout | null = null;
  #immediate: NodeJS.Immediate | null = null;
  #stopped = false;
  #runs = 0;

  constructor(opts: TickSchedulerOptions) {
    this.#opts = opts;
  }

  start(): void {
    if (this.#stopped || this.#timer !== null) return;
    this.#arm();
  }

  /** Runs once more as soon as the event loop is free (at most one pending). */
  poke(): void {
    if (this.#stopped || this.#immediate !== null) return;
    this.#immediate = setImmediate(() => {
      this.#immediate = null;
      this.#runOnce();
    });
  }

  get runs(): number {
    return this.#runs;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#immediate !== null) clearImmediate(this.#immediate);
    this.#timer = null;
    this.#immediate = null;
  }

  #arm(): void {
    const now = (this.#opts.now ?? Date.now)();
    const delay = Math.max(MIN_DELAY_MS, Math.min(MAX_DELAY_MS, this.#nextAt - now));
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#runOnce();
      if (!this.#stopped) this.#arm();
    }, Number.isFinite(delay) ? delay : MAX_DELAY_MS);
  }

  #runOnce(): void {
    if (this.#stopped) return;
    this.#runs++;
    try {
      this.#nextAt = this.#opts.run((this.#opts.now ?? Date.now)());
    } catch (e) {
      this.#opts.onError(e);
    }
  }
}
