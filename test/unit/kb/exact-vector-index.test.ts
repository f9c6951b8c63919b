// ExactVectorIndex: true nearest neighbours for l2 / ip / cosine with the capability's distances, replace and remove
// semantics, filters, and a save→load round trip through the crash-safe file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { KbConfigError, KbIndexCorruptError } from '../../../host/errors/index.js';
import { ExactVectorIndex } from '../../../host/kb/exact-vector-index.js';
import type { VectorIndexParams, VectorMetric } from '../../../host/kb/kb-types.js';
import { seededUniform } from '../../support/seeded-uniform.js';

const dir = mkdtempSync(join(tmpdir(), 'x0t-exact-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const rng = seededUniform;

function randomVectors(n: number, dim: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n * dim }, () => r() * 2 - 1);
}

const params = (metric: VectorMetric, dim = 24): VectorIndexParams => ({ dim, metric, m: 16, efConstruction: 100, efSearch: 64, capacity: 8, seed: 1 });

/** Reference distances in float64, straight from the definitions. */
function reference(metric: VectorMetric, a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0, l2 = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i]! * b[i]!; na += a[i]! ** 2; nb += b[i]! ** 2; l2 += (a[i]! - b[i]!) ** 2; }
  return metric === 'l2' ? l2 : metric === 'ip' ? 1 - dot : 1 - dot / Math.sqrt(na * nb);
}

for (const metric of ['l2', 'ip', 'cosine'] as const) {
  test(`${metric}: the k nearest, nearest first, with the capability's distances`, async () => {
    const dim = 24, n = 500;
    const data = randomVectors(n, dim, 3);
    const labels = Uint32Array.from({ length: n }, (_, i) => 1000 + 3 * i);
    const index = new ExactVectorIndex(params(metric, dim));
    await index.add(labels, data);
    const queries = randomVectors(20, dim, 4);
    for (let q = 0; q < 20; q++) {
      const query = queries.subarray(q * dim, (q + 1) * dim);
      const hits = await index.search(query, 7);
      const truth = Array.from(labels, (l, i) => ({ l, d: reference(metric, query, data.subarray(i * dim, (i + 1) * dim)) }))
        .sort((x, y) => x.d - y.d).slice(0, 7);
      assert.deepEqual(Array.from(hits.labels), truth.map((t) => t.l));
      hits.distances.forEach((d, i) => assert.ok(Math.abs(d - truth[i]!.d) < 1e-4, `distance ${i}: ${d} vs ${truth[i]!.d}`));
    }
    assert.equal((await index.info()).count, n);
  });
}

test('replace, remove (slot reuse), filters and a short result', async () => {
  const dim = 8;
  const index = new ExactVectorIndex(params('l2', dim));
  const data = randomVectors(40, dim, 9);
  await index.add(Uint32Array.from({ length: 40 }, (_, i) => i), data);
  const q = new Float32Array(dim).fill(5);
  await index.add(Uint32Array.of(17), q);
  assert.equal((await index.info()).count, 40, 'replacing keeps the count');
  let hits = await index.search(q, 1);
  assert.deepEqual([hits.labels[0], hits.distances[0]], [17, 0]);
  await index.remove(Uint32Array.of(17, 12345));
  hits = await index.search(q, 40);
  assert.equal(hits.labels.length, 39);
  assert.ok(!hits.labels.includes(17));
  const capacity = (await index.info()).capacity;
  await index.add(Uint32Array.of(99), q);
  assert.equal((await index.info()).capacity, capacity, 'the freed slot is reused');
  const filter = new Uint8Array(2);
  filter[0] = 0b1010_0000; // labels 5 and 7
  hits = await index.search(q, 10, { filter });
  assert.deepEqual(Array.from(hits.labels).sort(), [5, 7]);
  hits = await index.search(q, 3, { filter: new Uint8Array(1) });
  assert.equal(hits.labels.length, 0);
  await assert.rejects(index.add(Uint32Array.of(1), new Float32Array(dim).fill(Number.NaN)), KbConfigError);
  await assert.rejects(index.search(new Float32Array(dim + 1), 3), KbConfigError);
});

test('save → load gives identical results; a damaged file is refused and the index kept', async () => {
  const dim = 16;
  const index = new ExactVectorIndex(params('cosine', dim));
  await index.add(Uint32Array.from({ length: 300 }, (_, i) => i * 7), randomVectors(300, dim, 5));
  await index.remove(Uint32Array.of(0, 7, 14));
  const path = join(dir, 'exact.idx');
  await index.save(path, 'tag-1');
  const loaded = new ExactVectorIndex(params('l2', 4));
  assert.deepEqual(await loaded.load(path), { tag: 'tag-1' });
  const queries = randomVectors(10, dim, 6);
  for (let q = 0; q < 10; q++) {
    const a = await index.search(queries.subarray(q * dim, (q + 1) * dim), 10);
    const b = await loaded.search(queries.subarray(q * dim, (q + 1) * dim), 10);
    assert.deepEqual(b, a);
  }
  const bytes = readFileSync(path);
  bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 1;
  writeFileSync(path, bytes);
  await assert.rejects(loaded.load(path), KbIndexCorruptError);
  assert.equal((await loaded.info()).count, 297);
});
