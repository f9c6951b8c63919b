// The hnsw plugin behind PluginVectorIndex, in its own slot (worker isolation, as the node runs it): recall against
// the exact index, replace / remove / filter semantics (both the graph walk and the exact scan of selective filters),
// a save→load round trip through the crash-safe file, a damaged file refused with the index kept, a lost instance
// (timeout → fresh empty instance) detected and recovered by load, and growth past the memory limit refused with the
// index still usable.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  decodeIndexChunk, decodeIndexInfo, encodeIndexChunk, encodeSaveRequest,
} from '../../../sdk/abi/generated/contract.js';
import { KbIndexCorruptError, PluginReportedError } from '../../../host/errors/index.js';
import { Slot } from '../../../host/runtime/slot.js';
import { ExactVectorIndex } from '../../../host/kb/exact-vector-index.js';
import type { VectorIndexParams } from '../../../host/kb/kb-types.js';
import { KB_HNSW_DEFAULTS, openHnswIndex, PluginVectorIndex } from '../../../host/kb/vector-index.js';
import { productSpec } from '../../support/fixtures.js';
import { bellVectors } from '../../support/bell-vectors.js';
import { seededUniform } from '../../support/seeded-uniform.js';

const dir = mkdtempSync(join(tmpdir(), 'x0t-hnsw-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Random unit vectors (the hardest case for HNSW: no cluster structure). */
const unitVectors = (n: number, dim: number, seed: number): Float32Array => bellVectors(n, dim, seed);

const DIM = 128;
const N = 2000;
const DATA = unitVectors(N, DIM, 1);
const LABELS = Uint32Array.from({ length: N }, (_, i) => i * 2 + 1);
const QUERIES = unitVectors(100, DIM, 2);
const PARAMS: VectorIndexParams = { ...KB_HNSW_DEFAULTS, dim: DIM, capacity: 256 };

function recallAt(k: number, got: readonly Uint32Array[], truth: readonly Uint32Array[]): number {
  let hit = 0;
  got.forEach((g, q) => { for (const l of truth[q]!.subarray(0, k)) if (g.subarray(0, k).includes(l)) hit++; });
  return hit / (k * got.length);
}

const query = (q: number): Float32Array => QUERIES.subarray(q * DIM, (q + 1) * DIM);

test('KB defaults: recall@10 ≥ 0.95 against the exact index on 2k vectors; replace, remove and filters', async () => {
  const index = await openHnswIndex(PARAMS);
  const exact = new ExactVectorIndex(PARAMS);
  try {
    await index.add(LABELS, DATA);
    await exact.add(LABELS, DATA);
    const info = await index.info();
    assert.equal(info.count, N);
    assert.ok(info.capacity >= N, 'capacity grew from 256');
    assert.deepEqual([info.m, info.efConstruction, info.efSearch, info.metric], [32, 200, 256, 'cosine']);

    const got = await index.searchMany(QUERIES, 10);
    const truth = await Promise.all(Array.from({ length: 100 }, (_, q) => exact.search(query(q), 10)));
    const recall = recallAt(10, got.map((h) => h.labels), truth.map((h) => h.labels));
    assert.ok(recall >= 0.95, `recall@10 ${recall}`);
    // one query at a time gives the same as the batch
    const single = await index.search(query(0), 10);
    assert.deepEqual(single, got[0]);
    got.forEach((h, q) => {
      for (let i = 0; i < h.labels.length; i++) {
        const t = truth[q]!.labels.indexOf(h.labels[i]!);
        if (t >= 0) assert.ok(Math.abs(h.distances[i]! - truth[q]!.distances[t]!) < 1e-4, 'same distances as the exact index');
      }
    });

    // replace: label 1 now sits exactly on query 0
    await index.add(Uint32Array.of(1), query(0));
    let hits = await index.search(query(0), 1);
    assert.equal(hits.labels[0], 1);
    assert.ok(hits.distances[0]! < 1e-5);
    assert.equal((await index.info()).count, N);
    // remove
    await index.remove(Uint32Array.of(1));
    hits = await index.search(query(0), 50);
    assert.ok(!hits.labels.includes(1));
    assert.deepEqual([(await index.info()).count, (await index.info()).deleted], [N - 1, 1]);
    await exact.remove(Uint32Array.of(1));

    // a broad filter (half the labels: the graph walk with hnswlib's filter functor)
    const half = new Uint8Array((2 * N + 8) >> 3);
    for (const l of LABELS) if (l % 4 === 1) half[l >> 3]! |= 1 << (l & 7);
    const broad = await index.searchMany(QUERIES, 10, { filter: half });
    const broadTruth = await Promise.all(Array.from({ length: 100 }, (_, q) => exact.search(query(q), 10, { filter: half })));
    for (const h of broad) for (const l of h.labels) assert.equal(l % 4, 1, `label ${l} is outside the filter`);
    const broadRecall = recallAt(10, broad.map((h) => h.labels), broadTruth.map((h) => h.labels));
    assert.ok(broadRecall >= 0.95, `filtered recall@10 ${broadRecall}`);
    // a selective filter (20 labels: scanned exactly)
    const few = new Uint8Array(half.length);
    for (let i = 0; i < 20; i++) few[(LABELS[i * 97]! >> 3)]! |= 1 << (LABELS[i * 97]! & 7);
    const narrow = await index.searchMany(QUERIES, 10, { filter: few });
    const narrowTruth = await Promise.all(Array.from({ length: 100 }, (_, q) => exact.search(query(q), 10, { filter: few })));
    assert.deepEqual(narrow.map((h) => Array.from(h.labels)), narrowTruth.map((h) => Array.from(h.labels)));
  } finally {
    await index.close();
  }
});

test('save → load through the crash-safe file gives identical results; a damaged file is refused and the index kept', async () => {
  const index = await openHnswIndex({ ...PARAMS, metric: 'l2', m: 16, efConstruction: 64 });
  try {
    await index.add(LABELS.subarray(0, 1500), DATA.subarray(0, 1500 * DIM));
    await index.remove(LABELS.subarray(0, 30));
    const before = await index.searchMany(QUERIES, 10);
    const path = join(dir, 'hnsw.idx');
    await index.save(path, 'digest-1');
    await index.reset();
    assert.equal((await index.info()).count, 0);
    assert.deepEqual(await index.load(path), { tag: 'digest-1' });
    assert.deepEqual(await index.searchMany(QUERIES, 10), before);
    const info = await index.info();
    assert.deepEqual([info.count, info.deleted, info.metric, info.m], [1470, 30, 'l2', 16]);

    const bytes = readFileSync(path);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0x10;
    const damaged = join(dir, 'damaged.idx');
    writeFileSync(damaged, bytes);
    await assert.rejects(index.load(damaged), KbIndexCorruptError);
    writeFileSync(damaged, bytes.subarray(0, bytes.length - 100));
    await assert.rejects(index.load(damaged), KbIndexCorruptError);
    assert.deepEqual(await index.searchMany(QUERIES, 10), before, 'the index is kept');
    // more inserts after a load reuse the removed slots
    await index.add(Uint32Array.of(900_001), query(5));
    assert.deepEqual([(await index.info()).count, (await index.info()).deleted], [1471, 29]);
  } finally {
    await index.close();
  }
});

test('an instance restart (timeout) is detected as a lost index; load recovers it', async () => {
  const spec = await productSpec('hnsw', { limits: { callTimeoutMs: 1000 } });
  const index = await openHnswIndex({ ...PARAMS, m: 8, efConstruction: 20 }, spec);
  try {
    await index.add(LABELS, DATA);
    const path = join(dir, 'before-crash.idx');
    await index.save(path, 'v1');
    const before = await index.search(query(3), 10);
    // 8k queries at ef 2000 over the whole graph: far more than a second of work in one call
    const heavy = unitVectors(8000, DIM, 9);
    await assert.rejects(index.searchMany(heavy, 10, { ef: 2000 }), (e: unknown) => {
      assert.ok(e instanceof KbIndexCorruptError, String(e));
      assert.equal(e.details['lost'], true);
      return true;
    });
    assert.equal(index.lost, true);
    await assert.rejects(index.search(query(3), 10), (e: unknown) => e instanceof KbIndexCorruptError && e.details['lost'] === true);
    await assert.rejects(index.info(), KbIndexCorruptError);
    assert.deepEqual(await index.load(path), { tag: 'v1' });
    assert.equal(index.lost, false);
    assert.deepEqual(await index.search(query(3), 10), before);
  } finally {
    await index.close();
  }
});

test('growth past the memory limit fails the call with internal and leaves the index usable', async () => {
  const spec = await productSpec('hnsw', { limits: { maxMemoryPages: 256 } }); // 16 MiB
  const index = await openHnswIndex({ ...PARAMS, m: 8, efConstruction: 16, capacity: 64 }, spec);
  try {
    let failure: unknown = null;
    let label = 0;
    const batch = 1000;
    for (let round = 0; round < 40 && failure === null; round++) {
      const before = await index.info();
      const labels = Uint32Array.from({ length: batch }, () => label++);
      const vectors = unitVectors(batch, DIM, 100 + round);
      try {
        await index.add(labels, vectors);
      } catch (e) {
        failure = e;
        const after = await index.info();
        assert.equal(after.count, before.count, 'a refused add changes nothing');
        assert.equal(after.capacity, before.capacity);
      }
    }
    assert.ok(failure instanceof PluginReportedError, `expected a refusal, got ${String(failure)}`);
    assert.equal(failure.details['status'], -2, 'status internal');
    assert.match(failure.message, /memory limit/);
    assert.equal(index.lost, false);
    const info = await index.info();
    assert.ok(info.count >= 5000, `${info.count} vectors fit in 16 MiB`);
    const hits = await index.search(DATA.subarray(0, DIM), 5);
    assert.equal(hits.labels.length, 5);
    await index.remove(Uint32Array.of(0, 1, 2));
    await index.add(Uint32Array.of(1_000_000), DATA.subarray(0, DIM));
    assert.equal((await index.search(DATA.subarray(0, DIM), 1)).labels[0], 1_000_000);
  } finally {
    await index.close();
  }
});

test('index_load checks every length, level, link and label of an image: damaged images are refused, never trap', async () => {
  const spec = await productSpec('hnsw');
  const slot = await Slot.open('vector-index', 'vector-index', spec);
  const call = (fn: string, input: Uint8Array): Promise<Uint8Array> => slot.call(fn, input);
  try {
    const dim = 8;
    const index = await PluginVectorIndex.create(call, { ...PARAMS, dim, m: 4, efConstruction: 16 }, spec.limits);
    await index.add(Uint32Array.from({ length: 300 }, (_, i) => i), unitVectors(300, dim, 7));
    const first = decodeIndexChunk(await call('index_save', encodeSaveRequest({ offset: 0, maxBytes: 1 << 22 })));
    const image = first.data.slice();
    assert.equal(image.length, first.totalBytes);
    const load = async (bytes: Uint8Array<ArrayBuffer>): Promise<void> => {
      decodeIndexInfo(await call('index_load', encodeIndexChunk({ totalBytes: bytes.length, offset: 0, len: bytes.length, data: bytes })));
    };
    const refused = async (bytes: Uint8Array<ArrayBuffer>, what: string): Promise<void> => {
      await assert.rejects(load(bytes), (e: unknown) => e instanceof PluginReportedError && e.details['status'] === -1, what);
    };
    const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
    const bpe = dv(image).getUint32(8 + 4 * 10, true);
    const count = dv(image).getUint32(8 + 4 * 6, true);
    assert.equal(count, 300);
    const edit = (f: (v: DataView) => void): Uint8Array<ArrayBuffer> => { const b = image.slice(); f(dv(b)); return b; };
    await refused(edit((v) => v.setUint32(64 + 4, 300, true)), 'a level-0 link past the last element');
    await refused(edit((v) => v.setUint16(64, 100, true)), 'a level-0 list longer than 2M');
    await refused(edit((v) => v.setUint32(8 + 4 * 9, 300, true)), 'an entry point past the last element');
    await refused(edit((v) => v.setUint32(8 + 4 * 8, 7, true)), 'a top level no element has');
    await refused(edit((v) => v.setUint32(64 + 5 * bpe - 4, 5, true)), 'a label that appears twice');
    await refused(edit((v) => v.setUint32(8 + 4 * 7, 3, true)), 'a deleted count without deleted marks');
    await refused(edit((v) => v.setUint32(64 + bpe * count, 40, true)), 'an element level that runs past the end');
    await refused(edit((v) => v.setFloat32(64 + 4 * 9, Number.NaN, true)), 'a NaN vector');
    await refused(image.slice(0, image.length - 1), 'a truncated image');
    // Random damage anywhere: refused, or (a changed vector value) accepted; never a trap or a lost instance.
    const r = seededUniform(77);
    let accepted = 0;
    for (let i = 0; i < 300; i++) {
      const b = image.slice();
      const at = Math.floor(r() * b.length);
      b[at] = b[at]! ^ (1 + Math.floor(r() * 255));
      try {
        await load(b);
        accepted++;
      } catch (e) {
        assert.ok(e instanceof PluginReportedError && e.details['status'] === -1, `byte ${at}: ${String(e)}`);
      }
    }
    await load(image);
    assert.equal(decodeIndexInfo(await call('index_info', new Uint8Array(0))).count, 300);
    assert.ok(accepted < 300);
    await index.close();
  } finally {
    await slot.close();
  }
});
