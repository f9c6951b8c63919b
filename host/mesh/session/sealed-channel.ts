// One direction pair of transport keys after a handshake: seals outgoing plaintexts and opens incoming sealed
// frames. ChaCha20-Poly1305 from node:crypto; the 12-byte nonce is 4 zero bytes ‖ counter u64 LE; the AAD is the
// outer frame header of a sealed frame ‖ receiver index u32 LE ‖ counter u64 LE, so a ciphertext cannot be moved to
// another session, counter or frame kind. Counters start at 0 and are never reused: the channel refuses to seal once
// REJECT_AFTER_MESSAGES is reached (the owner rekeys long before, at REKEY_AFTER_MESSAGES).
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { FRAME_KIND_CODES, WIRE_MAGIC, WIRE_VERSION } from '../wire/frame.js';
import { ReplayWindow } from './replay-window.js';

const SEALED_KIND_BYTE = FRAME_KIND_CODES.sealed;
export const TAG_BYTES = 16;
export const REJECT_AFTER_MESSAGES = 1n << 60n;
export const REKEY_AFTER_MESSAGES = 1n << 59n;

export interface Sealed {
  readonly receiver: number;
  readonly counter: bigint;
  readonly ciphertext: Uint8Array;
}

function nonceAndAad(receiver: number, counter: bigint): { nonce: Buffer; aad: Buffer } {
  const nonce = Buffer.alloc(12);
  nonce.writeBigUInt64LE(counter, 4);
  const aad = Buffer.alloc(16);
  aad[0] = WIRE_MAGIC;
  aad[1] = WIRE_VERSION;
  aad[2] = SEALED_KIND_BYTE;
  aad[3] = 0;
  aad.writeUInt32LE(receiver >>> 0, 4);
  aad.writeBigUInt64LE(counter, 8);
  return { nonce, aad };
}

export class SealedChannel {
  // KeyObjects: imported once, not on every packet.
  readonly #sendKey: KeyObject;
  readonly #recvKey: KeyObject;
  /** The peer's index: what outgoing frames carry as receiver. */
  readonly remoteIndex: number;
  /** Our index: what incoming frames carry. */
  readonly localIndex: number;
  readonly window: ReplayWindow;
  #next = 0n;

  constructor(o: { sendKey: Uint8Array; recvKey: Uint8Array; localIndex: number; remoteIndex: number; windowSize?: number }) {
    this.#sendKey = createSecretKey(o.sendKey);
    this.#recvKey = createSecretKey(o.recvKey);
    this.localIndex = o.localIndex;
    this.remoteIndex = o.remoteIndex;
    this.window = new ReplayWindow(o.windowSize);
  }

  /** Counters used so far for sending. */
  get sent(): bigint {
    return this.#next;
  }

  get exhausted(): boolean {
    return this.#next >= REJECT_AFTER_MESSAGES;
  }

  /** Null once the counter space is used up (the session must be replaced). */
  seal(plaintext: Uint8Array): Sealed | null {
    if (this.exhausted) return null;
    const counter = this.#next++;
    const { nonce, aad } = nonceAndAad(this.remoteIndex, counter);
    const c = createCipheriv('chacha20-poly1305', this.#sendKey, nonce, { authTagLength: TAG_BYTES });
    c.setAAD(aad, { plaintextLength: plaintext.length });
    const body = c.update(plaintext);
    c.final();
    const out = new Uint8Array(plaintext.length + TAG_BYTES);
    out.set(body, 0);
    out.set(c.getAuthTag(), plaintext.length);
    return { receiver: this.remoteIndex, counter, ciphertext: out };
  }

  /**
   * The plaintext, or 'replayed' (seen or older than the window; checked before any decryption), or 'decrypt' (the
   * tag does not verify). Only an authenticated packet moves the window.
   */
  open(counter: bigint, ciphertext: Uint8Array): Uint8Array | 'replayed' | 'decrypt' {
    if (counter >= REJECT_AFTER_MESSAGES || !this.window.check(counter)) return 'replayed';
    if (ciphertext.length < TAG_BYTES) return 'decrypt';
    const { nonce, aad } = nonceAndAad(this.localIndex, counter);
    const n = ciphertext.length - TAG_BYTES;
    let plain: Buffer;
    try {
      const d = createDecipheriv('chacha20-poly1305', this.#recvKey, nonce, { authTagLength: TAG_BYTES });
      d.setAAD(aad, { plaintextLength: n });
      d.setAuthTag(ciphertext.subarray(n));
      plain = d.update(ciphertext.subarray(0, n));
      d.final();
    } catch {
      return 'decrypt';
    }
    if (!this.window.mark(counter)) return 'replayed';
    return new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength);
  }
}
