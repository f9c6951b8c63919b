// SVID trust (identity.ca or identity.join): the node presents its current X.509-SVID (renewed at half-life by
// NodeIdentity, so a session handshake after a rotation presents the new one) and accepts peers whose SVID chains
// to the mesh's trust bundle.
import type { MeshKeys, NodeIdentity } from '../../spiffe/node-identity.js';
import { SvidVerifier } from '../../spiffe/svid-verifier.js';
import { derToPem } from '../../spiffe/x509-engine.js';
import type { JoinToken, MeshTrust, SvidTlsMaterial, TrustMode } from './mesh-trust.js';

export interface SvidTrustParts {
  readonly mode: Extract<TrustMode, 'ca' | 'join'>;
  readonly identity: NodeIdentity;
  readonly keys: MeshKeys;
  readonly createJoinToken: (ttlMs: number) => Promise<JoinToken>;
  readonly describe: () => Record<string, unknown>;
  /** Closes what the mode opened besides the identity (the CA's identity server). */
  readonly close: () => Promise<void>;
}

export function svidTrust(p: SvidTrustParts): MeshTrust {
  const identity = p.identity;
  const verifier = new SvidVerifier(() => identity.bundle());
  return {
    mode: p.mode,
    get spiffeId() {
      return identity.current().spiffeId;
    },
    verifier,
    localIdentity: () => identity.localIdentity(p.keys),
    notAfter: () => identity.current().notAfter,
    tls: (): SvidTlsMaterial => {
      const c = identity.current();
      return { key: c.privateKeyPem, cert: c.chain.map((d) => derToPem('CERTIFICATE', d)).join(''), ca: identity.bundle().toPem() };
    },
    onRotated: (listener) => {
      identity.on('rotated', listener);
      return () => identity.off('rotated', listener);
    },
    createJoinToken: p.createJoinToken,
    describe: () => {
      const c = identity.current();
      return {
        mode: p.mode,
        svid: { notBefore: new Date(c.notBefore).toISOString(), notAfter: new Date(c.notAfter).toISOString(), renewAt: new Date(c.renewAt).toISOString() },
        bundleSha256: identity.bundle().sha256(),
        ...p.describe(),
      };
    },
    close: async () => {
      identity.close();
      await p.close();
    },
  };
}
