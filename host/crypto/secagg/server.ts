// The server side of Bonawitz et al. 2017, rounds 0–3 and the final unmasking, as a state machine. The caller
// delivers client messages with `receive`, then calls `advance()` to close a round: whoever has not delivered by
// then has dropped out. `advance()` returns the message to send to each remaining client; after round 3,
// `finish()` reconstructs the masks and returns the sum over the survivors.
//
// What the server holds, by design: public keys, sealed shares it cannot open, the running ring sum of masked inputs
// (individual masked vectors are added into it on arrival and not kept), and in the end t shares of each survivor's
// b and each dropped client's s_sk. It has no method that returns anything but the aggregate.
import { SecAggError } from '../../errors/index.js';
import { x25519Public } from '../curve25519.js';
import { pairwiseSeed } from './keys.js';
import type { AdvertiseKeys, KeyRoster, SecAggMessage, ShareDelivery, ShareKeys, UnmaskRequest, UnmaskShares } from './messages.js';
import { checkSecAggParams, type CheckedParams, type SecAggParams } from './params.js';
import { addMask, expandMask } from './prg.js';
import { dequantiseSum } from './quantize.js';
import { checkRoundId, sameBytes, shareXs } from './rules.js';
import { shamirCombine, type ShamirShare } from './shamir.js';
import { verifyAdvertised, type SecAggVerification } from './signing.js';

export interface SecAggServerOptions {
  /** Require every advertised key pair to carry its client's valid signature (rejected on receipt otherwise). */
  readonly verification?: SecAggVerification;
}

/** Which messages the server currently accepts: 0 advertise-keys, 1 share-keys, 2 masked-input, 3 unmask-shares. */
export type SecAggServerRound = 0 | 1 | 2 | 3 | 'done';

export interface SecAggResult {
  /** Σ x_i over `contributors`, decoded to float (the sum, not the mean). */
  readonly sum: Float32Array;
  /** The same sum as exact fixed-point integers (value · scale). */
  readonly quantisedSum: Int32Array;
  /** U3: the clients whose inputs are in the sum, ascending. */
  readonly contributors: readonly number[];
  /** U2 \ U3: clients that shared keys but dropped before masking; their pairwise masks were removed. */
  readonly dropped: readonly number[];
}

export class SecAggServer {
  readonly #p: CheckedParams;
  readonly #verification: SecAggVerification | undefined;
  #round: SecAggServerRound = 0;
  readonly #advertised = new Map<number, AdvertiseKeys>();
  #u1: number[] = [];
  #xs = new Map<number, number>();
  readonly #shared = new Map<number, ShareKeys>();
  #u2: number[] = [];
  readonly #maskedFrom = new Set<number>();
  readonly #ringSum: Uint32Array;
  #u3: number[] = [];
  readonly #unmasked = new Map<number, UnmaskShares>();

  constructor(params: SecAggParams, opts: SecAggServerOptions = {}) {
    this.#p = checkSecAggParams(params);
    this.#verification = opts.verification;
    this.#ringSum = new Uint32Array(this.#p.dim);
  }

  get round(): SecAggServerRound {
    return this.#round;
  }

