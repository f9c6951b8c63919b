// DP-FedAvg (McMahan, Ramage, Talwar & Zhang 2018, "Learning Differentially Private Recurrent Language Models",
// ICLR 2018): user-level differential privacy for federated rounds.
//
// Each round the coordinator samples clients by Poisson sampling (each of the N clients independently with
// probability q — the accountant's analysis assumes exactly that), each participant clips its model delta to L2
// norm C, and the coordinator releases
//     Δ = (Σ clipped deltas) / (q·N)  +  N(0, (σC/(qN))²) per coordinate.
// Dividing by the fixed expected count q·N (not by the number that actually arrived) keeps the sensitivity of Δ to
// adding or removing one client at C/(qN), so Δ is the sampled Gaussian mechanism with noise multiplier σ, and the
// RDP accountant charges one step (σ, q) per released round.
//
// Where the noise is added:
// - `central`: the coordinator adds N(0, σ²C²) once, to the sum (here: N(0, (σC/(qN))²) after the division).
// - `distributed`: each of the m participants adds N(0, σ²C²/m) to its own clipped delta, so the sum carries
//   N(0, σ²C²) — used when secure aggregation hides individual updates and the coordinator only ever sees the sum.
//   The guarantee assumes all m noisy updates reach the sum: a participant that drops out after others added
//   their share leaves the sum with less noise (σ·sqrt(m'/m) instead of σ), and the accountant does not know.
//   Individual noisy updates are also much less protected than the sum (each carries only σ/√m): they must stay
//   hidden, which is secure aggregation's job.
import { FlConfigError } from '../errors/index.js';
import { checkClipNorm, clipToNorm } from '../core/fl/clip.js';
import {
  calibrateNoiseMultiplier, checkDelta, checkNoiseMultiplier, DEFAULT_RDP_ORDERS, RdpAccountant,
} from '../core/fl/rdp-accountant.js';
import { addGaussianNoise, type GaussianSampler } from './gaussian-noise.js';

export type NoisePlacement = 'central' | 'distributed';

export interface DpMechanismConfig {
  /** C: every client's delta is clipped to this L2 norm. */
  readonly clipNorm: number;
  /** σ: noise std divided by C (for the sum), i.e. by the sensitivity. */
  readonly noiseMultiplier: number;
  readonly placement: NoisePlacement;
  /** q·N, the expected number of participants per round; the fixed denominator of the average. */
  readonly expectedClients: number;
  /** N, the number of clients that may be sampled. q = expectedClients / populationSize. */
  readonly populationSize: number;
  /** δ at which `spent()` reports ε. */
  readonly delta: number;
  /** RDP orders for the accountant (default DEFAULT_RDP_ORDERS). */
  readonly orders?: readonly number[];
}

export interface DpTargetConfig extends Omit<DpMechanismConfig, 'noiseMultiplier'> {
  /** ε to stay within after `rounds` rounds at `delta`. */
  readonly targetEpsilon: number;
  /** The number of rounds planned. */
  readonly rounds: number;
}

export interface PrivacySpent {
  readonly epsilon: number;
  readonly delta: number;
  readonly rounds: number;
  /** The RDP order at which ε was reached (NaN before the first round). */
  readonly order: number;
}

export interface ClientPrepareResult {
  readonly clipped: boolean;
  /** The L2 norm of the update before clipping. */
  readonly norm: number;
}

type Normalised = Required<Omit<DpMechanismConfig, 'orders'>> & { readonly orders: readonly number[]; readonly samplingRate: number };

function normalise(c: DpMechanismConfig): Normalised {
  if (typeof c !== 'object' || c === null) throw new FlConfigError('DP config must be an object', { field: 'config' });
  checkClipNorm(c.clipNorm);
  checkNoiseMultiplier(c.noiseMultiplier);
  checkDelta(c.delta);
  if (c.placement !== 'central' && c.placement !== 'distributed') {
    throw new FlConfigError(`placement must be 'central' or 'distributed' (got ${String(c.placement)})`, { field: 'placement', value: String(c.placement) });
  }
  if (!Number.isSafeInteger(c.populationSize) || c.populationSize < 1) {
    throw new FlConfigError(`populationSize must be a positive integer (got ${String(c.populationSize)})`, { field: 'populationSize', value: c.populationSize });
  }
  if (typeof c.expectedClients !== 'number' || !Number.isFinite(c.expectedClients) || !(c.expectedClients > 0) || c.expectedClients > c.populationSize) {
    throw new FlConfigError(`expectedClients must be a number in (0, populationSize = ${c.populationSize}] (got ${String(c.expectedClients)})`, {
      field: 'expectedClients', value: c.expectedClients,
    });
  }
  return Object.freeze({
    clipNorm: c.clipNorm,
    noiseMultiplier: c.noiseMultiplier,
    placement: c.placement,
    expectedClients: c.expectedClients,
    populationSize: c.populationSize,
    delta: c.delta,
    orders: c.orders ?? DEFAULT_RDP_ORDERS,
    samplingRate: c.expectedClients / c.populationSize,
  });
}

