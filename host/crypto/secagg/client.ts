// The client side of Bonawitz et al. 2017 (CCS'17, "Practical Secure Aggregation"), rounds 0–3, as a state machine:
// each method takes the server's broadcast for a round and returns this client's message for the next. No I/O, no
// timers; a client that should drop out is simply not called again. Every method checks that it is called in order
// and that the broadcast is consistent with what the client already knows, and throws SecAggError otherwise (the
// client then aborts the round: its secrets are never revealed inconsistently).
import { randomBytes } from 'node:crypto';
import { SecAggError } from '../../errors/index.js';
import { generateX25519, openShares, pairwiseSeed, sealShares, shareKey, type X25519KeyPair } from './keys.js';
import type { AdvertiseKeys, KeyRoster, MaskedInput, ShareDelivery, ShareKeys, UnmaskRequest, UnmaskShares } from './messages.js';
import { checkSecAggParams, type CheckedParams, type SecAggParams } from './params.js';
import { addMask, expandMask, SECAGG_SEED_BYTES } from './prg.js';
import { quantiseUpdate } from './quantize.js';
import { shamirSplit } from './shamir.js';
import { advertisePayload, verifyAdvertised, type SecAggSigning } from './signing.js';
import { checkRoundId, sameBytes, shareXs } from './rules.js';

export interface SecAggClientOptions {
  /** Sign this client's keys and require valid signatures on everyone's (the paper's "active" setting). */
  readonly signing?: SecAggSigning;
}

type Phase = 'advertise' | 'share' | 'mask' | 'unmask';

interface PeerKeys {
  readonly encryptionKey: Uint8Array;
  readonly maskingKey: Uint8Array;
}

interface HeldShares {
  /** Share of the peer's self-mask seed b. */
  readonly selfMask: Uint8Array;
  /** Share of the peer's masking secret key s_sk. */
  readonly maskingKey: Uint8Array;
}

export class SecAggClient {
  readonly id: number;
  readonly #p: CheckedParams;
  readonly #signing: SecAggSigning | undefined;
  readonly #c: X25519KeyPair = generateX25519();
  readonly #s: X25519KeyPair = generateX25519();
  readonly #b: Uint8Array = new Uint8Array(randomBytes(SECAGG_SEED_BYTES));
  #phase: Phase = 'advertise';
  #roster = new Map<number, PeerKeys>();
  /** Shares this client holds, by the id of the client they belong to (its own included): the peers of U2. */
  #held = new Map<number, HeldShares>();
  readonly #revealedSelfMask = new Set<number>();
  readonly #revealedMaskingKey = new Set<number>();

  constructor(params: SecAggParams, id: number, opts: SecAggClientOptions = {}) {
    this.#p = checkSecAggParams(params);
    if (!this.#p.clientIds.includes(id)) {
      throw new SecAggError(`secagg: client ${id} is not in the round`, { reason: 'config', field: 'id' });
    }
    this.id = id;
    this.#signing = opts.signing;
  }

  #expect(phase: Phase, roundId: Uint8Array): void {
    if (this.#phase !== phase) {
      throw new SecAggError(`secagg client ${this.id}: expected the ${this.#phase} step, got ${phase}`, { reason: 'protocol' });
    }
    checkRoundId(this.#p.roundId, roundId);
  }

