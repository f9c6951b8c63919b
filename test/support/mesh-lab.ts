// A five-node mesh lab in network namespaces, for route-convergence tests and the mesh bench: a primary path and a
// longer backup path between a source S and a destination R, IPv4 /24 veth links, one /32 loopback address per node,
// and the two faults the issue measures — a pulled cable (`cut`: both ends admin down at once, the kernel reports
// carrier loss) and a silent failure (`blackhole`: nftables netdev ingress drop on both ends, no link event).
//
//        a ──── r            primary  S–A–R (2 hops)
//       /      /             backup   S–B–C–R (3 hops)
//      s      c              links sa, ar, sb, bc, cr on subnets base+0 … base+4 (10.<subnet>.0.0/24);
//       \    /               loopbacks 10.<base+5>.0.<n>/32
//        b ─┘
//
// Teardown kills every process still inside the lab's namespaces (whoever started it) and deletes the namespaces,
// which takes their veth ends and nftables tables with them. An exit hook does the same synchronously when the
// process ends without calling close() (an assertion thrown past the test's `after`, a bench stopped by SIGINT or
// SIGTERM).
import { execFileSync } from 'node:child_process';
import { NetnsLab, sh, type VethLink } from './netns.js';

export const MESH_NODES = ['s', 'a', 'b', 'c', 'r'] as const;
export type MeshNode = (typeof MESH_NODES)[number];
export const MESH_LINKS = ['sa', 'ar', 'sb', 'bc', 'cr'] as const;
export type MeshLinkName = (typeof MESH_LINKS)[number];
/** The links of the path S → R that routing must prefer while everything is up, and the one it must fall back to. */
export const PRIMARY_PATH: readonly MeshLinkName[] = ['sa', 'ar'];
export const BACKUP_PATH: readonly MeshLinkName[] = ['sb', 'bc', 'cr'];

/** The nftables table a blackhole adds in each end's namespace (netdev family, one ingress chain per device). */
const BLACKHOLE_TABLE = 'x0tm_blackhole';

/** One end of a lab link as seen from a node: its device and address, and the neighbour on the other side. */
export interface MeshPort {
  readonly link: MeshLinkName;
  readonly dev: string;
  readonly ipv4: string;
  readonly neighbour: MeshNode;
  readonly neighbourIpv4: string;
}

function ends(link: MeshLinkName): [MeshNode, MeshNode] {
  return [link[0] as MeshNode, link[1] as MeshNode];
}

/** Namespaces alive in this process's labs, for the exit hook. */
const liveNamespaces = new Set<string>();
let exitHookInstalled = false;

function killAndDeleteSync(ns: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(/\s+/).filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {
    /* namespace already gone */
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const cleanup = (): void => {
    for (const ns of liveNamespaces) killAndDeleteSync(ns);
    liveNamespaces.clear();
  };
  process.once('exit', cleanup);
  // A bench or test interrupted with Ctrl-C or killed by a runner's timeout: clean up, then end as the signal would.
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(signal, () => {
      cleanup();
      process.exit(code);
    });
  }
}

export class MeshLab {
  readonly lab: NetnsLab;
  readonly base: number;
  readonly #links = new Map<MeshLinkName, VethLink>();
  readonly #blackholed = new Set<MeshLinkName>();

  private constructor(lab: NetnsLab, base: number) {
    this.lab = lab;
    this.base = base;
  }

