import type { Endpoint } from './node-spec.js';

/** Splits a `host:port` already checked by the schema (DNS name, IPv4, or bracketed IPv6, then a port). */
export function parseEndpoint(address: string): Endpoint {
  const colon = address.lastIndexOf(':');
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port: Number(address.slice(colon + 1)), address };
}
