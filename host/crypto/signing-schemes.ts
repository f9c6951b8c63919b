// The signature schemes behind manifest signatures and node identity keys: the shipped ML-DSA-65 plugin in a slot of
// its own, and the Ed25519 + ML-DSA-65 composite over it. The shipped manifest pins the module's hash; it is the
// trust root, so it is opened directly (never through a node's requireSignedPlugins policy).
import { loadPluginSpec } from '../runtime/load-manifest.js';
import { DEFAULT_SLOT_OPTIONS, Slot, type SlotOptions } from '../runtime/slot.js';
import { BUILTIN, builtinManifest } from './builtin-plugins.js';
import { CompositeSigner } from './composite-signature.js';
import { PluginSigner } from './plugin-signer.js';
import type { SignatureScheme } from './primitives.js';

export interface SigningSchemesOptions {
  /** The ML-DSA-65 plugin manifest; the shipped one by default. */
  readonly signerManifest?: string;
  readonly slot?: SlotOptions;
}

export class SigningSchemes {
  readonly slot: Slot;
  readonly mldsa: SignatureScheme;
  readonly composite: SignatureScheme;

  private constructor(slot: Slot, mldsa: SignatureScheme) {
    this.slot = slot;
    this.mldsa = mldsa;
    this.composite = new CompositeSigner(mldsa);
  }

  static async open(opts: SigningSchemesOptions = {}): Promise<SigningSchemes> {
    const spec = await loadPluginSpec(opts.signerManifest ?? builtinManifest(BUILTIN.signer));
    const slot = await Slot.open('manifest-signer', 'signer', spec, opts.slot ?? DEFAULT_SLOT_OPTIONS);
    try {
      // Named by the algorithm (it goes into signature blocks), whatever the plugin's own name.
      return new SigningSchemes(slot, await PluginSigner.open((fn, input) => slot.call(fn, input), BUILTIN.signer));
    } catch (e) {
      await slot.close();
      throw e;
    }
  }

  /** The scheme for an algorithm name, or null when it is neither of the two. */
  scheme(algorithm: string): SignatureScheme | null {
    if (algorithm === this.composite.algorithm) return this.composite;
    if (algorithm === this.mldsa.algorithm) return this.mldsa;
    return null;
  }

  async close(): Promise<void> {
    await this.slot.close();
  }
}
