// Runs inside a plugin's worker thread: owns the PluginEngine and serves calls from the shared-memory channel
// until told to shut down (or terminated by the host on a timeout).
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { asX0tError, InternalError, PluginClosedError } from '../errors/index.js';
import type { CompiledPlugin } from './compiled-plugin.js';
import type { LogSink } from './extism-kernel.js';
import { PluginEngine } from './plugin-engine.js';
import { CTL, HEADER_BYTES, KIND, OP, STATE, type StageModuleMessage, type WorkerBoot, type WorkerMessage } from './worker-channel.js';

const boot = workerData as WorkerBoot;
// Measured on 2 cores: polling 0.2 ms on both sides took a small call from ~40 µs (futex wake-ups) to ~3.5 µs.
const SPIN_MS = 0.2;
const port = parentPort!;
const ctl = new Int32Array(boot.sab, 0, HEADER_BYTES / 4);
const data = new Uint8Array(boot.sab, HEADER_BYTES);
const encoder = new TextEncoder();
const post = (m: WorkerMessage): void => port.postMessage(m);
const log: LogSink = (level, message) => post({ type: 'log', level, message });

const engine = new PluginEngine(boot.compiled, log);
// Staged input: one separate instance (its own shared memory) per open lease, so the lease's bytes are never
// overwritten by ordinary calls; one released instance is kept to serve the next lease without fresh page faults.
const staged = new Map<number, PluginEngine>();
let spare: PluginEngine | null = null;
let sharedCompiled: CompiledPlugin | null = null;

try {
  engine.warm();
  post({ type: 'ready' });
  serve();
} catch (e) {
  post({ type: 'boot-failed', error: asX0tError(e).toJSON() });
}

function serve(): void {
  for (;;) {
    const state = Atomics.load(ctl, CTL.state);
    if (state === STATE.shutdown) return;
    if (state !== STATE.request) {
      // Calls tend to come in bursts: poll a little before parking the thread on the futex.
      const until = performance.now() + SPIN_MS;
      while (Atomics.load(ctl, CTL.state) === state && performance.now() < until);
      if (Atomics.load(ctl, CTL.state) === state) Atomics.wait(ctl, CTL.state, state);
      continue;
    }
    const fn = boot.functions[Atomics.load(ctl, CTL.fn)] ?? '';
    const len = Atomics.load(ctl, CTL.len);
    const op = Atomics.load(ctl, CTL.op);
    try {
      // The engine copies the input into plugin memory before the call and the output straight back into the
      // channel after it, so the channel serves as both.
      const out = op === OP.call ? engine.call(fn, data.subarray(0, len), data) : serveStaged(op, Atomics.load(ctl, CTL.lease), fn, len);
      Atomics.store(ctl, CTL.len, out.length);
      Atomics.store(ctl, CTL.kind, KIND.ok);
    } catch (e) {
      const wire = encoder.encode(JSON.stringify(asX0tError(e).toJSON()));
      const n = Math.min(wire.length, data.length);
      data.set(wire.subarray(0, n), 0);
      Atomics.store(ctl, CTL.len, n);
      Atomics.store(ctl, CTL.kind, KIND.error);
    }
    Atomics.store(ctl, CTL.instantiations, engine.instantiations);
    Atomics.store(ctl, CTL.state, STATE.response);
    Atomics.notify(ctl, CTL.state);
  }
}

/** The staged-input operations; returns the call's output (empty for stage and release). */
function serveStaged(op: number, lease: number, fn: string, len: number): Uint8Array {
  switch (op) {
    case OP.stage: {
      const e = spare ?? new PluginEngine(stagedModule(), log);
      spare = null;
      const offset = e.reserveInput(len); // throws on the input or memory limit: the engine is then just dropped
      staged.set(lease, e);
      post({ type: 'staged', lease, memory: e.memoryBuffer() as SharedArrayBuffer, offset });
      return data.subarray(0, 0);
    }
    case OP.callStaged: {
      const e = staged.get(lease);
      if (e === undefined) throw new PluginClosedError(`staged input ${lease} is not open in this worker`, { lease });
      staged.delete(lease); // single use, whatever the outcome
      try {
        return e.callReserved(fn, len, data);
      } finally {
        keep(e);
      }
    }
    case OP.release: {
      const e = staged.get(lease);
      staged.delete(lease);
      if (e !== undefined) keep(e);
      return data.subarray(0, 0);
    }
    default:
      throw new InternalError(`unknown channel operation ${op}`);
  }
}

/** Keeps a finished lease's instance as the spare (a trapped one re-instantiates itself when next used). */
function keep(e: PluginEngine): void {
  if (spare === null) spare = e;
  else e.dispose();
}

function stagedModule(): CompiledPlugin {
  if (sharedCompiled === null) {
    const m = receiveMessageOnPort(boot.stagePort)?.message as StageModuleMessage | undefined;
    if (m === undefined) throw new InternalError('the host sent no staged-input module before staging');
    sharedCompiled = m.compiled;
  }
  return sharedCompiled;
}
