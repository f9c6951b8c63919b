// The plugin lifecycle of one capability slot as a pure state machine: it takes events and the time, and returns
// effects for the driver (host/runtime/slot.ts) to carry out. No I/O, no clocks, no promises here, so every path —
// a candidate failing to load or its self-test, a switch, a rollback by the circuit breaker — is testable by a
// transcript of events.
//
// Hot swap: swap-requested → (driver loads) candidate-ready → (driver self-tests) selftest-passed → activate the
// candidate, drain the old version and keep it warm as the standby while the new one is observed → after
// `observeMs` without tripping the breaker the standby is closed; if the new version fails `failureThreshold` calls
// within `windowMs` during observation, the standby is switched back in at once (rollback) and the bad one closed.

export interface BreakerPolicy {
  readonly failureThreshold: number;
  readonly windowMs: number;
  /** How long after a switch failures can still roll the slot back. */
  readonly observeMs: number;
}

/** A loaded version of a plugin, as the lifecycle knows it (the driver maps ids to live instances). */
export interface VersionRef {
  readonly id: number;
  readonly label: string;
}

export type SwapOutcome = 'switched' | 'committed' | 'rejected-load' | 'rejected-selftest' | 'rolled-back';

export interface SwapRecord {
  readonly at: number;
  readonly outcome: SwapOutcome;
  readonly from: string | null;
  readonly to: string;
  readonly reason: string | null;
}

export type LifecycleEvent =
  | { readonly type: 'opened'; readonly version: VersionRef }
  | { readonly type: 'swap-requested'; readonly version: VersionRef }
  | { readonly type: 'candidate-ready'; readonly version: VersionRef }
  | { readonly type: 'candidate-failed'; readonly version: VersionRef; readonly reason: string }
  | { readonly type: 'selftest-passed'; readonly version: VersionRef }
  | { readonly type: 'selftest-failed'; readonly version: VersionRef; readonly reason: string }
  | { readonly type: 'call-failed'; readonly version: VersionRef; readonly code: string }
  | { readonly type: 'tick' };

export type LifecycleEffect =
  | { readonly type: 'load'; readonly version: VersionRef }
  | { readonly type: 'self-test'; readonly version: VersionRef }
  | { readonly type: 'activate'; readonly version: VersionRef }
  /** Stop routing to it, wait for its calls in flight, keep it open (standby for rollback). */
  | { readonly type: 'drain'; readonly version: VersionRef }
  | { readonly type: 'close'; readonly version: VersionRef }
  | { readonly type: 'reject-swap'; readonly version: VersionRef; readonly reason: string }
  | { readonly type: 'record'; readonly record: SwapRecord };

export type Phase = 'empty' | 'serving' | 'swapping' | 'observing';

export interface LifecycleSnapshot {
  readonly phase: Phase;
  readonly active: VersionRef | null;
  readonly candidate: VersionRef | null;
  readonly standby: VersionRef | null;
  readonly observeUntil: number | null;
  readonly recentFailures: number;
  readonly history: readonly SwapRecord[];
}

const HISTORY_LIMIT = 100;

export class SlotLifecycle {
  #phase: Phase = 'empty';
  #active: VersionRef | null = null;
  #candidate: VersionRef | null = null;
  #standby: VersionRef | null = null;
  #observeUntil: number | null = null;
  #failures: number[] = [];
  readonly #history: SwapRecord[] = [];

  constructor(private readonly policy: BreakerPolicy) {}

