// What every `vector-index` plugin must do, whatever its algorithm (HNSW, IVF, a flat scan): echo its parameters,
// find the true nearest neighbours of a small set (where any sane ANN index at generous ef is exact), replace a label
// in place, remove labels and reuse their space, honour a filter (including one that lets a single label through),
// refuse bad input with badInput while keeping the index, and give identical results after a save→load round trip
// through several pieces. Sets are small (≤ 121 vectors of 16 floats) so the kit stays well under 200 ms.
import {
  decodeIndexChunk, decodeIndexInfo, decodeSearchResult, encodeIndexAdd, encodeIndexChunk, encodeIndexConfig,
  encodeLabelList, encodeSaveRequest, encodeSearchRequest, type IndexConfig, type IndexInfo, type SearchResult,
} from '../generated/contract.js';
import { assertClose, expectFailure, seededRandom, type ConformanceCase, type PluginCall } from './kit-types.js';

const REFUSED = ['X0T_PLUGIN_ERROR'];
const NO_LABEL = 0xffffffff;
const DIM = 16;
const METRIC = { l2: 0, ip: 1, cosine: 2 } as const;

function config(metric: number, capacity = 16): IndexConfig {
  return { dim: DIM, metric, m: 8, efConstruction: 32, efSearch: 32, capacity, seed: 7 };
}

function vectors(n: number, seed: number): Float32Array {
  const rnd = seededRandom(seed);
  return Float32Array.from({ length: n * DIM }, () => rnd() * 2 - 1);
}

const range = (from: number, n: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => from + i);

async function init(call: PluginCall, c: IndexConfig): Promise<IndexInfo> {
  return decodeIndexInfo(await call('index_init', encodeIndexConfig(c)));
}

async function add(call: PluginCall, labels: Uint32Array, v: Float32Array): Promise<IndexInfo> {
  return decodeIndexInfo(await call('index_add', encodeIndexAdd({ count: labels.length, dim: DIM, labels, vectors: v })));
}

async function remove(call: PluginCall, labels: Uint32Array): Promise<IndexInfo> {
  return decodeIndexInfo(await call('index_remove', encodeLabelList({ count: labels.length, labels })));
}

async function search(call: PluginCall, q: Float32Array, k: number, ef = 0, filter: Uint8Array<ArrayBuffer> = new Uint8Array(0)): Promise<SearchResult> {
  return decodeSearchResult(await call('index_search', encodeSearchRequest({
    queries: q.length / DIM, dim: DIM, k, ef, filterBytes: filter.length, vectors: q, filter,
  })));
}

function distance(metric: number, a: Float32Array, b: Float32Array): number {
  let s = 0;
  if (metric === METRIC.l2) {
    for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
    return s;
  }
  let na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) { s += a[i]! * b[i]!; na += a[i]! ** 2; nb += b[i]! ** 2; }
  return metric === METRIC.ip ? 1 - s : 1 - s / Math.sqrt(na * nb);
}

/** The true k nearest of each query among `labels` (row i of `data` has label labels[i]). */
function bruteForce(metric: number, data: Float32Array, labels: Uint32Array, q: Float32Array, k: number): { labels: number[]; d: number[] }[] {
  const out = [];
  for (let qi = 0; qi < q.length / DIM; qi++) {
    const query = q.subarray(qi * DIM, (qi + 1) * DIM);
    const all = Array.from(labels, (l, i) => ({ l, d: distance(metric, query, data.subarray(i * DIM, (i + 1) * DIM)) }));
    all.sort((x, y) => x.d - y.d);
    out.push({ labels: all.slice(0, k).map((x) => x.l), d: all.slice(0, k).map((x) => x.d) });
  }
  return out;
}

function row(r: SearchResult, qi: number): { labels: number[]; d: number[] } {
  return {
    labels: Array.from(r.labels.subarray(qi * r.k, (qi + 1) * r.k)),
    d: Array.from(r.distances.subarray(qi * r.k, (qi + 1) * r.k)),
  };
}

/** Checks a search against brute force: the same labels (as sets, ties aside) and distances. */
function checkExact(metric: number, r: SearchResult, truth: { labels: number[]; d: number[] }[], what: string): void {
  truth.forEach((t, qi) => {
    const got = row(r, qi);
    const missing = t.labels.filter((l) => !got.labels.includes(l));
    if (missing.length > 0) throw new Error(`${what}: query ${qi} misses true neighbours ${missing.join(', ')} (got ${got.labels.join(', ')})`);
    got.d.forEach((d, i) => assertClose(d, t.d[i]!, 1e-4, `${what}: query ${qi} distance ${i} (metric ${metric})`));
  });
}

function bitset(labels: readonly number[], bytes: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(bytes);
  for (const l of labels) b[l >> 3]! |= 1 << (l & 7);
  return b;
}

