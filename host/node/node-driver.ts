// The packet driver as the node holds it: opened from the manifest's `driver` section (the user-space driver when
// there is none, or when XDP is unsupported and not required), its events counted by kind and passed on, its
// quarantine managed with canonical addresses, and a snapshot for /metrics. Next to it, the node's link state
// (rtnetlink link/address events, batman-adv presence; see NodeLinkState), opened and closed with it.
// With `driver.quarantineFile` in the manifest the quarantine list is kept in that file (see quarantine-file.ts): read
// at open and applied to the driver (a malformed file fails the start), rewritten after every change, so an
// operator's quarantine survives a restart whichever driver runs. Only a node with a `driver` section persists.
import type { DriverSpec } from '../core/manifest/index.js';
import { InternalError, type X0tError } from '../errors/index.js';
import { openPacketDriver } from '../driver/open-packet-driver.js';
import type { DriverEvent, DriverStatus, PacketDriver, PeerCounters, QuarantineEntry } from '../driver/packet-driver.js';
import { normalizeAddress, UserspaceDriver } from '../driver/userspace-driver.js';
import { renderDriverMetrics, type DriverEventKind, type DriverSnapshot } from './driver-metrics.js';
import { NodeLinkState, type BatmanStatus, type LinkView, type NodeLinkEvent } from './node-link-state.js';
import { readQuarantineFile, sortAddresses, writeQuarantineFile } from './quarantine-file.js';

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

/**
 * Applies a quarantine file's addresses (`saved`; null when there is no file) to a freshly opened driver, on top of
 * whatever that driver already holds (the XDP driver carries a crashed predecessor's entries over): the result is the
 * union of both. The file is rewritten when the union differs from it, so carried-over entries are kept from now on.
 */
function restoreQuarantine(driver: PacketDriver, file: string, saved: readonly string[] | null): void {
  for (const address of saved ?? []) driver.quarantineAdd(address);
  const union = sortAddresses(driver.quarantineList().map((q) => q.address));
  const same = saved !== null && union.length === saved.length && union.every((a, i) => a === saved[i]);
  if (!same && !(saved === null && union.length === 0)) writeQuarantineFile(file, union);
}

export class NodeDriver {
  readonly #driver: PacketDriver;
  /** The node's links (rtnetlink) and batman-adv presence. */
  readonly links: NodeLinkState;
  readonly #byKind: Record<DriverEventKind, number> = { 'new-peer': 0, drop: 0 };
  readonly #unsubscribe: () => void;
  /** Absolute path of the file the quarantine list is kept in; null when the manifest names none. */
  readonly quarantineFile: string | null;
  #closing: Promise<void> | null = null;

  private constructor(
    driver: PacketDriver, links: NodeLinkState, quarantineFile: string | null, onEvent: (event: DriverEvent) => void = () => undefined,
  ) {
    this.#driver = driver;
    this.links = links;
    this.quarantineFile = quarantineFile;
    this.#unsubscribe = driver.onEvent((event) => {
      this.#byKind[event.kind]++;
      onEvent(event);
    });
  }

  /**
   * Opens the driver the spec names (see openPacketDriver; the user-space driver when `spec` is undefined), restores
   * the quarantine from `spec.quarantineFile` (see restoreQuarantine), then opens the link state (see
   * NodeLinkState.open); when a step after the driver fails, the packet driver is closed again. The quarantine file is
   * read before the driver opens, so a malformed one (IoError naming it) fails the start with nothing attached.
   */
  static async open(spec: DriverSpec | undefined, listeners: NodeDriverListeners = {}): Promise<NodeDriver> {
    const file = spec?.quarantineFile ?? null;
    const saved = file === null ? null : await readQuarantineFile(file);
    const driver = await openPacketDriver(spec === undefined ? {} : {
      interface: spec.interface,
      mode: spec.mode,
      eventsPerSecond: spec.eventsPerSecond,
      required: spec.required,
      ...(spec.pinRoot !== null ? { pinRoot: spec.pinRoot } : {}),
    });
    let links: NodeLinkState;
    try {
      if (file !== null) restoreQuarantine(driver, file, saved);
      links = await NodeLinkState.open({
        driverIfindex: driver.status().ifindex,
        ...(listeners.onLinkEvent ? { onEvent: listeners.onLinkEvent } : {}),
        ...(listeners.onLinkError ? { onError: listeners.onLinkError } : {}),
      });
    } catch (e) {
      await driver.close().catch(() => undefined);
      throw e;
    }
    return new NodeDriver(driver, links, file, listeners.onEvent);
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

  /**
   * Quarantines an address (any text form; UsageError when it is not one); `added` is false when it already was.
   * With a quarantine file, the call returns once the file holds the new list; when it cannot be written (IoError) a
   * newly added address is released again, so the driver never enforces what a restart would forget.
   */
  quarantineAdd(address: string): { entry: QuarantineEntry; added: boolean } {
    const { address: canonical } = normalizeAddress(address);
    const find = () => this.#driver.quarantineList().find((q) => q.address === canonical);
    const added = find() === undefined;
    this.#driver.quarantineAdd(canonical);
    const entry = find();
    if (entry === undefined) throw new InternalError(`the driver did not list ${canonical} after quarantining it`, { address: canonical });
    this.#persist(() => {
      if (added) this.#driver.quarantineDelete(canonical);
    });
    return { entry, added };
  }

  /**
   * Releases an address; false when it was not quarantined. UsageError when it is not an address. With a quarantine
   * file, the call returns once the file no longer lists it; when it cannot be written (IoError) the address is
   * quarantined again (its drop count starts over), so the driver and the file keep agreeing and the release can be
   * retried.
   */
  quarantineDelete(address: string): { address: string; removed: boolean } {
    const { address: canonical } = normalizeAddress(address);
    const removed = this.#driver.quarantineDelete(canonical);
    if (removed) {
      this.#persist(() => this.#driver.quarantineAdd(canonical));
    }
    return { address: canonical, removed };
  }

  /**
   * Writes the driver's whole list to the quarantine file (nothing without one). On failure `undo` reverts the change
   * just made, the file is rewritten from the reverted list as far as possible (a failed folder sync may have left the
   * new list in place), and the write's IoError is thrown.
   */
  #persist(undo: () => void): void {
    const file = this.quarantineFile;
    if (file === null) return;
    try {
      writeQuarantineFile(file, this.#addresses());
    } catch (e) {
      try {
        undo();
        writeQuarantineFile(file, this.#addresses());
      } catch {
        /* the write's failure is the one to report */
      }
      throw e;
    }
  }

  #addresses(): string[] {
    return this.#driver.quarantineList().map((q) => q.address);
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
