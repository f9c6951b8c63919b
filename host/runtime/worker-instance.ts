// `worker` isolation: the plugin runs in its own thread. A call that overruns its timeout terminates the thread
// (V8 interrupts even a tight wasm loop) and a fresh worker is started from the already-compiled module, so the
// host's event loop never waits on a plugin.
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import {
  asX0tError, errorFromWire, FunctionNotFoundError, InputLimitError, InternalError, OutputLimitError, PluginClosedError,
  PluginMemoryLimitError,
  PluginTimeoutError, PluginTrapError, UnsupportedError, type WireError, type X0tError,
} from '../errors/index.js';
import { compilePlugin, type CompiledPlugin } from './compiled-plugin.js';
import { defaultLogSink, type InstanceStats, type InstantiateOptions, type PluginInstance } from './plugin-instance.js';
import type { StagedRegion } from './staged-input.js';
import {
  channelBytes, CTL, HEADER_BYTES, KIND, OP, STATE, type StageModuleMessage, type WorkerBoot, type WorkerMessage,
} from './worker-channel.js';

/** How long the host polls for a quick answer before yielding to the event loop (blocks it at most this long). */
const SPIN_MS = 0.2;
/**
 * A call that usually takes less than this is then waited for with a blocking futex sleep (no CPU burnt) before
 * falling back to an event-loop wait: handing a finished call back through the event loop costs 50–120 µs, which
 * is 10–20 % of a millisecond-long call such as an ML-DSA signature. The event loop is blocked at most this long,
 * as it would be by the same call run in-thread; functions that usually take longer skip the sleep.
 */
const SYNC_WAIT_MS = 2;
const WORKER_HEAP_MB = 32;
/** A worker must be up (thread started, module instantiated, start function done) within the call timeout + this. */
const START_GRACE_MS = 2000;

interface Job {
  /** What to ask the worker (OP); staged-input jobs carry their lease. */
  readonly op: number;
  /** Function index, -1 for stage and release. */
  readonly fn: number;
  readonly name: string;
  /** The input; for `callStaged` the lease's view of it (still readable if its worker is gone). */
  readonly input: Uint8Array;
  /** Bytes to reserve (`stage`). */
  readonly len: number;
  readonly lease: number;
  /** The worker generation the lease lives in (0 for call and stage). */
  readonly generation: number;
  readonly into: Uint8Array | undefined;
  readonly resolve: (out: Uint8Array) => void;
  readonly reject: (e: X0tError) => void;
}

type StagedMessage = Extract<WorkerMessage, { type: 'staged' }>;
const NO_BYTES = new Uint8Array(0);

export class WorkerInstance implements PluginInstance {
  readonly isolation = 'worker' as const;
  readonly #compiled: CompiledPlugin;
  readonly #log: NonNullable<InstantiateOptions['log']>;
  readonly #fnIndex: Map<string, number>;
  // A fresh channel per worker, so a terminated worker that is still winding down cannot write into its successor's.
  #ctl: Int32Array<SharedArrayBuffer> = new Int32Array(new SharedArrayBuffer(64));
  #data: Uint8Array<SharedArrayBuffer> = new Uint8Array(new SharedArrayBuffer(0));
  #restartsInWorker = 0;
  /** Counts workers that reached 'ready': a staged lease lives in one of them and dies with it. */
  #generation = 0;
  #stagePort: MessagePort | null = null;
  #stageModuleSent = false;
  /** The shared-memory variant staged instances run, compiled on the first lease. */
  #shared: CompiledPlugin | null = null;
  #nextLease = 1;
  /** Stage requests waiting for their instance's memory, with the generation of the worker that sent it. */
  readonly #stagedWaiters = new Map<number, (m: StagedMessage, generation: number) => void>();
  readonly #decoder = new TextDecoder();
  #worker: Worker | null = null;
  #starting: Promise<void> | null = null;
  #queue: Job[] = [];
  #running = false;
  #closed = false;
  #calls = 0;
  #errors = 0;
  #restarts = 0;
  #inFlight = 0;
  #drained: (() => void)[] = [];
  /** Per function: a moving average of recent call durations (ms), to choose how to wait. */
  readonly #typicalMs: Float64Array;

  private constructor(compiled: CompiledPlugin, opts: InstantiateOptions) {
    this.#compiled = compiled;
    this.#log = opts.log ?? defaultLogSink;
    this.#fnIndex = new Map(compiled.functions.map((f, i) => [f, i]));
    this.#typicalMs = new Float64Array(compiled.functions.length);
  }

  /** Starts the worker and waits until the plugin is instantiated in it (start-up faults reject here). */
  static async start(compiled: CompiledPlugin, opts: InstantiateOptions = {}): Promise<WorkerInstance> {
    const inst = new WorkerInstance(compiled, opts);
    await inst.#spawn();
    return inst;
  }

