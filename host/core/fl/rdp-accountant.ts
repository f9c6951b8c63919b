// Rényi-DP accounting for the sampled Gaussian mechanism (SGM): each step releases f(S) + N(0, σ²C²) where S is a
// Poisson sample (every record/client included independently with probability q) and f has L2 sensitivity C
// under adding or removing one record. RDP composes by summing over steps, per order α; the total is then turned
// into an (ε, δ) guarantee by minimising over the orders.
//
// The per-step RDP is ε(α) = log(A_α) / (α − 1) with (Mironov, Talwar & Zhang 2019, "Rényi Differential Privacy of
// the Sampled Gaussian Mechanism", arXiv:1908.10530, §3):
//   A_α = E_{z∼μ0} [ ((1 − q) + q·μ1(z)/μ0(z))^α ],  μ0 = N(0, σ²), μ1 = N(1, σ²)
// computed in log space
//   - for integer α exactly, by the binomial expansion (§3.2):
//       A_α = Σ_{i=0..α} C(α, i) q^i (1 − q)^{α−i} exp((i² − i) / (2σ²));
//   - for fractional α by the two convergent series of §3.3: the integral is split at
//       z0 = σ² log(1/q − 1) + 1/2
//     (below z0 the q·μ1 part is the smaller one, above it the larger), each half expanded with generalised
//     (signed) binomial coefficients and the Gaussian tail written with erfc. Terms are summed until both have
//     started to fall and are e^-30 below the running total; an order that does not converge in MAX_FRAC_TERMS
//     terms is reported as +∞ (that order is then never the one chosen — conservative, never optimistic).
// Edge cases: q = 0 → 0 (nothing is released about anyone); q = 1 → α / (2σ²) (the plain Gaussian mechanism).
//
// Pure: no I/O, no clock, no randomness.
import { FlConfigError } from '../../errors/index.js';

/**
 * Default RDP orders: 1.1, 1.2, …, 10.9, then 11 … 63, then 128, 256, 512, 1024 — the grid Opacus uses
 * (`[1 + x/10 for x in 1..99] + 12..63`) with 11 and the larger orders of Google's dp-accounting added, which help
 * at very small ε (large σ or few steps).
 */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, k) => 1 + (k + 1) / 10),
  ...Array.from({ length: 53 }, (_, k) => 11 + k),
  128, 256, 512, 1024,
]);

/**
 * How an RDP curve becomes (ε, δ).
 * - `improved` (default): ε = rdp(α) + log((α − 1)/α) − (log δ + log α)/(α − 1), Canonne, Kamath & Steinke 2020
 *   ("The Discrete Gaussian for Differential Privacy", Prop. 12; the same bound is Balle et al. 2020, "Hypothesis
 *   Testing Interpretations and Renyi Differential Privacy", Thm. 21). This is what Opacus `get_privacy_spent` and
 *   dp-accounting `compute_epsilon` use. As dp-accounting does, an order also yields ε = 0 when
 *   δ ≥ sqrt(1 − e^{−rdp(α)}) (rdp(α) bounds the KL divergence, and Bretagnolle–Huber bounds total variation by it).
 * - `classic`: ε = rdp(α) + log(1/δ)/(α − 1) (Mironov 2017, "Rényi Differential Privacy", Prop. 3), what
 *   TF-Privacy printed before 2020; kept so published values computed with it can be checked.
 */
export type RdpConversion = 'improved' | 'classic';

export interface EpsilonAtBestOrder {
  readonly epsilon: number;
  /** The order α at which the minimum was reached (NaN when every order gave +∞). */
  readonly order: number;
}

/** One entry of an accountant's history: `steps` consecutive releases with the same σ and q. */
export interface PrivacyStep {
  readonly noiseMultiplier: number;
  readonly samplingRate: number;
  readonly steps: number;
}

const MAX_FRAC_TERMS = 10_000;
const LOG_HALF = Math.log(0.5);
const HALF_LOG_PI = 0.5 * Math.log(Math.PI);

// ---------------------------------------------------------------------------------------------------------------
// Argument checks (the field is named in `details.field`).

function fail(field: string, value: unknown, why: string): never {
  throw new FlConfigError(`${field} ${why} (got ${String(value)})`, { field, value: typeof value === 'number' ? value : String(value) });
}

export function checkNoiseMultiplier(sigma: number, field = 'noiseMultiplier'): void {
  if (typeof sigma !== 'number' || !Number.isFinite(sigma) || !(sigma > 0)) fail(field, sigma, 'must be a finite number > 0');
}

