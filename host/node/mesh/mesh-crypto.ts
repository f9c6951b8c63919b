// The primitives the mesh signs and encapsulates with. For the hybrid suite, the node's own `kem` and `signer` slots
// when the manifest fills them (ML-KEM-768 / ML-DSA-65 plugins, called through the slot so a hot swap is followed),
// composed into X-Wing and the composite Ed25519 + ML-DSA-65 scheme; otherwise the shipped plugins opened here
// (PqcSuite), closed with the mesh.
import { CompositeSigner } from '../../crypto/composite-signature.js';
import { PluginKem } from '../../crypto/plugin-kem.js';
import { PluginSigner } from '../../crypto/plugin-signer.js';
import { PqcSuite } from '../../crypto/pqc-suite.js';
import type { Kem, SignatureScheme } from '../../crypto/primitives.js';
import { XWing } from '../../crypto/xwing.js';
import type { PluginHost } from '../../runtime/plugin-host.js';
import type { Slot } from '../../runtime/slot.js';

export interface MeshCrypto {
  /** X-Wing (hybrid suite). */
  readonly kem: Kem;
  /** Composite Ed25519 + ML-DSA-65 (hybrid suite). */
  readonly signer: SignatureScheme;
  /** Where the primitives come from, for the status page. */
  readonly source: 'node-slots' | 'builtin-plugins';
  close(): Promise<void>;
}

function slotOf(host: PluginHost, capability: string): Slot | null {
  for (const s of host.slots.values()) if (s.capability === capability) return s;
  return null;
}

/** Opens the hybrid primitives: over the node's kem + signer slots when it has both, else over the shipped plugins. */
export async function openMeshCrypto(host: PluginHost): Promise<MeshCrypto> {
  const kemSlot = slotOf(host, 'kem');
  const signerSlot = slotOf(host, 'signer');
  if (kemSlot !== null && signerSlot !== null) {
    const mlkem = await PluginKem.open((fn, input) => kemSlot.call(fn, input), kemSlot.spec.name);
    const mldsa = await PluginSigner.open((fn, input) => signerSlot.call(fn, input), signerSlot.spec.name);
    return { kem: new XWing(mlkem), signer: new CompositeSigner(mldsa), source: 'node-slots', close: async () => undefined };
  }
  const suite = await PqcSuite.open();
  return { kem: suite.xwing, signer: suite.composite, source: 'builtin-plugins', close: () => suite.close() };
}
