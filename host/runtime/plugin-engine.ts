// Runs one compiled plugin synchronously in the current thread (the main thread for `in-thread` isolation, its own
// worker otherwise). Every failure leaves as a typed error; after any trap the instance is discarded and the next
// call gets a fresh one, since a trapped module's heap may be half-updated.
import { randomFillSync } from 'node:crypto';
import type { CompiledPlugin } from './compiled-plugin.js';
import { FAST_PREFIX } from './compiled-plugin.js';
import { ExtismKernel, type LogSink } from './extism-kernel.js';
import { EXTISM_MODULE, X0T_MODULE } from './host-permissions.js';
import { METER_IMPORT_MODULE, METER_IMPORT_NAME } from './wasm-meter.js';
import { STATUS } from '../../sdk/abi/generated/contract.js';
import {
  FunctionNotFoundError, InputLimitError, MalformedOutputError, OutputLimitError, PluginMemoryLimitError,
  PluginReportedError, PluginTimeoutError, PluginTrapError, UnsupportedError, X0tError,
} from '../errors/index.js';

const PAGE = 65536;
const MAX_ERROR_MESSAGE = 4096;
const KNOWN_FAILURES = new Set<number>([STATUS.badInput, STATUS.internal, STATUS.unsupported]);

type CallTarget = { readonly fast: true; readonly f: (len: number) => number } | { readonly fast: false; readonly f: () => number };

type FastExports = {
  memory: WebAssembly.Memory;
  x0t_abi_version: () => number;
  x0t_input: (len: number) => number;
  x0t_output_ptr: () => number;
  x0t_output_len: () => number;
} & Record<string, unknown>;

export class PluginEngine {
  readonly #compiled: CompiledPlugin;
  readonly #kernel: ExtismKernel;
  readonly #maxMemoryBytes: number;
  #exports: FastExports | null = null;
  #calls = new Map<string, CallTarget>();
  #u8: Uint8Array = new Uint8Array(0);
  #instances = 0;
  /** performance.now() after which a metered module's clock check stops the call. */
  #deadline = Infinity;
  #callName = '';
  /** Offset of the input buffer last reserved and not yet consumed by a call (0: none). */
  #stagedPtr = 0;
  readonly #decoder = new TextDecoder();

  constructor(compiled: CompiledPlugin, log: LogSink) {
    this.#compiled = compiled;
    this.#maxMemoryBytes = compiled.spec.limits.maxMemoryPages * PAGE;
    this.#kernel = new ExtismKernel(this.#maxMemoryBytes, compiled.spec.config, log);
  }

  /** How many times a fresh instance was made (1 + restarts after traps). */
  get instantiations(): number {
    return this.#instances;
  }

