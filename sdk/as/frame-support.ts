// Arithmetic the generated frame views share. All sizes are computed in u64 with saturation, so a
// hostile header cannot wrap a product around and pass a length check.

/** Saturating u64 multiply. */
@inline export function mulSat(a: u64, b: u64): u64 {
  return b != 0 && a > u64.MAX_VALUE / b ? u64.MAX_VALUE : a * b;
}

/** `total` plus a section of `count` elements of `size` bytes padded to 8; saturates past 4 GiB. */
@inline export function addSection(total: u64, count: u64, size: u64): u64 {
  if (count > (<u64>1 << 32)) return u64.MAX_VALUE;
  const bytes = (count * size + 7) & ~(<u64>7);
  const sum = total + bytes;
  return sum < total ? u64.MAX_VALUE : sum;
}

/** `n` rounded up to a multiple of 8. */
@inline export function pad8(n: usize): usize {
  return (n + 7) & ~(<usize>7);
}

/** Zeroes the padding between `used` and the next multiple of 8 after `p`. */
@inline export function zeroPad(p: usize, used: usize): void {
  const padded = pad8(used);
  if (padded > used) memory.fill(p + used, 0, padded - used);
}
