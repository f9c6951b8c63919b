// Our implementation of the Extism kernel ABI (`extism:host/env`): the host-side memory that plugins built with any
// Extism PDK use for their input, output, errors, config and vars. It is written for this host (rather than using
// @extism/extism's) so it can enforce limits, reuse one arena across calls (1.0.3 fails every call from the
// 16,384th on without a reset), and run inside our worker with no round trip to the main thread.
import { PluginMemoryLimitError, PluginTrapError } from '../errors/index.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type LogSink = (level: LogLevel, message: string) => void;

const LOG_LEVEL_NUMBERS: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };
const VAR_BYTES_LIMIT = 1024 * 1024;
const FIRST_OFFSET = 8; // offset 0 means "none" in the ABI

/**
 * A bump arena with per-call reset. Blocks are addressed by their byte offset (as the native Extism kernel does), so
 * PDKs that compute `offset + i` for byte-wise loads work. `free` of the last block rolls the top back; other frees
 * are reclaimed at the end of the call.
 */
export class ExtismKernel {
  #buf: Uint8Array;
  #view: DataView;
  #top = FIRST_OFFSET;
  readonly #lengths = new Map<number, number>();
  readonly #maxBytes: number;
  #inputOffset = 0;
  #inputLength = 0;
  #outputOffset = 0;
  #outputLength = 0;
  #errorOffset = 0;
  readonly #vars = new Map<string, Uint8Array>();
  #varBytes = 0;
  readonly #decoder = new TextDecoder('utf-8', { fatal: false });
  readonly #encoder = new TextEncoder();

