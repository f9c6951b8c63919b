// Codecs of the session layer's frame bodies (kinds 3–6 of the outer frame) and of the two encrypted handshake
// payloads. Layouts are in handshake.ts (handshake) and here (identity exchange). Decoders are total: anything
// malformed is CodecError{kind, reason}.
import { ByteReader } from '../wire/byte-reader.js';
import { ByteWriter } from '../wire/byte-writer.js';
import type { SessionSuite } from './session-suite.js';

export const HANDSHAKE_VERSION = 1;
export const FINGERPRINT_BYTES = 16;
export const BOOT_ID_BYTES = 8;
export const AEAD_TAG_BYTES = 16;
/** At most this many certificates in a presented chain, each at most MAX_CERT_BYTES. */
export const MAX_CHAIN_LENGTH = 8;
export const MAX_CERT_BYTES = 16_384;
/** identity-request bodies are padded to at least this, so answering one (a few KB) amplifies little. */
export const IDENTITY_REQUEST_MIN_BYTES = 1024;
export const IDENTITY_NONCE_BYTES = 16;

export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
export const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

function readVersion(r: ByteReader): void {
  const v = r.u8('version');
  if (v !== HANDSHAKE_VERSION) throw r.fail('version', `handshake version ${v} is unknown`, { version: v });
}

// ---- msg1 (handshake-init) ----
export interface InitMessage {
  readonly suiteId: number;
  readonly senderIndex: number;
  readonly responderFingerprint: string;
  readonly ephemeralPublicKey: Uint8Array;
  readonly ciphertext: Uint8Array;
  /** AEAD ciphertext + tag of the InitPayload. */
  readonly sealed: Uint8Array;
  /** The cleartext bytes before `sealed`, hashed into the transcript. */
  readonly cleartext: Uint8Array;
}

export function initCleartext(suite: SessionSuite, senderIndex: number, responderFingerprint: string, ephemeralPublicKey: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  return new ByteWriter('handshake-init', 32 + ephemeralPublicKey.length + ciphertext.length)
    .u8(HANDSHAKE_VERSION).u8(suite.id).u32(senderIndex, 'sender index').bytes(fromHex(responderFingerprint))
    .bytes(ephemeralPublicKey).bytes(ciphertext).finish();
}

/** Reads the version and suite byte only (the cheap first check). */
export function peekSuiteId(body: Uint8Array, kind: 'handshake-init' | 'handshake-resp'): number {
  const r = new ByteReader(body, kind);
  readVersion(r);
  return r.u8('suite');
}

/** `suite` must be the one `peekSuiteId` named: it fixes the key and ciphertext lengths. */
export function decodeInit(body: Uint8Array, suite: SessionSuite): InitMessage {
  const r = new ByteReader(body, 'handshake-init');
  readVersion(r);
  const suiteId = r.u8('suite');
  if (suiteId !== suite.id) throw r.fail('suite', `suite ${suiteId} where ${suite.id} was expected`);
  const senderIndex = r.u32('sender index');
  const responderFingerprint = toHex(r.bytesCopy(FINGERPRINT_BYTES, 'responder fingerprint'));
  const ephemeralPublicKey = r.bytesCopy(suite.kemPublicKeyBytes, 'ephemeral public key');
  const ciphertext = r.bytesCopy(suite.kemCiphertextBytes, 'ciphertext');
  const cleartext = body.slice(0, body.length - r.remaining);
  const sealed = r.rest();
  if (sealed.length < AEAD_TAG_BYTES) throw r.fail('truncated', 'sealed payload shorter than its tag');
  return { suiteId, senderIndex, responderFingerprint, ephemeralPublicKey, ciphertext, sealed, cleartext };
}

// ---- msg2 (handshake-resp) ----
export interface RespMessage {
  readonly suiteId: number;
  readonly senderIndex: number;
  readonly receiverIndex: number;
  readonly ephemeralCiphertext: Uint8Array;
  readonly staticCiphertext: Uint8Array;
  readonly sealed: Uint8Array;
  readonly cleartext: Uint8Array;
}

export function respCleartext(suite: SessionSuite, senderIndex: number, receiverIndex: number, ephemeralCiphertext: Uint8Array, staticCiphertext: Uint8Array): Uint8Array {
  return new ByteWriter('handshake-resp', 16 + ephemeralCiphertext.length + staticCiphertext.length)
    .u8(HANDSHAKE_VERSION).u8(suite.id).u32(senderIndex, 'sender index').u32(receiverIndex, 'receiver index')
    .bytes(ephemeralCiphertext).bytes(staticCiphertext).finish();
}

export function decodeResp(body: Uint8Array, suite: SessionSuite): RespMessage {
  const r = new ByteReader(body, 'handshake-resp');
  readVersion(r);
  const suiteId = r.u8('suite');
  if (suiteId !== suite.id) throw r.fail('suite', `suite ${suiteId} where ${suite.id} was expected`);
  const senderIndex = r.u32('sender index');
  const receiverIndex = r.u32('receiver index');
  const ephemeralCiphertext = r.bytesCopy(suite.kemCiphertextBytes, 'ephemeral ciphertext');
  const staticCiphertext = r.bytesCopy(suite.kemCiphertextBytes, 'static ciphertext');
  const cleartext = body.slice(0, body.length - r.remaining);
  const sealed = r.rest();
  if (sealed.length < AEAD_TAG_BYTES) throw r.fail('truncated', 'sealed payload shorter than its tag');
  return { suiteId, senderIndex, receiverIndex, ephemeralCiphertext, staticCiphertext, sealed, cleartext };
}

