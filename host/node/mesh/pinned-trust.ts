// Pinned-key trust (manifest mesh.trust.pinned): the node presents its own keys as a pinned-key record and accepts
// exactly the nodes whose public-key files the manifest lists. With no list at all (no CA, no join, no pins) the
// node trusts nobody: it runs its mesh alone and says so in GET /mesh. With the classic suite both sides use the
// X25519 + Ed25519 halves of the same keys (classic-keys.ts).
import type { MeshSpec, NodeSpec } from '../../core/manifest/index.js';
import { fromBase64 } from '../../crypto/base64.js';
import type { LocalIdentity } from '../../crypto/peer-credentials.js';
import { UsageError } from '../../errors/index.js';
import { pinnedIdentity, PinnedKeyVerifier, type PinnedKey } from '../../mesh/session/pinned-key-verifier.js';
import { classicKeysOf, classicPinnedKey } from './classic-keys.js';
import type { LoadedKeys } from './mesh-keys.js';
import type { JoinToken, MeshTrust } from './mesh-trust.js';

function pinnedKeysOf(mesh: MeshSpec): PinnedKey[] {
  return (mesh.trust?.pinned ?? []).flatMap((k) => (k.kem === null ? [] : [{
    signingAlgorithm: k.signing.algorithm,
    signingPublicKey: fromBase64(k.signing.publicKey)!,
    kemAlgorithm: k.kem.algorithm,
    kemPublicKey: fromBase64(k.kem.publicKey)!,
  }]));
}

export function openPinnedTrust(spec: NodeSpec, mesh: MeshSpec, hybrid: LoadedKeys['keys']): MeshTrust {
  const td = spec.identity.trustDomain;
  const classic = mesh.suite === 'classic';
  const keys = classic ? classicKeysOf(hybrid) : hybrid;
  const pins = pinnedKeysOf(mesh);
  const verifier = new PinnedKeyVerifier(classic ? pins.map(classicPinnedKey) : pins, td);
  const identity: LocalIdentity = pinnedIdentity({
    signingAlgorithm: keys.signing.algorithm,
    signingPublicKey: keys.signing.publicKey,
    kemAlgorithm: keys.kem.algorithm,
    kemPublicKey: keys.kem.publicKey,
    signingSecretKey: keys.signing.secretKey,
    kemSecretKey: keys.kem.secretKey,
  }, td);
  const withoutKem = (mesh.trust?.pinned ?? []).filter((k) => k.kem === null).map((k) => k.file);
  return {
    mode: 'pinned',
    spiffeId: identity.credentials.spiffeId,
    verifier,
    localIdentity: () => identity,
    notAfter: () => null,
    tls: () => null,
    onRotated: () => () => undefined,
    createJoinToken: async (): Promise<JoinToken> => {
      throw new UsageError('join tokens are made by the mesh CA node (identity.ca); this node trusts pinned keys', { path: 'identity.ca' });
    },
    describe: () => ({
      mode: 'pinned',
      pinned: verifier.fingerprints(),
      ...(withoutKem.length > 0 ? { ignored: withoutKem.map((f) => `${f}: no KEM key`) } : {}),
      ...(mesh.trust === null ? { note: 'no identity.ca, identity.join or mesh.trust.pinned: this node trusts no peer' } : {}),
    }),
    close: async () => undefined,
  };
}