  snapshot(): LifecycleSnapshot {
    return {
      phase: this.#phase,
      active: this.#active,
      candidate: this.#candidate,
      standby: this.#standby,
      observeUntil: this.#observeUntil,
      recentFailures: this.#failures.length,
      history: [...this.#history],
    };
  }

  step(event: LifecycleEvent, now: number): LifecycleEffect[] {
    const effects = this.#expireObservation(now);
    switch (event.type) {
      case 'opened':
        if (this.#phase !== 'empty') return [...effects, reject(event.version, 'slot is already open')];
        this.#phase = 'serving';
        this.#active = event.version;
        return [...effects, { type: 'activate', version: event.version }];
      case 'swap-requested':
        if (this.#phase === 'swapping') {
          return [...effects, reject(event.version, `a swap to ${this.#candidate?.label} is in progress`)];
        }
        if (this.#phase === 'empty') return [...effects, reject(event.version, 'slot is not open')];
        if (this.#phase === 'observing') effects.push(...this.#commit(now)); // a newer swap supersedes observation
        this.#phase = 'swapping';
        this.#candidate = event.version;
        return [...effects, { type: 'load', version: event.version }];
      case 'candidate-ready':
        if (!this.#isCandidate(event.version)) return [...effects, { type: 'close', version: event.version }];
        return [...effects, { type: 'self-test', version: event.version }];
      case 'candidate-failed':
        if (!this.#isCandidate(event.version)) return effects;
        return [...effects, ...this.#dropCandidate(now, 'rejected-load', event.reason, false)];
      case 'selftest-failed':
        if (!this.#isCandidate(event.version)) return [...effects, { type: 'close', version: event.version }];
        return [...effects, ...this.#dropCandidate(now, 'rejected-selftest', event.reason, true)];
      case 'selftest-passed': {
        if (!this.#isCandidate(event.version)) return [...effects, { type: 'close', version: event.version }];
        const old = this.#active!;
        this.#active = event.version;
        this.#standby = old;
        this.#candidate = null;
        this.#phase = 'observing';
        this.#observeUntil = now + this.policy.observeMs;
        this.#failures = [];
        return [
          ...effects,
          { type: 'activate', version: event.version },
          { type: 'drain', version: old },
          this.#record(now, 'switched', old.label, event.version.label, null),
        ];
      }
      case 'call-failed':
        return [...effects, ...this.#onFailure(event.version, event.code, now)];
      case 'tick':
        return effects;
    }
  }

  #isCandidate(v: VersionRef): boolean {
    return this.#phase === 'swapping' && this.#candidate?.id === v.id;
  }

  #dropCandidate(now: number, outcome: SwapOutcome, reason: string, close: boolean): LifecycleEffect[] {
    const c = this.#candidate!;
    this.#candidate = null;
    this.#phase = 'serving';
    const out: LifecycleEffect[] = [];
    if (close) out.push({ type: 'close', version: c });
    out.push(reject(c, reason), this.#record(now, outcome, this.#active?.label ?? null, c.label, reason));
    return out;
  }

  #onFailure(v: VersionRef, code: string, now: number): LifecycleEffect[] {
    if (this.#active?.id !== v.id) return []; // failures of a drained version say nothing about the active one
    this.#failures.push(now);
    const since = now - this.policy.windowMs;
    while (this.#failures.length > 0 && this.#failures[0]! < since) this.#failures.shift();
    if (this.#phase !== 'observing' || this.#failures.length < this.policy.failureThreshold) return [];
    const bad = this.#active;
    const good = this.#standby!;
    this.#active = good;
    this.#standby = null;
    this.#phase = 'serving';
    this.#observeUntil = null;
    const reason = `${this.#failures.length} failed calls within ${this.policy.windowMs} ms after the switch (last: ${code})`;
    this.#failures = [];
    return [
      { type: 'activate', version: good },
      { type: 'drain', version: bad },
      { type: 'close', version: bad },
      this.#record(now, 'rolled-back', bad.label, good.label, reason),
    ];
  }

  #expireObservation(now: number): LifecycleEffect[] {
    if (this.#phase !== 'observing' || this.#observeUntil === null || now < this.#observeUntil) return [];
    return this.#commit(now);
  }

  /** The observed version has held: close the standby. */
  #commit(now: number): LifecycleEffect[] {
    const standby = this.#standby;
    this.#standby = null;
    this.#observeUntil = null;
    this.#phase = 'serving';
    if (standby === null) return [];
    return [{ type: 'close', version: standby }, this.#record(now, 'committed', standby.label, this.#active!.label, null)];
  }

  #record(at: number, outcome: SwapOutcome, from: string | null, to: string, reason: string | null): LifecycleEffect {
    const record: SwapRecord = { at, outcome, from, to, reason };
    this.#history.push(record);
    if (this.#history.length > HISTORY_LIMIT) this.#history.shift();
    return { type: 'record', record };
  }
}

function reject(version: VersionRef, reason: string): LifecycleEffect {
  return { type: 'reject-swap', version, reason };
}
