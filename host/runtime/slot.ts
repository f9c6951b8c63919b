// A capability slot: the typed place every caller goes through to reach "the aggregator" or "the signer", whatever
// plugin version currently fills it. The decisions (when to switch, roll back, close) are SlotLifecycle's; this
// driver does the I/O: loading, self-testing, routing calls, draining and closing instances.
import { LatencyWindow } from '../core/latency-window.js';
import type { PluginSpec } from '../core/plugin-spec.js';
import {
  SlotLifecycle, type BreakerPolicy, type LifecycleEffect, type LifecycleEvent, type SwapRecord, type VersionRef,
} from '../core/slot-lifecycle.js';
import { CAPABILITIES, type CapabilityName } from '../../sdk/abi/generated/contract.js';
import { runConformance } from '../../sdk/abi/conformance/index.js';
import {
  asX0tError, CapabilityMismatchError, InputLimitError, SelfTestFailedError, SlotUnavailableError, SwapRejectedError,
  UnsupportedError, X0tError,
} from '../errors/index.js';
import { compilePlugin, type CompiledPlugin } from './compiled-plugin.js';
import { instantiate } from './instantiate.js';
import type { PluginInstance, PluginLogSink } from './plugin-instance.js';
import { hostBufferRegion, StagedInput, type StagedRegion } from './staged-input.js';

export interface SlotOptions {
  readonly breaker: BreakerPolicy;
  /** Run the capability's conformance kit on every version before it is switched in. */
  readonly selfTest: boolean;
  readonly drainTimeoutMs: number;
  readonly log?: PluginLogSink;
  readonly now?: () => number;
}

export const DEFAULT_SLOT_OPTIONS: SlotOptions = {
  breaker: { failureThreshold: 5, windowMs: 10_000, observeMs: 30_000 },
  selfTest: true,
  drainTimeoutMs: 5_000,
};

interface Loaded {
  readonly ref: VersionRef;
  readonly spec: PluginSpec;
  compiled: CompiledPlugin | null;
  instance: PluginInstance | null;
  prepared: Promise<void> | null;
}

export interface SlotInfo {
  readonly name: string;
  readonly capability: string;
  readonly phase: string;
  readonly plugin: {
    readonly name: string; readonly version: string; readonly sha256: string; readonly isolation: string;
    readonly manifest: string | null;
  };
  readonly standby: string | null;
  readonly calls: number;
  readonly errors: number;
  readonly restarts: number;
  readonly latencyMs: { readonly p50: number | null; readonly p99: number | null };
  readonly lastError: { readonly code: string; readonly message: string } | null;
  readonly history: readonly SwapRecord[];
}

export class Slot {
  readonly name: string;
  readonly capability: CapabilityName;
  readonly #opts: SlotOptions;
  readonly #lifecycle: SlotLifecycle;
  readonly #versions = new Map<number, Loaded>();
  readonly #latency = new LatencyWindow();
  readonly #now: () => number;
  #nextId = 1;
  #active: Loaded | null = null;
  #calls = 0;
  #errors = 0;
  #lastError: X0tError | null = null;
  #observeTimer: NodeJS.Timeout | null = null;
  #closed = false;
  /** Settles the caller of swap() for a version id. */
  readonly #swapWaiters = new Map<number, { resolve: (r: SwapRecord) => void; reject: (e: X0tError) => void }>();

  private constructor(name: string, capability: CapabilityName, opts: SlotOptions) {
    this.name = name;
    this.capability = capability;
    this.#opts = opts;
    this.#lifecycle = new SlotLifecycle(opts.breaker);
    this.#now = opts.now ?? Date.now;
  }

  /** Loads, self-tests and starts serving `spec` in a new slot. */
  static async open(name: string, capability: string, spec: PluginSpec, opts: SlotOptions = DEFAULT_SLOT_OPTIONS): Promise<Slot> {
    if (!Object.hasOwn(CAPABILITIES, capability)) {
      throw new CapabilityMismatchError(`unknown capability ${capability}`, { slot: name, capability });
    }
    const slot = new Slot(name, capability as CapabilityName, opts);
    const loaded = slot.#register(spec);
    try {
      await slot.#prepare(loaded);
      if (opts.selfTest) await slot.#selfTest(loaded);
    } catch (e) {
      // The instance (a worker thread, when isolated) would otherwise outlive the failed open and keep the process up.
      await loaded.instance?.close();
      throw e;
    }
    await slot.#dispatch({ type: 'opened', version: loaded.ref });
    return slot;
  }

  get spec(): PluginSpec {
    return this.#current().spec;
  }

  get instance(): PluginInstance {
    return this.#current().instance!;
  }

