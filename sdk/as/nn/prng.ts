// The trainer's seeded generator: xoshiro128** (Blackman & Vigna), its four u32 words filled from a u32 seed by
// a golden-ratio counter passed through the murmur3 32-bit finaliser. Part of the `trainer` contract: the host's
// reference (test/support/fl-reference/mlp.ts) draws the same minibatch order from the same seed.

/** murmur3's fmix32: spreads a counter's bits so that nearby seeds give unrelated states. */
function mix32(z: u32): u32 {
  z = (z ^ (z >>> 16)) * 0x85ebca6b;
  z = (z ^ (z >>> 13)) * 0xc2b2ae35;
  return z ^ (z >>> 16);
}

@final
export class Xoshiro128 {
  private s0: u32;
  private s1: u32;
  private s2: u32;
  private s3: u32;

  constructor(seed: u32) {
    let c = seed;
    c += 0x9e3779b9; this.s0 = mix32(c);
    c += 0x9e3779b9; this.s1 = mix32(c);
    c += 0x9e3779b9; this.s2 = mix32(c);
    c += 0x9e3779b9; this.s3 = mix32(c);
    if ((this.s0 | this.s1 | this.s2 | this.s3) == 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  next(): u32 {
    const result = rotl<u32>(this.s1 * 5, 7) * 9;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl<u32>(this.s3, 11);
    return result;
  }

  /** An index in [0, n): the high word of next()·n (Lemire's multiply, without the rejection step). */
  below(n: u32): u32 {
    return <u32>((<u64>this.next() * <u64>n) >> 32);
  }

  /** A standard normal draw (Box–Muller, cosine branch; two draws per value). */
  normal(): f64 {
    const u1 = (<f64>this.next() + 1.0) / 4294967296.0; // (0, 1]: log is finite
    const u2 = <f64>this.next() / 4294967296.0;
    return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
  }

  /** Fisher–Yates shuffle of `n` u32 at `p`, in place (from the last position down). */
  shuffleU32(p: usize, n: u32): void {
    for (let i = n; i > 1; i--) {
      const j = this.below(i);
      const a = p + (<usize>(i - 1) << 2);
      const b = p + (<usize>j << 2);
      const t = load<u32>(a);
      store<u32>(a, load<u32>(b));
      store<u32>(b, t);
    }
  }
}
