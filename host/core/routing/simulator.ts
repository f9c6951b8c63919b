// A deterministic discrete-event simulator for the routing core: N Router instances on a topology, links with
// delay, jitter (so reordering), loss and duplication, and faults: link-cut (carrier loss: both ends get
// `neighbour-down` after carrierDelayMs), blackhole (silent: packets dropped, no event), crash (the node stops; it
// restarts with a new boot and a random initial OGM sequence), partition (every link across a node set blackholed).
// Everything random comes from one seeded PRNG, so a seed gives the same run, byte for byte.
//
// Measures, per fault: the pairs whose route stopped working, the time until every one of them (still connected)
// has a working route again — a next-hop chain (primaries) that reaches the destination over live links without
// revisiting a node — and how long the ends took to notice; over the run: the fraction of connected pairs with a
// working route (sampled), routing loops seen, and control bytes (encoded routing messages) sent per node.
import { RoutingError } from '../../errors/index.js';
import { routingMessageSize } from './routing-codec.js';
import { Router } from './router.js';
import { SeededPrng } from './seeded-prng.js';
import { components, type Topology } from './topology.js';
import type { NodeAddress, RoutingConfig, RoutingEffect, RoutingEvent, RoutingMessage } from './types.js';

export interface LinkModel {
  /** One-way base delay. */
  readonly delayMs: number;
  /** Extra uniform delay in [0, jitterMs): messages overtake each other when it exceeds their spacing. */
  readonly jitterMs: number;
  /** Probability a message is lost. */
  readonly loss: number;
  /** Probability a message is delivered twice. */
  readonly duplicate: number;
}

export type FaultKind = 'link-cut' | 'blackhole' | 'crash' | 'partition';
export const FAULT_KINDS: readonly FaultKind[] = ['link-cut', 'blackhole', 'crash', 'partition'];

export type Fault =
  | { readonly kind: 'link-cut' | 'blackhole'; readonly at: number; readonly healAt: number | null; readonly a: number; readonly b: number }
  | { readonly kind: 'crash'; readonly at: number; readonly healAt: number | null; readonly node: number }
  | { readonly kind: 'partition'; readonly at: number; readonly healAt: number | null; readonly side: readonly number[] };

export interface SimulatorConfig {
  readonly topology: Topology;
  readonly seed: number;
  readonly routing: Partial<RoutingConfig>;
  /** Per-node overrides of `routing` (e.g. which nodes are gateways). */
  readonly routingFor?: (node: number) => Partial<RoutingConfig>;
  readonly link: LinkModel;
  /** From `ip link set down` to the node's neighbour-down event. */
  readonly carrierDelayMs: number;
  /** From a link (or restarted node) coming back to the session being up again (neighbour-up at both ends). */
  readonly sessionUpDelayMs: number;
  /** Period of the all-pairs sample (plot of the working fraction). */
  readonly sampleEveryMs: number;
  /** Period at which the pairs a fault broke are re-checked (resolution of the recovery time). */
  readonly pollEveryMs: number;
}

export const DEFAULT_LINK: LinkModel = Object.freeze({ delayMs: 2, jitterMs: 1, loss: 0, duplicate: 0 });

export interface FaultResult {
  readonly kind: FaultKind | `heal-${FaultKind}`;
  readonly at: number;
  readonly target: string;
  /** Connected pairs whose working route the event broke. */
  readonly affectedPairs: number;
  /** Time from the event until all affected pairs (still connected) work again; null if not within the run. */
  readonly recoveryMs: number | null;
  /** Time until the routers at the fault noticed it (neighbour removed or declared dead); null for heals. */
  readonly detectMs: number | null;
}

export interface Sample {
  readonly t: number;
  readonly connectedPairs: number;
  readonly workingPairs: number;
  readonly loopingPairs: number;
}

export interface SimulationResult {
  readonly nodes: number;
  readonly edges: number;
  readonly durationMs: number;
  readonly faults: readonly FaultResult[];
  readonly samples: readonly Sample[];
  /** Encoded routing-message bytes sent, per node. */
  readonly controlBytes: readonly number[];
  readonly controlMessages: readonly number[];
  readonly routeChanges: number;
  readonly loopSamples: number;
}

