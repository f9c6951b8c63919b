// Test support: classic-suite mesh keys (Ed25519 signing, X25519 KEM) over node:crypto, quick to make in numbers;
// the hybrid suite (composite + X-Wing over the real plugins) is exercised in hybrid-binding.test.ts.
import { randomBytes } from 'node:crypto';
import { x25519Public } from '../../../host/crypto/curve25519.js';
import { Ed25519Signer } from '../../../host/crypto/ed25519-signer.js';
import type { MeshKeys } from '../../../host/spiffe/node-identity.js';

export const ed25519 = new Ed25519Signer();

export async function classicKeys(): Promise<MeshKeys> {
  const signing = await ed25519.keygen();
  const kemSecret = new Uint8Array(randomBytes(32));
  return {
    signing: { algorithm: 'ed25519', ...signing },
    kem: { algorithm: 'x25519', publicKey: x25519Public(kemSecret), secretKey: kemSecret },
  };
}

export function bindingOf(keys: MeshKeys) {
  return {
    signingAlgorithm: keys.signing.algorithm, signingPublicKey: keys.signing.publicKey,
    kemAlgorithm: keys.kem!.algorithm, kemPublicKey: keys.kem!.publicKey,
  };
}

/** A clock tests move by hand; timers fire in order when time passes them. */
export class ManualClock {
  #now: number;
  #timers: { at: number; fn: () => void; live: boolean }[] = [];
  constructor(start: number) {
    this.#now = start;
  }
  now = (): number => this.#now;
  setTimer = (fn: () => void, delayMs: number) => {
    const t = { at: this.#now + delayMs, fn, live: true };
    this.#timers.push(t);
    return { cancel: () => { t.live = false; } };
  };
  /** Moves time to `to`, firing due timers in time order. */
  advanceTo(to: number): void {
    for (;;) {
      const due = this.#timers.filter((t) => t.live && t.at <= to).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      due.live = false;
      this.#now = Math.max(this.#now, due.at);
      due.fn();
    }
    this.#now = Math.max(this.#now, to);
  }
  pending(): number {
    return this.#timers.filter((t) => t.live).length;
  }
}