  get spec() { return this.#compiled.spec; }
  get sha256() { return this.#compiled.sha256; }
  get functions() { return this.#compiled.functions; }
  get closed() { return this.#closed; }
  get inFlight() { return this.#inFlight; }

  #spawn(): Promise<void> {
    if (this.#starting) return this.#starting;
    const { maxInputBytes, maxOutputBytes } = this.spec.limits;
    const sab = new SharedArrayBuffer(channelBytes(maxInputBytes, maxOutputBytes));
    const ctl = new Int32Array(sab, 0, HEADER_BYTES / 4);
    const data = new Uint8Array(sab, HEADER_BYTES);
    const { port1: stagePort, port2 } = new MessageChannel();
    stagePort.unref();
    const boot: WorkerBoot = { compiled: this.#compiled, sab, functions: this.#compiled.functions, stagePort: port2 };
    const worker = new Worker(new URL('./worker-entry.js', import.meta.url), {
      workerData: boot,
      transferList: [port2],
      resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: 8, stackSizeMb: 4 },
      stdout: false,
      stderr: false,
    });
    worker.unref();
    this.#starting = new Promise<void>((resolve, reject) => {
      // A start function is plugin code too: one that never returns must not leave the caller (a swap, say) waiting.
      const startMs = this.spec.limits.callTimeoutMs + START_GRACE_MS;
      const startTimer = setTimeout(() => {
        void worker.terminate();
        reject(new PluginTimeoutError(`plugin ${this.spec.name} did not start within ${startMs} ms and was stopped`, {
          function: '(start)', timeoutMs: startMs,
        }));
      }, startMs);
      startTimer.unref();
      let generation = 0;
      worker.on('message', (m: WorkerMessage) => {
        if (m.type !== 'log') clearTimeout(startTimer);
        if (m.type === 'log') this.#log(this.spec.name, m.level, m.message);
        else if (m.type === 'staged') this.#stagedWaiters.get(m.lease)?.(m, generation);
        else if (m.type === 'ready') {
          this.#worker = worker;
          this.#ctl = ctl;
          this.#data = data;
          this.#stagePort?.close();
          this.#stagePort = stagePort;
          this.#stageModuleSent = false;
          generation = ++this.#generation;
          this.#restarts += this.#restartsInWorker; // keep the count the previous worker had made
          this.#restartsInWorker = 0;
          resolve();
        } else if (m.type === 'boot-failed') {
          void worker.terminate();
          reject(errorFromWire(m.error));
        }
      });
      worker.on('error', (e) => {
        clearTimeout(startTimer);
        const err = (e as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? new PluginMemoryLimitError(`plugin ${this.spec.name}'s worker ran out of heap`, {}, { cause: e })
          : new PluginTrapError(`plugin ${this.spec.name}'s worker failed: ${e.message}`, {}, { cause: e });
        reject(err);
        this.#onWorkerGone(worker);
      });
      worker.on('exit', () => this.#onWorkerGone(worker));
    }).finally(() => {
      this.#starting = null;
    });
    return this.#starting;
  }

  /** The worker died under us: wake any waiting call so it fails now rather than at its timeout. */
  #onWorkerGone(worker: Worker): void {
    if (this.#worker !== worker) return;
    this.#worker = null;
    if (Atomics.load(this.#ctl, CTL.state) === STATE.request) {
      Atomics.store(this.#ctl, CTL.state, STATE.crashed);
      Atomics.notify(this.#ctl, CTL.state);
    }
  }

  call(fn: string, input: Uint8Array, into?: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new PluginClosedError(`plugin ${this.spec.name} is closed`));
    const index = this.#fnIndex.get(fn);
    if (index === undefined) {
      return Promise.reject(new FunctionNotFoundError(`plugin ${this.spec.name} has no function ${fn}`, {
        function: fn, available: this.functions,
      }));
    }
    const { maxInputBytes } = this.spec.limits;
    if (input.length > maxInputBytes) {
      return Promise.reject(new InputLimitError(
        `input of ${input.length} bytes is over ${this.spec.name}'s limit of ${maxInputBytes}`,
        { bytes: input.length, limit: maxInputBytes },
      ));
    }
    return this.#enqueue({ op: OP.call, fn: index, name: fn, input, len: input.length, lease: 0, generation: 0, into });
  }

  #enqueue(j: Omit<Job, 'resolve' | 'reject'>): Promise<Uint8Array> {
    this.#inFlight++;
    return new Promise<Uint8Array>((resolve, reject) => {
      // An explicit literal, not a spread: jobs of one shape keep #run fast (the spread cost ~5 µs per small call).
      this.#queue.push({
        op: j.op, fn: j.fn, name: j.name, input: j.input, len: j.len, lease: j.lease, generation: j.generation, into: j.into,
        resolve, reject,
      });
      if (!this.#running) void this.#pump();
    });
  }

  /**
   * Staged input (staged-input.ts): a separate instance of the plugin in this worker, compiled with shared memory,
   * whose input buffer of `byteLength` bytes the caller writes directly. The lease lives in the current worker: if
   * that worker is replaced (a timeout, a crash) or this instance closed, `live()` turns false and a call falls back
   * to copying the still-readable bytes through the channel.
   */
  async stage(byteLength: number): Promise<StagedRegion> {
    if (this.#closed) throw new PluginClosedError(`plugin ${this.spec.name} is closed`);
    const { maxInputBytes } = this.spec.limits;
    if (!Number.isSafeInteger(byteLength) || byteLength < 0 || byteLength > maxInputBytes) {
      throw new InputLimitError(`staged input of ${byteLength} bytes is over ${this.spec.name}'s limit of ${maxInputBytes}`, {
        bytes: byteLength, limit: maxInputBytes,
      });
    }
    if (!this.#compiled.fastPath) {
      throw new UnsupportedError(`plugin ${this.spec.name} has no x0t fast path to stage input in`, { plugin: this.spec.name });
    }
    // The shared-memory variant is compiled (hash and imports re-checked) once, on the first lease.
    if (this.#shared === null) {
      try {
        this.#shared = await compilePlugin(this.spec, undefined, { sharedMemory: true });
      } catch (e) {
        throw asX0tError(e);
      }
    }
    const lease = this.#nextLease++;
    const posted = new Promise<[StagedMessage, number]>((resolve) => {
      this.#stagedWaiters.set(lease, (m, generation) => resolve([m, generation]));
    });
    try {
      await this.#enqueue({ op: OP.stage, fn: -1, name: '(stage)', input: NO_BYTES, len: byteLength, lease, generation: 0, into: undefined });
      // The worker posts the memory before it answers, so the message is already on its way.
      const [m, generation] = await withTimeout(posted, this.spec.limits.callTimeoutMs + START_GRACE_MS, () => new PluginTrapError(
        `plugin ${this.spec.name}'s worker did not hand over staged input ${lease}`, { lease },
      ));
      return this.#region(lease, m, byteLength, generation);
    } finally {
      this.#stagedWaiters.delete(lease);
    }
  }

  #region(lease: number, m: StagedMessage, byteLength: number, generation: number): StagedRegion {
    const bytes = new Uint8Array(m.memory, m.offset, byteLength);
    const live = (): boolean => !this.#closed && this.#worker !== null && this.#generation === generation;
    let open = true;
    return {
      bytes,
      inPlace: true,
      live,
      call: (fn, into) => {
        const index = this.#fnIndex.get(fn);
        if (index === undefined) {
          return Promise.reject(new FunctionNotFoundError(`plugin ${this.spec.name} has no function ${fn}`, {
            function: fn, available: this.functions,
          }));
        }
        open = false; // the worker drops the lease when it runs the call
        return this.#enqueue({ op: OP.callStaged, fn: index, name: fn, input: bytes, len: byteLength, lease, generation, into });
      },
      release: async () => {
        if (!open) return;
        open = false;
        if (!live()) return;
        await this.#enqueue({ op: OP.release, fn: -1, name: '(release)', input: NO_BYTES, len: 0, lease, generation, into: undefined })
          .catch(() => undefined); // a closed or replaced worker has dropped the lease already
      },
    };
  }

  async #pump(): Promise<void> {
    this.#running = true;
    try {
      for (let job = this.#queue.shift(); job !== undefined; job = this.#queue.shift()) {
        const counted = job.op === OP.call || job.op === OP.callStaged;
        if (counted) this.#calls++;
        try {
          job.resolve(await this.#run(job));
        } catch (e) {
          if (counted) this.#errors++;
          job.reject(e as X0tError);
        } finally {
          this.#settled();
        }
      }
    } finally {
      this.#running = false;
    }
  }

  #settled(): void {
    this.#inFlight--;
    if (this.#inFlight === 0) for (const d of this.#drained.splice(0)) d();
  }

  async #run(job: Job): Promise<Uint8Array> {
    if (this.#worker === null) await this.#spawn();
    if (this.#closed) throw new PluginClosedError(`plugin ${this.spec.name} is closed`);
    const ctl = this.#ctl;
    let op = job.op;
    if (op !== OP.call && op !== OP.stage && job.generation !== this.#generation) {
      // The lease's worker is gone: a call copies the bytes it still holds through the channel, a release is moot.
      if (op === OP.release) return NO_BYTES;
      op = OP.call;
    }
    if (op === OP.stage && !this.#stageModuleSent) {
      const m: StageModuleMessage = { compiled: this.#shared! };
      this.#stagePort!.postMessage(m);
      this.#stageModuleSent = true;
    }
    if (op === OP.call) this.#data.set(job.input, 0);
    Atomics.store(ctl, CTL.op, op);
    Atomics.store(ctl, CTL.lease, job.lease);
    Atomics.store(ctl, CTL.fn, Math.max(0, job.fn));
    Atomics.store(ctl, CTL.len, op === OP.stage ? job.len : job.input.length);
    Atomics.store(ctl, CTL.state, STATE.request);
    Atomics.notify(ctl, CTL.state);

    // Most calls finish in microseconds: poll for them briefly in place (cheaper than a futex round trip), then
    // yield to the event loop until the deadline. Wake-ups are re-checked: only the state word is trusted.
    const started = performance.now();
    const deadline = started + this.spec.limits.callTimeoutMs;
    const spinUntil = started + SPIN_MS;
    while (Atomics.load(ctl, CTL.state) === STATE.request && performance.now() < spinUntil);
    if (Atomics.load(ctl, CTL.state) === STATE.request && job.fn >= 0 && this.#typicalMs[job.fn]! < SYNC_WAIT_MS) {
      const budget = Math.min(started + SYNC_WAIT_MS, deadline) - performance.now();
      if (budget > 0) Atomics.wait(ctl, CTL.state, STATE.request, budget);
    }
    for (;;) {
      if (Atomics.load(ctl, CTL.state) !== STATE.request) break;
      const remaining = deadline - performance.now();
      if (remaining <= 0) break;
      const waited = Atomics.waitAsync(ctl, CTL.state, STATE.request, remaining);
      if (waited.async) await waited.value;
    }
    const state = Atomics.load(ctl, CTL.state);
    const took = performance.now() - started;
    if (job.fn >= 0) {
      const typical = this.#typicalMs[job.fn]!;
      this.#typicalMs[job.fn] = typical === 0 ? took : typical * 0.75 + took * 0.25;
    }
    if (state === STATE.request) return this.#timeout(job);
    if (state === STATE.crashed) {
      this.#restarts++;
      throw new PluginTrapError(`plugin ${this.spec.name}'s worker died during ${job.name}`, { function: job.name });
    }
    const len = Atomics.load(ctl, CTL.len);
    const kind = Atomics.load(ctl, CTL.kind);
    const instantiations = Atomics.load(ctl, CTL.instantiations);
    this.#restartsInWorker = Math.max(0, instantiations - 1);
    try {
      if (kind !== KIND.ok) throw this.#decodeError(this.#data.subarray(0, len));
      if (job.into === undefined) return this.#data.slice(0, len);
      if (len > job.into.length) {
        throw new OutputLimitError(`output of ${len} bytes does not fit the caller's ${job.into.length}-byte buffer`, {
          bytes: len, limit: job.into.length,
        });
      }
      job.into.set(this.#data.subarray(0, len));
      return job.into.subarray(0, len);
    } finally {
      Atomics.store(ctl, CTL.state, STATE.idle);
    }
  }

  #timeout(job: Job): never {
    const worker = this.#worker;
    this.#worker = null;
    this.#restarts++;
    if (worker) void worker.terminate();
    // Start the replacement now so the next call does not pay for it.
    if (!this.#closed) this.#spawn().catch(() => undefined);
    throw new PluginTimeoutError(
      `plugin ${this.spec.name} ${job.name} ran past its ${this.spec.limits.callTimeoutMs} ms timeout and was stopped`,
      { function: job.name, timeoutMs: this.spec.limits.callTimeoutMs },
    );
  }

  #decodeError(bytes: Uint8Array): X0tError {
    try {
      return errorFromWire(JSON.parse(this.#decoder.decode(bytes)) as WireError);
    } catch {
      return new InternalError(`plugin ${this.spec.name} reported an unreadable error`);
    }
  }

  stats(): InstanceStats {
    return { calls: this.#calls, errors: this.#errors, restarts: this.#restarts + this.#restartsInWorker };
  }

  /** Resolves once no call is in flight. */
  drain(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drained.push(resolve));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const job of this.#queue.splice(0)) {
      job.reject(new PluginClosedError(`plugin ${this.spec.name} was closed before ${job.name} ran`));
      this.#settled();
    }
    await this.#starting?.catch(() => undefined);
    const worker = this.#worker;
    this.#worker = null;
    this.#stagePort?.close();
    this.#stagePort = null;
    if (worker) {
      // A call still running is told its worker is gone rather than left to wait for its timeout.
      const running = Atomics.load(this.#ctl, CTL.state) === STATE.request;
      Atomics.store(this.#ctl, CTL.state, running ? STATE.crashed : STATE.shutdown);
      Atomics.notify(this.#ctl, CTL.state);
      await worker.terminate();
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, err: () => X0tError): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(err()), ms); });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
