// __NAME__: an embedder plugin (capability `embedder`), scaffolded by `x0t plugin new`.
// It starts as the plainest correct embedder: a bag of words hashed into DIM buckets (a word is a run of ASCII
// letters and digits or of bytes >= 0x80, so UTF-8 words stay whole; ASCII is lowercased; FNV-1a picks the bucket),
// raw counts, times the optional per-bucket weights, L2-normalised. Make it yours — signed hashing, bigrams,
// sublinear tf, SIMD (see plugins/lexical-embedder), a dimension from config — then `x0t plugin build __NAME__` and
// `x0t plugin test manifests/plugins/__NAME__.json` (the embedder conformance kit).
//
// The request is a view of the input bytes: `req.ends` (u32 × count), `req.utf8` (the texts end to end) and
// `req.weights` (f32 × weightsLen, 0 or DIM) are addresses in this module's memory (no copies); read them with
// load<u32>() / load<u8>() / load<f32>() and write the EmbeddingBatch frame.

import {
  Bytes, EmbedderInfo, EmbeddingBatch, OutputWriter, STATUS_BAD_INPUT, STATUS_INTERNAL, STATUS_OK, TextBatch,
  registerEmbedder,
} from "__SDK__";
export * from "__SDK__/generated/exports-embedder";

const DIM: u32 = 256;
/** Words read per text; the rest is ignored (embedder_info's maxInputUnits). */
const MAX_WORDS: u32 = 2048;

@inline function isWordByte(c: u32): bool { return c >= 0x80 || (c | 32) - 97 < 26 || c - 48 < 10; }
@inline function lower(c: u32): u32 { return c - 65 < 26 ? c | 32 : c; }

function embedderInfo(_input: Bytes, out: OutputWriter): i32 {
  if (EmbedderInfo.write(out, DIM, MAX_WORDS, 1) === null) return out.fail(STATUS_INTERNAL, "output does not fit in memory");
  return STATUS_OK;
}

/** Adds 1 to the bucket of every word of the text [p, end) in the zeroed row `v`. */
function countWords(v: usize, p: usize, end: usize): void {
  let words: u32 = 0;
  while (p < end && words < MAX_WORDS) {
    while (p < end && !isWordByte(<u32>load<u8>(p))) p++;
    if (p == end) break;
    let h: u32 = 0x811c9dc5;
    while (p < end && isWordByte(<u32>load<u8>(p))) {
      h = (h ^ lower(<u32>load<u8>(p))) * 0x01000193;
      p++;
    }
    const at = v + (<usize>(h % DIM) << 2);
    store<f32>(at, load<f32>(at) + 1);
    words++;
  }
}

function embed(req: TextBatch, out: OutputWriter): i32 {
  const n = req.count;
  const weighted = req.weightsLen != 0;
  if (weighted && req.weightsLen != DIM) return out.fail(STATUS_BAD_INPUT, "embed: weights must be empty or " + DIM.toString() + " long");
  for (let i: u32 = 0; i < req.weightsLen; i++) {
    const w = load<f32>(req.weights + (<usize>i << 2));
    if (!(w >= 0) || !isFinite(w)) return out.fail(STATUS_BAD_INPUT, "embed: weights must be finite and >= 0");
  }
  let last: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const e = load<u32>(req.ends + (<usize>i << 2));
    if (e < last) return out.fail(STATUS_BAD_INPUT, "embed: ends must not decrease");
    last = e;
  }
  if (last != req.bytesLen) return out.fail(STATUS_BAD_INPUT, "embed: the last end must be bytesLen");

  const res = EmbeddingBatch.write(out, n, DIM);
  if (res === null) return out.fail(STATUS_INTERNAL, "embed: output does not fit in memory");
  let start: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const end = load<u32>(req.ends + (<usize>i << 2));
    const v = res.vectors + <usize>i * (<usize>DIM << 2);
    memory.fill(v, 0, <usize>DIM << 2);
    countWords(v, req.utf8 + <usize>start, req.utf8 + <usize>end);
    start = end;
    let sq: f64 = 0;
    for (let j: u32 = 0; j < DIM; j++) {
      const at = v + (<usize>j << 2);
      let x = load<f32>(at);
      if (weighted) x *= load<f32>(req.weights + (<usize>j << 2));
      store<f32>(at, x);
      sq += <f64>x * <f64>x;
    }
    if (sq == 0) continue; // no words: the zero vector
    const scale = <f32>(1 / Math.sqrt(sq));
    for (let j: u32 = 0; j < DIM; j++) store<f32>(v + (<usize>j << 2), load<f32>(v + (<usize>j << 2)) * scale);
  }
  return STATUS_OK;
}

registerEmbedder(embedderInfo, embed);
