// The quarantine pre-filter the XDP program reads (map `quarantine_filter`, bpf/README.md): one bit per bucket of
// source addresses. The program looks a source up in quarantine_v4/v6 only when its bit is set, which saves that
// hash lookup (about a third of the program's cost) for nearly every packet while a quarantine is in force. The bit
// must match the kernel's computation exactly:
//   fold = the IPv4 key read as one little-endian u32, or the XOR of the IPv6 key's four little-endian u32s
//   bit  = (fold × 0x9E3779B1 mod 2^32) >>> 16, i.e. byte bit >>> 3, bit bit & 7 of the 8192-byte value.
// "Little-endian" is the host's order, as the program reads the words natively: like the netlink codecs, this
// assumes a little-endian host (x86-64, arm64, and the usual little-endian OpenWrt targets).
import { QUARANTINE_FILTER_BYTES } from './bpf-contract.js';

const MUL = 0x9e3779b1;

/** The filter bit (0 … 65535) of a source address key: 4 bytes (IPv4) or 16 (IPv6), network byte order. */
export function quarantineFilterBit(key: Uint8Array): number {
  if (key.length !== 4 && key.length !== 16) throw new RangeError(`a source key is 4 or 16 bytes, not ${key.length}`);
  const view = new DataView(key.buffer, key.byteOffset, key.length);
  let fold = 0;
  for (let at = 0; at < key.length; at += 4) fold ^= view.getUint32(at, true);
  return Math.imul(fold, MUL) >>> 16;
}

/** The filter value with exactly the bits of `keys` set. */
export function quarantineFilter(keys: Iterable<Uint8Array>): Uint8Array {
  const value = new Uint8Array(QUARANTINE_FILTER_BYTES);
  for (const key of keys) setFilterBit(value, key);
  return value;
}

/** Sets a key's bit in a filter value (in place). */
export function setFilterBit(value: Uint8Array, key: Uint8Array): void {
  const bit = quarantineFilterBit(key);
  value[bit >>> 3]! |= 1 << (bit & 7);
}