  constructor(
    maxBytes: number,
    private readonly config: Readonly<Record<string, string>>,
    private readonly log: LogSink,
    private readonly logLevel: LogLevel = 'info',
  ) {
    this.#maxBytes = maxBytes;
    this.#buf = new Uint8Array(Math.min(64 * 1024, maxBytes));
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Starts a call: resets the arena and places the input in it. */
  begin(input: Uint8Array): void {
    this.#top = FIRST_OFFSET;
    this.#lengths.clear();
    this.#outputOffset = 0;
    this.#outputLength = 0;
    this.#errorOffset = 0;
    this.#inputOffset = this.alloc(input.length);
    this.#inputLength = input.length;
    this.#buf.set(input, this.#inputOffset);
  }

  /** A view of the output the plugin set (valid until the next call; empty if it set none). */
  outputView(): Uint8Array {
    if (this.#outputOffset === 0) return new Uint8Array(0);
    return this.#buf.subarray(this.#outputOffset, this.#outputOffset + this.#outputLength);
  }

  outputLength(): number {
    return this.#outputOffset === 0 ? 0 : this.#outputLength;
  }

  /** The message the plugin passed to `error_set`, or null. */
  errorMessage(): string | null {
    if (this.#errorOffset === 0) return null;
    return this.#decoder.decode(this.#block(this.#errorOffset));
  }

  alloc(n: number): number {
    const size = Math.max(0, n);
    const offset = this.#top;
    const end = (offset + size + 7) & ~7;
    if (end > this.#maxBytes) {
      throw new PluginMemoryLimitError(`kernel memory limit of ${this.#maxBytes} bytes reached`, {
        requested: size,
        maxBytes: this.#maxBytes,
      });
    }
    if (end > this.#buf.length) this.#grow(end);
    this.#top = end;
    this.#lengths.set(offset, size);
    return offset;
  }

  #grow(minBytes: number): void {
    let size = this.#buf.length;
    while (size < minBytes) size *= 2;
    const next = new Uint8Array(Math.min(size, this.#maxBytes));
    next.set(this.#buf.subarray(0, this.#top));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  #check(offset: number, width: number): void {
    if (offset < FIRST_OFFSET || offset + width > this.#top) {
      throw new PluginTrapError(`kernel memory access out of bounds at ${offset} (+${width})`, { offset, width });
    }
  }

  #block(offset: number): Uint8Array {
    const len = this.#lengths.get(offset);
    if (len === undefined) throw new PluginTrapError(`no kernel memory block at offset ${offset}`, { offset });
    return this.#buf.subarray(offset, offset + len);
  }

  #store(bytes: Uint8Array): bigint {
    const off = this.alloc(bytes.length);
    this.#buf.set(bytes, off);
    return BigInt(off);
  }

  /** The `extism:host/env` functions that every plugin gets. */
  coreImports(): Record<string, (...args: never[]) => unknown> {
    return {
      alloc: (n: bigint): bigint => BigInt(this.alloc(Number(n))),
      free: (offset: bigint): void => {
        const off = Number(offset);
        const len = this.#lengths.get(off);
        if (len === undefined) return;
        this.#lengths.delete(off);
        if (((off + len + 7) & ~7) === this.#top) this.#top = off; // only the newest block rolls back
      },
      length: (offset: bigint): bigint => BigInt(this.#lengths.get(Number(offset)) ?? 0),
      length_unsafe: (offset: bigint): bigint => BigInt(this.#lengths.get(Number(offset)) ?? 0),
      load_u8: (offset: bigint): number => {
        const off = Number(offset);
        this.#check(off, 1);
        return this.#buf[off]!;
      },
      load_u64: (offset: bigint): bigint => {
        const off = Number(offset);
        this.#check(off, 8);
        return this.#view.getBigUint64(off, true);
      },
      store_u8: (offset: bigint, value: number): void => {
        const off = Number(offset);
        this.#check(off, 1);
        this.#buf[off] = value;
      },
      store_u64: (offset: bigint, value: bigint): void => {
        const off = Number(offset);
        this.#check(off, 8);
        this.#view.setBigUint64(off, value, true);
      },
      input_offset: (): bigint => BigInt(this.#inputOffset),
      input_length: (): bigint => BigInt(this.#inputLength),
      input_load_u8: (offset: bigint): number => {
        const rel = Number(offset);
        if (rel < 0 || rel >= this.#inputLength) throw new PluginTrapError(`input read out of bounds at ${rel}`);
        return this.#buf[this.#inputOffset + rel]!;
      },
      input_load_u64: (offset: bigint): bigint => {
        const rel = Number(offset);
        // PDKs read the tail of the input 8 bytes at a time; the arena is 8-aligned so the over-read stays inside it.
        if (rel < 0 || rel >= this.#inputLength) throw new PluginTrapError(`input read out of bounds at ${rel}`);
        return this.#view.getBigUint64(this.#inputOffset + rel, true);
      },
      output_set: (offset: bigint, length: bigint): void => {
        const off = Number(offset);
        const len = Number(length);
        const blockLen = this.#lengths.get(off);
        if (blockLen === undefined || len > blockLen) {
          throw new PluginTrapError(`output_set on an invalid block (offset ${off}, length ${len})`);
        }
        this.#outputOffset = off;
        this.#outputLength = len;
      },
      error_set: (offset: bigint): void => {
        const off = Number(offset);
        if (off !== 0) this.#block(off);
        this.#errorOffset = off;
      },
      error_get: (): bigint => BigInt(this.#errorOffset),
    };
  }

  /** `log_*` and `get_log_level`, granted by the `log` permission. */
  logImports(): Record<string, (...args: never[]) => unknown> {
    const at = (level: LogLevel) => (offset: bigint): void => {
      if (LOG_LEVEL_NUMBERS[level] < LOG_LEVEL_NUMBERS[this.logLevel]) return;
      this.log(level, this.#decoder.decode(this.#block(Number(offset))));
    };
    return {
      log_trace: at('trace'),
      log_debug: at('debug'),
      log_info: at('info'),
      log_warn: at('warn'),
      log_error: at('error'),
      get_log_level: (): number => LOG_LEVEL_NUMBERS[this.logLevel],
    };
  }

  /** `config_get`, granted by the `config` permission. */
  configImports(): Record<string, (...args: never[]) => unknown> {
    return {
      config_get: (offset: bigint): bigint => {
        const key = this.#decoder.decode(this.#block(Number(offset)));
        const value = Object.hasOwn(this.config, key) ? this.config[key] : undefined;
        return value === undefined ? 0n : this.#store(this.#encoder.encode(value));
      },
    };
  }

  /** `var_get`/`var_set`: per-instance state that outlives a call, capped at 1 MiB in all. */
  varImports(): Record<string, (...args: never[]) => unknown> {
    return {
      var_get: (offset: bigint): bigint => {
        const value = this.#vars.get(this.#decoder.decode(this.#block(Number(offset))));
        return value === undefined ? 0n : this.#store(value);
      },
      var_set: (keyOffset: bigint, valueOffset: bigint): void => {
        const key = this.#decoder.decode(this.#block(Number(keyOffset)));
        const old = this.#vars.get(key);
        const next = valueOffset === 0n ? undefined : this.#block(Number(valueOffset)).slice();
        const delta = (next?.length ?? 0) - (old?.length ?? 0);
        if (this.#varBytes + delta > VAR_BYTES_LIMIT) {
          throw new PluginMemoryLimitError(`plugin vars over ${VAR_BYTES_LIMIT} bytes`, { key });
        }
        this.#varBytes += delta;
        if (next === undefined) this.#vars.delete(key);
        else this.#vars.set(key, next);
      },
    };
  }
}
