// IP addresses as text (what node:dgram speaks) and as bytes (what beacons carry). Parsing accepts the usual
// textual forms; formatting is canonical (dotted quad; RFC 5952 for IPv6: lower case, no leading zeros, the
// longest run of two or more zero groups as `::`, IPv4-mapped as ::ffff:a.b.c.d), so equal addresses have equal
// text. An IPv6 zone (`fe80::1%eth0`, `fe80::1%3`) is kept as an interface name or index.
import { CodecError } from '../../errors/index.js';

export type IpScope = { readonly index: number } | { readonly name: string };

export interface IpAddress {
  readonly family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
  /** IPv6 zone only. */
  readonly scope?: IpScope;
}

function bad(text: string, why: string): CodecError {
  return new CodecError(`ip address ${JSON.stringify(text)}: ${why}`, { kind: 'ip-address', reason: 'syntax' });
}

function parseIpv4(text: string, whole: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) throw bad(whole, `bad IPv4 octet ${JSON.stringify(p)}`);
    out[i] = Number(p);
  }
  return out;
}

function parseScope(s: string, whole: string): IpScope {
  if (s.length === 0) throw bad(whole, 'empty zone');
  if (/^[0-9]+$/.test(s)) {
    const index = Number(s);
    if (index > 0xffffffff) throw bad(whole, 'zone index out of range');
    return { index };
  }
  if (/[%\]\s]/.test(s) || new TextEncoder().encode(s).byteLength > 255) throw bad(whole, 'bad zone name');
  return { name: s };
}

function parseIpv6(text: string, whole: string): Uint8Array {
  const halves = text.split('::');
  if (halves.length > 2) throw bad(whole, 'more than one "::"');
  const groups = (h: string): number[] => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    parts.forEach((p, i) => {
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIpv4(p, whole);
        if (!v4) throw bad(whole, 'bad embedded IPv4');
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
        return;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) throw bad(whole, `bad group ${JSON.stringify(p)}`);
      out.push(parseInt(p, 16));
    });
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (halves.length === 2 && head.length + tail.length > 7) throw bad(whole, 'too many groups');
  if (halves.length === 1 && head.length !== 8) throw bad(whole, 'needs 8 groups');
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => { out[2 * i] = g >> 8; out[2 * i + 1] = g & 0xff; });
  return out;
}

/** Parses an IPv4 or IPv6 address (with an optional IPv6 zone). Throws CodecError{kind:'ip-address'}. */
export function parseIp(text: string): IpAddress {
  if (!text.includes(':')) {
    const v4 = parseIpv4(text, text);
    if (!v4) throw bad(text, 'not an IP address');
    return { family: 4, bytes: v4 };
  }
  const pct = text.indexOf('%');
  const addr = pct < 0 ? text : text.slice(0, pct);
  const bytes = parseIpv6(addr, text);
  return pct < 0 ? { family: 6, bytes } : { family: 6, bytes, scope: parseScope(text.slice(pct + 1), text) };
}

export function formatScope(s: IpScope): string {
  return 'index' in s ? String(s.index) : s.name;
}

/** Canonical text of an address (see the file comment). */
export function formatIp(a: IpAddress): string {
  const b = a.bytes;
  if (a.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  let text: string;
  // IPv4-mapped (::ffff:a.b.c.d), RFC 5952 section 5.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    text = `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  } else {
    let bestAt = -1;
    let bestLen = 1; // a single zero group is not shortened
    for (let i = 0; i < 8; ) {
      if (g[i] !== 0) { i++; continue; }
      let j = i;
      while (j < 8 && g[j] === 0) j++;
      if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
      i = j;
    }
    const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
    text = bestAt < 0 ? hex(g) : `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
  }
  return a.scope ? `${text}%${formatScope(a.scope)}` : text;
}

/** The unspecified address (0.0.0.0 or ::), which a socket bound to "any" reports. */
export function isUnspecified(a: IpAddress): boolean {
  return a.bytes.every((x) => x === 0);
}

/** fe80::/10: needs a zone to be usable. */
export function isLinkLocalV6(a: IpAddress): boolean {
  return a.family === 6 && a.bytes[0] === 0xfe && (a.bytes[1]! & 0xc0) === 0x80;
}
