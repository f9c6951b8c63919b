// `in-thread` isolation: the plugin runs on the caller's thread. Memory, input and output limits hold as in a
// worker; a runaway call is stopped by the module's metering (wasm-meter.ts), but every call holds the node's event
// loop while it runs, so the manifest parser only allows this mode with a call timeout of at most 25 ms, and node
// policy can forbid it altogether.
import { InputLimitError, PluginClosedError, X0tError } from '../errors/index.js';
import type { CompiledPlugin } from './compiled-plugin.js';
import type { LogSink } from './extism-kernel.js';
import { PluginEngine } from './plugin-engine.js';
import { defaultLogSink, type InstanceStats, type InstantiateOptions, type PluginInstance } from './plugin-instance.js';
import type { StagedRegion } from './staged-input.js';

export class InThreadInstance implements PluginInstance {
  readonly isolation = 'in-thread' as const;
  readonly #engine: PluginEngine;
  readonly #compiled: CompiledPlugin;
  readonly #log: LogSink;
  /** A released staged-input instance, kept to serve the next lease without fresh page faults. */
  #spare: PluginEngine | null = null;
  #closed = false;
  #calls = 0;
  #errors = 0;

  constructor(compiled: CompiledPlugin, opts: InstantiateOptions = {}) {
    this.#compiled = compiled;
    const log = opts.log ?? defaultLogSink;
    this.#log = (level, msg) => log(compiled.spec.name, level, msg);
    this.#engine = new PluginEngine(compiled, this.#log);
    this.#engine.warm();
  }

  get spec() { return this.#compiled.spec; }
  get sha256() { return this.#compiled.sha256; }
  get functions() { return this.#compiled.functions; }
  get closed() { return this.#closed; }
  get inFlight() { return 0; } // calls complete synchronously

  /** The fastest path: no promise, no copy of the input. Throws X0tError. */
  callSync(fn: string, input: Uint8Array, into?: Uint8Array): Uint8Array {
    if (this.#closed) throw new PluginClosedError(`plugin ${this.spec.name} is closed`);
    this.#calls++;
    try {
      return this.#engine.call(fn, input, into);
    } catch (e) {
      this.#errors++;
      throw e;
    }
  }

  call(fn: string, input: Uint8Array, into?: Uint8Array): Promise<Uint8Array> {
    try {
      return Promise.resolve(this.callSync(fn, input, into));
    } catch (e) {
      return Promise.reject(e as X0tError);
    }
  }

  /**
   * Staged input (staged-input.ts): a separate instance of the plugin whose input buffer of `byteLength` bytes the
   * caller writes directly; its call runs the metered module in place with the same deadline. Throws X0tError
   * (UnsupportedError for a plugin without the fast path).
   */
  stage(byteLength: number): Promise<StagedRegion> {
    try {
      return Promise.resolve(this.#stage(byteLength));
    } catch (e) {
      return Promise.reject(e as X0tError);
    }
  }

  #stage(byteLength: number): StagedRegion {
    if (this.#closed) throw new PluginClosedError(`plugin ${this.spec.name} is closed`);
    const { maxInputBytes } = this.spec.limits;
    if (!Number.isSafeInteger(byteLength) || byteLength < 0 || byteLength > maxInputBytes) {
      throw new InputLimitError(`staged input of ${byteLength} bytes is over ${this.spec.name}'s limit of ${maxInputBytes}`, {
        bytes: byteLength, limit: maxInputBytes,
      });
    }
    const engine = this.#spare ?? new PluginEngine(this.#compiled, this.#log);
    this.#spare = null;
    let offset: number;
    try {
      offset = engine.reserveInput(byteLength);
    } catch (e) {
      engine.dispose();
      throw e;
    }
    const bytes = new Uint8Array(engine.memoryBuffer(), offset, byteLength);
    let open = true;
    return {
      bytes,
      inPlace: true,
      live: () => open && !this.#closed,
      call: (fn, into) => {
        if (!open) return Promise.reject(new PluginClosedError(`staged input of ${this.spec.name} was released`));
        open = false;
        this.#calls++;
        try {
          return Promise.resolve(engine.callReserved(fn, byteLength, into));
        } catch (e) {
          this.#errors++;
          return Promise.reject(e as X0tError);
        } finally {
          this.#keep(engine);
        }
      },
      release: () => {
        if (open) {
          open = false;
          this.#keep(engine);
        }
        return Promise.resolve();
      },
    };
  }

  #keep(engine: PluginEngine): void {
    if (this.#spare === null && !this.#closed) this.#spare = engine;
    else engine.dispose();
  }

  stats(): InstanceStats {
    return { calls: this.#calls, errors: this.#errors, restarts: Math.max(0, this.#engine.instantiations - 1) };
  }

  drain(): Promise<void> {
    return Promise.resolve(); // calls complete synchronously
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#engine.dispose();
    this.#spare?.dispose();
    this.#spare = null;
  }
}