export class DpMechanism {
  readonly config: Normalised;
  private readonly accountant: RdpAccountant;

  constructor(config: DpMechanismConfig, private readonly rng: GaussianSampler) {
    this.config = normalise(config);
    this.accountant = new RdpAccountant(this.config.orders);
  }

  /**
   * The mechanism whose σ is the smallest that keeps ε ≤ targetEpsilon at δ after `rounds` rounds
   * (calibrateNoiseMultiplier; FlConfigError when unreachable).
   */
  static forTargetEpsilon(config: DpTargetConfig, rng: GaussianSampler): DpMechanism {
    if (!Number.isSafeInteger(config.rounds) || config.rounds < 1) {
      throw new FlConfigError(`rounds must be a positive integer (got ${String(config.rounds)})`, { field: 'rounds', value: config.rounds });
    }
    // Validate everything but σ first, with a placeholder σ, so errors name the caller's fields.
    const probe = normalise({ ...config, noiseMultiplier: 1 });
    const noiseMultiplier = calibrateNoiseMultiplier({
      targetEpsilon: config.targetEpsilon,
      delta: probe.delta,
      samplingRate: probe.samplingRate,
      steps: config.rounds,
      orders: probe.orders,
    });
    const { targetEpsilon: _t, rounds: _r, ...rest } = config;
    return new DpMechanism({ ...rest, noiseMultiplier }, rng);
  }

  get samplingRate(): number {
    return this.config.samplingRate;
  }

  /** Std of the noise on each coordinate of the released average: σC/(qN). */
  get averageNoiseStd(): number {
    return (this.config.noiseMultiplier * this.config.clipNorm) / this.config.expectedClients;
  }

  /**
   * Client side, in place: clip the delta to C and, with distributed placement, add this client's share
   * N(0, σ²C²/participants) of the noise. `participants` is the number m of clients whose updates will be summed.
   */
  clientPrepare(update: Float32Array, participants: number): ClientPrepareResult {
    if (!Number.isSafeInteger(participants) || participants < 1) {
      throw new FlConfigError(`participants must be a positive integer (got ${String(participants)})`, { field: 'participants', value: participants });
    }
    const { clipped, norm } = clipToNorm(update, this.config.clipNorm);
    if (this.config.placement === 'distributed') {
      addGaussianNoise(update, (this.config.noiseMultiplier * this.config.clipNorm) / Math.sqrt(participants), this.rng);
    }
    return { clipped, norm };
  }

  /**
   * Coordinator side, in place on `sum` (the sum of the prepared updates), which it returns: divides by q·N and,
   * with central placement, adds N(0, (σC/(qN))²) per coordinate. Call recordRound() once the result is released.
   */
  finalizeSum(sum: Float32Array): Float32Array {
    const inv = 1 / this.config.expectedClients;
    if (this.config.placement === 'central') {
      const std = this.averageNoiseStd;
      // Noise drawn in f64 and added before the float32 rounding of the stored value.
      for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! * inv + std * this.rng.next();
    } else {
      for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! * inv;
    }
    return sum;
  }

  /** Charges one released round (σ, q) to the accountant. */
  recordRound(): void {
    this.accountant.step(this.config.noiseMultiplier, this.config.samplingRate, 1);
  }

  /** (ε, δ) after the rounds recorded so far. */
  spent(): PrivacySpent {
    const { epsilon, order } = this.accountant.epsilon(this.config.delta);
    return { epsilon, delta: this.config.delta, rounds: this.accountant.totalSteps, order };
  }
}
