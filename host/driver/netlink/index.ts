// The netlink part of the driver: link/address events from rtnetlink and the batman-adv generic netlink client.
export { openLinkWatcher, type LinkWatcher, type LinkWatcherOptions, type LinkWatcherStats } from './link-watcher.js';
export type { InterfaceAddress, LinkDownReason, LinkEvent, LinkState } from './link-table.js';
export type { Operstate } from './rtnetlink-codec.js';
export { openBatadv, type BatadvClient } from './batadv-client.js';
export { GW_MODES, type Gateway, type GwMode, type MeshInfo, type MeshSettings, type Neighbour, type Originator } from './batadv-codec.js';
export { GenericNetlink } from './generic-netlink.js';
export type { GenericFamily } from './genetlink-codec.js';
