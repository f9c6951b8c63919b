// A one-line progress bar on stderr for long commands (`x0t fl simulate`, `x0t fl reproduce`). On a terminal it
// redraws in place; otherwise (CI logs, pipes) it prints a plain line at most every `everyMs`, and always the last.
export class ProgressBar {
  readonly #total: number;
  readonly #label: string;
  readonly #tty: boolean;
  readonly #everyMs: number;
  readonly #t0 = performance.now();
  #lastPrint = -Infinity;
  #done = 0;

  constructor(total: number, label: string, opts: { tty?: boolean; everyMs?: number } = {}) {
    this.#total = Math.max(1, total);
    this.#label = label;
    this.#tty = opts.tty ?? process.stderr.isTTY === true;
    this.#everyMs = opts.everyMs ?? 10_000;
  }

  /** Marks `done` of total as finished, with a short status after the bar. */
  update(done: number, status = ''): void {
    this.#done = Math.min(done, this.#total);
    const now = performance.now();
    const last = this.#done === this.#total;
    if (!this.#tty && !last && now - this.#lastPrint < this.#everyMs) return;
    this.#lastPrint = now;
    const width = 24;
    const filled = Math.round((this.#done / this.#total) * width);
    const elapsed = (now - this.#t0) / 1000;
    const eta = this.#done > 0 ? (elapsed / this.#done) * (this.#total - this.#done) : NaN;
    const line = `${this.#label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.#done}/${this.#total}` +
      ` ${elapsed.toFixed(0)}s${Number.isFinite(eta) && !last ? ` (eta ${eta.toFixed(0)}s)` : ''}${status ? '  ' + status : ''}`;
    process.stderr.write(this.#tty ? `\r\x1b[2K${line}${last ? '\n' : ''}` : `${line}\n`);
  }

  /** Ends the bar's line on a terminal if it was left unfinished (e.g. on an error). */
  close(): void {
    if (this.#tty && this.#done < this.#total && this.#lastPrint > -Infinity) process.stderr.write('\n');
  }
}
