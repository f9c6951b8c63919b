// The two cryptographic interfaces the node uses. ML-KEM-768 and ML-DSA-65 plugins (through a slot), X-Wing and
// the composite Ed25519 + ML-DSA-65 scheme all implement them, so sessions, identities and manifest signatures
// switch algorithm by configuration only.

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

export interface KemSizes {
  readonly publicKeyBytes: number;
  readonly secretKeyBytes: number;
  readonly ciphertextBytes: number;
  readonly sharedSecretBytes: number;
  /** Length of the seed `keygen(seed)` takes (ML-KEM: d || z = 64, X-Wing: 32). */
  readonly seedBytes: number;
  /** Length of the randomness `encapsulate(pk, randomness)` takes (ML-KEM: m = 32, X-Wing: 64). */
  readonly randomnessBytes: number;
}

export interface Encapsulation {
  readonly ciphertext: Uint8Array;
  readonly sharedSecret: Uint8Array;
}

export interface Kem {
  /** e.g. 'ml-kem-768', 'x-wing'. */
  readonly algorithm: string;
  readonly sizes: KemSizes;
  /** A fresh key pair, or the one derived from `seed` (exactly sizes.seedBytes). */
  keygen(seed?: Uint8Array): Promise<KeyPair>;
  /** Fresh randomness unless `randomness` (exactly sizes.randomnessBytes) is given, for known-answer tests. */
  encapsulate(publicKey: Uint8Array, randomness?: Uint8Array): Promise<Encapsulation>;
  /** Never fails for a well-formed ciphertext: a forged one yields the implicit-rejection secret. */
  decapsulate(secretKey: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array>;
}

export interface SignerSizes {
  readonly publicKeyBytes: number;
  readonly secretKeyBytes: number;
  readonly signatureBytes: number;
  /** Length of the seed `keygen(seed)` takes (ML-DSA: xi = 32). */
  readonly seedBytes: number;
  readonly maxContextBytes: number;
}

export interface SignOptions {
  /** FIPS 204 context string (≤ maxContextBytes); empty by default. */
  readonly context?: Uint8Array;
  /** Deterministic signing (same key and message → same signature). Hedged (fresh randomness) by default. */
  readonly deterministic?: boolean;
}

export interface VerifyOptions {
  readonly context?: Uint8Array;
}

export interface SignatureScheme {
  /** e.g. 'ml-dsa-65', 'ed25519+ml-dsa-65'. */
  readonly algorithm: string;
  readonly sizes: SignerSizes;
  keygen(seed?: Uint8Array): Promise<KeyPair>;
  sign(secretKey: Uint8Array, message: Uint8Array, opts?: SignOptions): Promise<Uint8Array>;
  /** False for any signature that does not verify, including one of the wrong length; throws only for a bad key. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, opts?: VerifyOptions): Promise<boolean>;
}
