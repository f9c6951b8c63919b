// The packet driver as the node holds it: opened from the manifest's `driver` section (the user-space driver when
// there is none, or when XDP is unsupported and not required), its events counted by kind and passed on, its
// quarantine managed with canonical addresses, and a snapshot for /metrics.
import type { DriverSpec } from '../core/manifest/index.js';
import { InternalError } from '../errors/index.js';
import { openPacketDriver } from '../driver/open-packet-driver.js';
import type { DriverEvent, DriverStatus, PacketDriver, PeerCounters, QuarantineEntry } from '../driver/packet-driver.js';
import { normalizeAddress, UserspaceDriver } from '../driver/userspace-driver.js';
import { renderDriverMetrics, type DriverEventKind, type DriverSnapshot } from './driver-metrics.js';

// The driver's types, for layers that reach the driver only through the node (the CLI).
export type { DriverEvent, DriverMode, DriverStatus, PeerCounters, QuarantineEntry } from '../driver/packet-driver.js';

export class NodeDriver {
  readonly #driver: PacketDriver;
  readonly #byKind: Record<DriverEventKind, number> = { 'new-peer': 0, drop: 0 };
  readonly #unsubscribe: () => void;
  #closing: Promise<void> | null = null;

  constructor(driver: PacketDriver, onEvent: (event: DriverEvent) => void = () => undefined) {
    this.#driver = driver;
    this.#unsubscribe = driver.onEvent((event) => {
      this.#byKind[event.kind]++;
      onEvent(event);
    });
  }

  /** Opens the driver the spec names (see openPacketDriver); the user-space driver when `spec` is undefined. */
  static async open(spec: DriverSpec | undefined, onEvent?: (event: DriverEvent) => void): Promise<NodeDriver> {
    const driver = await openPacketDriver(spec === undefined ? {} : {
      interface: spec.interface,
      mode: spec.mode,
      eventsPerSecond: spec.eventsPerSecond,
      required: spec.required,
      ...(spec.pinRoot !== null ? { pinRoot: spec.pinRoot } : {}),
    });
    return new NodeDriver(driver, onEvent);
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
    return renderDriverMetrics(this.snapshot());
  }

  /** Stops listening and closes the driver (detaching the XDP program); safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#unsubscribe();
      await this.#driver.close();
    })();
    return this.#closing;
  }
}
