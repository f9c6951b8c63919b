// The set of capability slots of one node, opened from its NodeSpec. Applying a new NodeSpec (for example after
// the node manifest file was edited) opens new slots, closes removed ones and hot-swaps slots whose plugin changed.
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { capLimits, type NodeSpec, type SlotSpec } from '../core/manifest/index.js';
import type { PluginSpec } from '../core/plugin-spec.js';
import type { SwapRecord } from '../core/slot-lifecycle.js';
import {
  asX0tError, PolicyRefusedError, SignatureError, SlotUnavailableError, type X0tError,
} from '../errors/index.js';
import { loadNodeSpec, loadPluginManifest } from './load-manifest.js';
import type { ManifestVerifier } from './manifest-verifier.js';
import type { PluginLogSink } from './plugin-instance.js';
import { Slot, type SlotInfo, type SlotOptions } from './slot.js';

export interface ApplyReport {
  readonly opened: readonly string[];
  readonly closed: readonly string[];
  readonly swapped: readonly { readonly slot: string; readonly record: SwapRecord }[];
  readonly unchanged: readonly string[];
  readonly failed: readonly { readonly slot: string; readonly code: string; readonly message: string }[];
}

export interface PluginHostOptions {
  readonly log?: PluginLogSink;
  /** Told about every change applied from a watched manifest (and every failure to apply one). */
  readonly onApply?: (report: ApplyReport) => void;
  readonly onWatchError?: (error: X0tError) => void;
  /**
   * Checks plugin manifest signatures against the node's `policies.trustedPluginKeys`. Without one, a node that
   * lists trusted keys refuses every signed plugin (and, when it requires signatures, every plugin).
   */
  readonly verifier?: ManifestVerifier;
}

export class PluginHost {
  #spec: NodeSpec;
  readonly #slots = new Map<string, Slot>();
  readonly #opts: PluginHostOptions;
  readonly #watchers = new Set<FSWatcher>();
  #applying: Promise<unknown> = Promise.resolve();

  private constructor(spec: NodeSpec, opts: PluginHostOptions) {
    this.#spec = spec;
    this.#opts = opts;
  }

  /** Opens every slot of the node; if any slot fails, the ones already open are closed and the error thrown. */
  static async start(spec: NodeSpec, opts: PluginHostOptions = {}): Promise<PluginHost> {
    const host = new PluginHost(spec, opts);
    try {
      for (const s of Object.values(spec.slots)) {
        host.#slots.set(s.name, await Slot.open(s.name, s.capability, await host.#pluginSpec(s, spec), host.#slotOptions(spec)));
      }
    } catch (e) {
      await host.close();
      throw e;
    }
    return host;
  }

  get spec(): NodeSpec {
    return this.#spec;
  }

  get slots(): ReadonlyMap<string, Slot> {
    return this.#slots;
  }

  slot(name: string): Slot {
    const s = this.#slots.get(name);
    if (!s) throw new SlotUnavailableError(`this node has no slot ${name}`, { slot: name, slots: [...this.#slots.keys()] });
    return s;
  }

  #slotOptions(spec: NodeSpec): SlotOptions {
    const p = spec.policies;
    return {
      breaker: p.breaker,
      selfTest: p.selfTest,
      drainTimeoutMs: p.drainTimeoutMs,
      ...(this.#opts.log ? { log: this.#opts.log } : {}),
    };
  }

  /**
   * Loads the slot's plugin manifest, checks its signature, applies the slot's ceilings and the node's policies.
   * Every way a plugin enters a slot (start, apply, swapSlot) goes through here.
   */
  async #pluginSpec(slot: SlotSpec, node: NodeSpec): Promise<PluginSpec> {
    const { spec, document } = await loadPluginManifest(slot.plugin);
    if (spec.isolation === 'in-thread' && !node.policies.allowInThread) {
      throw new PolicyRefusedError(`slot ${slot.name}: node policy forbids in-thread plugins (${spec.name})`, { slot: slot.name });
    }
    await this.#checkSignature(slot, node, spec, document);
    return Object.freeze({ ...spec, limits: capLimits(spec.limits, slot.limits) });
  }

  /**
   * Unsigned: refused when the node requires signatures. Signed: verified whenever the node trusts any key (an
   * untrusted key or a bad signature is a SignatureError even if signatures are optional); carried unchecked when
   * it trusts none. The wasm's hash is checked against the manifest when the module is loaded, so a verified
   * manifest covers the module.
   */
  async #checkSignature(slot: SlotSpec, node: NodeSpec, spec: PluginSpec, document: unknown): Promise<void> {
    const { requireSignedPlugins, trustedPluginKeys } = node.policies;
    const details = { slot: slot.name, plugin: spec.name, manifest: spec.manifestPath };
    if (spec.signature === null) {
      if (!requireSignedPlugins) return;
      throw new PolicyRefusedError(
        `slot ${slot.name}: the node requires signed plugins and the manifest of ${spec.name} (${spec.manifestPath ?? 'ad hoc'}) is not signed`,
        { ...details, reason: 'unsigned' },
      );
    }
    if (trustedPluginKeys.length === 0) return;
    const verifier = this.#opts.verifier;
    if (verifier === undefined) {
      throw new PolicyRefusedError(
        `slot ${slot.name}: the node trusts plugin keys but this host was started without a manifest verifier`,
        { ...details, reason: 'no-verifier' },
      );
    }
    try {
      await verifier.verify(document, spec, trustedPluginKeys);
    } catch (e) {
      if (e instanceof SignatureError) {
        throw new SignatureError(`slot ${slot.name}: ${e.message}`, { ...e.details, ...details }, { cause: e });
      }
      throw e;
    }
  }

  /** Brings the running node to `next`; per-slot failures are reported, and a failed slot keeps its plugin. */
  apply(next: NodeSpec): Promise<ApplyReport> {
    const run = this.#applying.then(() => this.#apply(next));
    this.#applying = run.catch(() => undefined);
    return run;
  }

  async #apply(next: NodeSpec): Promise<ApplyReport> {
    const opened: string[] = [];
    const closed: string[] = [];
    const swapped: { slot: string; record: SwapRecord }[] = [];
    const unchanged: string[] = [];
    const failed: { slot: string; code: string; message: string }[] = [];
    for (const [name, slot] of this.#slots) {
      if (!Object.hasOwn(next.slots, name)) {
        await slot.close();
        this.#slots.delete(name);
        closed.push(name);
      }
    }
    for (const s of Object.values(next.slots)) {
      try {
        const spec = await this.#pluginSpec(s, next);
        const current = this.#slots.get(s.name);
        if (!current) {
          this.#slots.set(s.name, await Slot.open(s.name, s.capability, spec, this.#slotOptions(next)));
          opened.push(s.name);
        } else if (sameVersion(current.spec, spec)) {
          unchanged.push(s.name);
        } else {
          swapped.push({ slot: s.name, record: await current.swap(spec) });
        }
      } catch (e) {
        const err = asX0tError(e);
        failed.push({ slot: s.name, code: err.code, message: err.message });
      }
    }
    this.#spec = next;
    return { opened, closed, swapped, unchanged, failed };
  }

