// A CredentialVerifier over a static list of trusted public keys (peers configured with pinned keys, the classic
// suite bench). Without certificates, a peer presents its keys as a one-element "chain" holding a pinned-key record:
//
//   "x0pk" | version u8 = 1 | signing algorithm (u8 length + ASCII) | signing public key (u16 length + bytes)
//          | KEM algorithm (u8 length + ASCII) | KEM public key (u16 length + bytes)
//
// The verifier trusts a record only when the fingerprint of its signing key is pinned and both keys and algorithms
// equal the pinned ones byte for byte; anything else is an IdentityError. Possession of the keys is proved by the
// handshake (signature over the transcript, decapsulation), not here.
import { IdentityError } from '../../errors/index.js';
import { keyFingerprint } from '../../crypto/key-fingerprint.js';
import type { CredentialVerifier, LocalIdentity, PeerCredentials } from '../../crypto/peer-credentials.js';
import { ByteReader } from '../wire/byte-reader.js';
import { ByteWriter } from '../wire/byte-writer.js';

export interface PinnedKey {
  readonly signingAlgorithm: string;
  readonly signingPublicKey: Uint8Array;
  readonly kemAlgorithm: string;
  readonly kemPublicKey: Uint8Array;
}

const MAGIC = Uint8Array.of(0x78, 0x30, 0x70, 0x6b); // "x0pk"
const RECORD_VERSION = 1;

export function encodePinnedKey(k: PinnedKey): Uint8Array {
  const w = new ByteWriter('pinned-key', 64 + k.signingPublicKey.length + k.kemPublicKey.length);
  const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
  const sa = ascii(k.signingAlgorithm);
  const ka = ascii(k.kemAlgorithm);
  return w.bytes(MAGIC).u8(RECORD_VERSION).u8(sa.length).bytes(sa).u16(k.signingPublicKey.length).bytes(k.signingPublicKey)
    .u8(ka.length).bytes(ka).u16(k.kemPublicKey.length).bytes(k.kemPublicKey).finish();
}

/** Throws CodecError (reason 'magic', 'version', 'truncated', 'trailing', 'utf8') for anything else. */
export function decodePinnedKey(b: Uint8Array): PinnedKey {
  const r = new ByteReader(b, 'pinned-key');
  const magic = r.bytesCopy(4, 'magic');
  if (!magic.every((x, i) => x === MAGIC[i])) throw r.fail('magic', 'not a pinned-key record');
  const v = r.u8('version');
  if (v !== RECORD_VERSION) throw r.fail('version', `version ${v} is unknown`, { version: v });
  const signingAlgorithm = r.utf8(r.u8('signing algorithm length'), 'signing algorithm');
  const signingPublicKey = r.bytesCopy(r.u16('signing key length'), 'signing key');
  const kemAlgorithm = r.utf8(r.u8('kem algorithm length'), 'kem algorithm');
  const kemPublicKey = r.bytesCopy(r.u16('kem key length'), 'kem key');
  r.end();
  return { signingAlgorithm, signingPublicKey, kemAlgorithm, kemPublicKey };
}

/** The credentials a pinned key stands for: fingerprint, SPIFFE id in `trustDomain`, its record as the chain. */
export function pinnedCredentials(k: PinnedKey, trustDomain: string): PeerCredentials {
  const fingerprint = keyFingerprint(k.signingPublicKey);
  return Object.freeze({
    fingerprint,
    spiffeId: `spiffe://${trustDomain}/node/${fingerprint}`,
    signingAlgorithm: k.signingAlgorithm,
    signingPublicKey: k.signingPublicKey.slice(),
    kemAlgorithm: k.kemAlgorithm,
    kemPublicKey: k.kemPublicKey.slice(),
    chain: Object.freeze([encodePinnedKey(k)]),
    notAfter: Infinity,
  });
}

/** A LocalIdentity presenting pinned keys (what a node without an SVID hands its SessionManager). */
export function pinnedIdentity(k: PinnedKey & { readonly signingSecretKey: Uint8Array; readonly kemSecretKey: Uint8Array }, trustDomain: string): LocalIdentity {
  return Object.freeze({ credentials: pinnedCredentials(k, trustDomain), signingSecretKey: k.signingSecretKey, kemSecretKey: k.kemSecretKey });
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

export class PinnedKeyVerifier implements CredentialVerifier {
  readonly #trusted = new Map<string, PeerCredentials>();

  constructor(keys: readonly PinnedKey[], readonly trustDomain: string) {
    for (const k of keys) {
      const c = pinnedCredentials(k, trustDomain);
      this.#trusted.set(c.fingerprint, c);
    }
  }

  /** Fingerprints of the pinned keys. */
  fingerprints(): string[] {
    return [...this.#trusted.keys()];
  }

  async verify(chain: readonly Uint8Array[], _nowMs: number): Promise<PeerCredentials> {
    if (chain.length !== 1) {
      throw new IdentityError(`pinned keys: expected a one-element chain, got ${chain.length}`, { reason: 'malformed', length: chain.length });
    }
    let k: PinnedKey;
    try {
      k = decodePinnedKey(chain[0]!);
    } catch (e) {
      throw new IdentityError('pinned keys: the presented record does not decode', { reason: 'malformed' }, { cause: e });
    }
    const fingerprint = keyFingerprint(k.signingPublicKey);
    const pinned = this.#trusted.get(fingerprint);
    if (pinned === undefined) throw new IdentityError(`pinned keys: ${fingerprint} is not pinned`, { reason: 'untrusted', fingerprint });
    if (pinned.signingAlgorithm !== k.signingAlgorithm || pinned.kemAlgorithm !== k.kemAlgorithm
      || !sameBytes(pinned.signingPublicKey, k.signingPublicKey) || !sameBytes(pinned.kemPublicKey, k.kemPublicKey)) {
      throw new IdentityError(`pinned keys: ${fingerprint} presents keys other than the pinned ones`, { reason: 'key-mismatch', fingerprint });
    }
    return pinned;
  }
}
