// MAC addresses (batman-adv originators, neighbours, gateways) as six colon-separated lower-case hex pairs. Pure;
// parse errors are CodecError. IP addresses use the driver's one codec, host/driver/ip-address.ts.
import { CodecError } from '../../errors/index.js';

export function formatMac(b: Uint8Array): string {
  if (b.byteLength !== 6) throw new CodecError('address: a MAC address needs 6 bytes', { what: 'mac', bytes: b.byteLength });
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function parseMac(s: string): Uint8Array {
  const parts = s.split(':');
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) throw new CodecError('address: not a MAC address', { what: 'mac', value: s });
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}