/** Saves the whole index in pieces of `piece` bytes. */
async function save(call: PluginCall, piece: number): Promise<Uint8Array<ArrayBuffer>> {
  const first = decodeIndexChunk(await call('index_save', encodeSaveRequest({ offset: 0, maxBytes: piece })));
  const image = new Uint8Array(first.totalBytes);
  image.set(first.data, 0);
  let at = first.len;
  while (at < first.totalBytes) {
    const c = decodeIndexChunk(await call('index_save', encodeSaveRequest({ offset: at, maxBytes: piece })));
    if (c.offset !== at || c.len === 0 || c.totalBytes !== first.totalBytes) throw new Error(`index_save: piece at ${at} came back as offset ${c.offset}, len ${c.len}`);
    image.set(c.data, at);
    at += c.len;
  }
  return image;
}

async function load(call: PluginCall, image: Uint8Array<ArrayBuffer>, piece: number): Promise<IndexInfo> {
  let info: IndexInfo | null = null;
  for (let at = 0; at < image.length; at += piece) {
    const data = image.subarray(at, Math.min(image.length, at + piece));
    info = decodeIndexInfo(await call('index_load', encodeIndexChunk({ totalBytes: image.length, offset: at, len: data.length, data })));
  }
  return info!;
}

const N = 120;
const DATA = vectors(N, 11);
const LABELS = range(100, N); // labels need not start at 0
const QUERIES = vectors(8, 12);

