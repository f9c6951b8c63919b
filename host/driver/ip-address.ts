// IP addresses as the XDP maps key them: the bytes in network order exactly as they sit in the packet header
// (4 for IPv4, 16 for IPv6), and back to canonical text (dotted quad; RFC 5952 for IPv6: lower case, leading
// zeros dropped, the first longest run of two or more zero groups shortened to `::`, IPv4-mapped as ::ffff:a.b.c.d).
import { UsageError } from '../errors/index.js';
import type { PeerFamily } from './packet-driver.js';

export interface AddressKey {
  readonly family: PeerFamily;
  /** Network byte order: 4 bytes for IPv4, 16 for IPv6. */
  readonly bytes: Uint8Array;
}

function invalid(text: string): UsageError {
  return new UsageError(`address must be an IPv4 or IPv6 address, got ${JSON.stringify(text)}`, { path: 'address', value: text });
}

/** Four decimal octets 0-255 without leading zeros, or null. */
function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

/** Eight 16-bit groups (with at most one `::`, optionally ending in a dotted quad), or null. */
function parseIPv6(text: string): Uint8Array | null {
  if (text.includes('%')) return null; // a zone belongs to a socket address, not to a packet's source
  let head = text;
  let tailV4: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseIPv4(text.slice(lastColon + 1));
    if (!tailV4) return null;
    head = text.slice(0, lastColon + 1) + '0:0'; // two placeholder groups, replaced below
  }
  const halves = head.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  if (!left || !right) return null;
  let all: number[];
  if (halves.length === 2) {
    if (left.length + right.length > 7) return null; // `::` stands for at least one zero group
    all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  } else {
    if (left.length !== 8) return null;
    all = left;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = all[i]! >> 8;
    out[2 * i + 1] = all[i]! & 0xff;
  }
  if (tailV4) out.set(tailV4, 12);
  return out;
}

/** Parses IPv4 or IPv6 text into its map key; throws UsageError (details.path 'address') otherwise. */
export function encodeAddress(text: string): AddressKey {
  const v4 = parseIPv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = text.includes(':') ? parseIPv6(text) : null;
  if (v6) return { family: 6, bytes: v6 };
  throw invalid(text);
}

/**
 * The key a peer given by an operator or the node is counted under: as encodeAddress, but a zone index (`%eth0`,
 * meaningless on the one interface the program watches) is dropped and an IPv4-mapped IPv6 address (what a
 * dual-stack socket reports for an IPv4 sender) is the IPv4 address it carries — the same normalisation as the
 * user-space driver's, so both drivers answer alike.
 */
export function peerKey(text: string): AddressKey {
  const zone = typeof text === 'string' ? text.indexOf('%') : -1;
  const key = encodeAddress(zone > 0 && text.includes(':') ? text.slice(0, zone) : text);
  const b = key.bytes;
  if (key.family === 6 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return { family: 4, bytes: b.slice(12) };
  return key;
}

function formatIPv4(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

function formatIPv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  // IPv4-mapped (::ffff:0:0/96) keeps the dotted quad (RFC 5952 section 5).
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) return `::ffff:${formatIPv4(b, 12)}`;
  let bestAt = -1;
  let bestLen = 1; // a single zero group is never shortened
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

/** Canonical text of a map key (4 or 16 bytes, network order). */
export function decodeAddress(family: PeerFamily, bytes: Uint8Array): string {
  if (family === 4) {
    if (bytes.length < 4) throw new UsageError(`an IPv4 key has 4 bytes, got ${bytes.length}`, { path: 'address' });
    return formatIPv4(bytes);
  }
  if (bytes.length < 16) throw new UsageError(`an IPv6 key has 16 bytes, got ${bytes.length}`, { path: 'address' });
  return formatIPv6(bytes.subarray(0, 16));
}

/** Orders keys IPv4 before IPv6, then by their bytes (numeric address order). */
export function compareAddressKeys(a: AddressKey, b: AddressKey): number {
  if (a.family !== b.family) return a.family - b.family;
  for (let i = 0; i < a.bytes.length; i++) if (a.bytes[i] !== b.bytes[i]) return a.bytes[i]! - b.bytes[i]!;
  return 0;
}
