// Poisson sampling of a round's clients: each one independently with probability q, from the OS CSPRNG. This is the
// sampling the Rényi-DP accountant's amplification assumes (host/core/fl/rdp-accountant.ts); the coordinator's
// seeded selection is auditable but predictable, so DP rounds with q < 1 hand the core this sample instead
// (Selection kind 'explicit').
import { randomBytes } from 'node:crypto';
import { FlConfigError } from '../errors/index.js';

/** A uniform double in [0, 1) with 53 random bits. */
export function cryptoUniform(): number {
  const b = randomBytes(8);
  const hi = b.readUInt32LE(0) >>> 5; // 27 bits
  const lo = b.readUInt32LE(4) >>> 6; // 26 bits
  return (hi * 67108864 + lo) / 9007199254740992;
}

/** The ids kept, each with probability `rate`, in their given order. */
export function poissonSample(ids: readonly string[], rate: number, uniform: () => number = cryptoUniform): string[] {
  if (!(rate > 0 && rate <= 1)) throw new FlConfigError(`sampling rate must be in (0, 1], got ${rate}`, { field: 'samplingRate' });
  return rate === 1 ? [...ids] : ids.filter(() => uniform() < rate);
}
