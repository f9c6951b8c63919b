// The node's post-quantum primitives, each a sandboxed plugin in its own slot (hot-swappable like any other):
// ML-KEM-768 behind `kem`, ML-DSA-65 behind `signer`; and the hybrids composed over them in the host: X-Wing
// (ML-KEM-768 + X25519) and the composite Ed25519 + ML-DSA-65 signature.
//
// PqcSuite opens both plugins. A one-shot caller that needs only one (the CLI) opens it alone with openKemPlugin or
// openSignerPlugin, which PqcSuite itself is built from.
import type { PluginSpec } from '../core/plugin-spec.js';
import { loadPluginSpec } from '../runtime/load-manifest.js';
import { DEFAULT_SLOT_OPTIONS, Slot, type SlotOptions } from '../runtime/slot.js';
import { BUILTIN, builtinManifest } from './builtin-plugins.js';
import { CompositeSigner } from './composite-signature.js';
import { PluginKem } from './plugin-kem.js';
import { PluginSigner } from './plugin-signer.js';
import type { Kem, SignatureScheme } from './primitives.js';
import { XWing } from './xwing.js';

export interface PqcSuiteOptions {
  /** Plugin manifests; the shipped ML-KEM-768 / ML-DSA-65 by default. */
  readonly kemManifest?: string;
  readonly signerManifest?: string;
  /** Override the manifests' isolation (e.g. 'in-thread' for a one-shot CLI call). */
  readonly isolation?: PluginSpec['isolation'];
  readonly slot?: SlotOptions;
}

/** The ML-KEM-768 plugin in its slot, and X-Wing over it. */
export interface KemPlugin {
  readonly slot: Slot;
  readonly kem: Kem;
  readonly xwing: Kem;
  close(): Promise<void>;
}

/** The ML-DSA-65 plugin in its slot, and the composite Ed25519 + ML-DSA-65 scheme over it. */
export interface SignerPlugin {
  readonly slot: Slot;
  readonly signer: SignatureScheme;
  readonly composite: SignatureScheme;
  close(): Promise<void>;
}

async function spec(path: string, opts: PqcSuiteOptions): Promise<PluginSpec> {
  const s = await loadPluginSpec(path);
  return opts.isolation === undefined ? s : Object.freeze({ ...s, isolation: opts.isolation });
}

/** Loads, hash-checks and self-tests one plugin in a new slot and wraps it; the slot is closed if wrapping fails. */
async function openSlot<T>(name: 'kem' | 'signer', manifest: string, opts: PqcSuiteOptions, wrap: (slot: Slot, s: PluginSpec) => Promise<T>): Promise<{ slot: Slot; adapter: T }> {
  const s = await spec(manifest, opts);
  const slot = await Slot.open(name, name, s, opts.slot ?? DEFAULT_SLOT_OPTIONS);
  try {
    return { slot, adapter: await wrap(slot, s) };
  } catch (e) {
    await slot.close().catch(() => undefined);
    throw e;
  }
}

export async function openKemPlugin(opts: PqcSuiteOptions = {}): Promise<KemPlugin> {
  const { slot, adapter: kem } = await openSlot('kem', opts.kemManifest ?? builtinManifest(BUILTIN.kem), opts,
    (sl, s) => PluginKem.open((fn, input) => sl.call(fn, input), s.name));
  return { slot, kem, xwing: new XWing(kem), close: () => slot.close() };
}

export async function openSignerPlugin(opts: PqcSuiteOptions = {}): Promise<SignerPlugin> {
  const { slot, adapter: signer } = await openSlot('signer', opts.signerManifest ?? builtinManifest(BUILTIN.signer), opts,
    (sl, s) => PluginSigner.open((fn, input) => sl.call(fn, input), s.name));
  return { slot, signer, composite: new CompositeSigner(signer), close: () => slot.close() };
}

export class PqcSuite {
  readonly kemSlot: Slot;
  readonly signerSlot: Slot;
  readonly kem: Kem;
  readonly signer: SignatureScheme;
  /** X-Wing over `kem`. */
  readonly xwing: Kem;
  /** Ed25519 + ML-DSA-65 over `signer`. */
  readonly composite: SignatureScheme;

  private constructor(k: KemPlugin, s: SignerPlugin) {
    this.kemSlot = k.slot;
    this.signerSlot = s.slot;
    this.kem = k.kem;
    this.signer = s.signer;
    this.xwing = k.xwing;
    this.composite = s.composite;
  }

  /** Opens both plugins side by side; if either fails, the other is closed and the first error is thrown. */
  static async open(opts: PqcSuiteOptions = {}): Promise<PqcSuite> {
    const [k, s] = await Promise.allSettled([openKemPlugin(opts), openSignerPlugin(opts)]);
    if (k.status === 'fulfilled' && s.status === 'fulfilled') return new PqcSuite(k.value, s.value);
    await Promise.allSettled([k, s].flatMap((r) => (r.status === 'fulfilled' ? [r.value.close()] : [])));
    throw k.status === 'rejected' ? k.reason : (s as PromiseRejectedResult).reason;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.kemSlot.close(), this.signerSlot.close()]);
  }
}
