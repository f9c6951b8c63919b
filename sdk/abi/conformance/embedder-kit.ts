// What every `embedder` plugin must do, whatever it computes (hashed words, a transformer, ...): a sane
// embedder_info, one finite vector of `dim` floats per text in the order given, the same bytes for the same input,
// a text's vector independent of the batch around it, unit vectors when it declares normalized = 1, any text
// accepted (empty, non-ASCII, invalid UTF-8: replaced, never refused), an optional weight vector of length dim
// accepted and one of another length refused, and malformed frames refused. Texts are short so the kit stays fast.
import { decodeEmbedderInfo, decodeEmbeddingBatch, encodeTextBatch, type EmbedderInfo } from '../generated/contract.js';
import { textBatchOf } from '../text-batch.js';
import { expectFailure, type ConformanceCase, type PluginCall } from './kit-types.js';

const REFUSED = ['X0T_PLUGIN_ERROR'];
const utf8 = new TextEncoder();

const TEXTS = [
  'The mesh node lost its uplink on wlan0 and rerouted through the neighbour.',
  'Rotate the ML-KEM-768 keys after a suspected compromise.',
  'A plugin trapped with X0T_PLUGIN_TRAP; the slot restarted it from a fresh instance.',
] as const;

/** A TextBatch frame of `texts` (strings are UTF-8 encoded; byte arrays go as they are). */
function batch(texts: readonly (string | Uint8Array)[], weights: Float32Array = new Float32Array(0)): Uint8Array {
  return encodeTextBatch(textBatchOf(texts.map((t) => (typeof t === 'string' ? utf8.encode(t) : t)), weights));
}

async function info(call: PluginCall): Promise<EmbedderInfo> {
  return decodeEmbedderInfo(await call('embedder_info', new Uint8Array(0)));
}

/** The rows of an embed call, checked for count, dimension and finiteness. */
async function embed(call: PluginCall, dim: number, texts: readonly (string | Uint8Array)[], weights?: Float32Array): Promise<Float32Array[]> {
  const out = decodeEmbeddingBatch(await call('embed', batch(texts, weights)));
  if (out.count !== texts.length) throw new Error(`embed returned ${out.count} vectors for ${texts.length} texts`);
  if (out.dim !== dim) throw new Error(`embed returned vectors of dimension ${out.dim}, embedder_info says ${dim}`);
  const rows = Array.from({ length: out.count }, (_, i) => out.vectors.slice(i * dim, (i + 1) * dim));
  rows.forEach((r, i) => { if (!r.every(Number.isFinite)) throw new Error(`vector ${i} has a non-finite value`); });
  return rows;
}

function norm(v: Float32Array): number {
  let s = 0;
  for (const x of v) s += x * x;
  return Math.sqrt(s);
}

function cosine(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  const n = norm(a) * norm(b);
  return n === 0 ? 0 : s / n;
}

