// The hnsw plugin's paired search (sdk/c/hnsw/paired-search.h) against hnswlib's own searchKnn on the same graph:
// one index is built by the product plugin and saved; the same image is loaded into the fixture built with
// hnswlib's search (test/fixtures/plugins/hnsw-hnswlib-search); both answer the same queries. The walk must be the
// same one: the same labels in the same order for every query, all ef of them (k = ef). Distances may differ in the last bits, since both
// kernels are compiled with -ffast-math, which leaves clang free to order the final additions differently.
// Covered: the three metrics, a dimension with a SIMD remainder and a scalar tail (103 = 6·16 + 4 + 3), the plain
// walk, the walk with deleted elements, and the walk with a filter broad enough not to take the exact scan.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { VectorHits, VectorIndexParams } from '../../../host/kb/kb-types.js';
import { openHnswIndex, type PluginVectorIndex } from '../../../host/kb/vector-index.js';
import { FIXTURE_MANIFESTS } from '../../support/fixtures.js';
import { bellVectors } from '../../support/bell-vectors.js';

const dir = mkdtempSync(join(tmpdir(), 'x0t-paired-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const DIM = 103;
const N = 3000;
const QUERIES = 150;
/** k = ef: the whole result set of the walk is compared, not just its head. */
const EF = 64;
const REFERENCE = join(FIXTURE_MANIFESTS, 'hnsw-hnswlib-search.json');

const vectors = (n: number, seed: number, unit: boolean): Float32Array => bellVectors(n, DIM, seed, unit);

async function answers(index: PluginVectorIndex, queries: Float32Array, filter?: Uint8Array): Promise<VectorHits[]> {
  const out: VectorHits[] = [];
  for (let q = 0; q < QUERIES; q++) {
    out.push(await index.search(queries.subarray(q * DIM, (q + 1) * DIM), EF, filter === undefined ? {} : { filter }));
  }
  return out;
}

function assertSameWalk(ours: readonly VectorHits[], reference: readonly VectorHits[], what: string): void {
  for (let q = 0; q < QUERIES; q++) {
    const a = ours[q]!;
    const b = reference[q]!;
    assert.equal(a.labels.length, EF, `${what}: query ${q} found ${a.labels.length}`);
    assert.deepEqual([...a.labels], [...b.labels], `${what}: query ${q} labels`);
    for (let i = 0; i < a.distances.length; i++) {
      const d = Math.abs(a.distances[i]! - b.distances[i]!);
      assert.ok(d <= 1e-5 * Math.max(1, Math.abs(b.distances[i]!)), `${what}: query ${q} rank ${i}: ${a.distances[i]} vs ${b.distances[i]}`);
    }
  }
}

for (const metric of ['cosine', 'ip', 'l2'] as const) {
  test(`paired search walks hnswlib's graph exactly as hnswlib's searchKnn does (${metric})`, async () => {
    const params: VectorIndexParams = { metric, dim: DIM, m: 16, efConstruction: 100, efSearch: EF, capacity: N, seed: 7 };
    const data = vectors(N, 11, metric !== 'l2');
    const queries = vectors(QUERIES, 12, metric !== 'l2');
    const labels = Uint32Array.from({ length: N }, (_, i) => i);
    const ours = await openHnswIndex(params);
    const reference = await openHnswIndex(params, REFERENCE);
    try {
      await ours.add(labels, data);
      const file = join(dir, `${metric}.hnsw`);
      await ours.save(file, metric);
      await reference.load(file);
      assertSameWalk(await answers(ours, queries), await answers(reference, queries), `${metric}, plain`);

      // Every other label allowed: 1,500 of 3,000, too many for the exact scan, so the graph walk filters.
      const filter = new Uint8Array(N / 8).fill(0b01010101);
      assertSameWalk(await answers(ours, queries, filter), await answers(reference, queries, filter), `${metric}, filtered`);

      const removed = Uint32Array.from({ length: N / 10 }, (_, i) => i * 10 + 3);
      await ours.remove(removed);
      await reference.remove(removed);
      const afterRemoval = await answers(ours, queries);
      assertSameWalk(afterRemoval, await answers(reference, queries), `${metric}, with deleted elements`);
      for (const hits of afterRemoval) for (const l of hits.labels) assert.ok(l % 10 !== 3, `removed label ${l} returned`);
    } finally {
      await ours.close();
      await reference.close();
    }
  });
}