  /**
   * Builds the lab. `base` is the first of the six subnets it uses (base … base+5); test files and benches use
   * disjoint ranges (babeld test 120–125, our mesh test 126–131, the mesh bench 132–137). On any failure what was
   * made is removed.
   */
  static async create(tag: string, base: number): Promise<MeshLab> {
    installExitHook();
    const m = new MeshLab(new NetnsLab(tag), base);
    try {
      for (const n of MESH_NODES) {
        const ns = await m.lab.addNamespace(n);
        liveNamespaces.add(ns);
        // Routers forward; reverse-path filtering would drop replies arriving over the backup path.
        await m.lab.exec(n, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
        await m.lab.exec(n, ['ip', 'addr', 'add', `${m.loopback(n)}/32`, 'dev', 'lo']);
      }
      for (const [i, l] of MESH_LINKS.entries()) {
        const [a, b] = ends(l);
        const v = await m.lab.link(a, b, base + i);
        m.#links.set(l, v);
        for (const [n, dev] of [[a, v.a.dev], [b, v.b.dev]] as const) {
          // Addresses survive a cut (IPv6 ones are flushed on admin down otherwise) and rp_filter is off per device.
          await m.lab.exec(n, ['sysctl', '-q', '-w', `net.ipv6.conf.${dev}.keep_addr_on_down=1`, `net.ipv4.conf.${dev}.rp_filter=0`]);
        }
      }
    } catch (e) {
      await m.close();
      throw e;
    }
    return m;
  }

  /** The full namespace name of a node. */
  ns(node: MeshNode): string {
    return this.lab.ns(node);
  }

  /** A node's /32 loopback address (what babeld announces for it and what the ICMP probe targets). */
  loopback(node: MeshNode): string {
    return `10.${this.base + 5}.0.${MESH_NODES.indexOf(node) + 1}`;
  }

  link(name: MeshLinkName): VethLink {
    const l = this.#links.get(name);
    if (l === undefined) throw new Error(`mesh lab: no link ${name}`);
    return l;
  }

  /** The node's lab interfaces, each with the neighbour behind it. */
  ports(node: MeshNode): MeshPort[] {
    const out: MeshPort[] = [];
    for (const l of MESH_LINKS) {
      const [a, b] = ends(l);
      const v = this.link(l);
      if (a === node) out.push({ link: l, dev: v.a.dev, ipv4: v.a.ipv4, neighbour: b, neighbourIpv4: v.b.ipv4 });
      if (b === node) out.push({ link: l, dev: v.b.dev, ipv4: v.b.ipv4, neighbour: a, neighbourIpv4: v.a.ipv4 });
    }
    return out;
  }

  /** Runs a command in a node's namespace. */
  exec(node: MeshNode, argv: readonly string[], opts: { readonly timeoutMs?: number } = {}): Promise<string> {
    return this.lab.exec(node, argv, opts);
  }

  /** The device a node's kernel uses to reach an address (`ip route get`). */
  async routeDev(node: MeshNode, to: string): Promise<string | null> {
    try {
      const [r] = JSON.parse(await sh(['ip', '-n', this.ns(node), '-j', 'route', 'get', to])) as { dev?: string }[];
      return r?.dev ?? null;
    } catch {
      return null; // unreachable
    }
  }

  /** Both ends' `ip -n NS …` argv for a link, run in parallel so the two ends change at (nearly) the same moment. */
  async #bothEnds(link: MeshLinkName, argv: (dev: string) => readonly string[]): Promise<void> {
    const v = this.link(link);
    await Promise.all([
      sh(['ip', '-n', v.a.ns, ...argv(v.a.dev)]),
      sh(['ip', '-n', v.b.ns, ...argv(v.b.dev)]),
    ]);
  }

  /**
   * Pulls the cable: both ends admin down at once. Returns Date.now() once both commands have returned — the fault
   * is certainly in effect then; it took effect at most the commands' run time (a few ms) earlier.
   */
  async cut(link: MeshLinkName): Promise<number> {
    await this.#bothEnds(link, (dev) => ['link', 'set', 'dev', dev, 'down']);
    return Date.now();
  }

  /**
   * Silent failure: every frame arriving on either end is dropped at netdev ingress; carrier stays up, nothing is
   * reported. One `nft -f` per end, in parallel. Returns Date.now() once both have returned (as `cut`).
   */
  async blackhole(link: MeshLinkName): Promise<number> {
    const v = this.link(link);
    const script = (dev: string): string =>
      `table netdev ${BLACKHOLE_TABLE} {\n chain ${dev} {\n  type filter hook ingress device "${dev}" priority -500; policy drop;\n }\n}\n`;
    this.#blackholed.add(link);
    await Promise.all([
      sh(['ip', 'netns', 'exec', v.a.ns, 'sh', '-c', `printf '%s' '${script(v.a.dev)}' | nft -f -`]),
      sh(['ip', 'netns', 'exec', v.b.ns, 'sh', '-c', `printf '%s' '${script(v.b.dev)}' | nft -f -`]),
    ]);
    return Date.now();
  }

  /** Undoes a cut or a blackhole on a link: both ends up, the drop rules gone. Returns Date.now() once done. */
  async restore(link: MeshLinkName): Promise<number> {
    const v = this.link(link);
    if (this.#blackholed.delete(link)) {
      await Promise.all([v.a, v.b].map((e) => sh(['ip', 'netns', 'exec', e.ns, 'nft', 'delete', 'chain', 'netdev', BLACKHOLE_TABLE, e.dev])));
    }
    await this.#bothEnds(link, (dev) => ['link', 'set', 'dev', dev, 'up']);
    return Date.now();
  }

  /**
   * Kills every process inside the lab's namespaces (started by the lab or by anyone through `ip netns exec`), then
   * deletes the namespaces: veths, addresses and nftables tables go with them.
   */
  async close(): Promise<void> {
    for (const n of MESH_NODES) {
      const ns = this.ns(n);
      const pids = (await sh(['ip', 'netns', 'pids', ns]).catch(() => '')).split(/\s+/).filter(Boolean);
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          /* gone already */
        }
      }
    }
    await this.lab.close();
    for (const n of MESH_NODES) liveNamespaces.delete(this.ns(n));
  }
}