  #instantiate(): FastExports {
    const perms = new Set(this.#compiled.spec.permissions.host);
    const env: Record<string, unknown> = { ...this.#kernel.coreImports() };
    if (perms.has('log')) Object.assign(env, this.#kernel.logImports());
    if (perms.has('config')) Object.assign(env, this.#kernel.configImports());
    if (perms.has('var')) Object.assign(env, this.#kernel.varImports());
    const x0t: Record<string, unknown> = {};
    if (perms.has('clock')) x0t['clock_now_ms'] = (): number => Date.now();
    if (perms.has('random')) x0t['random_fill'] = (ptr: number, len: number): void => this.#randomFill(ptr >>> 0, len >>> 0);
    const meter = {
      [METER_IMPORT_NAME]: (): void => {
        if (performance.now() > this.#deadline) {
          const timeoutMs = this.#compiled.spec.limits.callTimeoutMs;
          throw new PluginTimeoutError(`plugin ${this.#compiled.spec.name} ${this.#callName} ran past its ${timeoutMs} ms timeout and was stopped`, {
            function: this.#callName, timeoutMs,
          });
        }
      },
    };
    let instance: WebAssembly.Instance;
    // A start function is plugin code too: it gets the same deadline as a call.
    this.#callName = '(start)';
    this.#deadline = this.#compiled.metered ? performance.now() + this.#compiled.spec.limits.callTimeoutMs : Infinity;
    try {
      instance = new WebAssembly.Instance(this.#compiled.module, {
        [EXTISM_MODULE]: env as WebAssembly.ModuleImports,
        [X0T_MODULE]: x0t as WebAssembly.ModuleImports,
        [METER_IMPORT_MODULE]: meter,
      });
    } catch (e) {
      throw this.#classify(e, 'instantiate');
    }
    const ex = instance.exports as FastExports;
    const init = ex['_initialize'];
    if (typeof init === 'function') (init as () => void)();
    if (this.#compiled.fastPath) {
      const v = ex.x0t_abi_version();
      if (v !== 1) throw new MalformedOutputError(`plugin reports fast-path ABI ${v}, expected 1`, { abi: v });
    }
    this.#exports = ex;
    this.#calls = new Map();
    this.#u8 = new Uint8Array(ex.memory.buffer);
    this.#instances++;
    return ex;
  }

  #randomFill(ptr: number, len: number): void {
    const mem = this.#memory();
    if (ptr + len > mem.length) throw new PluginTrapError(`random_fill out of bounds (${ptr}+${len})`);
    randomFillSync(mem, ptr, len);
  }

  #memory(): Uint8Array {
    const buf = this.#exports!.memory.buffer;
    if (this.#u8.buffer !== buf) this.#u8 = new Uint8Array(buf); // views go stale when memory grows
    return this.#u8;
  }

  /** Instantiates now (instead of on the first call) so start-up faults surface at load. */
  warm(): void {
    if (this.#exports === null) this.#instantiate();
  }

  /**
   * Runs `fn` on `input` and returns a copy of the output: in a new buffer, or in `into` (returned as a subarray)
   * when given — reusing one buffer saves the page faults of a fresh multi-MiB allocation per call. Throws X0tError.
   */
  call(fn: string, input: Uint8Array, into?: Uint8Array): Uint8Array {
    this.#checkInputSize(input.length);
    const ex = this.#exports ?? this.#instantiate();
    this.#callName = fn;
    this.#deadline = this.#compiled.metered ? performance.now() + this.#compiled.spec.limits.callTimeoutMs : Infinity;
    try {
      const target = this.#calls.get(fn) ?? this.#resolve(ex, fn);
      return copyOut(target.fast ? this.#callFast(ex, target.f, fn, input, input.length) : this.#callExtism(target.f, fn, input), into);
    } catch (e) {
      throw this.#failed(e, fn);
    }
  }

  /**
   * Staged input: reserves the plugin's fast-path input buffer for `len` bytes (instantiating if needed) and returns
   * its offset in `memoryBuffer()`. The caller writes the input there and then calls `callReserved` with the same
   * `len`; any other call on this engine in between may reuse the buffer, so a staging engine serves nothing else.
   */
  reserveInput(len: number): number {
    this.#checkInputSize(len);
    if (!this.#compiled.fastPath) {
      throw new UnsupportedError(`plugin ${this.#compiled.spec.name} has no x0t fast path to stage input in`, {
        plugin: this.#compiled.spec.name,
      });
    }
    const ex = this.#exports ?? this.#instantiate();
    return this.#reserve(ex, len);
  }

  /** The plugin's linear memory (a SharedArrayBuffer when the module was compiled with shared memory). */
  memoryBuffer(): ArrayBufferLike {
    return (this.#exports ?? this.#instantiate()).memory.buffer;
  }

  /** Runs `fn` on the `len` input bytes already written at the offset `reserveInput(len)` returned. Throws X0tError. */
  callReserved(fn: string, len: number, into?: Uint8Array): Uint8Array {
    this.#checkInputSize(len);
    const ex = this.#exports;
    if (ex === null) throw new PluginTrapError(`plugin ${this.#compiled.spec.name}: the instance holding the staged input is gone`);
    this.#callName = fn;
    this.#deadline = this.#compiled.metered ? performance.now() + this.#compiled.spec.limits.callTimeoutMs : Infinity;
    try {
      const target = this.#calls.get(fn) ?? this.#resolve(ex, fn);
      if (!target.fast) throw new UnsupportedError(`plugin ${this.#compiled.spec.name} has no fast path for ${fn}`, { function: fn });
      return copyOut(this.#callFast(ex, target.f, fn, null, len), into);
    } catch (e) {
      throw this.#failed(e, fn);
    }
  }

  #checkInputSize(len: number): void {
    const spec = this.#compiled.spec;
    if (len > spec.limits.maxInputBytes) {
      throw new InputLimitError(`input of ${len} bytes is over ${spec.name}'s limit of ${spec.limits.maxInputBytes}`, {
        bytes: len, limit: spec.limits.maxInputBytes,
      });
    }
  }

  /** Classifies a failed call; a trap drops the instance. */
  #failed(e: unknown, fn: string): X0tError {
    const err = this.#classify(e, fn);
    if (!(err instanceof PluginReportedError) && !(err instanceof OutputLimitError) && !(err instanceof FunctionNotFoundError)
      && !(err instanceof UnsupportedError)) {
      this.#exports = null; // a trap may have left the heap half-updated: start clean next time
    }
    return err;
  }

  /** Finds the export serving `fn` once per instance: the fast path when the plugin has one, else the Extism export. */
  #resolve(ex: FastExports, fn: string): CallTarget {
    if (!this.#compiled.functions.includes(fn)) {
      throw new FunctionNotFoundError(`plugin ${this.#compiled.spec.name} has no function ${fn}`, {
        function: fn, available: this.#compiled.functions,
      });
    }
    const fast = this.#compiled.fastPath ? ex[FAST_PREFIX + fn] : undefined;
    const target: CallTarget = typeof fast === 'function'
      ? { fast: true, f: fast as (len: number) => number }
      : { fast: false, f: ex[fn] as () => number };
    this.#calls.set(fn, target);
    return target;
  }

  /** `input` null: the input is already in place at the buffer `reserveInput(len)` returned (staged input). */
  #callFast(ex: FastExports, f: (len: number) => number, fn: string, input: Uint8Array | null, len: number): Uint8Array {
    if (input === null) {
      // The plugin hands out the same buffer while it is big enough; anything else means the staged bytes are not
      // where the plugin will read, and running would compute on the wrong data.
      const staged = this.#stagedPtr;
      if (staged === 0 || this.#reserve(ex, len) !== staged) {
        throw new MalformedOutputError(`plugin ${this.#compiled.spec.name} moved its input buffer away from the staged input`, {
          function: fn,
        });
      }
    } else {
      const ptr = this.#reserve(ex, len); // first: reserving may grow memory, which detaches older views
      this.#memory().set(input, ptr);
    }
    this.#stagedPtr = 0;
    const status = f(len);
    const outPtr = ex.x0t_output_ptr() >>> 0;
    const outLen = ex.x0t_output_len() >>> 0;
    const mem = this.#memory();
    if (outPtr + outLen > mem.length) {
      throw new MalformedOutputError(`plugin output lies outside its memory (${outPtr}+${outLen} > ${mem.length})`, {
        ptr: outPtr, len: outLen, memory: mem.length,
      });
    }
    if (status === STATUS.ok) {
      this.#checkOutputSize(outLen);
      return mem.subarray(outPtr, outPtr + outLen);
    }
    if (KNOWN_FAILURES.has(status)) {
      const msg = this.#decoder.decode(mem.subarray(outPtr, outPtr + Math.min(outLen, MAX_ERROR_MESSAGE)));
      throw new PluginReportedError(`plugin ${fn} failed (status ${status}): ${msg}`, { status, function: fn });
    }
    throw new MalformedOutputError(`plugin ${fn} returned an undefined status ${status}`, { status, function: fn });
  }

  /** The plugin's input buffer for `len` bytes, checked to lie inside its memory. */
  #reserve(ex: FastExports, len: number): number {
    const ptr = ex.x0t_input(len) >>> 0;
    const mem = this.#memory();
    if (ptr === 0 || ptr + len > mem.length) {
      throw ptr === 0
        ? new PluginMemoryLimitError(`plugin could not allocate ${len} input bytes`, { bytes: len })
        : new MalformedOutputError(`plugin gave an input buffer outside its memory (${ptr}+${len})`);
    }
    this.#stagedPtr = ptr;
    return ptr;
  }

  #callExtism(f: () => number, fn: string, input: Uint8Array): Uint8Array {
    this.#kernel.begin(input);
    const rc = f();
    if (rc !== 0) {
      const msg = this.#kernel.errorMessage() ?? `returned ${rc}`;
      throw new PluginReportedError(`plugin ${fn} failed: ${msg.slice(0, MAX_ERROR_MESSAGE)}`, { status: rc, function: fn });
    }
    this.#checkOutputSize(this.#kernel.outputLength());
    return this.#kernel.outputView();
  }

