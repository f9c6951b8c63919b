// A UDP endpoint: an IP address (IPv6 link-local ones carry their zone, `fe80::1%eth0`) and a port. Text form is
// `1.2.3.4:5` or `[::1]:5`. Addresses are kept canonical (see wire/ip-address.ts) so that `endpointKey` and
// `sameEndpoint` compare what the kernel would treat as the same destination.
import { CodecError } from '../../errors/index.js';
import { formatIp, parseIp } from '../wire/ip-address.js';

export interface UdpEndpoint {
  readonly address: string;
  readonly port: number;
}

function checkPort(port: number, text: string): number {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw new CodecError(`udp endpoint ${JSON.stringify(text)}: port out of range`, { kind: 'udp-endpoint', reason: 'range' });
  }
  return port;
}

/** The same endpoint with its address in canonical text. Throws CodecError for a malformed address or port. */
export function normalizeEndpoint(e: UdpEndpoint): UdpEndpoint {
  return { address: formatIp(parseIp(e.address)), port: checkPort(e.port, `${e.address}:${e.port}`) };
}

/** `1.2.3.4:5`, `[::1]:5`, `[fe80::1%eth0]:5`. Throws CodecError{kind:'udp-endpoint'}. */
export function parseUdpEndpoint(text: string): UdpEndpoint {
  const m = /^\[([^\]]+)\]:([0-9]{1,5})$/.exec(text) ?? /^([^:\[\]]+):([0-9]{1,5})$/.exec(text);
  if (!m) throw new CodecError(`udp endpoint ${JSON.stringify(text)}: expected host:port or [v6]:port`, { kind: 'udp-endpoint', reason: 'syntax' });
  return normalizeEndpoint({ address: m[1]!, port: Number(m[2]) });
}

export function formatUdpEndpoint(e: UdpEndpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

export function endpointFamily(e: UdpEndpoint): 4 | 6 {
  return e.address.includes(':') ? 6 : 4;
}

/** A map key: the canonical text form. Falls back to the raw text for an address that does not parse. */
export function endpointKey(e: UdpEndpoint): string {
  try {
    return formatUdpEndpoint(normalizeEndpoint(e));
  } catch {
    return formatUdpEndpoint(e);
  }
}

export function sameEndpoint(a: UdpEndpoint, b: UdpEndpoint): boolean {
  return endpointKey(a) === endpointKey(b);
}