export function checkSamplingRate(q: number, field = 'samplingRate'): void {
  if (typeof q !== 'number' || !Number.isFinite(q) || q < 0 || q > 1) fail(field, q, 'must be a number in [0, 1]');
}

export function checkDelta(delta: number, field = 'delta'): void {
  if (typeof delta !== 'number' || !Number.isFinite(delta) || !(delta > 0 && delta < 1)) fail(field, delta, 'must be a number in (0, 1)');
}

function checkSteps(steps: number, field = 'steps'): void {
  if (!Number.isSafeInteger(steps) || steps < 1) fail(field, steps, 'must be a positive integer');
}

function checkOrders(orders: readonly number[]): void {
  if (orders.length === 0) fail('orders', '[]', 'must not be empty');
  for (const a of orders) if (typeof a !== 'number' || !Number.isFinite(a) || !(a > 1)) fail('orders', a, 'must all be finite numbers > 1');
}

// ---------------------------------------------------------------------------------------------------------------
// Log-space arithmetic.

/** log(e^a + e^b) without overflow. */
function logAdd(a: number, b: number): number {
  const hi = Math.max(a, b);
  const lo = Math.min(a, b);
  if (lo === -Infinity) return hi;
  return hi + Math.log1p(Math.exp(lo - hi));
}

/** log(e^a − e^b) for a ≥ b; NaN when b > a (the caller treats that as a numerical failure). */
function logSub(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (b > a) return Number.NaN;
  if (b === a) return -Infinity;
  return a + Math.log(-Math.expm1(b - a));
}

/**
 * log(erfc(x)) for every real x, accurate to ~1e-13 relative on erfc and never underflowing for large x:
 * - x ≥ 2: the continued fraction erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) (Abramowitz &
 *   Stegun 7.1.14), evaluated by the modified Lentz method, so the e^{−x²} factor stays in log form;
 * - |x| < 2: erfc = 1 − erf with erf(x) = (2/√π) e^{−x²} Σ_n 2^n x^{2n+1} / (1·3·…·(2n+1)) (A&S 7.1.6; positive terms,
 *   no cancellation inside the sum);
 * - x ≤ −2: erfc(x) = 2 − erfc(−x).
 */
export function logErfc(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x >= 2) {
    if (x === Infinity) return -Infinity;
    const tiny = 1e-300;
    let f = x;
    let c = x;
    let d = 0;
    for (let n = 1; n < 5000; n++) {
      const a = n / 2;
      d = x + a * d;
      if (Math.abs(d) < tiny) d = tiny;
      c = x + a / c;
      if (Math.abs(c) < tiny) c = tiny;
      d = 1 / d;
      const delta = c * d;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) break;
    }
    return -x * x - HALF_LOG_PI - Math.log(f);
  }
  if (x <= -2) return Math.log(2 - Math.exp(logErfc(-x)));
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  const erf = (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
  return Math.log1p(-erf);
}

// ---------------------------------------------------------------------------------------------------------------
// log(A_α).

/** Integer α ≥ 2, 0 < q < 1: the exact binomial sum, all terms positive. */
function logAInteger(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoVar = 2 * sigma * sigma;
  let logA = -Infinity;
  let logBinom = 0; // log C(α, i), built up by the ratio C(α, i+1)/C(α, i) = (α − i)/(i + 1)
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logBinom += Math.log((alpha - i + 1) / i);
    logA = logAdd(logA, logBinom + i * logQ + (alpha - i) * log1mQ + (i * i - i) / twoVar);
  }
  return logA;
}

/** Fractional α > 1, 0 < q < 1: the two series of §3.3 with signed generalised binomial coefficients. */
function logAFractional(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoVar = 2 * sigma * sigma;
  const sqrt2Sigma = Math.SQRT2 * sigma;
  const z0 = sigma * sigma * Math.log(1 / q - 1) + 0.5;
  // Each series is kept as (log of positive part, log of negative part) so that subtraction happens once at the end.
  let pos0 = -Infinity;
  let neg0 = -Infinity;
  let pos1 = -Infinity;
  let neg1 = -Infinity;
  let logAbsBinom = 0; // log |C(α, i)|
  let sign = 1; // sign of C(α, i)
  let last0 = -Infinity;
  let last1 = -Infinity;
  for (let i = 0; i < MAX_FRAC_TERMS; i++) {
    if (i > 0) {
      const ratio = (alpha - i + 1) / i;
      if (ratio < 0) sign = -sign;
      logAbsBinom += Math.log(Math.abs(ratio));
    }
    const j = alpha - i;
    const s0 = logAbsBinom + i * logQ + j * log1mQ + (i * i - i) / twoVar + LOG_HALF + logErfc((i - z0) / sqrt2Sigma);
    const s1 = logAbsBinom + j * logQ + i * log1mQ + (j * j - j) / twoVar + LOG_HALF + logErfc((z0 - j) / sqrt2Sigma);
    if (sign > 0) {
      pos0 = logAdd(pos0, s0);
      pos1 = logAdd(pos1, s1);
    } else {
      neg0 = logAdd(neg0, s0);
      neg1 = logAdd(neg1, s1);
    }
    const total = logAdd(logSub(pos0, neg0), logSub(pos1, neg1));
    if (s0 < last0 && s1 < last1 && Math.max(s0, s1) < total - 30) {
      return Number.isNaN(total) ? Infinity : total;
    }
    last0 = s0;
    last1 = s1;
  }
  return Infinity;
}