function sameBytes(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

/** Non-empty rows must be unit vectors when the plugin says normalized = 1. */
function checkNorms(i: EmbedderInfo, rows: readonly Float32Array[], what: string): void {
  if (i.normalized !== 1) return;
  rows.forEach((r, k) => {
    const n = norm(r);
    if (n !== 0 && !(Math.abs(n - 1) <= 1e-3)) throw new Error(`${what}: vector ${k} has norm ${n}, but the plugin declares normalized = 1`);
  });
}

export const embedderKit: readonly ConformanceCase[] = [
  {
    name: 'embedder_info declares a usable dimension, input limit and normalisation flag',
    run: async (call) => {
      const i = await info(call);
      if (!(i.dim >= 1 && i.dim <= 1 << 20)) throw new Error(`dim ${i.dim} is outside [1, 2^20]`);
      if (!(i.maxInputUnits >= 1)) throw new Error(`maxInputUnits ${i.maxInputUnits} must be at least 1`);
      if (i.normalized !== 0 && i.normalized !== 1) throw new Error(`normalized must be 0 or 1, got ${i.normalized}`);
    },
  },
  {
    name: 'embed returns one finite vector of dim floats per text, unit vectors when normalized',
    run: async (call) => {
      const i = await info(call);
      const rows = await embed(call, i.dim, TEXTS);
      rows.forEach((r, k) => { if (norm(r) === 0) throw new Error(`text ${k} ("${TEXTS[k]}") gave the zero vector`); });
      checkNorms(i, rows, 'three sentences');
      if (sameBytes(rows[0]!, rows[1]!) || sameBytes(rows[1]!, rows[2]!)) throw new Error('different texts gave the same vector');
      const none = decodeEmbeddingBatch(await call('embed', batch([])));
      if (none.count !== 0 || none.vectors.length !== 0) throw new Error(`an empty batch gave ${none.count} vectors`);
    },
  },
  {
    name: 'embed is deterministic and a text\'s vector does not depend on the rest of the batch',
    run: async (call) => {
      const i = await info(call);
      const a = await embed(call, i.dim, TEXTS);
      const b = await embed(call, i.dim, TEXTS);
      a.forEach((r, k) => { if (!sameBytes(r, b[k]!)) throw new Error(`vector ${k} differs between two identical calls`); });
      const [alone] = await embed(call, i.dim, [TEXTS[1]]);
      const [first, , again] = await embed(call, i.dim, [TEXTS[1], TEXTS[0], TEXTS[1]]);
      for (const [what, v] of [['alone', alone!], ['repeated in a batch', again!]] as const) {
        const c = cosine(first!, v);
        if (!(c >= 0.999)) throw new Error(`the same text embedded ${what} has cosine ${c} with its first embedding`);
      }
    },
  },
  {
    name: 'empty, non-ASCII and invalid UTF-8 texts are embedded, never refused',
    run: async (call) => {
      const i = await info(call);
      const texts = ['', 'Grüße aus Köln: der Knoten läuft wieder.', 'Узел потерял связь с соседом', '网状网络节点重新连接', 'ok 👍 ✓',
        Uint8Array.of(0x61, 0xff, 0xfe, 0x62, 0xc3, 0x20, 0x80, 0x63), ' \t\n'];
      const rows = await embed(call, i.dim, texts);
      checkNorms(i, rows, 'unusual texts');
      if (sameBytes(rows[1]!, rows[2]!) || sameBytes(rows[2]!, rows[3]!)) throw new Error('different non-ASCII texts gave the same vector');
      for (const k of [1, 2, 3]) if (norm(rows[k]!) === 0) throw new Error(`the non-ASCII text ${k} gave the zero vector`);
    },
  },
  {
    name: 'a weight vector of length dim is accepted, any other length refused',
    run: async (call) => {
      const i = await info(call);
      const rows = await embed(call, i.dim, TEXTS.slice(0, 2), new Float32Array(i.dim).fill(1));
      checkNorms(i, rows, 'weights of ones');
      await expectFailure(call('embed', batch(TEXTS.slice(0, 1), new Float32Array(i.dim + 1).fill(1))), REFUSED, `${i.dim + 1} weights`);
      await expectFailure(call('embed', batch(TEXTS.slice(0, 1), new Float32Array(1).fill(1))), REFUSED, 'one weight');
    },
  },
  {
    name: 'malformed frames are refused',
    run: async (call) => {
      const good = batch(TEXTS.slice(0, 2));
      await expectFailure(call('embed', Uint8Array.of(1, 2, 3)), REFUSED, 'a 3-byte frame');
      await expectFailure(call('embed', good.subarray(0, good.length - 8)), REFUSED, 'a truncated frame');
      const magic = good.slice();
      magic[0] = magic[0]! ^ 0xff;
      await expectFailure(call('embed', magic), REFUSED, 'a bad magic');
      // ends must be non-decreasing and end at bytesLen
      const e = TEXTS[0].length;
      const decreasing = encodeTextBatch({ count: 2, bytesLen: e, weightsLen: 0, ends: Uint32Array.of(e, 3), utf8: utf8.encode(TEXTS[0]), weights: new Float32Array(0) });
      await expectFailure(call('embed', decreasing), REFUSED, 'decreasing ends');
      const short = encodeTextBatch({ count: 1, bytesLen: e, weightsLen: 0, ends: Uint32Array.of(e - 1), utf8: utf8.encode(TEXTS[0]), weights: new Float32Array(0) });
      await expectFailure(call('embed', short), REFUSED, 'a last end before bytesLen');
      const past = encodeTextBatch({ count: 1, bytesLen: e, weightsLen: 0, ends: Uint32Array.of(e + 1), utf8: utf8.encode(TEXTS[0]), weights: new Float32Array(0) });
      await expectFailure(call('embed', past), REFUSED, 'an end past bytesLen');
    },
  },
];
