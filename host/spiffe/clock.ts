// Time for identity rotation, injectable so tests run an hour of SVID lifetime in milliseconds.
export interface TimerHandle { cancel(): void }

export interface Clock {
  now(): number;
  /** Calls `fn` once after `delayMs` (of this clock's time). */
  setTimer(fn: () => void, delayMs: number): TimerHandle;
}

/** Wall-clock time; timers do not keep the process alive. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimer(fn, delayMs) {
    // setTimeout caps at 2^31-1 ms; longer waits re-arm.
    const MAX = 0x7fffffff;
    let t: NodeJS.Timeout;
    const arm = (left: number): void => {
      t = setTimeout(() => (left > MAX ? arm(left - MAX) : fn()), Math.min(Math.max(0, left), MAX));
      t.unref();
    };
    arm(delayMs);
    return { cancel: () => clearTimeout(t) };
  },
};