export const vectorIndexKit: readonly ConformanceCase[] = [
  {
    name: 'index_init echoes its parameters and starts empty; index_info agrees',
    run: async (call) => {
      const c = config(METRIC.l2);
      const i = await init(call, c);
      for (const k of ['dim', 'metric', 'm', 'efConstruction', 'efSearch'] as const) {
        if (i[k] !== c[k]) throw new Error(`index_init: ${k} = ${i[k]}, asked for ${c[k]}`);
      }
      if (i.count !== 0 || i.deleted !== 0) throw new Error(`a new index has count ${i.count}, deleted ${i.deleted}`);
      if (i.capacity < 1) throw new Error(`capacity ${i.capacity}`);
      const again = decodeIndexInfo(await call('index_info', new Uint8Array(0)));
      if (again.dim !== DIM || again.count !== 0) throw new Error(`index_info after init: dim ${again.dim}, count ${again.count}`);
    },
  },
  {
    name: 'a small set (grown past its initial capacity) gives the exact nearest neighbours for l2, ip and cosine',
    run: async (call) => {
      for (const metric of [METRIC.l2, METRIC.ip, METRIC.cosine]) {
        await init(call, config(metric));
        const i = await add(call, LABELS, DATA);
        if (i.count !== N || i.capacity < N) throw new Error(`after ${N} inserts: count ${i.count}, capacity ${i.capacity}`);
        const r = await search(call, QUERIES, 5, N);
        if (r.queries !== QUERIES.length / DIM || r.k !== 5) throw new Error(`search returned ${r.queries} × ${r.k}`);
        checkExact(metric, r, bruteForce(metric, DATA, LABELS, QUERIES, 5), `metric ${metric}`);
      }
    },
  },
  {
    name: 'inserting a present label replaces its vector; removing hides it and frees its space for reuse',
    run: async (call) => {
      await init(call, config(METRIC.l2));
      await add(call, LABELS, DATA);
      const q = QUERIES.subarray(0, DIM);
      const replaced = await add(call, Uint32Array.of(LABELS[7]!), q);
      if (replaced.count !== N) throw new Error(`replacing a label changed count to ${replaced.count}`);
      const hit = row(await search(call, q, 3, N), 0);
      if (hit.labels[0] !== LABELS[7] || hit.d[0]! > 1e-5) throw new Error(`the replaced vector is not found at distance 0 (got ${hit.labels[0]} at ${hit.d[0]})`);
      const removed = await remove(call, Uint32Array.of(LABELS[7]!, 999_999));
      if (removed.count !== N - 1 || removed.deleted !== 1) throw new Error(`after removing one label: count ${removed.count}, deleted ${removed.deleted}`);
      const after = row(await search(call, q, 10, N), 0);
      if (after.labels.includes(LABELS[7]!)) throw new Error('a removed label is still returned');
      const reused = await add(call, Uint32Array.of(5000), q);
      if (reused.count !== N || reused.deleted !== 0 || reused.capacity !== removed.capacity) {
        throw new Error(`a new label after a removal: count ${reused.count}, deleted ${reused.deleted}, capacity ${removed.capacity} → ${reused.capacity}`);
      }
      const back = await add(call, Uint32Array.of(LABELS[7]!), DATA.subarray(7 * DIM, 8 * DIM));
      if (back.count !== N + 1) throw new Error(`re-inserting a removed label: count ${back.count}`);
      if (row(await search(call, DATA.subarray(7 * DIM, 8 * DIM), 1, N), 0).labels[0] !== LABELS[7]) throw new Error('a re-inserted label is not found');
    },
  },
  {
    name: 'a filter bitset limits results to the labels it allows; rows with fewer hits are padded',
    run: async (call) => {
      await init(call, config(METRIC.cosine));
      await add(call, LABELS, DATA);
      const allowed = Array.from(LABELS).filter((l) => l % 3 === 0);
      const filter = bitset(allowed, (LABELS[N - 1]! >> 3) + 1);
      const r = await search(call, QUERIES, 5, N, filter);
      const rows = QUERIES.length / DIM;
      for (let qi = 0; qi < rows; qi++) {
        const bad = row(r, qi).labels.filter((l) => !allowed.includes(l));
        if (bad.length > 0) throw new Error(`filtered search returned labels the filter excludes: ${bad.join(', ')}`);
      }
      checkExact(METRIC.cosine, r, bruteForce(METRIC.cosine, DATA.filter((_, i) => LABELS[Math.floor(i / DIM)]! % 3 === 0),
        Uint32Array.from(allowed), QUERIES, 5), 'filtered');
      const one = row(await search(call, QUERIES.subarray(0, DIM), 4, 0, bitset([LABELS[42]!], 64)), 0);
      if (one.labels[0] !== LABELS[42] || one.labels.slice(1).some((l) => l !== NO_LABEL) || one.d.slice(1).some((d) => d !== Infinity)) {
        throw new Error(`a one-label filter gave ${one.labels.join(', ')} / ${one.d.join(', ')}`);
      }
    },
  },
  {
    name: 'bad input is refused with badInput and leaves the index as it was',
    run: async (call) => {
      await init(call, config(METRIC.l2));
      await add(call, LABELS.subarray(0, 50), DATA.subarray(0, 50 * DIM));
      const wrongDim = encodeIndexAdd({ count: 1, dim: DIM + 1, labels: Uint32Array.of(1), vectors: new Float32Array(DIM + 1) });
      await expectFailure(call('index_add', wrongDim), REFUSED, 'a vector of the wrong dimension');
      const nan = new Float32Array(DIM).fill(Number.NaN);
      await expectFailure(add(call, Uint32Array.of(1), nan), REFUSED, 'a NaN vector');
      await expectFailure(search(call, nan, 3), REFUSED, 'a NaN query');
      await expectFailure(search(call, QUERIES.subarray(0, DIM), 0), REFUSED, 'k = 0');
      const frame = encodeIndexAdd({ count: 1, dim: DIM, labels: Uint32Array.of(1), vectors: new Float32Array(DIM) });
      await expectFailure(call('index_add', frame.subarray(0, frame.length - 8)), REFUSED, 'a truncated frame');
      await expectFailure(init(call, { ...config(METRIC.l2), dim: 0 }), REFUSED, 'dim = 0');
      const good = await save(call, 1 << 20);
      const bad = good.slice();
      bad[0] = bad[0]! ^ 0xff;
      await expectFailure(load(call, bad, 1 << 20), REFUSED, 'an image with a damaged first byte');
      await expectFailure(load(call, good.subarray(0, good.length - 4), 1 << 20), REFUSED, 'a truncated image');
      const i = decodeIndexInfo(await call('index_info', new Uint8Array(0)));
      if (i.count !== 50 || i.dim !== DIM) throw new Error(`after refused calls the index has count ${i.count}, dim ${i.dim}`);
      if (row(await search(call, DATA.subarray(0, DIM), 1, 50), 0).labels[0] !== LABELS[0]) throw new Error('after refused calls a search fails');
    },
  },
  {
    name: 'save → load through several pieces gives identical results',
    run: async (call) => {
      await init(call, config(METRIC.cosine));
      await add(call, LABELS, DATA);
      await remove(call, LABELS.subarray(0, 10));
      const before = await search(call, QUERIES, 8, 16);
      const image = await save(call, 8_000);
      if (image.length <= 8_000) throw new Error(`a ${N}-vector index saved in ${image.length} bytes`);
      await init(call, config(METRIC.l2));
      const info = await load(call, image, 7_000);
      if (info.count !== N - 10 || info.deleted !== 10 || info.metric !== METRIC.cosine) {
        throw new Error(`after load: count ${info.count}, deleted ${info.deleted}, metric ${info.metric}`);
      }
      const after = await search(call, QUERIES, 8, 16);
      for (let i = 0; i < before.labels.length; i++) {
        if (before.labels[i] !== after.labels[i] || before.distances[i] !== after.distances[i]) {
          throw new Error(`result ${i} differs after the round trip: ${before.labels[i]}@${before.distances[i]} vs ${after.labels[i]}@${after.distances[i]}`);
        }
      }
    },
  },
];
