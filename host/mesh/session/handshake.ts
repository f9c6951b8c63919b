// The session handshake: one round trip, Noise-IK-shaped but built from a KEM and a signature scheme (as in
// PQ-WireGuard and KEMTLS). The initiator already knows the responder's credentials (static KEM key), fetched with
// identity-request / identity frames and verified by the CredentialVerifier. Suites: hybrid = X-Wing + composite
// Ed25519/ML-DSA-65; classic = X25519-KEM + Ed25519. H = SHA3-256; KDF(ck, ikm, label) = HKDF-SHA3-256(salt = ck,
// ikm, info = label) → 64 bytes split into (next ck, key); AEAD = ChaCha20-Poly1305 with a zero nonce (every
// handshake key encrypts exactly one message). All integers little-endian.
//
//   ck = h = H(PROTOCOL)
//   msg1 (handshake-init), initiator → responder:
//     version u8 = 1 | suite u8 | sender index u32 | responder fingerprint (16)
//     | e_pk (ephemeral KEM public key) | ct1 = Encaps(responder static KEM pk) | AEAD(k1, aad = h1, payload1)
//     h1 = H(h ‖ cleartext of msg1); (ck, k1) = KDF(ck, ss1, "msg1")
//     payload1 = initiator fingerprint (16) | timestamp u64 (ns, strictly increasing per initiator) | boot id (8)
//                | chain count u8 | (u32 length | certificate)* | sig1
//     sig1 = Sign(initiator signing key, "x0t-session initiator" ‖ h1 ‖ payload1 without sig1)
//   msg2 (handshake-resp), responder → initiator:
//     version u8 | suite u8 | sender index u32 | receiver index u32 (the initiator's)
//     | ctE = Encaps(e_pk) (forward secrecy) | ctS = Encaps(initiator static KEM pk) | AEAD(k2, aad = h2, payload2)
//     h2 = H(H(h1 ‖ sealed payload1) ‖ cleartext of msg2); (ck, ·) = KDF(ck, ssE, "msg2-e"); (ck, k2) = KDF(ck, ssS, "msg2-s")
//     payload2 = boot id (8) | sig2;  sig2 = Sign(responder signing key, "x0t-session responder" ‖ h2 ‖ fp_I ‖ fp_R ‖ boot id)
//   transport: h3 = H(h2 ‖ sealed payload2); (k_i→r ‖ k_r→i) = HKDF-SHA3-256(salt = h3, ikm = ck, info = "transport", 64)
//
// Properties: the initiator's identity (fingerprint, chain, signature) travels only under k1, which needs the
// responder's static KEM secret; the session keys need all three KEM secrets (the responder's static, the
// initiator's ephemeral — forward secrecy — and the initiator's static); both role labels, both fingerprints, the
// suite and the version are in what each side signs, so a reflected msg1, a swapped identity or a changed suite
// byte fails; the timestamp lets the responder refuse a replayed msg1 (same or older from that initiator) before it
// verifies any signature, and an exact replay is refused before any KEM operation (see session-manager.ts).
//
// Sizes (bytes, frame bodies): hybrid msg1 = 2358 cleartext + 33 + chain + 4·certs + 3373 + 16 (pinned-key chain
// 3233 → 9017); hybrid msg2 = 2250 + 8 + 3373 + 16 = 5647. Classic msg1 = 86 + 33 + chain + 4 + 64 + 16 (pinned →
// 291), msg2 = 10 + 64 + 8 + 64 + 16 = 162. The transport fragments them to the path MTU.
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';
import { CodecError, SessionError } from '../../errors/index.js';
import { concatBytes, sha3_256 } from '../../crypto/curve25519.js';
import type { LocalIdentity, PeerCredentials } from '../../crypto/peer-credentials.js';
import type { Kem, SignatureScheme } from '../../crypto/primitives.js';
import {
  decodeInit, decodeInitPayload, decodeResp, decodeRespPayload, encodeInitPayloadHead, fromHex, initCleartext,
  respCleartext, type InitMessage, type InitPayloadHead,
} from './handshake-messages.js';
import type { SessionSuite } from './session-suite.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const PROTOCOL = utf8('x0tta6bl4 mesh session v1: KEM-IK, SHA3-256, ChaCha20-Poly1305');
const LABEL_INITIATOR = utf8('x0t-session initiator');
const LABEL_RESPONDER = utf8('x0t-session responder');
const H0 = sha3_256(PROTOCOL);

