// Gaussian noise for differential privacy, drawn from a byte source.
//
// Two byte sources:
// - CryptoByteSource: node:crypto randomFillSync (the OS CSPRNG), refilled 64 KiB at a time — for real rounds;
// - SeededByteSource: the ChaCha20 keystream (RFC 8439 cipher from node:crypto/OpenSSL; key = SHA-256 of the seed,
//   nonce and counter zero) — deterministic, for simulations and tests. Same seed → same noise, on any machine.
// Uniforms take 53 bits (two little-endian uint32 words) as (k + 1/2)/2^53 ∈ (0, 1); normals come from Marsaglia's
// polar method in f64 (two normals per accepted pair, ~21 % of pairs rejected). No trigonometry, so no platform
// libm differences beyond Math.log/Math.sqrt (sqrt is correctly rounded; log is not guaranteed identical across
// engines, so cross-platform bit-exactness of seeded noise is only as good as V8's log).
//
// Caveat (Mironov 2012, "On Significance of the Least Significant Bits for Differential Privacy"): textbook
// floating-point samplers leave gaps and uneven spacing in the low-order bits of the noise, and an observer of
// noisy outputs can in principle use them to tell neighbouring inputs apart, breaking the formal guarantee. The
// fixes (snapping, discrete Gaussian sampling, Canonne–Kamath–Steinke 2020) are outside this sampler; the result is
// also rounded to float32 when added to a model. Accepted for this project: the guarantee reported by the
// accountant is the idealised one.
import { createCipheriv, createHash, randomFillSync, type Cipher } from 'node:crypto';
import { FlConfigError } from '../errors/index.js';

/** Anything that can fill a buffer with uniformly random bytes. */
export interface ByteSource {
  fill(out: Uint8Array): void;
}

const BLOCK = 64 * 1024;

/** The operating system's CSPRNG (node:crypto randomFillSync). */
export class CryptoByteSource implements ByteSource {
  fill(out: Uint8Array): void {
    randomFillSync(out);
  }
}

/** A deterministic stream: the ChaCha20 keystream under key SHA-256(seed). */
export class SeededByteSource implements ByteSource {
  private readonly cipher: Cipher;
  private readonly zeros = new Uint8Array(BLOCK);

  constructor(seed: Uint8Array | string) {
    const key = createHash('sha256').update(typeof seed === 'string' ? Buffer.from(seed, 'utf8') : seed).digest();
    // OpenSSL's chacha20 IV is the 32-bit little-endian block counter followed by the 96-bit nonce; both zero.
    this.cipher = createCipheriv('chacha20', key, Buffer.alloc(16));
  }

  fill(out: Uint8Array): void {
    for (let off = 0; off < out.length; off += BLOCK) {
      const n = Math.min(BLOCK, out.length - off);
      const ks = this.cipher.update(this.zeros.subarray(0, n));
      out.set(ks, off);
    }
  }
}

/** Standard normal variates (mean 0, variance 1) from a byte source, buffered. */
export class GaussianSampler {
  private readonly buf = new Uint8Array(BLOCK);
  private readonly words = new DataView(this.buf.buffer);
  private pos = BLOCK;
  private spare = Number.NaN;

  constructor(private readonly source: ByteSource) {}

  /** A uniform double in the open interval (0, 1) with 53 random bits. */
  uniform(): number {
    if (this.pos + 8 > BLOCK) {
      this.source.fill(this.buf);
      this.pos = 0;
    }
    const lo = this.words.getUint32(this.pos, true);
    const hi = this.words.getUint32(this.pos + 4, true) >>> 11; // 21 bits
    this.pos += 8;
    return (hi * 4294967296 + lo + 0.5) / 9007199254740992; // (k + 1/2) / 2^53
  }

  /** One N(0, 1) sample. */
  next(): number {
    if (!Number.isNaN(this.spare)) {
      const z = this.spare;
      this.spare = Number.NaN;
      return z;
    }
    for (;;) {
      const u = 2 * this.uniform() - 1;
      const v = 2 * this.uniform() - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      this.spare = v * f;
      return u * f;
    }
  }
}

/** A sampler over the OS CSPRNG. */
export function cryptoGaussian(): GaussianSampler {
  return new GaussianSampler(new CryptoByteSource());
}

/** A deterministic sampler: the same seed gives the same sequence. */
export function seededGaussian(seed: Uint8Array | string): GaussianSampler {
  return new GaussianSampler(new SeededByteSource(seed));
}

/** v[i] += N(0, std²) for every coordinate, in place (computed in f64, stored as float32). std = 0 is a no-op. */
export function addGaussianNoise(v: Float32Array, std: number, rng: GaussianSampler): void {
  if (typeof std !== 'number' || !Number.isFinite(std) || std < 0) {
    throw new FlConfigError(`noise std must be a finite number >= 0 (got ${String(std)})`, { field: 'std', value: std });
  }
  if (std === 0) return;
  for (let i = 0; i < v.length; i++) v[i] = v[i]! + std * rng.next();
}
