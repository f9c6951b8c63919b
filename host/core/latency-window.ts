// Latency of the most recent calls in a fixed ring, for p50/p99 on the admin API. Percentiles are computed on
// demand (a sort of ≤ 4,096 numbers), so recording a call costs one array store.
export class LatencyWindow {
  readonly #samples: Float64Array;
  #next = 0;
  #count = 0;

  constructor(capacity = 4096) {
    this.#samples = new Float64Array(capacity);
  }

  record(ms: number): void {
    this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#samples.length;
    if (this.#count < this.#samples.length) this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  /** Nearest-rank percentile (0 < p ≤ 100) of the recorded window; null when empty. */
  percentile(p: number): number | null {
    if (this.#count === 0) return null;
    const sorted = this.#samples.slice(0, this.#count).sort();
    const rank = Math.min(this.#count, Math.max(1, Math.ceil((p / 100) * this.#count)));
    return sorted[rank - 1]!;
  }
}