  #checkOutputSize(bytes: number): void {
    const limit = this.#compiled.spec.limits.maxOutputBytes;
    if (bytes > limit) throw new OutputLimitError(`output of ${bytes} bytes is over the limit of ${limit}`, { bytes, limit });
  }

  /** Turns anything a call threw into the right typed error. */
  #classify(e: unknown, fn: string): X0tError {
    if (e instanceof X0tError) return e;
    const message = e instanceof Error ? e.message : String(e);
    // A trap with memory at its ceiling is the plugin running out of its allowance, whatever its allocator says.
    const mem = this.#exports?.memory.buffer.byteLength ?? 0;
    const slack = PAGE * Math.max(1, Math.min(16, Math.floor(this.#maxMemoryBytes / PAGE / 8)));
    if (mem > 0 && mem + slack > this.#maxMemoryBytes) {
      return new PluginMemoryLimitError(`plugin ${fn} exhausted its memory limit of ${this.#maxMemoryBytes} bytes`, {
        function: fn, memoryBytes: mem, limit: this.#maxMemoryBytes,
      });
    }
    return new PluginTrapError(`plugin ${fn} trapped: ${message}`, { function: fn, trap: message });
  }

  /** Drops the live instance (its memory becomes garbage). */
  dispose(): void {
    this.#exports = null;
    this.#stagedPtr = 0;
    this.#calls.clear();
    this.#u8 = new Uint8Array(0);
  }
}

/** Copies a view of plugin memory out before the next call can overwrite it. */
function copyOut(view: Uint8Array, into: Uint8Array | undefined): Uint8Array {
  if (into === undefined) return view.slice();
  if (view.length > into.length) {
    throw new OutputLimitError(`output of ${view.length} bytes does not fit the caller's ${into.length}-byte buffer`, {
      bytes: view.length, limit: into.length,
    });
  }
  into.set(view);
  return into.subarray(0, view.length);
}
