// Where the kernel has batman-adv, the mesh's routes are the kernel's: this reads the originator and gateway tables of
// a batman-adv mesh interface (manifest `mesh.batman.interface`, e.g. bat0) through the driver's generic-netlink client,
// and shapes them like the node's own routes (best next hop first, then the best alternative). Without batman-adv in
// the kernel, or without the interface, `open` fails with the reason and the node routes by itself.
import { openBatadv, type BatadvClient, type Gateway, type LinkState, type Originator } from '../../driver/netlink/index.js';
import { UnsupportedError } from '../../errors/index.js';

/** One destination of the kernel's originator table. */
export interface BatmanRoute {
  /** The originator's MAC address. */
  readonly dest: string;
  /** Neighbour MACs: the one batman-adv uses first, then the alternatives by quality (at most two in all). */
  readonly nextHops: readonly string[];
  /** TQ 0–255 (B.A.T.M.A.N. IV) or throughput in 100 kbit/s (B.A.T.M.A.N. V) of the first next hop. */
  readonly tq: number | null;
  readonly throughput: number | null;
  /** ms since the originator was last heard through the first next hop. */
  readonly lastSeenMs: number;
}

export interface BatmanTablesView {
  readonly interface: string;
  readonly routes: readonly BatmanRoute[];
  readonly gateways: readonly Gateway[];
}

/** Higher quality first: batman-adv's own pick, then TQ or throughput, then the most recently heard. */
function rank(a: Originator, b: Originator): number {
  if (a.best !== b.best) return a.best ? -1 : 1;
  const qa = a.tq ?? a.throughput ?? 0;
  const qb = b.tq ?? b.throughput ?? 0;
  if (qa !== qb) return qb - qa;
  return a.lastSeenMs - b.lastSeenMs || (a.neighbour < b.neighbour ? -1 : a.neighbour > b.neighbour ? 1 : 0);
}

/** The originator table (one row per originator and next hop) as one route per originator, sorted by address. */
export function batmanRoutes(rows: readonly Originator[]): BatmanRoute[] {
  const byDest = new Map<string, Originator[]>();
  for (const r of rows) {
    const list = byDest.get(r.originator);
    if (list === undefined) byDest.set(r.originator, [r]);
    else list.push(r);
  }
  return [...byDest.keys()].sort().map((dest) => {
    const ranked = byDest.get(dest)!.slice().sort(rank);
    const nextHops: string[] = [];
    for (const r of ranked) if (!nextHops.includes(r.neighbour) && nextHops.length < 2) nextHops.push(r.neighbour);
    const first = ranked[0]!;
    return { dest, nextHops, tq: first.tq, throughput: first.throughput, lastSeenMs: first.lastSeenMs };
  });
}

export class BatmanTables {
  readonly interface: string;
  readonly #ifindex: number;
  readonly #client: BatadvClient;

  private constructor(name: string, ifindex: number, client: BatadvClient) {
    this.interface = name;
    this.#ifindex = ifindex;
    this.#client = client;
  }

  /**
   * Opens the kernel's tables of the batman-adv interface `name` among `links`. UnsupportedError when the kernel has
   * no batman-adv, when there is no such interface, or when it is not a batman-adv mesh interface.
   */
  static async open(name: string, links: readonly LinkState[]): Promise<BatmanTables> {
    const link = links.find((l) => l.name === name);
    if (link === undefined) throw new UnsupportedError(`batman-adv: there is no interface ${name}`, { interface: name });
    const client = await openBatadv({ timeoutMs: 1000 });
    try {
      await client.meshInfo(link.ifindex); // fails for an interface that is not a batman-adv mesh
    } catch (e) {
      client.close();
      throw new UnsupportedError(`batman-adv: ${name} is not a batman-adv mesh interface (${(e as Error).message})`, { interface: name }, { cause: e });
    }
    return new BatmanTables(name, link.ifindex, client);
  }

  async view(): Promise<BatmanTablesView> {
    const [originators, gateways] = await Promise.all([this.#client.originators(this.#ifindex), this.#client.gateways(this.#ifindex)]);
    return { interface: this.interface, routes: batmanRoutes(originators), gateways };
  }

  close(): void {
    this.#client.close();
  }
}
