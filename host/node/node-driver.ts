// The packet driver as the node holds it: opened from the manifest's `driver` section (the user-space driver when
// there is none, or when XDP is unsupported and not required), its events counted by kind and passed on, its
// quarantine managed with canonical addresses, and a snapshot for /metrics. Next to it, the node's link state
// (rtnetlink link/address events, batman-adv presence; see NodeLinkState), opened and closed with it.
import type { DriverSpec } from '../core/manifest/index.js';
import { InternalError, type X0tError } from '../errors/index.js';
import { openPacketDriver } from '../driver/open-packet-driver.js';
import type { DriverEvent, DriverStatus, PacketDriver, PeerCounters, QuarantineEntry } from '../driver/packet-driver.js';
import { normalizeAddress, UserspaceDriver } from '../driver/userspace-driver.js';
import { renderDriverMetrics, type DriverEventKind, type DriverSnapshot } from './driver-metrics.js';
import { NodeLinkState, type BatmanStatus, type LinkView, type NodeLinkEvent } from './node-link-state.js';

// The driver's types, for layers that reach the driver only through the node (the CLI).
export type { DriverEvent, DriverMode, DriverStatus, PeerCounters, QuarantineEntry } from '../driver/packet-driver.js';
export type { BatmanStatus, LinkAddress, LinksReport, LinkView, NodeLinkEvent } from './node-link-state.js';
export type { LinkDownReason, LinkEvent } from '../driver/netlink/index.js';

/** GET /driver: the packet driver's status, the links (null with `linksReason` when not watched) and batman-adv. */
export type DriverReport = DriverStatus & {
  readonly links: LinkView[] | null;
  readonly linksReason: string | null;
  readonly batman: BatmanStatus;
};

export interface NodeDriverListeners {
  readonly onEvent?: (event: DriverEvent) => void;
  readonly onLinkEvent?: (event: NodeLinkEvent) => void;
  /** The link watcher stopped while the node runs (the node runs on without link events). */
  readonly onLinkError?: (error: X0tError) => void;
}

export class NodeDriver {
  readonly #driver: PacketDriver;
  /** The node's links (rtnetlink) and batman-adv presence. */
  readonly links: NodeLinkState;
  readonly #byKind: Record<DriverEventKind, number> = { 'new-peer': 0, drop: 0 };
  readonly #unsubscribe: () => void;
  #closing: Promise<void> | null = null;

  private constructor(driver: PacketDriver, links: NodeLinkState, onEvent: (event: DriverEvent) => void = () => undefined) {
    this.#driver = driver;
    this.links = links;
    this.#unsubscribe = driver.onEvent((event) => {
      this.#byKind[event.kind]++;
      onEvent(event);
    });
  }

  /**
   * Opens the driver the spec names (see openPacketDriver; the user-space driver when `spec` is undefined), then
   * the link state (see NodeLinkState.open); when that fails, the packet driver is closed again.
   */
  static async open(spec: DriverSpec | undefined, listeners: NodeDriverListeners = {}): Promise<NodeDriver> {
    const driver = await openPacketDriver(spec === undefined ? {} : {
      interface: spec.interface,
      mode: spec.mode,
      eventsPerSecond: spec.eventsPerSecond,
      required: spec.required,
      ...(spec.pinRoot !== null ? { pinRoot: spec.pinRoot } : {}),
    });
    let links: NodeLinkState;
    try {
      links = await NodeLinkState.open({
        driverIfindex: driver.status().ifindex,
        ...(listeners.onLinkEvent ? { onEvent: listeners.onLinkEvent } : {}),
        ...(listeners.onLinkError ? { onError: listeners.onLinkError } : {}),
      });
    } catch (e) {
      await driver.close().catch(() => undefined);
      throw e;
    }
    return new NodeDriver(driver, links, listeners.onEvent);
  }

  /**
   * The user-space driver the node's transport feeds (`record`) and consults (`isQuarantined`); null when the XDP
   * program counts and drops in the kernel. (The mesh transport arrives with issue 7; until then only tests feed it.)
   */
  get userspace(): UserspaceDriver | null {
    return this.#driver instanceof UserspaceDriver ? this.#driver : null;
  }

  status(): DriverStatus {
    return this.#driver.status();
  }

  /** GET /driver: the status with the links and batman-adv's availability. */
  report(): DriverReport {
    return { ...this.status(), links: this.links.links(), linksReason: this.links.reason, batman: this.links.batman };
  }

  peers(): PeerCounters[] {
    return this.#driver.peers();
  }

  quarantineList(): QuarantineEntry[] {
    return this.#driver.quarantineList();
  }

  /** Quarantines an address (any text form; UsageError when it is not one); `added` is false when it already was. */
  quarantineAdd(address: string): { entry: QuarantineEntry; added: boolean } {
    const { address: canonical } = normalizeAddress(address);
    const find = () => this.#driver.quarantineList().find((q) => q.address === canonical);
    const added = find() === undefined;
    this.#driver.quarantineAdd(canonical);
    const entry = find();
    if (entry === undefined) throw new InternalError(`the driver did not list ${canonical} after quarantining it`, { address: canonical });
    return { entry, added };
  }

  /** Releases an address; false when it was not quarantined. UsageError when it is not an address. */
  quarantineDelete(address: string): { address: string; removed: boolean } {
    const { address: canonical } = normalizeAddress(address);
    return { address: canonical, removed: this.#driver.quarantineDelete(canonical) };
  }

  eventsByKind(): Readonly<Record<DriverEventKind, number>> {
    return { ...this.#byKind };
  }

  snapshot(): DriverSnapshot {
    return { status: this.status(), peers: this.peers(), quarantine: this.quarantineList(), eventsByKind: this.eventsByKind() };
  }

  metrics(): string {
    return renderDriverMetrics(this.snapshot()) + this.links.metrics();
  }

  /** Stops listening and closes the driver (detaching the XDP program) and the link watcher; safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#unsubscribe();
      try {
        await this.#driver.close();
      } finally {
        await this.links.close();
      }
    })();
    return this.#closing;
  }
}