  #current(): Loaded {
    if (this.#active === null || this.#closed) throw new SlotUnavailableError(`slot ${this.name} has no plugin`, { slot: this.name });
    return this.#active;
  }

  /** Routes a call to the active version. Failures feed the circuit breaker. */
  async call(fn: string, input: Uint8Array, into?: Uint8Array): Promise<Uint8Array> {
    const v = this.#current();
    return this.#observe(v, () => v.instance!.call(fn, input, into));
  }

  /**
   * Leases `byteLength` bytes of input in the active version's plugin memory, for the caller to write a call's input
   * in place (see staged-input.ts); limits are those of an ordinary call. Always `release()` the lease in `finally`.
   * Plugins without the x0t fast path get a host buffer that the call copies (lease.path === 'copied').
   */
  async stage(byteLength: number): Promise<StagedInput> {
    const v = this.#current();
    const limit = v.spec.limits.maxInputBytes;
    if (!Number.isSafeInteger(byteLength) || byteLength < 0 || byteLength > limit) {
      throw new InputLimitError(`staged input of ${byteLength} bytes is over ${v.spec.name}'s limit of ${limit}`, {
        bytes: byteLength, limit,
      });
    }
    const inst = v.instance!;
    let region: StagedRegion;
    try {
      if (inst.stage === undefined) throw new UnsupportedError(`${inst.isolation} instances cannot stage input`);
      region = await inst.stage(byteLength);
    } catch (e) {
      if (!(e instanceof UnsupportedError)) throw asX0tError(e);
      region = hostBufferRegion(byteLength, (fn, input, into) => this.call(fn, input, into));
    }
    return new StagedInput(region, {
      current: () => this.#active === v && !this.#closed,
      observe: (run) => this.#observe(v, run),
      call: (fn, input, into) => this.call(fn, input, into),
    });
  }

