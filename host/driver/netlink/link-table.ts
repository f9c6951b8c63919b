// The link watcher's view of the kernel's interfaces and addresses, as a pure state machine: it takes decoded
// rtnetlink messages (with the monotonic time they were read) and returns the events they mean. The kernel repeats
// itself — a NEWLINK for every attribute change, a NEWADDR for every lifetime refresh — so an event is emitted only
// when what it reports actually changed. A re-dump (after the socket lost messages) is bracketed by
// beginSnapshot/endSnapshot; whatever the dump no longer lists was removed while messages were lost.
import type { AddressMessage, LinkMessage, Operstate, RouteMessage } from './rtnetlink-codec.js';
import { IFF_LOWER_UP, IFF_RUNNING, IFF_UP } from './rtnetlink-codec.js';

export interface LinkState {
  readonly ifindex: number;
  readonly name: string;
  /** IFF_UP: administratively up (`ip link set … up`). */
  readonly adminUp: boolean;
  /** IFF_LOWER_UP (or IFLA_CARRIER): the physical layer / veth peer is up. */
  readonly carrier: boolean;
  /** IFF_RUNNING: RFC 2863 operationally up. */
  readonly running: boolean;
  readonly operstate: Operstate;
  /** Usable for traffic: administratively up and with carrier. */
  readonly up: boolean;
}

export interface InterfaceAddress {
  readonly ifindex: number;
  readonly family: 4 | 6;
  readonly address: string;
  readonly prefixLength: number;
}

/** Why a link went down: it was set down, or it lost its carrier (cable, veth peer down) while set up. */
export type LinkDownReason = 'admin' | 'carrier';

/** `atNs` is the CLOCK_MONOTONIC time (process.hrtime.bigint()) at which the message was read from the socket. */
export type LinkEvent =
  | { readonly kind: 'link-added'; readonly link: LinkState; readonly atNs: bigint }
  | { readonly kind: 'link-removed'; readonly link: LinkState; readonly atNs: bigint }
  | { readonly kind: 'link-up'; readonly link: LinkState; readonly atNs: bigint }
  | { readonly kind: 'link-down'; readonly link: LinkState; readonly reason: LinkDownReason; readonly atNs: bigint }
  | { readonly kind: 'address-added'; readonly address: InterfaceAddress; readonly atNs: bigint }
  | { readonly kind: 'address-removed'; readonly address: InterfaceAddress; readonly atNs: bigint };

export type SnapshotKind = 'links' | 'addresses';

function addressKey(a: { ifindex: number; family: number; address: string; prefixLength: number }): string {
  return `${a.ifindex}/${a.family}/${a.address}/${a.prefixLength}`;
}

function linkFrom(m: LinkMessage, previous: LinkState | undefined): LinkState {
  const adminUp = (m.flags & IFF_UP) !== 0;
  // IFF_LOWER_UP is the kernel's carrier bit in the flags; IFLA_CARRIER says the same where present.
  const carrier = m.carrier ?? (m.flags & IFF_LOWER_UP) !== 0;
  return {
    ifindex: m.ifindex,
    name: m.name ?? previous?.name ?? `if${m.ifindex}`,
    adminUp,
    carrier,
    running: (m.flags & IFF_RUNNING) !== 0,
    operstate: m.operstate ?? previous?.operstate ?? 'unknown',
    up: adminUp && carrier,
  };
}

export class LinkTable {
  readonly #links = new Map<number, LinkState>();
  readonly #addresses = new Map<string, InterfaceAddress>();
  /** Keys touched since the snapshot of that kind began; null when no snapshot is running. */
  #seenLinks: Set<number> | null = null;
  #seenAddresses: Set<string> | null = null;

  links(): LinkState[] {
    return [...this.#links.values()].sort((a, b) => a.ifindex - b.ifindex);
  }

  addresses(): InterfaceAddress[] {
    return [...this.#addresses.values()].sort((a, b) => a.ifindex - b.ifindex || a.family - b.family || (a.address < b.address ? -1 : a.address > b.address ? 1 : a.prefixLength - b.prefixLength));
  }

  link(ifindex: number): LinkState | undefined {
    return this.#links.get(ifindex);
  }

  apply(m: RouteMessage, atNs: bigint): LinkEvent[] {
    switch (m.kind) {
      case 'new-link': return this.#newLink(m, atNs);
      case 'del-link': return this.#removeLink(m.ifindex, atNs);
      case 'new-address': return this.#newAddress(m, atNs);
      case 'del-address': return this.#removeAddress(addressKey(m), atNs);
    }
  }

  beginSnapshot(kind: SnapshotKind): void {
    if (kind === 'links') this.#seenLinks = new Set();
    else this.#seenAddresses = new Set();
  }

  /** Ends a snapshot; when it was `complete` (not interrupted), what it did not list is removed. */
  endSnapshot(kind: SnapshotKind, complete: boolean, atNs: bigint): LinkEvent[] {
    const events: LinkEvent[] = [];
    if (kind === 'links') {
      const seen = this.#seenLinks;
      this.#seenLinks = null;
      if (seen !== null && complete) for (const i of [...this.#links.keys()]) if (!seen.has(i)) events.push(...this.#removeLink(i, atNs));
    } else {
      const seen = this.#seenAddresses;
      this.#seenAddresses = null;
      if (seen !== null && complete) for (const k of [...this.#addresses.keys()]) if (!seen.has(k)) events.push(...this.#removeAddress(k, atNs));
    }
    return events;
  }

  #newLink(m: LinkMessage, atNs: bigint): LinkEvent[] {
    this.#seenLinks?.add(m.ifindex);
    const before = this.#links.get(m.ifindex);
    const link = linkFrom(m, before);
    this.#links.set(m.ifindex, link);
    if (before === undefined) return [{ kind: 'link-added', link, atNs }];
    if (before.up && !link.up) return [{ kind: 'link-down', link, reason: link.adminUp ? 'carrier' : 'admin', atNs }];
    if (!before.up && link.up) return [{ kind: 'link-up', link, atNs }];
    return [];
  }

  #removeLink(ifindex: number, atNs: bigint): LinkEvent[] {
    const link = this.#links.get(ifindex);
    if (link === undefined) return [];
    this.#links.delete(ifindex);
    // The kernel normally withdraws the addresses first; whatever it did not is withdrawn with the link.
    const events: LinkEvent[] = [];
    for (const [k, a] of [...this.#addresses]) if (a.ifindex === ifindex) events.push(...this.#removeAddress(k, atNs));
    events.push({ kind: 'link-removed', link, atNs });
    return events;
  }

  #newAddress(m: AddressMessage, atNs: bigint): LinkEvent[] {
    const key = addressKey(m);
    this.#seenAddresses?.add(key);
    if (this.#addresses.has(key)) return [];
    const address: InterfaceAddress = { ifindex: m.ifindex, family: m.family, address: m.address, prefixLength: m.prefixLength };
    this.#addresses.set(key, address);
    return [{ kind: 'address-added', address, atNs }];
  }

  #removeAddress(key: string, atNs: bigint): LinkEvent[] {
    const address = this.#addresses.get(key);
    if (address === undefined) return [];
    this.#addresses.delete(key);
    return [{ kind: 'address-removed', address, atNs }];
  }
}
