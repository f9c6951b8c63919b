// Topologies for the routing simulator: node indices 0..n-1 and undirected edges (a < b), always connected.
import { RoutingError } from '../../errors/index.js';
import type { SeededPrng } from './seeded-prng.js';

export interface Topology {
  readonly name: string;
  readonly nodes: number;
  readonly edges: readonly (readonly [number, number])[];
}

const norm = (a: number, b: number): readonly [number, number] => (a < b ? [a, b] : [b, a]);

/** A near-square grid: columns = ceil(sqrt(n)), each node linked to its right and lower neighbour. */
export function gridTopology(n: number): Topology {
  const cols = Math.ceil(Math.sqrt(n));
  const edges: (readonly [number, number])[] = [];
  for (let i = 0; i < n; i++) {
    if ((i % cols) + 1 < cols && i + 1 < n) edges.push([i, i + 1]);
    if (i + cols < n) edges.push([i, i + cols]);
  }
  return checked({ name: 'grid', nodes: n, edges });
}

export function ringTopology(n: number): Topology {
  const edges = Array.from({ length: n }, (_, i) => norm(i, (i + 1) % n)).filter(([a, b]) => a !== b);
  return checked({ name: 'ring', nodes: n, edges: n === 2 ? [edges[0]!] : edges });
}

export function lineTopology(n: number): Topology {
  return checked({ name: 'line', nodes: n, edges: Array.from({ length: n - 1 }, (_, i) => [i, i + 1] as const) });
}

/**
 * Random geometric graph in the unit square with a radius giving ~`degree` neighbours on average; components are
 * then joined by their closest pair of nodes, so the result is connected.
 */
export function randomTopology(n: number, rng: SeededPrng, degree = 4): Topology {
  const pts = Array.from({ length: n }, () => [rng.float(), rng.float()] as const);
  const r2 = degree / (Math.PI * Math.max(1, n - 1));
  const d2 = (a: number, b: number): number => (pts[a]![0] - pts[b]![0]) ** 2 + (pts[a]![1] - pts[b]![1]) ** 2;
  const edges: (readonly [number, number])[] = [];
  for (let a = 0; a < n; a++) for (let b = a + 1; b < n; b++) if (d2(a, b) <= r2) edges.push([a, b]);
  for (;;) {
    const comp = components(n, edges);
    const first = comp.filter((c) => c === 0).length;
    if (first === n) break;
    let best: readonly [number, number] | null = null;
    for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) {
      if (comp[a] === 0 && comp[b] !== 0 && (best === null || d2(a, b) < d2(best[0], best[1]))) best = [a, b];
    }
    edges.push(norm(best![0], best![1]));
  }
  return checked({ name: 'random', nodes: n, edges });
}

export function explicitTopology(n: number, edges: readonly (readonly [number, number])[], name = 'explicit'): Topology {
  return checked({ name, nodes: n, edges: edges.map(([a, b]) => norm(a, b)) });
}

/** Component id of every node (0 = the component of node 0). */
export function components(n: number, edges: readonly (readonly [number, number])[], skip: (e: readonly [number, number]) => boolean = () => false): number[] {
  const adj: number[][] = Array.from({ length: n }, () => []);
  for (const e of edges) if (!skip(e)) { adj[e[0]]!.push(e[1]); adj[e[1]]!.push(e[0]); }
  const comp = new Array<number>(n).fill(-1);
  let id = 0;
  for (let s = 0; s < n; s++) {
    if (comp[s] !== -1) continue;
    const stack = [s];
    comp[s] = id;
    while (stack.length > 0) for (const v of adj[stack.pop()!]!) if (comp[v] === -1) { comp[v] = id; stack.push(v); }
    id++;
  }
  return comp;
}

function checked(t: Topology): Topology {
  if (!Number.isInteger(t.nodes) || t.nodes < 2) throw new RoutingError('a topology needs at least 2 nodes', { field: 'nodes' });
  const seen = new Set<string>();
  for (const [a, b] of t.edges) {
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b >= t.nodes || a === b) throw new RoutingError(`bad edge ${a}-${b}`, { field: 'edges' });
    if (seen.has(`${a}-${b}`)) throw new RoutingError(`duplicate edge ${a}-${b}`, { field: 'edges' });
    seen.add(`${a}-${b}`);
  }
  if (components(t.nodes, t.edges).some((c) => c !== 0)) throw new RoutingError(`${t.name} topology is not connected`, { field: 'edges' });
  return t;
}