  /** Times a call on version `v` and feeds a failure to the circuit breaker. */
  async #observe(v: Loaded, run: () => Promise<Uint8Array>): Promise<Uint8Array> {
    const t0 = performance.now();
    this.#calls++;
    try {
      const out = await run();
      this.#latency.record(performance.now() - t0);
      return out;
    } catch (e) {
      const err = asX0tError(e);
      this.#errors++;
      this.#lastError = err;
      this.#latency.record(performance.now() - t0);
      await this.#dispatch({ type: 'call-failed', version: v.ref, code: err.code });
      throw err;
    }
  }

  /**
   * Hot swap: load `spec`, self-test it, switch atomically, drain the old version. Resolves with the swap record;
   * rejects (SwapRejectedError / SelfTestFailedError / the load error) when the slot keeps its current version.
   */
  swap(spec: PluginSpec): Promise<SwapRecord> {
    if (this.#closed) return Promise.reject(new SlotUnavailableError(`slot ${this.name} is closed`));
    const loaded = this.#register(spec);
    const settled = new Promise<SwapRecord>((resolve, reject) => this.#swapWaiters.set(loaded.ref.id, { resolve, reject }));
    void this.#dispatch({ type: 'swap-requested', version: loaded.ref });
    return settled;
  }

  #register(spec: PluginSpec): Loaded {
    const id = this.#nextId++;
    const ref: VersionRef = { id, label: `${spec.name}@${spec.version}#${spec.wasm.sha256.slice(0, 8)}` };
    const loaded: Loaded = { ref, spec, compiled: null, instance: null, prepared: null };
    this.#versions.set(id, loaded);
    return loaded;
  }

  async #prepare(v: Loaded): Promise<void> {
    v.prepared ??= (async () => {
      if (v.spec.capability !== this.capability) {
        throw new CapabilityMismatchError(
          `plugin ${v.spec.name} provides ${v.spec.capability}, slot ${this.name} needs ${this.capability}`,
          { slot: this.name, plugin: v.spec.name, capability: v.spec.capability },
        );
      }
      v.compiled = await compilePlugin(v.spec);
      const missing = (CAPABILITIES[this.capability].functionNames as readonly string[]).filter((f) => !v.compiled!.functions.includes(f));
      if (missing.length > 0) {
        throw new CapabilityMismatchError(`plugin ${v.spec.name} lacks ${this.capability} functions: ${missing.join(', ')}`, {
          slot: this.name, missing,
        });
      }
      v.instance = await instantiate(v.compiled, this.#opts.log ? { log: this.#opts.log } : {});
    })();
    return v.prepared;
  }

  async #selfTest(v: Loaded): Promise<void> {
    try {
      await runConformance(this.capability, (fn, input) => v.instance!.call(fn, input));
    } catch (e) {
      const err = asX0tError(e);
      throw err instanceof SelfTestFailedError
        ? err
        : new SelfTestFailedError(`${v.ref.label} failed the ${this.capability} self-test: ${err.message}`, {
          cause: err.code,
        });
    }
  }

  async #dispatch(event: LifecycleEvent): Promise<void> {
    const effects = this.#lifecycle.step(event, this.#now());
    for (const effect of effects) await this.#perform(effect);
  }

  async #perform(effect: LifecycleEffect): Promise<void> {
    const v = this.#versions.get('version' in effect ? effect.version.id : 0);
    switch (effect.type) {
      case 'load':
        try {
          await this.#prepare(v!);
        } catch (e) {
          this.#failedCandidate(v!, asX0tError(e));
          return this.#dispatch({ type: 'candidate-failed', version: effect.version, reason: asX0tError(e).message });
        }
        return this.#dispatch({ type: 'candidate-ready', version: effect.version });
      case 'self-test':
        if (this.#opts.selfTest) {
          try {
            await this.#selfTest(v!);
          } catch (e) {
            this.#failedCandidate(v!, asX0tError(e));
            return this.#dispatch({ type: 'selftest-failed', version: effect.version, reason: asX0tError(e).message });
          }
        }
        await this.#dispatch({ type: 'selftest-passed', version: effect.version });
        return this.#settleSwap(effect.version);
      case 'activate':
        this.#active = v!;
        return;
      case 'drain':
        await this.#drain(v!);
        return;
      case 'close':
        await v?.instance?.close();
        this.#versions.delete(effect.version.id);
        return;
      case 'reject-swap': {
        const w = this.#swapWaiters.get(effect.version.id);
        this.#swapWaiters.delete(effect.version.id);
        if (!this.#versions.get(effect.version.id)?.instance) this.#versions.delete(effect.version.id);
        w?.reject(new SwapRejectedError(`slot ${this.name} refused ${effect.version.label}: ${effect.reason}`, {
          slot: this.name, version: effect.version.label,
        }));
        return;
      }
      case 'record':
        if (effect.record.outcome === 'switched') this.#armObservation();
        return;
    }
  }

  #settleSwap(ref: VersionRef): void {
    const w = this.#swapWaiters.get(ref.id);
    if (!w) return;
    this.#swapWaiters.delete(ref.id);
    const last = this.#lifecycle.snapshot().history.at(-1);
    if (this.#active?.ref.id === ref.id && last) w.resolve(last);
    else w.reject(new SwapRejectedError(`slot ${this.name} did not switch to ${ref.label}`, { slot: this.name }));
  }

  /** Keeps the original error of a candidate that failed, so swap() rejects with it rather than a generic one. */
  #failedCandidate(v: Loaded, err: X0tError): void {
    const w = this.#swapWaiters.get(v.ref.id);
    if (!w) return;
    this.#swapWaiters.delete(v.ref.id);
    w.reject(err);
  }

  /** Waits for the version's calls in flight, at most `drainTimeoutMs` (then closing it fails what is left). */
  async #drain(v: Loaded): Promise<void> {
    const inst = v.instance;
    if (!inst || inst.inFlight === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((r) => { timer = setTimeout(r, this.#opts.drainTimeoutMs); });
    await Promise.race([inst.drain(), timeout]);
    clearTimeout(timer);
  }

  #armObservation(): void {
    if (this.#observeTimer) clearTimeout(this.#observeTimer);
    this.#observeTimer = setTimeout(() => {
      this.#observeTimer = null;
      void this.#dispatch({ type: 'tick' });
    }, this.#opts.breaker.observeMs + 1);
    this.#observeTimer.unref();
  }

  info(): SlotInfo {
    const v = this.#current();
    const snap = this.#lifecycle.snapshot();
    let restarts = 0;
    for (const l of this.#versions.values()) restarts += l.instance?.stats().restarts ?? 0;
    return {
      name: this.name,
      capability: this.capability,
      phase: snap.phase,
      plugin: {
        name: v.spec.name, version: v.spec.version, sha256: v.spec.wasm.sha256, isolation: v.spec.isolation,
        manifest: v.spec.manifestPath,
      },
      standby: snap.standby?.label ?? null,
      calls: this.#calls,
      errors: this.#errors,
      restarts,
      latencyMs: { p50: this.#latency.percentile(50), p99: this.#latency.percentile(99) },
      lastError: this.#lastError ? { code: this.#lastError.code, message: this.#lastError.message } : null,
      history: snap.history,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#observeTimer) clearTimeout(this.#observeTimer);
    for (const v of this.#versions.values()) {
      await this.#drain(v);
      await v.instance?.close();
    }
    this.#versions.clear();
    this.#active = null;
  }
}