/**
 * RDP ε(α) of one step of the sampled Gaussian mechanism with noise multiplier σ (noise std / sensitivity) and
 * Poisson sampling rate q, at order α > 1.
 */
export function sampledGaussianRdp(noiseMultiplier: number, samplingRate: number, order: number): number {
  checkNoiseMultiplier(noiseMultiplier);
  checkSamplingRate(samplingRate);
  if (!Number.isFinite(order) || !(order > 1)) fail('order', order, 'must be a finite number > 1');
  return rdpUnchecked(noiseMultiplier, samplingRate, order);
}

function rdpUnchecked(sigma: number, q: number, alpha: number): number {
  if (q === 0) return 0;
  if (q === 1) return alpha / (2 * sigma * sigma);
  const logA = Number.isInteger(alpha) ? logAInteger(q, sigma, alpha) : logAFractional(q, sigma, alpha);
  // log A_α ≥ 0 in exact arithmetic (Jensen); a tiny negative value is rounding.
  return Math.max(0, logA) / (alpha - 1);
}

/** The per-step RDP curve over `orders` (one value per order). */
export function sampledGaussianRdpCurve(noiseMultiplier: number, samplingRate: number, orders: readonly number[] = DEFAULT_RDP_ORDERS): Float64Array {
  checkNoiseMultiplier(noiseMultiplier);
  checkSamplingRate(samplingRate);
  checkOrders(orders);
  return Float64Array.from(orders, (a) => rdpUnchecked(noiseMultiplier, samplingRate, a));
}

// ---------------------------------------------------------------------------------------------------------------
// RDP → (ε, δ).

/** The smallest ε over the orders for which the composed RDP curve `rdp` gives (ε, δ)-DP, and that order. */
export function epsilonFromRdp(orders: readonly number[], rdp: ArrayLike<number>, delta: number, conversion: RdpConversion = 'improved'): EpsilonAtBestOrder {
  checkDelta(delta);
  checkOrders(orders);
  if (rdp.length !== orders.length) fail('rdp', rdp.length, `must have one value per order (${orders.length})`);
  const logDelta = Math.log(delta);
  let best = Infinity;
  let bestOrder = Number.NaN;
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k]!;
    const r = rdp[k]!;
    if (Number.isNaN(r) || r < 0) fail('rdp', r, 'must hold non-negative numbers');
    let eps: number;
    if (conversion === 'classic') {
      eps = r - logDelta / (a - 1);
    } else if (delta * delta + Math.expm1(-r) >= 0) {
      eps = 0;
    } else {
      eps = r + Math.log1p(-1 / a) - (logDelta + Math.log(a)) / (a - 1);
    }
    if (eps < best) {
      best = eps;
      bestOrder = a;
    }
  }
  return { epsilon: Math.max(0, best), order: bestOrder };
}

// ---------------------------------------------------------------------------------------------------------------
// The accountant.

/**
 * Composes sampled-Gaussian steps (σ and q may change between calls) and reports (ε, δ) at any time. Consecutive
 * calls with the same σ and q are merged in `history` and reuse one per-step curve.
 */
export class RdpAccountant {
  readonly orders: readonly number[];
  private readonly total: Float64Array;
  private readonly entries: PrivacyStep[] = [];
  private cached: { sigma: number; q: number; curve: Float64Array } | undefined;

  constructor(orders: readonly number[] = DEFAULT_RDP_ORDERS) {
    checkOrders(orders);
    this.orders = Object.freeze([...orders]);
    this.total = new Float64Array(orders.length);
  }

