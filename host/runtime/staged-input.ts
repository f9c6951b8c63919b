// Staged input: the caller writes a call's input straight into the memory the plugin will read it from, so the call
// itself is one pass over the data instead of copy (caller → channel) + copy (channel → plugin) + pass. Made for
// federated rounds: the coordinator writes each client update into the staged frame as it arrives, and when the
// round closes the aggregate call runs in place.
//
// Each lease gets its own instance of the plugin (same compiled module, hash, limits and permissions), so ordinary
// calls to the slot meanwhile cannot overwrite the staged bytes, and a trap in the staged call leaves the slot's
// instance alone. Worker isolation runs that instance in the plugin's worker with its memory declared shared, and the
// caller's view is a window on that SharedArrayBuffer. The plugin still reaches only its own memory.
import { PluginClosedError, UsageError } from '../errors/index.js';

/**
 * A region of a plugin instance's memory reserved for one call's input (what an instance hands the lease).
 * Runtime-internal: callers use `StagedInput`.
 */
export interface StagedRegion {
  /** Writable window on the input, `byteLength` long (contents undefined until written). */
  readonly bytes: Uint8Array;
  /** The call will read `bytes` where they are (false: a host buffer that the call copies, for plugins without the fast path). */
  readonly inPlace: boolean;
  /** The instance holding the region can still run on it (false once it was closed or its worker replaced). */
  live(): boolean;
  /** Runs `fn` on the region; once the call reaches the plugin the region is consumed, whatever the outcome. Rejects with an X0tError. */
  call(fn: string, into?: Uint8Array): Promise<Uint8Array>;
  /** Gives the region back without calling (idempotent; no-op after `call`). */
  release(): Promise<void>;
}

/** What a lease needs from the slot that made it. */
export interface StagedBinding {
  /** The version the region was staged on is still the one the slot routes calls to. */
  readonly current: () => boolean;
  /** Runs a staged call as one of the slot's calls (latency, breaker). */
  readonly observe: (run: () => Promise<Uint8Array>) => Promise<Uint8Array>;
  /** An ordinary call on whatever version is current (copies `input`). */
  readonly call: (fn: string, input: Uint8Array, into?: Uint8Array) => Promise<Uint8Array>;
}

/** How the last (only) call of a lease ran. */
export type StagedCallPath = 'in-place' | 'copied';

/**
 * A single-use lease on one call's input. Write the input into `bytes`, then `call` once; or `release` to give it
 * up. Use it in try/finally: `const lease = await slot.stage(n); try { …; await lease.call(fn) } finally { await
 * lease.release() }`. `bytes` must not be touched after `call` or `release` (it may already hold the next lease's
 * input).
 *
 * A hot swap (or a worker restart) between `stage` and `call` does not lose the input: the call then goes to the
 * slot's current version through the ordinary path, copying the staged bytes once (`path` says which ran). The
 * staged bytes are never written into an instance other than the one they were staged in.
 */
export class StagedInput {
  readonly #region: StagedRegion;
  readonly #binding: StagedBinding;
  #state: 'open' | 'calling' | 'done' = 'open';
  #path: StagedCallPath | null = null;

  constructor(region: StagedRegion, binding: StagedBinding) {
    this.#region = region;
    this.#binding = binding;
  }

  /** The input window. Valid until `call` or `release`. */
  get bytes(): Uint8Array {
    if (this.#state !== 'open') throw new PluginClosedError('staged input was already used or released');
    return this.#region.bytes;
  }

  get byteLength(): number {
    return this.#region.bytes.length;
  }

  /** True until `call` or `release`. */
  get open(): boolean {
    return this.#state === 'open';
  }

  /** How the call ran, once it has. */
  get path(): StagedCallPath | null {
    return this.#path;
  }

  /**
   * Runs `fn` on the staged input; resolves with a copy of the output (in `into` when given, as with Slot.call).
   * Failures are the slot's ordinary errors (timeouts, traps and limits behave as in Slot.call). Single use: the
   * lease is released whatever the outcome.
   */
  async call(fn: string, into?: Uint8Array): Promise<Uint8Array> {
    if (this.#state !== 'open') {
      throw new UsageError(`staged input can be called once; it was already ${this.#state === 'calling' ? 'called' : 'used or released'}`);
    }
    this.#state = 'calling';
    try {
      if (this.#region.inPlace && this.#region.live() && this.#binding.current()) {
        this.#path = 'in-place';
        return await this.#binding.observe(() => this.#region.call(fn, into));
      }
      this.#path = 'copied';
      return await this.#binding.call(fn, this.#region.bytes, into);
    } finally {
      this.#state = 'done';
      await this.#region.release().catch(() => undefined); // the call's own outcome is what the caller needs
    }
  }

  /** Gives the lease up without calling. Idempotent. */
  async release(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'done';
    await this.#region.release();
  }
}

/** A lease for a plugin that cannot read input in place: a host buffer that the call copies in (ordinary path). */
export function hostBufferRegion(byteLength: number, call: (fn: string, input: Uint8Array, into?: Uint8Array) => Promise<Uint8Array>): StagedRegion {
  const bytes = new Uint8Array(byteLength);
  return {
    bytes,
    inPlace: false,
    live: () => true,
    call: (fn, into) => call(fn, bytes, into),
    release: () => Promise.resolve(),
  };
}
