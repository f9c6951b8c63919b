// The receive-side anti-replay window of a session (the ring-of-blocks bitmap of RFC 6479): a counter is accepted
// once, and only if it is newer than `size` packets behind the highest seen. `check` is cheap and runs before
// decryption; `mark` runs only after the packet authenticated, so forged packets cannot move the window.
const BLOCK_BITS = 32;

export class ReplayWindow {
  /** Packets behind the highest counter that are still accepted (a multiple of 32). */
  readonly size: number;
  readonly #blocks: Uint32Array;
  #top = -1n;

  constructor(size = 4096) {
    if (!Number.isInteger(size) || size < BLOCK_BITS || size % BLOCK_BITS !== 0) throw new RangeError('replay window size must be a positive multiple of 32');
    this.size = size;
    // One spare block, so that advancing into a new block never clears bits still inside the window.
    this.#blocks = new Uint32Array(size / BLOCK_BITS + 1);
  }

  /** The highest counter marked so far (-1 before any). */
  get highest(): bigint {
    return this.#top;
  }

  /** True if `counter` has not been seen and is not too old. */
  check(counter: bigint): boolean {
    if (counter < 0n) return false;
    if (counter > this.#top) return true;
    if (this.#top - counter >= BigInt(this.size)) return false;
    const { block, bit } = this.#position(counter);
    return (this.#blocks[block]! & bit) === 0;
  }

  /** Records `counter` (after `check` answered true and the packet authenticated); false if it was a replay. */
  mark(counter: bigint): boolean {
    if (!this.check(counter)) return false;
    if (counter > this.#top) {
      const n = this.#blocks.length;
      const current = this.#top < 0n ? -1n : this.#top / BigInt(BLOCK_BITS);
      const next = counter / BigInt(BLOCK_BITS);
      // Clear the blocks the window slides over (all of them after a jump further than the ring).
      const advance = next - current;
      const clear = advance >= BigInt(n) ? n : Number(advance);
      for (let i = 1; i <= clear; i++) this.#blocks[Number((current + BigInt(i)) % BigInt(n))] = 0;
      this.#top = counter;
    }
    const { block, bit } = this.#position(counter);
    this.#blocks[block]! |= bit;
    return true;
  }

  #position(counter: bigint): { block: number; bit: number } {
    const block = Number((counter / BigInt(BLOCK_BITS)) % BigInt(this.#blocks.length));
    return { block, bit: (1 << Number(counter % BigInt(BLOCK_BITS))) >>> 0 };
  }
}
