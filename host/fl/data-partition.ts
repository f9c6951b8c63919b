// How a dataset is split over clients in the simulations.
//   sorted     the non-IID split of Karimireddy, He & Jaggi's experiments: the samples sorted by label, cut into
//              equal contiguous chunks, so each client sees one or two classes;
//   dirichlet  per class, client shares drawn from Dirichlet(α) (small α: few classes per client);
//   iid        a seeded shuffle cut into equal chunks.
import { UsageError } from '../errors/index.js';
import type { SeededRandom } from './seeded-random.js';

export const PARTITIONS = ['sorted', 'dirichlet', 'iid'] as const;
export type PartitionName = (typeof PARTITIONS)[number];

function chunks(order: readonly number[], clients: number): number[][] {
  const out: number[][] = [];
  for (let c = 0; c < clients; c++) {
    out.push(order.slice(Math.floor((c * order.length) / clients), Math.floor(((c + 1) * order.length) / clients)));
  }
  return out;
}

/** Sample indices per client. Every client gets at least one sample or the call fails. */
export function partition(labels: Uint32Array, clients: number, how: PartitionName, rng: SeededRandom, alpha = 0.5): number[][] {
  if (clients < 1 || clients > labels.length) throw new UsageError(`cannot split ${labels.length} samples over ${clients} clients`, { clients });
  const indices = Array.from(labels, (_, i) => i);
  let parts: number[][];
  if (how === 'iid') {
    parts = chunks(rng.shuffle(indices), clients);
  } else if (how === 'sorted') {
    // Stable by label, shuffled within a label so a client's chunk is not the package's first digits only.
    const shuffled = rng.shuffle(indices);
    parts = chunks(shuffled.sort((a, b) => labels[a]! - labels[b]!), clients);
  } else {
    const byClass = new Map<number, number[]>();
    for (const i of rng.shuffle(indices)) {
      const l = labels[i]!;
      if (!byClass.has(l)) byClass.set(l, []);
      byClass.get(l)!.push(i);
    }
    parts = Array.from({ length: clients }, () => []);
    for (const members of [...byClass.entries()].sort((a, b) => a[0] - b[0]).map(([, m]) => m)) {
      const g = Array.from({ length: clients }, () => rng.gamma(alpha));
      const total = g.reduce((s, v) => s + v, 0);
      let at = 0;
      let acc = 0;
      for (let c = 0; c < clients; c++) {
        acc += g[c]! / total;
        const end = c === clients - 1 ? members.length : Math.round(acc * members.length);
        parts[c]!.push(...members.slice(at, end));
        at = end;
      }
    }
  }
  const empty = parts.findIndex((p) => p.length === 0);
  if (empty >= 0) throw new UsageError(`partition '${how}' left client ${empty} without data; use fewer clients or a larger alpha`, { how, clients });
  return parts;
}