type QueueItem =
  | { at: number; order: number; type: 'deliver'; from: number; to: number; fromBoot: number; toBoot: number; message: RoutingMessage }
  | { at: number; order: number; type: 'wake'; node: number; gen: number }
  | { at: number; order: number; type: 'event'; node: number; boot: number; event: RoutingEvent }
  | { at: number; order: number; type: 'action'; run: () => void };

type NewItem = QueueItem extends infer T ? (T extends QueueItem ? Omit<T, 'order'> : never) : never;

interface Tracking {
  result: { -readonly [K in keyof FaultResult]: FaultResult[K] };
  pairs: [number, number][];
  readonly detect: (() => boolean) | null;
}

/** Binary min-heap on (at, order). */
class EventQueue {
  readonly #h: QueueItem[] = [];
  get size(): number { return this.#h.length; }
  peek(): QueueItem | undefined { return this.#h[0]; }
  push(x: QueueItem): void {
    const h = this.#h;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): QueueItem | undefined {
    const h = this.#h;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && less(h[l]!, h[m]!)) m = l;
        if (r < h.length && less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
const less = (a: QueueItem, b: QueueItem): boolean => a.at < b.at || (a.at === b.at && a.order < b.order);

/** The address of simulated node i: deterministic, 32 hex characters. */
export function simAddress(i: number): NodeAddress {
  return (0x5100 + i).toString(16).padStart(8, '0').repeat(4);
}

interface SimNode {
  router: Router | null;
  boot: number;
  gen: number;
  /** The pending wake (only the earliest is kept in the queue). */
  wakeAt: number;
}

interface LinkState {
  up: boolean;
  blackholed: boolean;
}

export class MeshSimulator {
  readonly config: SimulatorConfig;
  readonly addresses: readonly NodeAddress[];
  readonly #index = new Map<NodeAddress, number>();
  readonly #rng: SeededPrng;
  readonly #q = new EventQueue();
  readonly #nodes: SimNode[];
  readonly #links = new Map<string, LinkState>();
  readonly #adj: number[][];
  readonly #bytes: number[];
  readonly #msgs: number[];
  #order = 0;
  #now = 0;
  #routeChanges = 0;
  #loopSamples = 0;
  readonly #faults: FaultResult[] = [];
  readonly #samples: Sample[] = [];
  #tracking: Tracking[] = [];

  constructor(config: SimulatorConfig) {
    this.config = config;
    const n = config.topology.nodes;
    this.#rng = new SeededPrng(config.seed);
    this.addresses = Array.from({ length: n }, (_, i) => simAddress(i));
    this.addresses.forEach((a, i) => this.#index.set(a, i));
    this.#adj = Array.from({ length: n }, () => []);
    for (const [a, b] of config.topology.edges) {
      this.#adj[a]!.push(b);
      this.#adj[b]!.push(a);
      this.#links.set(key(a, b), { up: true, blackholed: false });
    }
    this.#bytes = new Array<number>(n).fill(0);
    this.#msgs = new Array<number>(n).fill(0);
    this.#nodes = Array.from({ length: n }, () => ({ router: null, boot: 0, gen: 0, wakeAt: Infinity }));
    const hello = this.config.routing.helloIntervalMs ?? 1000;
    for (let i = 0; i < n; i++) {
      this.#nodes[i]!.router = new Router(this.addresses[i]!, this.#routerConfig(i, this.#rng.nextU32()));
      for (const j of this.#adj[i]!) this.#push({ at: 0, type: 'event', node: i, boot: 0, event: { type: 'neighbour-up', neighbour: this.addresses[j]! } });
      // Nodes start their hello clocks at random phases, as real nodes do.
      this.#nodes[i]!.wakeAt = this.#rng.float() * hello;
      this.#push({ at: this.#nodes[i]!.wakeAt, type: 'wake', node: i, gen: 0 });
    }
    this.#push({ at: 0, type: 'action', run: () => this.#sampleLoop() });
  }

  #routerConfig(node: number, initialSeq: number): Partial<RoutingConfig> {
    return { ...this.config.routing, ...this.config.routingFor?.(node), initialSeq };
  }

  get now(): number { return this.#now; }

  router(i: number): Router | null { return this.#nodes[i]!.router; }

  /** Schedules a fault (and its heal when healAt is set). */
  schedule(f: Fault): void {
    if (f.at < this.#now) throw new RoutingError('a fault cannot be scheduled in the past', { field: 'at' });
    this.#push({ at: f.at, type: 'action', run: () => this.#apply(f, false) });
    if (f.healAt !== null) this.#push({ at: f.healAt, type: 'action', run: () => this.#apply(f, true) });
  }

  /** Steps node i with an event now (e.g. need-route from its data path). */
  inject(i: number, event: RoutingEvent): void {
    this.#push({ at: this.#now, type: 'event', node: i, boot: this.#nodes[i]!.boot, event });
  }

  /** Runs the event loop until `untilMs`; `onProgress` is called about every simulated second. */
  run(untilMs: number, onProgress?: (nowMs: number) => void): void {
    let nextProgress = Math.floor(this.#now / 1000) * 1000 + 1000;
    for (;;) {
      const top = this.#q.peek();
      if (top === undefined || top.at > untilMs) break;
      this.#q.pop();
      this.#now = top.at;
      if (onProgress !== undefined && this.#now >= nextProgress) {
        onProgress(this.#now);
        nextProgress = Math.floor(this.#now / 1000) * 1000 + 1000;
      }
      this.#handle(top);
    }
    this.#now = untilMs;
  }

  result(): SimulationResult {
    return {
      nodes: this.config.topology.nodes, edges: this.config.topology.edges.length, durationMs: this.#now,
      faults: [...this.#faults, ...this.#tracking.map((t) => ({ ...t.result }))].sort((a, b) => a.at - b.at),
      samples: [...this.#samples], controlBytes: [...this.#bytes], controlMessages: [...this.#msgs],
      routeChanges: this.#routeChanges, loopSamples: this.#loopSamples,
    };
  }

  // ---- event handling ----

  #push(x: NewItem): void {
    (x as QueueItem).order = this.#order++;
    this.#q.push(x as QueueItem);
  }

  #handle(x: QueueItem): void {
    switch (x.type) {
      case 'action': x.run(); return;
      case 'wake': {
        const node = this.#nodes[x.node]!;
        if (node.router === null || x.gen !== node.gen || x.at !== node.wakeAt) return; // superseded
        node.wakeAt = Infinity;
        this.#effects(x.node, node.router.tick(this.#now));
        return;
      }
      case 'event': {
        const node = this.#nodes[x.node]!;
        if (node.router === null || node.boot !== x.boot) return;
        this.#effects(x.node, node.router.step(this.#now, x.event));
        return;
      }
      case 'deliver': {
        const to = this.#nodes[x.to]!;
        if (to.router === null || to.boot !== x.toBoot || this.#nodes[x.from]!.boot !== x.fromBoot || !this.#passes(x.from, x.to)) return;
        this.#effects(x.to, to.router.step(this.#now, { type: 'message', from: this.addresses[x.from]!, message: x.message }));
        return;
      }
    }
  }

  #passes(a: number, b: number): boolean {
    const l = this.#links.get(key(a, b));
    return l !== undefined && l.up && !l.blackholed;
  }

  #effects(i: number, fx: readonly RoutingEffect[]): void {
    const node = this.#nodes[i]!;
    const router = node.router!;
    for (const e of fx) {
      if (e.type === 'route-changed' || e.type === 'route-lost') this.#routeChanges++;
      if (e.type !== 'send') continue;
      if (e.to === 'neighbours') {
        for (const nb of router.liveNeighbours()) this.#transmit(i, this.#index.get(nb)!, e.message);
      } else {
        const j = this.#index.get(e.to);
        if (j !== undefined) this.#transmit(i, j, e.message);
      }
    }
    // Wake the router when it asks (never in the past: at least 1 ms on); a later wake already queued stays valid
    // only if it is the earliest.
    const want = Math.max(this.#now + 1, router.nextWakeAt());
    if (want < node.wakeAt) {
      node.wakeAt = want;
      this.#push({ at: want, type: 'wake', node: i, gen: node.gen });
    }
  }

  #transmit(from: number, to: number, message: RoutingMessage): void {
    if (!this.#links.has(key(from, to))) return; // not adjacent (a bug in the router would show as lost routes)
    this.#bytes[from]! += routingMessageSize(message);
    this.#msgs[from]!++;
    if (!this.#passes(from, to)) return;
    const l = this.config.link;
    const copies = this.#rng.float() < l.duplicate ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      if (this.#rng.float() < l.loss) continue;
      const at = this.#now + l.delayMs + this.#rng.float() * l.jitterMs;
      this.#push({ at, type: 'deliver', from, to, fromBoot: this.#nodes[from]!.boot, toBoot: this.#nodes[to]!.boot, message });
    }
  }

  // ---- faults ----

  #apply(f: Fault, heal: boolean): void {
    const before = heal ? null : this.#workingPairs();
    const c = this.config;
    let target = '';
    let detect: (() => boolean) | null = null;
    switch (f.kind) {
      case 'link-cut': {
        target = `${f.a}-${f.b}`;
        this.#links.get(key(f.a, f.b))!.up = heal;
        for (const [x, y] of [[f.a, f.b], [f.b, f.a]] as const) {
          const event: RoutingEvent = heal
            ? { type: 'neighbour-up', neighbour: this.addresses[y]! }
            : { type: 'neighbour-down', neighbour: this.addresses[y]!, reason: 'carrier' };
          this.#push({ at: this.#now + (heal ? c.sessionUpDelayMs : c.carrierDelayMs), type: 'event', node: x, boot: this.#nodes[x]!.boot, event });
        }
        if (!heal) detect = () => this.#noticed(f.a, f.b) && this.#noticed(f.b, f.a);
        break;
      }
      case 'blackhole':
        target = `${f.a}-${f.b}`;
        this.#links.get(key(f.a, f.b))!.blackholed = !heal;
        if (!heal) detect = () => this.#noticed(f.a, f.b) && this.#noticed(f.b, f.a);
        break;
      case 'partition': {
        target = `[${f.side.join(',')}]`;
        const side = new Set(f.side);
        for (const [a, b] of c.topology.edges) if (side.has(a) !== side.has(b)) this.#links.get(key(a, b))!.blackholed = !heal;
        if (!heal) {
          const cross = c.topology.edges.filter(([a, b]) => side.has(a) !== side.has(b));
          detect = () => cross.every(([a, b]) => this.#noticed(a, b) && this.#noticed(b, a));
        }
        break;
      }
      case 'crash': {
        target = String(f.node);
        const node = this.#nodes[f.node]!;
        node.boot++;
        node.gen++;
        node.wakeAt = Infinity;
        if (!heal) {
          node.router = null;
          detect = () => this.#adj[f.node]!.every((j) => this.#nodes[j]!.router === null || this.#noticed(j, f.node));
        } else {
          node.router = new Router(this.addresses[f.node]!, this.#routerConfig(f.node, this.#rng.nextU32()));
          node.wakeAt = this.#now;
          this.#push({ at: this.#now, type: 'wake', node: f.node, gen: node.gen });
          for (const j of this.#adj[f.node]!) {
            if (!this.#links.get(key(f.node, j))!.up) continue;
            const at = this.#now + c.sessionUpDelayMs;
            this.#push({ at, type: 'event', node: f.node, boot: node.boot, event: { type: 'neighbour-up', neighbour: this.addresses[j]! } });
            this.#push({ at, type: 'event', node: j, boot: this.#nodes[j]!.boot, event: { type: 'neighbour-up', neighbour: this.addresses[f.node]! } });
          }
        }
        break;
      }
    }
    const connected = this.#connectedPairs();
    const pairs = heal
      ? connected.filter(([s, d]) => this.#walk(s, d) !== 'ok')
      : connected.filter(([s, d]) => before!.has(s * 65536 + d) && this.#walk(s, d) !== 'ok');
    const t: Tracking = {
      result: { kind: heal ? (`heal-${f.kind}` as const) : f.kind, at: this.#now, target, affectedPairs: pairs.length, recoveryMs: null, detectMs: null },
      pairs, detect,
    };
    this.#tracking.push(t);
    this.#poll(t);
  }

  /** Router `i` no longer treats `j` as a live neighbour. */
  #noticed(i: number, j: number): boolean {
    const r = this.#nodes[i]!.router;
    if (r === null) return true;
    return !r.liveNeighbours().includes(this.addresses[j]!);
  }

  #poll(t: Tracking): void {
    const elapsed = this.#now - t.result.at;
    if (t.detect !== null && t.result.detectMs === null && t.detect()) t.result.detectMs = elapsed;
    if (t.result.recoveryMs === null) {
      const comp = this.#components();
      t.pairs = t.pairs.filter(([s, d]) => comp[s] === comp[d] && comp[s]! >= 0 && this.#walk(s, d) !== 'ok');
      if (t.pairs.length === 0) t.result.recoveryMs = elapsed;
    }
    if (t.result.recoveryMs !== null && (t.detect === null || t.result.detectMs !== null)) {
      this.#tracking = this.#tracking.filter((x) => x !== t);
      this.#faults.push({ ...t.result });
      return;
    }
    this.#push({ at: this.#now + this.config.pollEveryMs, type: 'action', run: () => this.#poll(t) });
  }

  // ---- measurement ----

  /** Component id per node over live links and live nodes (-1 for a crashed node). */
  #components(): number[] {
    const n = this.config.topology.nodes;
    const comp = components(n, this.config.topology.edges, ([a, b]) => !this.#passes(a, b) || this.#nodes[a]!.router === null || this.#nodes[b]!.router === null);
    return comp.map((c, i) => (this.#nodes[i]!.router === null ? -1 : c));
  }

  #connectedPairs(): [number, number][] {
    const comp = this.#components();
    const out: [number, number][] = [];
    for (let s = 0; s < comp.length; s++) for (let d = 0; d < comp.length; d++) if (s !== d && comp[s]! >= 0 && comp[s] === comp[d]) out.push([s, d]);
    return out;
  }

  #workingPairs(): Set<number> {
    const ok = new Set<number>();
    for (const [s, d] of this.#connectedPairs()) if (this.#walk(s, d) === 'ok') ok.add(s * 65536 + d);
    return ok;
  }

  /** Follows primaries from s towards d over live links. */
  #walk(s: number, d: number): 'ok' | 'none' | 'broken' | 'loop' {
    const dest = this.addresses[d]!;
    const seen = new Set<number>([s]);
    let cur = s;
    for (;;) {
      const r = this.#nodes[cur]!.router;
      if (r === null) return 'broken';
      const nh = r.nextHops(dest)[0];
      if (nh === undefined) return 'none';
      const j = this.#index.get(nh)!;
      if (!this.#passes(cur, j) || this.#nodes[j]!.router === null) return 'broken';
      if (j === d) return 'ok';
      if (seen.has(j)) return 'loop';
      seen.add(j);
      cur = j;
    }
  }

  #sampleLoop(): void {
    let working = 0, looping = 0;
    const pairs = this.#connectedPairs();
    for (const [s, d] of pairs) {
      const w = this.#walk(s, d);
      if (w === 'ok') working++;
      else if (w === 'loop') looping++;
    }
    if (looping > 0) this.#loopSamples++;
    this.#samples.push({ t: this.#now, connectedPairs: pairs.length, workingPairs: working, loopingPairs: looping });
    this.#push({ at: this.#now + this.config.sampleEveryMs, type: 'action', run: () => this.#sampleLoop() });
  }
}

function key(a: number, b: number): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}
