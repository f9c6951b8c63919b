// Which local interface a neighbour is reached over, so that an rtnetlink link-down on that interface can take down
// every neighbour behind it at once (the fast failure path: no waiting for probes to go unanswered).
//
// In order: the zone of a link-local peer address (`fe80::1%eth0`); the interface holding the local address the
// datagrams arrived on (a socket bound to one address); the interface whose subnet contains the peer's address
// (a socket bound to 0.0.0.0 or ::). null when none says (loopback peers of a wildcard socket, for example).
import { BlockList, isIP } from 'node:net';
import type { LinkView } from '../node-link-state.js';

export interface EndpointLike {
  readonly address: string;
  readonly port: number;
}

function bare(address: string): { address: string; zone: string | null } {
  const pct = address.indexOf('%');
  return pct < 0 ? { address, zone: null } : { address: address.slice(0, pct), zone: address.slice(pct + 1) };
}

function sameIp(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

const WILDCARDS = new Set(['0.0.0.0', '::']);

export function interfaceOfNeighbour(remote: EndpointLike, local: EndpointLike | null, links: readonly LinkView[]): string | null {
  const peer = bare(remote.address);
  if (peer.zone !== null && peer.zone !== '') {
    // The zone is an interface name (or an index, as some stacks print it).
    const byName = links.find((l) => l.name === peer.zone);
    if (byName) return byName.name;
    const byIndex = /^\d+$/.test(peer.zone) ? links.find((l) => l.ifindex === Number(peer.zone)) : undefined;
    return byIndex?.name ?? peer.zone;
  }
  if (local !== null) {
    const own = bare(local.address).address;
    if (!WILDCARDS.has(own)) {
      const holder = links.find((l) => l.addresses.some((a) => sameIp(a.address, own)));
      if (holder) return holder.name;
    }
  }
  const family = isIP(peer.address);
  if (family === 0) return null;
  for (const l of links) {
    for (const a of l.addresses) {
      if (a.family !== family) continue;
      const list = new BlockList();
      try {
        list.addSubnet(bare(a.address).address, a.prefixLength, family === 4 ? 'ipv4' : 'ipv6');
        if (list.check(peer.address, family === 4 ? 'ipv4' : 'ipv6')) return l.name;
      } catch {
        // An address the kernel lists but node:net cannot parse says nothing about this peer.
      }
    }
  }
  return null;
}
