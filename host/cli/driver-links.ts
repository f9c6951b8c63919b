// How the CLI words the node's link state: one line per link event (`x0t node start`), whether links are watched and
// whether batman-adv is there, and the links table of `x0t driver status`.
import type { BatmanStatus, LinkEvent, LinkView } from '../node/node-driver.js';
import { table } from './output.js';

const DRIVER_MARK = ' (the packet driver\'s interface)';

/** One line for a link event, e.g. `link vx1b: down (carrier lost) (the packet driver's interface)`. */
export function describeLinkEvent(e: LinkEvent, name: string, driverInterface: boolean): string {
  const mark = driverInterface ? DRIVER_MARK : '';
  switch (e.kind) {
    case 'link-up': return `link ${name}: up${mark}`;
    case 'link-down': return `link ${name}: down (${e.reason === 'carrier' ? 'carrier lost' : 'set down'})${mark}`;
    case 'link-added': return `link ${name}: added, ${e.link.up ? 'up' : 'down'}${mark}`;
    case 'link-removed': return `link ${name}: removed${mark}`;
    case 'address-added': return `link ${name}: address ${e.address.address}/${e.address.prefixLength} added${mark}`;
    case 'address-removed': return `link ${name}: address ${e.address.address}/${e.address.prefixLength} removed${mark}`;
  }
}

export function describeLinkWatch(watching: boolean, reason: string | null): string {
  return watching
    ? 'links: watched through rtnetlink (up/down, carrier and address events)'
    : `links: not watched, the node has no link events: ${reason ?? 'no reason given'}`;
}

export function describeBatman(b: BatmanStatus): string {
  return b.available ? 'batman-adv: available' : `batman-adv: not available: ${b.reason}`;
}

/** up, `down (set down)` or `down (no carrier)`. */
export function linkStateText(l: Pick<LinkView, 'up' | 'adminUp'>): string {
  return l.up ? 'up' : l.adminUp ? 'down (no carrier)' : 'down (set down)';
}

/** The links as a table: name (marked when the driver is attached to it), state, carrier, addresses. */
export function linksTable(links: readonly LinkView[]): string {
  return table(['INTERFACE', 'STATE', 'CARRIER', 'ADDRESSES'], links.map((l) => [
    l.driverInterface ? `${l.name} (driver)` : l.name,
    linkStateText(l),
    l.carrier ? 'yes' : 'no',
    l.addresses.length === 0 ? '-' : l.addresses.map((a) => `${a.address}/${a.prefixLength}`).join(', '),
  ]));
}
