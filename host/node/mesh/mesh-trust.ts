// How a mesh node proves who it is and decides whom to trust — one of three modes, chosen by the manifest:
//   ca      this node is the mesh CA: it issues its own SVID and serves attestation, renewal and the bundle;
//   join    this node attests to the CA with a join token, then renews its SVID over mTLS at half-life;
//   pinned  no CA: peers are the nodes whose public keys the manifest pins (mesh.trust.pinned).
// The session layer sees only the common face: a CredentialVerifier and the current LocalIdentity.
import type { CredentialVerifier, LocalIdentity } from '../../crypto/peer-credentials.js';

export type TrustMode = 'ca' | 'join' | 'pinned';

/** Key and certificates for a TLS server or client on the node's SVID (PEM), with the bundle as the CA list. */
export interface SvidTlsMaterial {
  readonly key: string;
  readonly cert: string;
  readonly ca: string;
}

export interface JoinToken {
  readonly token: string;
  readonly expiresAt: string;
  /** SHA-256 of the trust bundle a joining node pins (identity.join.bundleSha256). */
  readonly bundleSha256: string;
  /** `https://host:port` of this CA's identity server. */
  readonly server: string;
}

export interface MeshTrust {
  readonly mode: TrustMode;
  readonly spiffeId: string;
  readonly verifier: CredentialVerifier;
  /** The identity to present now (re-read per handshake, so a rotated SVID is used at once). */
  localIdentity(): LocalIdentity;
  /** When the current SVID expires (ms since the epoch); null for pinned keys. */
  notAfter(): number | null;
  /** TLS material on the current SVID (mTLS admin API); null for pinned keys. */
  tls(): SvidTlsMaterial | null;
  /** Calls `listener` after each SVID rotation; returns the unsubscribe function (never called for pinned keys). */
  onRotated(listener: () => void): () => void;
  /** Makes a join token (CA mode only; other modes throw UsageError). */
  createJoinToken(ttlMs: number): Promise<JoinToken>;
  /** Status for GET /mesh. */
  describe(): Record<string, unknown>;
  close(): Promise<void>;
}