// ---- encrypted payloads ----
export interface InitPayloadHead {
  readonly initiatorFingerprint: string;
  /** Nanoseconds since the epoch, strictly increasing per initiator (TAI64N's role). */
  readonly timestamp: bigint;
  readonly bootId: Uint8Array;
  readonly chain: readonly Uint8Array[];
}

export function encodeInitPayloadHead(p: InitPayloadHead): Uint8Array {
  if (p.chain.length > MAX_CHAIN_LENGTH) throw new ByteWriter('init-payload').fail('range', `chain of ${p.chain.length} certificates`);
  const w = new ByteWriter('init-payload', 64 + p.chain.reduce((n, c) => n + c.length + 4, 0));
  w.bytes(fromHex(p.initiatorFingerprint)).u64(p.timestamp, 'timestamp').bytes(p.bootId).u8(p.chain.length, 'chain length');
  for (const c of p.chain) {
    if (c.length > MAX_CERT_BYTES) throw w.fail('range', `certificate of ${c.length} bytes`);
    w.u32(c.length, 'certificate length').bytes(c);
  }
  return w.finish();
}

/** Splits a decrypted InitPayload into its signed head (bytes and fields) and the signature. */
export function decodeInitPayload(b: Uint8Array, suite: SessionSuite): { head: InitPayloadHead; headBytes: Uint8Array; signature: Uint8Array } {
  const r = new ByteReader(b, 'init-payload');
  const initiatorFingerprint = toHex(r.bytesCopy(FINGERPRINT_BYTES, 'initiator fingerprint'));
  const timestamp = r.u64('timestamp');
  const bootId = r.bytesCopy(BOOT_ID_BYTES, 'boot id');
  const n = r.u8('chain length');
  if (n > MAX_CHAIN_LENGTH) throw r.fail('range', `chain of ${n} certificates`);
  const chain: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = r.u32('certificate length');
    if (len > MAX_CERT_BYTES) throw r.fail('range', `certificate of ${len} bytes`);
    chain.push(r.bytesCopy(len, 'certificate'));
  }
  const headBytes = b.slice(0, b.length - r.remaining);
  const signature = r.bytesCopy(suite.signatureBytes, 'signature');
  r.end();
  return { head: { initiatorFingerprint, timestamp, bootId, chain }, headBytes, signature };
}

export function decodeRespPayload(b: Uint8Array, suite: SessionSuite): { bootId: Uint8Array; signature: Uint8Array } {
  const r = new ByteReader(b, 'resp-payload');
  const bootId = r.bytesCopy(BOOT_ID_BYTES, 'boot id');
  const signature = r.bytesCopy(suite.signatureBytes, 'signature');
  r.end();
  return { bootId, signature };
}

// ---- identity exchange (kinds 3 and 4) ----
//   identity-request  version u8 | nonce (16) | zero padding to IDENTITY_REQUEST_MIN_BYTES
//   identity          version u8 | nonce (16, echoed) | chain count u8 | (u32 length | DER/record)*
export function encodeIdentityRequest(nonce: Uint8Array): Uint8Array {
  const w = new ByteWriter('identity-request', IDENTITY_REQUEST_MIN_BYTES).u8(HANDSHAKE_VERSION).bytes(nonce);
  return w.bytes(new Uint8Array(IDENTITY_REQUEST_MIN_BYTES - 1 - IDENTITY_NONCE_BYTES)).finish();
}

export function decodeIdentityRequest(b: Uint8Array): { nonce: Uint8Array } {
  const r = new ByteReader(b, 'identity-request');
  readVersion(r);
  if (b.length < IDENTITY_REQUEST_MIN_BYTES) throw r.fail('padding', `identity request of ${b.length} bytes, at least ${IDENTITY_REQUEST_MIN_BYTES}`);
  const nonce = r.bytesCopy(IDENTITY_NONCE_BYTES, 'nonce');
  r.rest();
  return { nonce };
}

export function encodeIdentity(nonce: Uint8Array, chain: readonly Uint8Array[]): Uint8Array {
  const w = new ByteWriter('identity', 32 + chain.reduce((n, c) => n + c.length + 4, 0)).u8(HANDSHAKE_VERSION).bytes(nonce);
  if (chain.length > MAX_CHAIN_LENGTH) throw w.fail('range', `chain of ${chain.length} certificates`);
  w.u8(chain.length, 'chain length');
  for (const c of chain) {
    if (c.length > MAX_CERT_BYTES) throw w.fail('range', `certificate of ${c.length} bytes`);
    w.u32(c.length, 'certificate length').bytes(c);
  }
  return w.finish();
}

export function decodeIdentity(b: Uint8Array): { nonce: Uint8Array; chain: Uint8Array[] } {
  const r = new ByteReader(b, 'identity');
  readVersion(r);
  const nonce = r.bytesCopy(IDENTITY_NONCE_BYTES, 'nonce');
  const n = r.u8('chain length');
  if (n > MAX_CHAIN_LENGTH) throw r.fail('range', `chain of ${n} certificates`);
  const chain: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const len = r.u32('certificate length');
    if (len > MAX_CERT_BYTES) throw r.fail('range', `certificate of ${len} bytes`);
    chain.push(r.bytesCopy(len, 'certificate'));
  }
  r.end();
  return { nonce, chain };
}