  /** Round 0: fresh key pairs c (encryption) and s (masking), signed when the round is signed. */
  async advertiseKeys(): Promise<AdvertiseKeys> {
    this.#expect('advertise', this.#p.roundId);
    const signature = this.#signing
      ? await this.#signing.scheme.sign(this.#signing.secretKey, advertisePayload(this.#p.roundId, this.id, this.#c.publicKey, this.#s.publicKey))
      : new Uint8Array(0);
    this.#phase = 'share';
    return { kind: 'advertise-keys', roundId: this.#p.roundId, from: this.id, encryptionKey: this.#c.publicKey, maskingKey: this.#s.publicKey, signature };
  }

  /** Round 1: checks the roster (U1), then Shamir-shares b and s_sk among U1 and seals each peer's pair of shares. */
  async shareKeys(roster: KeyRoster): Promise<ShareKeys> {
    this.#expect('share', roster.roundId);
    const ids = roster.entries.map((e) => e.from);
    const xs = shareXs(ids, this.#p); // ascending, known, ≥ t, ≤ 255
    const mine = roster.entries.find((e) => e.from === this.id);
    if (!mine || !sameBytes(mine.encryptionKey, this.#c.publicKey) || !sameBytes(mine.maskingKey, this.#s.publicKey)) {
      throw new SecAggError(`secagg client ${this.id}: the roster does not carry my keys`, { reason: 'protocol' });
    }
    const seen = new Set<string>();
    for (const e of roster.entries) {
      for (const k of [e.encryptionKey, e.maskingKey]) {
        const hex = Buffer.from(k).toString('hex');
        if (seen.has(hex)) throw new SecAggError(`secagg client ${this.id}: a key appears twice in the roster`, { reason: 'protocol', client: e.from });
        seen.add(hex);
      }
      if (this.#signing) await verifyAdvertised(this.#signing, this.#p.roundId, e);
    }
    const xList = ids.map((id) => xs.get(id)!);
    const bShares = shamirSplit(this.#b, this.#p.threshold, xList);
    const sShares = shamirSplit(this.#s.secretKey, this.#p.threshold, xList);
    const ciphertexts: { to: number; sealed: Uint8Array }[] = [];
    roster.entries.forEach((e, i) => {
      this.#roster.set(e.from, { encryptionKey: e.encryptionKey, maskingKey: e.maskingKey });
      const plain = new Uint8Array(2 * SECAGG_SEED_BYTES);
      plain.set(bShares[i]!.y);
      plain.set(sShares[i]!.y, SECAGG_SEED_BYTES);
      if (e.from === this.id) {
        this.#held.set(this.id, { selfMask: bShares[i]!.y, maskingKey: sShares[i]!.y });
        return;
      }
      const key = shareKey(this.#c.secretKey, e.encryptionKey, this.#p.roundId, this.id, e.from);
      ciphertexts.push({ to: e.from, sealed: sealShares(key, this.#p.roundId, this.id, e.from, plain) });
    });
    this.#phase = 'mask';
    return { kind: 'share-keys', roundId: this.#p.roundId, from: this.id, ciphertexts };
  }

  /**
   * Round 2: opens the shares of every peer in U2 (the senders of `delivery`, plus this client), then returns
   * y = x + PRG(b) + Σ_{v ∈ U2, v ≠ u} ±PRG(s_uv) in Z_2^32 (+ when u < v, − when u > v).
   */
  maskInput(delivery: ShareDelivery, update: Float32Array): MaskedInput {
    this.#expect('mask', delivery.roundId);
    if (delivery.to !== this.id) throw new SecAggError(`secagg client ${this.id}: delivery addressed to ${delivery.to}`, { reason: 'protocol' });
    const opened = new Map<number, HeldShares>();
    for (const c of delivery.ciphertexts) {
      if (c.from === this.id || !this.#roster.has(c.from) || opened.has(c.from)) {
        throw new SecAggError(`secagg client ${this.id}: unexpected ciphertext from ${c.from}`, { reason: 'protocol', client: c.from });
      }
      const peer = this.#roster.get(c.from)!;
      const plain = openShares(shareKey(this.#c.secretKey, peer.encryptionKey, this.#p.roundId, this.id, c.from), this.#p.roundId, c.from, this.id, c.sealed);
      if (plain.length !== 2 * SECAGG_SEED_BYTES) {
        throw new SecAggError(`secagg client ${this.id}: share plaintext from ${c.from} has the wrong length`, { reason: 'decrypt', client: c.from });
      }
      opened.set(c.from, { selfMask: plain.slice(0, SECAGG_SEED_BYTES), maskingKey: plain.slice(SECAGG_SEED_BYTES) });
    }
    if (opened.size + 1 < this.#p.threshold) {
      throw new SecAggError(`secagg client ${this.id}: only ${opened.size + 1} clients shared keys`, { reason: 'threshold', have: opened.size + 1, need: this.#p.threshold });
    }
    const y = quantiseUpdate(update, this.#p);
    addMask(y, expandMask(this.#b, this.#p.dim), 1);
    for (const v of opened.keys()) {
      const seed = pairwiseSeed(this.#s.secretKey, this.#roster.get(v)!.maskingKey, this.#p.roundId, this.id, v);
      addMask(y, expandMask(seed, this.#p.dim), this.id < v ? 1 : -1);
    }
    for (const [v, h] of opened) this.#held.set(v, h);
    this.#phase = 'unmask';
    return { kind: 'masked-input', roundId: this.#p.roundId, from: this.id, masked: y };
  }

  /**
   * Round 3: for each peer of U2, the share of b if it is a survivor (in U3) or the share of s_sk if it dropped.
   * Refuses (reason 'refused') any request that would reveal both secrets of one peer, counting earlier answers,
   * and any survivor list that is not a subset of U2 containing this client with at least t members.
   */
  unmask(request: UnmaskRequest): UnmaskShares {
    this.#expect('unmask', request.roundId);
    const u3 = new Set<number>();
    let prev = -1;
    for (const id of request.survivors) {
      if (id <= prev || !this.#held.has(id)) {
        throw new SecAggError(`secagg client ${this.id}: survivor list is not an ascending subset of U2`, { reason: 'protocol', client: id });
      }
      prev = id;
      u3.add(id);
    }
    if (!u3.has(this.id)) throw new SecAggError(`secagg client ${this.id}: survivor list omits me`, { reason: 'protocol' });
    if (u3.size < this.#p.threshold) {
      throw new SecAggError(`secagg client ${this.id}: ${u3.size} survivors, ${this.#p.threshold} needed`, { reason: 'threshold', have: u3.size, need: this.#p.threshold });
    }
    for (const v of this.#held.keys()) {
      const conflict = u3.has(v) ? this.#revealedMaskingKey.has(v) : this.#revealedSelfMask.has(v);
      if (conflict) {
        throw new SecAggError(`secagg client ${this.id}: refusing to reveal both secrets of client ${v}`, { reason: 'refused', client: v });
      }
    }
    const shares: UnmaskShares['shares'][number][] = [];
    for (const [v, h] of [...this.#held].sort((a, b) => a[0] - b[0])) {
      if (u3.has(v)) {
        this.#revealedSelfMask.add(v);
        shares.push({ of: v, type: 'self-mask', share: h.selfMask });
      } else {
        this.#revealedMaskingKey.add(v);
        shares.push({ of: v, type: 'masking-key', share: h.maskingKey });
      }
    }
    return { kind: 'unmask-shares', roundId: this.#p.roundId, from: this.id, shares };
  }
}
