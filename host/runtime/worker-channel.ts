// The shared-memory call channel between the host and a plugin's worker. A call is a few Atomics operations on a
// SharedArrayBuffer rather than a postMessage round trip (~75 µs in @extism/extism's worker mode).
export const HEADER_BYTES = 64;
/** Room for an error report (a JSON WireError) whatever the output limit. */
export const ERROR_ROOM = 16 * 1024;

export const CTL = { state: 0, fn: 1, len: 2, kind: 3, instantiations: 4, op: 5, lease: 6 } as const;
/**
 * What a request asks (CTL.op). Staged input (staged-input.ts): `stage` makes a separate instance for lease CTL.lease
 * and reserves CTL.len input bytes in it, `callStaged` runs CTL.fn on them in place, `release` drops the lease.
 */
export const OP = { call: 0, stage: 1, callStaged: 2, release: 3 } as const;
export const STATE = { idle: 0, request: 1, response: 2, shutdown: 3, crashed: 4 } as const;
export const KIND = { ok: 0, error: 1 } as const;

export function channelBytes(maxInputBytes: number, maxOutputBytes: number): number {
  return HEADER_BYTES + Math.max(maxInputBytes, maxOutputBytes, ERROR_ROOM);
}

export interface WorkerBoot {
  readonly compiled: import('./compiled-plugin.js').CompiledPlugin;
  readonly sab: SharedArrayBuffer;
  /** Function names by index, as the host will send them in CTL.fn. */
  readonly functions: readonly string[];
  /**
   * The host posts here (before its first `stage` request) the shared-memory variant of the plugin that staged
   * instances run; the worker reads it synchronously (receiveMessageOnPort), since it never returns to its event loop.
   */
  readonly stagePort: import('node:worker_threads').MessagePort;
}

/** What the host posts on `stagePort`. */
export interface StageModuleMessage {
  readonly compiled: import('./compiled-plugin.js').CompiledPlugin;
}

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'boot-failed'; error: import('../errors/index.js').WireError }
  | { type: 'log'; level: import('./extism-kernel.js').LogLevel; message: string }
  /** A lease's instance is ready: its input goes at `offset` in `memory` (the instance's shared linear memory). */
  | { type: 'staged'; lease: number; memory: SharedArrayBuffer; offset: number };