  /** Records `steps` releases of the sampled Gaussian mechanism with noise multiplier σ and sampling rate q. */
  step(noiseMultiplier: number, samplingRate: number, steps = 1): void {
    checkNoiseMultiplier(noiseMultiplier);
    checkSamplingRate(samplingRate);
    checkSteps(steps);
    const c = this.cached;
    const curve = c !== undefined && c.sigma === noiseMultiplier && c.q === samplingRate
      ? c.curve
      : sampledGaussianRdpCurve(noiseMultiplier, samplingRate, this.orders);
    this.cached = { sigma: noiseMultiplier, q: samplingRate, curve };
    for (let k = 0; k < curve.length; k++) this.total[k]! += steps * curve[k]!;
    const last = this.entries.at(-1);
    if (last !== undefined && last.noiseMultiplier === noiseMultiplier && last.samplingRate === samplingRate) {
      this.entries[this.entries.length - 1] = Object.freeze({ ...last, steps: last.steps + steps });
    } else {
      this.entries.push(Object.freeze({ noiseMultiplier, samplingRate, steps }));
    }
  }

  /** ε at the given δ for everything recorded so far (0 before the first step), and the order that gave it. */
  epsilon(delta: number, conversion: RdpConversion = 'improved'): EpsilonAtBestOrder {
    return epsilonFromRdp(this.orders, this.total, delta, conversion);
  }

  /** The composed RDP curve (a copy, one value per order). */
  rdp(): Float64Array {
    return this.total.slice();
  }

  get history(): readonly PrivacyStep[] {
    return this.entries.slice();
  }

  get totalSteps(): number {
    return this.entries.reduce((n, e) => n + e.steps, 0);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Calibration: the smallest σ whose ε after `steps` steps is at most the target.

export interface CalibrationRequest {
  readonly targetEpsilon: number;
  readonly delta: number;
  /** Sampling rate q in (0, 1]. */
  readonly samplingRate: number;
  readonly steps: number;
  readonly orders?: readonly number[];
  readonly conversion?: RdpConversion;
}

/** σ is searched in [SIGMA_MIN, SIGMA_MAX]; outside it the target is called unreachable. */
export const CALIBRATION_SIGMA_MIN = 1e-3;
export const CALIBRATION_SIGMA_MAX = 1e4;

/**
 * The smallest noise multiplier (to a relative precision of 1e-6, rounded up) for which `steps` sampled-Gaussian
 * steps at rate q give ε ≤ targetEpsilon at δ. ε is decreasing in σ, so bisection on σ is exact up to its stopping
 * rule; the answer is always on the safe side (its ε ≤ target). Throws FlConfigError when even σ = 1e4 is not
 * enough (`details.field` = 'targetEpsilon').
 */
export function calibrateNoiseMultiplier(req: CalibrationRequest): number {
  const { targetEpsilon, delta, samplingRate, steps } = req;
  const orders = req.orders ?? DEFAULT_RDP_ORDERS;
  const conversion = req.conversion ?? 'improved';
  if (typeof targetEpsilon !== 'number' || !Number.isFinite(targetEpsilon) || !(targetEpsilon > 0)) {
    fail('targetEpsilon', targetEpsilon, 'must be a finite number > 0');
  }
  checkDelta(delta);
  checkSamplingRate(samplingRate);
  if (samplingRate === 0) fail('samplingRate', samplingRate, 'must be > 0 to calibrate (q = 0 releases nothing)');
  checkSteps(steps);
  checkOrders(orders);
  const eps = (sigma: number): number =>
    epsilonFromRdp(orders, sampledGaussianRdpCurve(sigma, samplingRate, orders).map((r) => r * steps), delta, conversion).epsilon;

  if (eps(CALIBRATION_SIGMA_MAX) > targetEpsilon) {
    throw new FlConfigError(
      `targetEpsilon ${targetEpsilon} at delta ${delta} is unreachable for ${steps} steps at sampling rate ${samplingRate}: ` +
        `even noise multiplier ${CALIBRATION_SIGMA_MAX} gives epsilon ${eps(CALIBRATION_SIGMA_MAX)}`,
      { field: 'targetEpsilon', value: targetEpsilon, delta, steps, samplingRate },
    );
  }
  if (eps(CALIBRATION_SIGMA_MIN) <= targetEpsilon) return CALIBRATION_SIGMA_MIN;
  // Invariant: eps(lo) > target ≥ eps(hi). Search on a log scale first to bracket within a factor of 2.
  let hi = 1;
  let lo: number;
  if (eps(hi) <= targetEpsilon) {
    lo = hi / 2;
    while (eps(lo) <= targetEpsilon) { hi = lo; lo /= 2; }
  } else {
    lo = hi;
    hi = 2;
    while (eps(hi) > targetEpsilon) { lo = hi; hi *= 2; }
  }
  while (hi - lo > 1e-6 * hi) {
    const mid = (lo + hi) / 2;
    if (eps(mid) <= targetEpsilon) hi = mid;
    else lo = mid;
  }
  return hi;
}
