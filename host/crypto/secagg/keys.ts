// Key agreement and share encryption between two clients, composed from node:crypto primitives: X25519 (through
// curve25519.ts), HKDF-SHA256 with the round id as salt and the ordered pair of ids in the info, AES-256-GCM with a
// random 96-bit nonce and the round id plus both ids as associated data. A pair's keys are fresh per round.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { SecAggError } from '../../errors/index.js';
import { X25519_BYTES, x25519, x25519Public } from '../curve25519.js';
import { SECAGG_SEED_BYTES } from './prg.js';

const te = new TextEncoder();
const INFO_MASK = te.encode('x0t-secagg/v1 pairwise-mask');
const INFO_ENC = te.encode('x0t-secagg/v1 share-encryption');
const AAD_SHARE = te.encode('x0t-secagg/v1 share');
export const SECAGG_NONCE_BYTES = 12;
export const SECAGG_TAG_BYTES = 16;

export interface X25519KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

export function generateX25519(): X25519KeyPair {
  const secretKey = new Uint8Array(randomBytes(X25519_BYTES));
  return { secretKey, publicKey: x25519Public(secretKey) };
}

function u32pair(a: number, b: number): Uint8Array {
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, Math.min(a, b), true);
  dv.setUint32(4, Math.max(a, b), true);
  return out;
}

/** HKDF-SHA256(X25519(sk, peerPk), salt = roundId, info = label ‖ min(id) ‖ max(id)): symmetric in the two ids. */
function agree(label: Uint8Array, secretKey: Uint8Array, peerPublic: Uint8Array, roundId: Uint8Array, me: number, peer: number): Uint8Array {
  const shared = x25519(secretKey, peerPublic);
  // A low-order peer key makes the agreement all zero (known to anyone): refuse it rather than mask with it.
  if (shared.every((b) => b === 0)) {
    throw new SecAggError(`secagg: peer ${peer} advertised a low-order X25519 key`, { reason: 'protocol', peer });
  }
  const info = new Uint8Array(label.length + 8);
  info.set(label);
  info.set(u32pair(me, peer), label.length);
  return new Uint8Array(hkdfSync('sha256', shared, roundId, info, SECAGG_SEED_BYTES));
}

/** The pairwise mask seed s_{me,peer} (= s_{peer,me}) from the masking keys s. */
export function pairwiseSeed(secretKey: Uint8Array, peerPublic: Uint8Array, roundId: Uint8Array, me: number, peer: number): Uint8Array {
  return agree(INFO_MASK, secretKey, peerPublic, roundId, me, peer);
}

/** The AEAD key between me and peer from the encryption keys c. */
export function shareKey(secretKey: Uint8Array, peerPublic: Uint8Array, roundId: Uint8Array, me: number, peer: number): Uint8Array {
  return agree(INFO_ENC, secretKey, peerPublic, roundId, me, peer);
}

function shareAad(roundId: Uint8Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(AAD_SHARE.length + 1 + roundId.length + 8);
  out.set(AAD_SHARE);
  out[AAD_SHARE.length] = roundId.length;
  out.set(roundId, AAD_SHARE.length + 1);
  const dv = new DataView(out.buffer, AAD_SHARE.length + 1 + roundId.length);
  dv.setUint32(0, from, true); // directed: a ciphertext cannot be replayed the other way round
  dv.setUint32(4, to, true);
  return out;
}

/** nonce ‖ AES-256-GCM(key, plaintext, aad = label ‖ roundId ‖ from ‖ to) ‖ tag. */
export function sealShares(key: Uint8Array, roundId: Uint8Array, from: number, to: number, plaintext: Uint8Array): Uint8Array {
  const nonce = randomBytes(SECAGG_NONCE_BYTES);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(shareAad(roundId, from, to));
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return new Uint8Array(Buffer.concat([nonce, body, c.getAuthTag()]));
}

/** Opens what sealShares made; a SecAggError (reason 'decrypt') for anything forged, truncated or misaddressed. */
export function openShares(key: Uint8Array, roundId: Uint8Array, from: number, to: number, sealed: Uint8Array): Uint8Array {
  if (sealed.length < SECAGG_NONCE_BYTES + SECAGG_TAG_BYTES) {
    throw new SecAggError(`secagg: share ciphertext from ${from} is too short`, { reason: 'decrypt', from });
  }
  const nonce = sealed.subarray(0, SECAGG_NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - SECAGG_TAG_BYTES);
  const d = createDecipheriv('aes-256-gcm', key, nonce);
  d.setAAD(shareAad(roundId, from, to));
  d.setAuthTag(tag);
  try {
    return new Uint8Array(Buffer.concat([d.update(sealed.subarray(SECAGG_NONCE_BYTES, sealed.length - SECAGG_TAG_BYTES)), d.final()]));
  } catch (e) {
    throw new SecAggError(`secagg: share ciphertext from ${from} does not authenticate`, { reason: 'decrypt', from }, { cause: e });
  }
}
