// The discovery beacon (outer frame kind 1): who I am and where I listen. It is unauthenticated — a hint that
// makes the session layer start a handshake, never a reason to trust anyone.
//
// Layout (little-endian):
//   fingerprint 16 B | bootId u32 | suites u16 (bitset) | trust domain: len u8 + UTF-8 | endpoint count u8 |
//   endpoints: family u8 (4|6) | address 4|16 B | port u16 | IPv6 only: zone u8 (0 none, 1 index, 2 name)
//              [index u32 | name len u8 + UTF-8]
import type { UdpEndpoint } from '../transport/udp-endpoint.js';
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { formatIp, parseIp, type IpScope } from './ip-address.js';

/** Suites a node offers, as bits of `Beacon.suites`; unknown bits (from newer peers) are kept, not refused. */
export const SUITE_BITS = { hybrid: 1, classic: 2 } as const;
export type SuiteName = keyof typeof SUITE_BITS;

export interface Beacon {
  /** 32 lower-case hex characters (16 bytes on the wire). */
  readonly fingerprint: string;
  /** Random per process start (or a counter); a change tells peers the node restarted. */
  readonly bootId: number;
  readonly suites: number;
  /** ≤ 255 bytes of UTF-8. */
  readonly trustDomain: string;
  /** Where the sender's transport listens; at most 255. */
  readonly endpoints: readonly UdpEndpoint[];
}

export const FINGERPRINT_BYTES = 16;

export function suitesBits(names: readonly SuiteName[]): number {
  return names.reduce((bits, n) => bits | SUITE_BITS[n], 0);
}

export function suiteNames(bits: number): SuiteName[] {
  return (Object.keys(SUITE_BITS) as SuiteName[]).filter((n) => (bits & SUITE_BITS[n]) !== 0);
}

export function writeFingerprint(w: ByteWriter, fp: string): void {
  if (!/^[0-9a-f]{32}$/.test(fp)) throw w.fail('range', 'fingerprint must be 32 lower-case hex characters');
  for (let i = 0; i < 16; i++) w.u8(parseInt(fp.slice(2 * i, 2 * i + 2), 16));
}

export function readFingerprint(r: ByteReader): string {
  return Array.from(r.bytesCopy(FINGERPRINT_BYTES, 'fingerprint'), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function writeEndpoint(w: ByteWriter, e: UdpEndpoint): void {
  let ip;
  try {
    ip = parseIp(e.address);
  } catch {
    throw w.fail('range', `endpoint address ${JSON.stringify(e.address)} does not parse`);
  }
  w.u8(ip.family, 'family').bytes(ip.bytes).u16(e.port, 'port');
  if (ip.family === 4) return;
  if (!ip.scope) w.u8(0);
  else if ('index' in ip.scope) w.u8(1).u32(ip.scope.index, 'zone index');
  else w.u8(2).shortText(ip.scope.name, 'zone name');
}

export function readEndpoint(r: ByteReader): UdpEndpoint {
  const family = r.u8('family');
  if (family !== 4 && family !== 6) throw r.fail('family', `unknown address family ${family}`);
  const bytes = r.bytesCopy(family === 4 ? 4 : 16, 'address');
  const port = r.u16('port');
  let scope: IpScope | undefined;
  if (family === 6) {
    const zone = r.u8('zone');
    if (zone === 1) scope = { index: r.u32('zone index') };
    else if (zone === 2) {
      const name = r.utf8(r.u8('zone name length'), 'zone name');
      // Only names the text form can carry: a name that would not parse back is refused here, not later.
      if (name.length === 0 || /^[0-9]+$/.test(name) || /[%\]\s]/.test(name)) throw r.fail('range', 'bad zone name');
      scope = { name };
    } else if (zone !== 0) throw r.fail('range', `unknown zone kind ${zone}`);
  }
  return { address: formatIp(scope ? { family, bytes, scope } : { family, bytes }), port };
}

export function writeBeacon(w: ByteWriter, b: Beacon): void {
  writeFingerprint(w, b.fingerprint);
  w.u32(b.bootId, 'bootId').u16(b.suites, 'suites').shortText(b.trustDomain, 'trust domain');
  if (b.endpoints.length > 255) throw w.fail('range', 'more than 255 endpoints');
  w.u8(b.endpoints.length, 'endpoint count');
  for (const e of b.endpoints) writeEndpoint(w, e);
}

export function readBeacon(r: ByteReader): Beacon {
  const fingerprint = readFingerprint(r);
  const bootId = r.u32('bootId');
  const suites = r.u16('suites');
  const trustDomain = r.utf8(r.u8('trust domain length'), 'trust domain');
  const n = r.u8('endpoint count');
  const endpoints: UdpEndpoint[] = [];
  for (let i = 0; i < n; i++) endpoints.push(readEndpoint(r));
  return { fingerprint, bootId, suites, trustDomain, endpoints };
}

/** The beacon body alone (without the outer frame header). */
export function encodeBeacon(b: Beacon): Uint8Array {
  const w = new ByteWriter('beacon');
  writeBeacon(w, b);
  return w.finish();
}

export function decodeBeacon(bytes: Uint8Array): Beacon {
  const r = new ByteReader(bytes, 'beacon');
  const b = readBeacon(r);
  r.end();
  return b;
}
