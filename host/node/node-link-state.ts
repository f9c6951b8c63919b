// The node's view of its network links, held next to the packet driver: an rtnetlink LinkWatcher (link up/down,
// carrier, addresses — the fast failure detection routing and self-healing consume) and whether the kernel has
// batman-adv. Where netlink is unsupported (no AF_NETLINK, no permission) the node runs without link events and
// says so in `reason`; it never pretends to watch. A watcher that stops while the node runs is reported the same way.
import {
  openBatadv, openLinkWatcher, type InterfaceAddress, type LinkEvent, type LinkState, type LinkWatcher, type LinkWatcherStats,
} from '../driver/netlink/index.js';
import { asX0tError, UnsupportedError, type X0tError } from '../errors/index.js';
import { LINK_EVENT_KINDS, renderLinkMetrics, type LinkEventKind, type LinkSnapshot } from './driver-metrics.js';

/** batman-adv as probed at start (its generic netlink family looked up, the client closed again). */
export type BatmanStatus = { readonly available: true } | { readonly available: false; readonly reason: string };

export interface LinkAddress {
  readonly family: 4 | 6;
  readonly address: string;
  readonly prefixLength: number;
}

/** One interface with its addresses, as GET /driver/links and `x0t driver status` show it. */
export interface LinkView extends LinkState {
  readonly addresses: readonly LinkAddress[];
  /** The interface the packet driver is attached to. */
  readonly driverInterface: boolean;
}

/** GET /driver/links: the links (null when the node does not watch them, with the reason) and the event counts. */
export interface LinksReport {
  readonly links: LinkView[] | null;
  readonly reason: string | null;
  readonly events: Readonly<Record<LinkEventKind, number>>;
  /** The watcher's own counters (kernel buffer overruns, undecodable messages); null when not watching. */
  readonly watcher: LinkWatcherStats | null;
}

/** A link event as the node passes it on: with the interface's name and whether it is the packet driver's. */
export interface NodeLinkEvent {
  readonly event: LinkEvent;
  readonly interface: string;
  readonly driverInterface: boolean;
}

export interface NodeLinkStateOptions {
  /** The ifindex the packet driver is attached to (null for the user-space driver). */
  readonly driverIfindex: number | null;
  readonly onEvent?: (event: NodeLinkEvent) => void;
  /** Told when the watcher stops while the node runs (the node then runs without link events). */
  readonly onError?: (error: X0tError) => void;
}

/** Joins the watcher's links and addresses: each link with its own addresses, in the watcher's order. */
export function linkViews(links: readonly LinkState[], addresses: readonly InterfaceAddress[], driverIfindex: number | null): LinkView[] {
  return links.map((l) => ({
    ...l,
    addresses: addresses.filter((a) => a.ifindex === l.ifindex).map(({ family, address, prefixLength }) => ({ family, address, prefixLength })),
    driverInterface: l.ifindex === driverIfindex,
  }));
}

/** What a failed batman-adv probe means for the status: the error's message, with its code unless it is "absent". */
export function batmanStatusOf(error: unknown): BatmanStatus {
  const e = asX0tError(error);
  return { available: false, reason: e instanceof UnsupportedError ? e.message : `${e.code}: ${e.message}` };
}

/** A link event as JSON: `atNs` (a bigint) as decimal text. */
export function linkEventJson(e: LinkEvent): Record<string, unknown> {
  return { ...e, atNs: e.atNs.toString() };
}

/** The name of the interface an event is about (address events name only the ifindex). */
function interfaceOf(e: LinkEvent, watcher: LinkWatcher): string {
  if ('link' in e) return e.link.name;
  return watcher.link(e.address.ifindex)?.name ?? `if${e.address.ifindex}`;
}

function ifindexOf(e: LinkEvent): number {
  return 'link' in e ? e.link.ifindex : e.address.ifindex;
}

async function probeBatman(): Promise<BatmanStatus> {
  try {
    const client = await openBatadv({ timeoutMs: 1000 });
    client.close();
    return { available: true };
  } catch (e) {
    return batmanStatusOf(e);
  }
}