function kdf(ck: Uint8Array, ikm: Uint8Array, label: string): { ck: Uint8Array; key: Uint8Array } {
  const out = new Uint8Array(hkdfSync('sha3-256', ikm, ck, utf8(label), 64));
  return { ck: out.slice(0, 32), key: out.slice(32) };
}

const ZERO_NONCE = Buffer.alloc(12);

function aeadSeal(key: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const c = createCipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
  c.setAAD(aad, { plaintextLength: plaintext.length });
  const body = c.update(plaintext);
  c.final();
  return concatBytes(body, c.getAuthTag());
}

function aeadOpen(key: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | null {
  const n = sealed.length - 16;
  if (n < 0) return null;
  try {
    const d = createDecipheriv('chacha20-poly1305', key, ZERO_NONCE, { authTagLength: 16 });
    d.setAAD(aad, { plaintextLength: n });
    d.setAuthTag(sealed.subarray(n));
    const out = d.update(sealed.subarray(0, n));
    d.final();
    return new Uint8Array(out);
  } catch {
    return null;
  }
}

const refuse = (reason: string, message: string, details: Record<string, unknown> = {}): SessionError =>
  new SessionError(message, { reason, ...details });

/** Transport keys of an established session, from one side's point of view. */
export interface SessionKeys {
  readonly sendKey: Uint8Array;
  readonly recvKey: Uint8Array;
}

function transportKeys(ck: Uint8Array, h: Uint8Array, role: 'initiator' | 'responder'): SessionKeys {
  const out = new Uint8Array(hkdfSync('sha3-256', ck, h, utf8('transport'), 64));
  const i2r = out.slice(0, 32);
  const r2i = out.slice(32);
  return role === 'initiator' ? { sendKey: i2r, recvKey: r2i } : { sendKey: r2i, recvKey: i2r };
}

export interface Primitives {
  readonly suite: SessionSuite;
  readonly kem: Kem;
  readonly signer: SignatureScheme;
}

/** What the initiator keeps between msg1 and msg2. */
export interface InitiatorState {
  readonly senderIndex: number;
  readonly local: LocalIdentity;
  readonly remote: PeerCredentials;
  readonly ephemeralSecretKey: Uint8Array;
  readonly ephemeralPublicKey: Uint8Array;
  readonly timestamp: bigint;
  readonly ck: Uint8Array;
  /** Transcript hash after msg1 (cleartext and sealed payload). */
  readonly h: Uint8Array;
}

export async function createInit(p: Primitives, o: {
  local: LocalIdentity; remote: PeerCredentials; senderIndex: number; timestamp: bigint; bootId: Uint8Array;
}): Promise<{ body: Uint8Array; state: InitiatorState }> {
  const eph = await p.kem.keygen();
  const { ciphertext, sharedSecret } = await p.kem.encapsulate(o.remote.kemPublicKey);
  const cleartext = initCleartext(p.suite, o.senderIndex, o.remote.fingerprint, eph.publicKey, ciphertext);
  const h1 = sha3_256(H0, cleartext);
  const { ck, key: k1 } = kdf(H0, sharedSecret, 'msg1');
  const head = encodeInitPayloadHead({
    initiatorFingerprint: o.local.credentials.fingerprint, timestamp: o.timestamp, bootId: o.bootId, chain: o.local.credentials.chain,
  });
  const sig = await p.signer.sign(o.local.signingSecretKey, concatBytes(LABEL_INITIATOR, h1, head));
  const sealed = aeadSeal(k1, h1, concatBytes(head, sig));
  const body = concatBytes(cleartext, sealed);
  return {
    body,
    state: {
      senderIndex: o.senderIndex, local: o.local, remote: o.remote, ephemeralSecretKey: eph.secretKey, ephemeralPublicKey: eph.publicKey,
      timestamp: o.timestamp, ck, h: sha3_256(h1, sealed),
    },
  };
}

/** msg1 after decryption, before the initiator's credentials and signature are checked. */
export interface OpenedInit {
  readonly message: InitMessage;
  readonly head: InitPayloadHead;
  readonly headBytes: Uint8Array;
  readonly signature: Uint8Array;
  readonly h1: Uint8Array;
  readonly ck: Uint8Array;
}

/**
 * Responder, step 1: decapsulates ct1 and decrypts payload1. Throws SessionError 'identity' (msg1 names another
 * responder) or 'tampered' (payload does not authenticate or decode).
 */
export async function openInit(p: Primitives, local: LocalIdentity, message: InitMessage): Promise<OpenedInit> {
  if (message.responderFingerprint !== local.credentials.fingerprint) {
    throw refuse('identity', `handshake-init is for ${message.responderFingerprint}, not for this node`, { responder: message.responderFingerprint });
  }
  const ss1 = await p.kem.decapsulate(local.kemSecretKey, message.ciphertext);
  const h1 = sha3_256(H0, message.cleartext);
  const { ck, key: k1 } = kdf(H0, ss1, 'msg1');
  const plain = aeadOpen(k1, h1, message.sealed);
  if (plain === null) throw refuse('tampered', 'handshake-init payload does not authenticate');
  let parsed;
  try {
    parsed = decodeInitPayload(plain, p.suite);
  } catch (e) {
    if (e instanceof CodecError) throw refuse('tampered', 'handshake-init payload does not decode', { codec: e.details });
    throw e;
  }
  return { message, ...parsed, h1, ck };
}

/** Responder, step 2 (after replay and credential checks): true if sig1 verifies under the initiator's key. */
export async function verifyInit(p: Primitives, opened: OpenedInit, initiator: PeerCredentials): Promise<boolean> {
  try {
    return await p.signer.verify(initiator.signingPublicKey, concatBytes(LABEL_INITIATOR, opened.h1, opened.headBytes), opened.signature);
  } catch {
    return false; // a key of the wrong length for this scheme
  }
}

/** Responder, step 3: msg2 and the session keys. */
export async function createResp(p: Primitives, o: {
  opened: OpenedInit; initiator: PeerCredentials; local: LocalIdentity; senderIndex: number; bootId: Uint8Array;
}): Promise<{ body: Uint8Array; keys: SessionKeys }> {
  const m = o.opened.message;
  const e = await p.kem.encapsulate(m.ephemeralPublicKey);
  const s = await p.kem.encapsulate(o.initiator.kemPublicKey);
  const cleartext = respCleartext(p.suite, o.senderIndex, m.senderIndex, e.ciphertext, s.ciphertext);
  const h2 = sha3_256(sha3_256(o.opened.h1, m.sealed), cleartext);
  let { ck } = kdf(o.opened.ck, e.sharedSecret, 'msg2-e');
  const k = kdf(ck, s.sharedSecret, 'msg2-s');
  ck = k.ck;
  const sig = await p.signer.sign(o.local.signingSecretKey,
    concatBytes(LABEL_RESPONDER, h2, fromHex(o.initiator.fingerprint), fromHex(o.local.credentials.fingerprint), o.bootId));
  const sealed = aeadSeal(k.key, h2, concatBytes(o.bootId, sig));
  return { body: concatBytes(cleartext, sealed), keys: transportKeys(ck, sha3_256(h2, sealed), 'responder') };
}

/**
 * Initiator, on msg2. Throws SessionError 'tampered' (does not authenticate, decode or verify) or CodecError.
 */
export async function finishInit(p: Primitives, state: InitiatorState, body: Uint8Array): Promise<{ keys: SessionKeys; remoteIndex: number; bootId: Uint8Array }> {
  const m = decodeResp(body, p.suite);
  const ssE = await p.kem.decapsulate(state.ephemeralSecretKey, m.ephemeralCiphertext);
  const ssS = await p.kem.decapsulate(state.local.kemSecretKey, m.staticCiphertext);
  const h2 = sha3_256(state.h, m.cleartext);
  let { ck } = kdf(state.ck, ssE, 'msg2-e');
  const k = kdf(ck, ssS, 'msg2-s');
  ck = k.ck;
  const plain = aeadOpen(k.key, h2, m.sealed);
  if (plain === null) throw refuse('tampered', 'handshake-resp payload does not authenticate');
  let payload;
  try {
    payload = decodeRespPayload(plain, p.suite);
  } catch (e) {
    if (e instanceof CodecError) throw refuse('tampered', 'handshake-resp payload does not decode', { codec: e.details });
    throw e;
  }
  let ok = false;
  try {
    ok = await p.signer.verify(state.remote.signingPublicKey,
      concatBytes(LABEL_RESPONDER, h2, fromHex(state.local.credentials.fingerprint), fromHex(state.remote.fingerprint), payload.bootId), payload.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw refuse('tampered', 'handshake-resp signature does not verify');
  return { keys: transportKeys(ck, sha3_256(h2, m.sealed), 'initiator'), remoteIndex: m.senderIndex, bootId: payload.bootId };
}

export { decodeInit };