  /**
   * Accepts one client message for the current round. Throws SecAggError for a message of another round or step,
   * from a client not (or no longer) in the round, a duplicate, a bad signature, or one inconsistent with the
   * round's state; the server's state is unchanged then, and the caller treats the sender as dropped.
   */
  async receive(msg: SecAggMessage): Promise<void> {
    checkRoundId(this.#p.roundId, msg.roundId);
    switch (msg.kind) {
      case 'advertise-keys':
        this.#step(0, msg.kind);
        this.#fresh(this.#advertised.has(msg.from), this.#p.clientIds.includes(msg.from), msg.from);
        if (this.#verification) await verifyAdvertised(this.#verification, this.#p.roundId, msg);
        this.#step(0, msg.kind); // the round cannot have moved during the await, but a duplicate could have landed
        this.#fresh(this.#advertised.has(msg.from), true, msg.from);
        this.#advertised.set(msg.from, msg);
        return;
      case 'share-keys': {
        this.#step(1, msg.kind);
        this.#fresh(this.#shared.has(msg.from), this.#xs.has(msg.from), msg.from);
        const to = msg.ciphertexts.map((c) => c.to);
        const expected = this.#u1.filter((id) => id !== msg.from);
        if (to.length !== expected.length || !expected.every((id, i) => to[i] === id)) {
          throw this.#bad(`client ${msg.from} must send one ciphertext to every other client of U1, ascending`, msg.from);
        }
        this.#shared.set(msg.from, msg);
        return;
      }
      case 'masked-input':
        this.#step(2, msg.kind);
        this.#fresh(this.#maskedFrom.has(msg.from), this.#u2.includes(msg.from), msg.from);
        if (msg.masked.length !== this.#p.dim) throw this.#bad(`masked input of client ${msg.from} has length ${msg.masked.length}`, msg.from);
        addMask(this.#ringSum, msg.masked, 1);
        this.#maskedFrom.add(msg.from);
        return;
      case 'unmask-shares': {
        this.#step(3, msg.kind);
        this.#fresh(this.#unmasked.has(msg.from), this.#u3.includes(msg.from), msg.from);
        const survivors = new Set(this.#u3);
        if (msg.shares.length !== this.#u2.length || !this.#u2.every((v, i) => {
          const s = msg.shares[i]!;
          return s.of === v && s.type === (survivors.has(v) ? 'self-mask' : 'masking-key');
        })) {
          throw this.#bad(`client ${msg.from} must send, for each client of U2 ascending, b if it survived else s_sk`, msg.from);
        }
        this.#unmasked.set(msg.from, msg);
        return;
      }
      default:
        throw this.#bad(`a server does not receive ${msg.kind} messages`, -1);
    }
  }

  /**
   * Closes the current round (0, 1 or 2) with the clients that delivered, and returns the message for each of them:
   * the key roster after round 0, each client's share delivery after round 1, the survivor list after round 2.
   * Throws SecAggError (reason 'threshold') when fewer than t clients delivered: the round is then lost.
   */
  advance(): Map<number, SecAggMessage> {
    const out = new Map<number, SecAggMessage>();
    const rid = this.#p.roundId;
    switch (this.#round) {
      case 0: {
        this.#u1 = [...this.#advertised.keys()].sort((a, b) => a - b);
        this.#xs = shareXs(this.#u1, this.#p);
        const roster: KeyRoster = {
          kind: 'key-roster', roundId: rid,
          entries: this.#u1.map((id) => {
            const { from, encryptionKey, maskingKey, signature } = this.#advertised.get(id)!;
            return { from, encryptionKey, maskingKey, signature };
          }),
        };
        for (const id of this.#u1) out.set(id, roster);
        this.#round = 1;
        return out;
      }
      case 1: {
        this.#u2 = this.#enough([...this.#shared.keys()], 'shared keys');
        for (const u of this.#u2) {
          const delivery: ShareDelivery = {
            kind: 'share-delivery', roundId: rid, to: u,
            ciphertexts: this.#u2.filter((v) => v !== u).map((v) => ({ from: v, sealed: this.#shared.get(v)!.ciphertexts.find((c) => c.to === u)!.sealed })),
          };
          out.set(u, delivery);
        }
        this.#round = 2;
        return out;
      }
      case 2: {
        this.#u3 = this.#enough([...this.#maskedFrom], 'sent masked inputs');
        const request: UnmaskRequest = { kind: 'unmask-request', roundId: rid, survivors: this.#u3 };
        for (const u of this.#u3) out.set(u, request);
        this.#round = 3;
        return out;
      }
      default:
        throw new SecAggError(`secagg server: cannot advance from round ${this.#round}`, { reason: 'protocol' });
    }
  }

  /**
   * Round 3's end: with shares from at least t survivors, reconstructs each survivor's b and each dropped client's
   * s_sk, removes their masks from the ring sum and decodes it. Throws SecAggError 'threshold' with fewer responders,
   * 'protocol' when a reconstructed s_sk does not match the advertised public key (corrupted shares).
   */
  finish(): SecAggResult {
    if (this.#round !== 3) throw new SecAggError(`secagg server: cannot finish in round ${this.#round}`, { reason: 'protocol' });
    const responders = this.#enough([...this.#unmasked.keys()], 'sent unmasking shares');
    const sharesOf = (v: number): ShamirShare[] =>
      responders.map((r) => ({ x: this.#xs.get(r)!, y: this.#unmasked.get(r)!.shares.find((s) => s.of === v)!.share }));
    const sum = this.#ringSum.slice();
    const survivors = new Set(this.#u3);
    const dropped = this.#u2.filter((v) => !survivors.has(v));
    for (const u of this.#u3) addMask(sum, expandMask(shamirCombine(sharesOf(u), this.#p.threshold), this.#p.dim), -1);
    for (const v of dropped) {
      const sk = shamirCombine(sharesOf(v), this.#p.threshold);
      const advertised = this.#advertised.get(v)!.maskingKey;
      if (!sameBytes(x25519Public(sk), advertised)) {
        throw new SecAggError(`secagg server: reconstructed masking key of client ${v} does not match its public key`, { reason: 'protocol', client: v });
      }
      for (const u of this.#u3) {
        // y_u holds sign(u, v) · PRG(s_uv) with sign + for u < v: take it out.
        const seed = pairwiseSeed(sk, this.#advertised.get(u)!.maskingKey, this.#p.roundId, v, u);
        addMask(sum, expandMask(seed, this.#p.dim), u < v ? -1 : 1);
      }
    }
    this.#round = 'done';
    return {
      sum: dequantiseSum(sum, this.#p),
      quantisedSum: new Int32Array(sum.buffer),
      contributors: this.#u3,
      dropped,
    };
  }

  #step(round: 0 | 1 | 2 | 3, kind: string): void {
    if (this.#round !== round) throw new SecAggError(`secagg server: ${kind} arrived in round ${this.#round}`, { reason: 'protocol' });
  }

  #fresh(duplicate: boolean, member: boolean, from: number): void {
    if (!member) throw this.#bad(`client ${from} is not part of this step`, from);
    if (duplicate) throw this.#bad(`client ${from} already delivered this step`, from);
  }

  #bad(message: string, client: number): SecAggError {
    return new SecAggError(`secagg server: ${message}`, { reason: 'protocol', client });
  }

  #enough(ids: number[], what: string): number[] {
    if (ids.length < this.#p.threshold) {
      throw new SecAggError(`secagg server: ${ids.length} clients ${what}, ${this.#p.threshold} needed`, { reason: 'threshold', have: ids.length, need: this.#p.threshold });
    }
    return ids.sort((a, b) => a - b);
  }
}