  /**
   * Swaps one slot to the plugin manifest at `manifestPath`, under the same ceilings and policies the node applies
   * to the plugins its own manifest names.
   */
  async swapSlot(name: string, manifestPath: string): Promise<SwapRecord> {
    const slot = this.slot(name);
    const slotSpec: SlotSpec = this.#spec.slots[name] ?? { name, capability: slot.capability, plugin: manifestPath, limits: {} };
    return slot.swap(await this.#pluginSpec({ ...slotSpec, plugin: manifestPath }, this.#spec));
  }

  /**
   * Applies the node manifest whenever the file changes; returns a function that stops watching (and waits for a
   * reload under way). Watches the file's folder, not the file: editors and `mv`-style writers replace the file, and
   * a watch on the old inode would see only the first such save. A save that leaves the text as it was applies
   * nothing.
   */
  watch(file: string): () => Promise<void> {
    const name = basename(file);
    let timer: NodeJS.Timeout | null = null;
    let stopped = false;
    let chain: Promise<void> = Promise.resolve();
    // Read now, synchronously: a save right after watch() returns must count as a change.
    let lastText: string | null = null;
    try {
      lastText = readFileSync(file, 'utf8');
    } catch {
      lastText = null;
    }
    const reload = (): void => {
      timer = null;
      chain = chain.then(async () => {
        if (stopped) return;
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch {
          return; // between an unlink and the rename that replaces it; the rename fires another event
        }
        if (text === lastText) return;
        try {
          const report = await this.apply(await loadNodeSpec(file));
          lastText = text;
          if (!stopped) this.#opts.onApply?.(report);
        } catch (e) {
          if (!stopped) this.#opts.onWatchError?.(asX0tError(e));
        }
      });
    };
    // Editors save in several steps (truncate, write, rename): wait for the writes to settle.
    const watcher = watch(dirname(file), (_event, changed) => {
      if (changed !== null && changed !== name) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(reload, 50);
    });
    watcher.on('error', (e) => this.#opts.onWatchError?.(asX0tError(e)));
    this.#watchers.add(watcher);
    return async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      watcher.close();
      this.#watchers.delete(watcher);
      await chain; // a reload already under way finishes before the caller closes the slots
    };
  }

  info(): { node: NodeSpec['identity']; slots: SlotInfo[] } {
    return { node: this.#spec.identity, slots: [...this.#slots.values()].map((s) => s.info()) };
  }

  async close(): Promise<void> {
    for (const w of this.#watchers) w.close();
    this.#watchers.clear();
    for (const s of this.#slots.values()) await s.close();
    this.#slots.clear();
  }
}

function sameVersion(a: PluginSpec, b: PluginSpec): boolean {
  return a.wasm.sha256 === b.wasm.sha256 && a.version === b.version && a.name === b.name &&
    JSON.stringify(a.limits) === JSON.stringify(b.limits) && JSON.stringify(a.config) === JSON.stringify(b.config);
}
