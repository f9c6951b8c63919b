// The classic suite (X25519 + Ed25519, for comparison with the hybrid one) from the same node key and the same
// public-key files: the Ed25519 half of the composite signing key (public key = its first 32 bytes, secret key = the
// Ed25519 seed at the start of the composite secret key) and the X25519 half of the X-Wing key (public key = its last
// 32 bytes; secret key = bytes 64..96 of SHAKE256(X-Wing seed, 96), as X-Wing expands it). A node's classic
// fingerprint is that of its Ed25519 key, so it differs from its hybrid one.
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SEED_BYTES, shake256, X25519_BYTES } from '../../crypto/curve25519.js';
import type { PinnedKey } from '../../mesh/session/pinned-key-verifier.js';
import type { LoadedKeys } from './mesh-keys.js';

export interface ClassicKeys {
  readonly signing: { readonly algorithm: 'ed25519'; readonly publicKey: Uint8Array; readonly secretKey: Uint8Array };
  readonly kem: { readonly algorithm: 'x25519'; readonly publicKey: Uint8Array; readonly secretKey: Uint8Array };
}

export function classicKeysOf(keys: LoadedKeys['keys']): ClassicKeys {
  return {
    signing: {
      algorithm: 'ed25519',
      publicKey: keys.signing.publicKey.slice(0, ED25519_PUBLIC_KEY_BYTES),
      secretKey: keys.signing.secretKey.slice(0, ED25519_SEED_BYTES),
    },
    kem: {
      algorithm: 'x25519',
      publicKey: keys.kem.publicKey.slice(keys.kem.publicKey.length - X25519_BYTES),
      secretKey: shake256(keys.kem.secretKey, 96).slice(64, 96),
    },
  };
}

/** The classic halves of a pinned hybrid key (composite signing key + X-Wing KEM key). */
export function classicPinnedKey(k: PinnedKey): PinnedKey {
  return {
    signingAlgorithm: 'ed25519',
    signingPublicKey: k.signingPublicKey.slice(0, ED25519_PUBLIC_KEY_BYTES),
    kemAlgorithm: 'x25519',
    kemPublicKey: k.kemPublicKey.slice(k.kemPublicKey.length - X25519_BYTES),
  };
}
