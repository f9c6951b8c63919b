// What a session needs to know about a peer, and who vouches for it. Sessions (host/mesh/session) consume these
// types; SPIFFE X.509-SVIDs (host/spiffe) and pinned key lists produce them, so the two do not depend on each other.

/** A peer's verified identity: its mesh address (fingerprint), SPIFFE id and long-lived public keys. */
export interface PeerCredentials {
  /** keyFingerprint(signingPublicKey): 32 lower-case hex characters, the node's mesh address. */
  readonly fingerprint: string;
  /** `spiffe://<trust domain>/node/<fingerprint>`. */
  readonly spiffeId: string;
  /** 'ed25519+ml-dsa-65' (hybrid suite) or 'ed25519' (classic suite). */
  readonly signingAlgorithm: string;
  readonly signingPublicKey: Uint8Array;
  /** 'x-wing' (hybrid suite) or 'x25519' (classic suite). */
  readonly kemAlgorithm: string;
  readonly kemPublicKey: Uint8Array;
  /** DER certificates, leaf first (an X.509-SVID chain); for pinned keys, one pinned-key record (see pinned-key-verifier.ts). */
  readonly chain: readonly Uint8Array[];
  /** When these credentials stop being valid, ms since the epoch (Infinity for pinned keys). */
  readonly notAfter: number;
}

/** Turns a credential chain received from a peer into verified credentials, or throws IdentityError. */
export interface CredentialVerifier {
  verify(chain: readonly Uint8Array[], nowMs: number): Promise<PeerCredentials>;
}

/** This node's side: its own credentials (what it presents) and the secret keys behind them. */
export interface LocalIdentity {
  readonly credentials: PeerCredentials;
  readonly signingSecretKey: Uint8Array;
  readonly kemSecretKey: Uint8Array;
}
