// A live plugin: the only thing in the runtime that must be closed. Both isolation modes implement this.
import type { PluginSpec } from '../core/plugin-spec.js';
import type { LogLevel } from './extism-kernel.js';
import type { StagedRegion } from './staged-input.js';

export interface InstanceStats {
  readonly calls: number;
  readonly errors: number;
  /** Times the sandbox was rebuilt after a trap, a timeout or a memory fault. */
  readonly restarts: number;
}

export interface PluginInstance {
  readonly spec: PluginSpec;
  readonly sha256: string;
  readonly isolation: 'worker' | 'in-thread';
  readonly functions: readonly string[];
  /** Calls started and not yet settled; a hot swap drains this to zero before closing. */
  readonly inFlight: number;
  readonly closed: boolean;
  /**
   * Runs `fn` with raw input bytes; resolves with a copy of the output — in `into` (as a subarray of it) when
   * given, else in a new buffer. Rejects with an X0tError.
   */
  call(fn: string, input: Uint8Array, into?: Uint8Array): Promise<Uint8Array>;
  /**
   * Reserves `byteLength` input bytes in a separate instance of the plugin for the caller to write in place
   * (staged-input.ts; callers go through Slot.stage). Rejects with UnsupportedError when the plugin has no fast path.
   */
  stage?(byteLength: number): Promise<StagedRegion>;
  stats(): InstanceStats;
  /** Resolves once no call is in flight. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export type PluginLogSink = (plugin: string, level: LogLevel, message: string) => void;

export interface InstantiateOptions {
  readonly log?: PluginLogSink;
}

export const defaultLogSink: PluginLogSink = (plugin, level, message) => {
  if (level === 'error' || level === 'warn') process.emitWarning(`[plugin ${plugin}] ${level}: ${message}`);
};
