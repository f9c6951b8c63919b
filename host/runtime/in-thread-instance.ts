// `in-thread` isolation: the plugin runs on the caller's thread. Memory, input and output limits hold as in a
// worker, but a running call cannot be interrupted, so the manifest parser only allows this mode with a call
// timeout of at most 25 ms, and node policy can forbid it altogether.
import { PluginClosedError, X0tError } from '../errors/index.js';
import type { CompiledPlugin } from './compiled-plugin.js';
import { PluginEngine } from './plugin-engine.js';
import { defaultLogSink, type InstanceStats, type InstantiateOptions, type PluginInstance } from './plugin-instance.js';

export class InThreadInstance implements PluginInstance {
  readonly isolation = 'in-thread' as const;
  readonly #engine: PluginEngine;
  readonly #compiled: CompiledPlugin;
  #closed = false;
  #calls = 0;
  #errors = 0;

  constructor(compiled: CompiledPlugin, opts: InstantiateOptions = {}) {
    this.#compiled = compiled;
    const log = opts.log ?? defaultLogSink;
    this.#engine = new PluginEngine(compiled, (level, msg) => log(compiled.spec.name, level, msg));
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

  stats(): InstanceStats {
    return { calls: this.#calls, errors: this.#errors, restarts: Math.max(0, this.#engine.instantiations - 1) };
  }

  drain(): Promise<void> {
    return Promise.resolve(); // calls complete synchronously
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#engine.dispose();
  }
}
