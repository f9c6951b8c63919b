// Per-source token buckets (a source is an endpoint's text form): `ratePerSecond` sustained, `burst` at once. The
// table is bounded; when full, the least recently refilled half is forgotten (a forgotten source starts full, which
// errs towards letting an honest peer through).
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(readonly ratePerSecond: number, readonly burst: number, readonly maxSources = 4096) {}

  /** Takes one token for `source` at time `nowMs`; false when its bucket is empty. */
  take(source: string, nowMs: number): boolean {
    let b = this.#buckets.get(source);
    if (b === undefined) {
      if (this.#buckets.size >= this.maxSources) this.#evict();
      b = { tokens: this.burst, at: nowMs };
      this.#buckets.set(source, b);
    } else {
      b.tokens = Math.min(this.burst, b.tokens + (Math.max(0, nowMs - b.at) * this.ratePerSecond) / 1000);
      b.at = nowMs;
      this.#buckets.delete(source); // re-insert: Map order = recency
      this.#buckets.set(source, b);
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  #evict(): void {
    let n = Math.ceil(this.#buckets.size / 2);
    for (const k of this.#buckets.keys()) {
      if (n-- <= 0) break;
      this.#buckets.delete(k);
    }
  }
}