export class NodeLinkState {
  #watcher: LinkWatcher | null;
  #reason: string | null;
  #batman: BatmanStatus = { available: false, reason: 'not probed yet' };
  readonly #driverIfindex: number | null;
  readonly #byKind: Record<LinkEventKind, number> = Object.fromEntries(LINK_EVENT_KINDS.map((k) => [k, 0])) as Record<LinkEventKind, number>;
  readonly #unsubscribe: (() => void)[] = [];
  /** The close of a watcher that stopped by itself, awaited by close(). */
  #stopped: Promise<void> = Promise.resolve();
  #closing: Promise<void> | null = null;

  private constructor(watcher: LinkWatcher | null, reason: string | null, opts: NodeLinkStateOptions) {
    this.#watcher = watcher;
    this.#reason = reason;
    this.#driverIfindex = opts.driverIfindex;
    if (watcher === null) return;
    // Subscribed in the same turn the watcher was opened in, so no event after its initial dump is missed.
    this.#unsubscribe.push(watcher.on((event) => {
      this.#byKind[event.kind]++;
      opts.onEvent?.({ event, interface: interfaceOf(event, watcher), driverInterface: ifindexOf(event) === this.#driverIfindex });
    }));
    this.#unsubscribe.push(watcher.onError((error) => {
      if (this.#watcher !== watcher) return;
      this.#watcher = null;
      this.#reason = `the link watcher stopped, the node runs without link events: ${error.code}: ${error.message}`;
      for (const u of this.#unsubscribe.splice(0)) u();
      this.#stopped = watcher.close().catch(() => undefined);
      opts.onError?.(error);
    }));
  }

  /**
   * Opens the link watcher and probes batman-adv (side by side). UnsupportedError from the watcher means running
   * without link events (stated in `reason`); any other failure to open it (a kernel call that failed where netlink
   * exists) rejects, as a failing packet driver does.
   */
  static async open(opts: NodeLinkStateOptions): Promise<NodeLinkState> {
    const batman = probeBatman();
    let watcher: LinkWatcher | null = null;
    let reason: string | null = null;
    try {
      watcher = await openLinkWatcher();
    } catch (e) {
      const err = asX0tError(e);
      if (!(err instanceof UnsupportedError)) {
        await batman;
        throw err;
      }
      reason = `link events are unavailable: ${err.message}`;
    }
    const state = new NodeLinkState(watcher, reason, opts);
    state.#batman = await batman;
    return state;
  }

  /** Whether link events arrive (false when netlink was unavailable or the watcher stopped). */
  get watching(): boolean {
    return this.#watcher !== null;
  }

  /** Why the node does not watch its links; null while it does. */
  get reason(): string | null {
    return this.#reason;
  }

  get batman(): BatmanStatus {
    return this.#batman;
  }

  /** The current links with their addresses; null when the node does not watch them. */
  links(): LinkView[] | null {
    const w = this.#watcher;
    return w === null ? null : linkViews(w.links(), w.addresses(), this.#driverIfindex);
  }

  eventsByKind(): Readonly<Record<LinkEventKind, number>> {
    return { ...this.#byKind };
  }

  report(): LinksReport {
    return { links: this.links(), reason: this.#reason, events: this.eventsByKind(), watcher: this.#watcher?.stats() ?? null };
  }

  snapshot(): LinkSnapshot {
    return {
      watching: this.watching,
      links: this.#watcher?.links() ?? [],
      eventsByKind: this.eventsByKind(),
      batmanAvailable: this.#batman.available,
    };
  }

  metrics(): string {
    return renderLinkMetrics(this.snapshot());
  }

  /** Stops listening and closes the watcher; safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const u of this.#unsubscribe.splice(0)) u();
      const w = this.#watcher;
      this.#watcher = null;
      if (w !== null && this.#reason === null) this.#reason = 'the node stopped watching its links';
      try {
        await w?.close();
      } finally {
        await this.#stopped;
      }
    })();
    return this.#closing;
  }
}
