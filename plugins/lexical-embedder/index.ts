// lexical-embedder: the knowledge base's embedder when no neural model is present (issue 5). It says what it is
// (a bag of hashed words, not a sentence encoder) and is deterministic: the same texts and weights give the same
// bytes, on every host.
//
// Tokens are read straight from the UTF-8 bytes, never decoded: a word is a maximal run of ASCII letters and
// digits, `_`, `-`, `.` and bytes >= 0x80 (so UTF-8 words survive whole, and invalid UTF-8 is just more word
// bytes, never an error), with leading and trailing `_-.` trimmed and ASCII lowercased. A word that still holds
// `_`, `-` or `.` (an identifier such as `x0t_plugin_trap`, `wlan0.100`, `ml-kem-768`) is a feature and so is each
// of its parts (the first MAX_PARTS), so "plugin trap" meets `X0T_PLUGIN_TRAP`. Adjacent words (not parts) also
// form bigram features. At most MAX_TOKENS words are read per text; the rest is ignored (maxInputUnits).
//
// Each feature is hashed once (FNV-1a over the lowercased bytes, then the murmur3 finaliser so every bit of the
// hash depends on every byte); its bucket is the hash's high bits mapped onto [0, dim) (multiply-shift), its sign
// the low bit: the signed hashing trick, whose collisions cancel in expectation instead of piling up. A feature
// seen tf times in a text adds sign · (1 + ln tf) to its bucket (sublinear tf); an optional per-bucket weight
// vector (the host's IDF) then scales each bucket, and the vector is L2-normalised (f32x4). A text with no words
// gives the zero vector.
//
// Config (manifest `config`, permission "config"): `dim`, the output dimension, an integer in [16, 65536]
// (default 1024).

import {
  Bytes, Config, EmbedderInfo, EmbeddingBatch, OutputWriter, STATUS_BAD_INPUT, STATUS_INTERNAL, STATUS_OK, TextBatch,
  dotF32, registerEmbedder, scaleF32,
} from "../../sdk/as";
import { parseCount } from "../../sdk/as/robust/coordinate";
export * from "../../sdk/as/generated/exports-embedder";

const DEFAULT_DIM: i32 = 1024;
const MIN_DIM: i32 = 16;
const MAX_DIM: i32 = 65536;
/** Words read per text (the `maxInputUnits` of embedder_info). */
const MAX_TOKENS: u32 = 4096;
/** Parts counted per joined word (`_`, `-`, `.` separated); real identifiers have a handful. */
const MAX_PARTS: u32 = 32;

// ---- Config ----

/** The configured dimension: > 0, or -1 when the config value is invalid (then `dimRaw` holds it). */
let dim: i32 = 0;
let dimRaw: string = "";

function configuredDim(): i32 {
  if (dim == 0) {
    const s = Config.get("dim");
    if (s === null) dim = DEFAULT_DIM;
    else {
      dimRaw = s;
      dim = parseCount(s, MIN_DIM, MAX_DIM);
    }
  }
  return dim;
}

function badDim(out: OutputWriter, fn: string): i32 {
  return out.fail(STATUS_BAD_INPUT, fn + ": config dim must be an integer in [" + MIN_DIM.toString() + ", "
    + MAX_DIM.toString() + "], got '" + dimRaw + "'");
}

// ---- Hashing ----

const FNV_OFFSET: u32 = 0x811c9dc5;
const FNV_PRIME: u32 = 0x01000193;

// @ts-ignore: decorator
@inline function lower(c: u32): u32 { return c - 65 < 26 ? c | 32 : c; }

/** murmur3's 32-bit finaliser: full avalanche, so buckets and signs come from well-mixed bits. */
// @ts-ignore: decorator
@inline function fmix32(h: u32): u32 {
  h ^= h >> 16;
  h *= 0x85ebca6b;
  h ^= h >> 13;
  h *= 0xc2b2ae35;
  h ^= h >> 16;
  return h;
}

/** Hash of the lowercased bytes [p, end). */
function hashWord(p: usize, end: usize): u32 {
  let h = FNV_OFFSET;
  for (; p < end; p++) h = (h ^ lower(<u32>load<u8>(p))) * FNV_PRIME;
  return fmix32(h);
}

/** Hash of the ordered word pair (a, b): distinct from both words' hashes and from (b, a). */
// @ts-ignore: decorator
@inline function hashPair(a: u32, b: u32): u32 {
  return fmix32((a * 0x9e3779b1) ^ rotl<u32>(b, 15) ^ 0x27d4eb2f);
}

// ---- Per-text feature counts: open addressing over the 32-bit feature hashes ----
// `slots` maps a table position to 1 + the feature's index in insertion order (0 = empty); the dense arrays
// keep features in first-seen order, so the floating-point sums below run in an order fixed by the text.

let slots = new StaticArray<u32>(1 << 13);
let keys = new StaticArray<u32>(1 << 12);
let counts = new StaticArray<u32>(1 << 12);
let features: i32 = 0;

function resetCounts(): void {
  if (features > 0) memory.fill(changetype<usize>(slots), 0, <usize>slots.length << 2);
  features = 0;
}

function grow(): void {
  const n = keys.length << 1;
  const k = new StaticArray<u32>(n);
  const c = new StaticArray<u32>(n);
  memory.copy(changetype<usize>(k), changetype<usize>(keys), <usize>features << 2);
  memory.copy(changetype<usize>(c), changetype<usize>(counts), <usize>features << 2);
  keys = k;
  counts = c;
  slots = new StaticArray<u32>(n << 1);
  const mask = <u32>(n << 1) - 1;
  for (let i = 0; i < features; i++) {
    let at = unchecked(k[i]) & mask;
    while (unchecked(slots[at]) != 0) at = (at + 1) & mask;
    unchecked(slots[at] = <u32>i + 1);
  }
}

function count(h: u32): void {
  if (features == keys.length) grow();
  const mask = <u32>slots.length - 1;
  let at = h & mask;
  while (true) {
    const s = unchecked(slots[at]);
    if (s == 0) break;
    if (unchecked(keys[s - 1]) == h) {
      unchecked(counts[s - 1] += 1);
      return;
    }
    at = (at + 1) & mask;
  }
  unchecked(keys[features] = h);
  unchecked(counts[features] = 1);
  features++;
  unchecked(slots[at] = <u32>features);
}

// ---- Tokenising ----

// @ts-ignore: decorator
@inline function isWordByte(c: u32): bool {
  return c >= 0x80 || (c | 32) - 97 < 26 || c - 48 < 10 || c == 95 || c == 45 || c == 46;
}

// @ts-ignore: decorator
@inline function isJoiner(c: u32): bool { return c == 95 || c == 45 || c == 46; }

/** Counts the features of the text [p, end): words, the parts of joined words, and adjacent word pairs. */
function countFeatures(p: usize, end: usize): void {
  resetCounts();
  let tokens: u32 = 0;
  let prev: u32 = 0;
  let hasPrev = false;
  while (p < end && tokens < MAX_TOKENS) {
    while (p < end && !isWordByte(<u32>load<u8>(p))) p++;
    let s = p;
    while (p < end && isWordByte(<u32>load<u8>(p))) p++;
    let e = p;
    while (s < e && isJoiner(<u32>load<u8>(s))) s++;
    while (e > s && isJoiner(<u32>load<u8>(e - 1))) e--;
    if (s == e) continue;
    tokens++;
    const h = hashWord(s, e);
    count(h);
    if (hasPrev) count(hashPair(prev, h));
    prev = h;
    hasPrev = true;
    // The parts of a joined word (there is a joiner inside when any byte of it is one).
    // At most MAX_PARTS per word, so a pathological word (`a.b.c.d...` over megabytes) cannot fill memory.
    let q = s;
    let joined = false;
    let parts: u32 = 0;
    for (let r = s; r < e && parts < MAX_PARTS; r++) {
      if (isJoiner(<u32>load<u8>(r))) {
        if (r > q) { count(hashWord(q, r)); parts++; }
        q = r + 1;
        joined = true;
      }
    }
    if (joined && e > q && parts < MAX_PARTS) count(hashWord(q, e));
  }
}

/** Adds the counted features to the zeroed row `v` of `d` floats: sign · (1 + ln tf) at each feature's bucket. */
function scatter(v: usize, d: u32): void {
  for (let i = 0; i < features; i++) {
    const h = unchecked(keys[i]);
    const tf = unchecked(counts[i]);
    const bucket = <u32>((<u64>h * <u64>d) >> 32);
    const w = <f32>(1.0 + Math.log(<f64>tf));
    const at = v + (<usize>bucket << 2);
    store<f32>(at, load<f32>(at) + ((h & 1) != 0 ? -w : w));
  }
}

/** v[i] *= w[i] for `n` f32 (f32x4). */
function weigh(v: usize, w: usize, n: u32): void {
  const end = <usize>n << 2;
  const end4 = (<usize>n & ~(<usize>3)) << 2;
  let i: usize = 0;
  for (; i < end4; i += 16) v128.store(v + i, f32x4.mul(v128.load(v + i), v128.load(w + i)));
  for (; i < end; i += 4) store<f32>(v + i, load<f32>(v + i) * load<f32>(w + i));
}

// ---- The capability ----

function embedderInfo(_input: Bytes, out: OutputWriter): i32 {
  const d = configuredDim();
  if (d < 0) return badDim(out, "embedder_info");
  if (EmbedderInfo.write(out, <u32>d, MAX_TOKENS, 1) === null) return out.fail(STATUS_INTERNAL, "embedder_info: output does not fit in memory");
  return STATUS_OK;
}

function embed(req: TextBatch, out: OutputWriter): i32 {
  const d = configuredDim();
  if (d < 0) return badDim(out, "embed");
  const n = req.count;
  const weighted = req.weightsLen != 0;
  if (weighted) {
    if (req.weightsLen != <u32>d) {
      return out.fail(STATUS_BAD_INPUT, "embed: " + req.weightsLen.toString() + " weights for dimension " + d.toString());
    }
    for (let i: u32 = 0; i < req.weightsLen; i++) {
      const w = load<f32>(req.weights + (<usize>i << 2));
      if (!(w >= 0) || !isFinite(w)) return out.fail(STATUS_BAD_INPUT, "embed: weight " + i.toString() + " is not finite and >= 0");
    }
  }
  let last: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const e = load<u32>(req.ends + (<usize>i << 2));
    if (e < last) return out.fail(STATUS_BAD_INPUT, "embed: ends decrease at text " + i.toString());
    last = e;
  }
  if (last != req.bytesLen) {
    return out.fail(STATUS_BAD_INPUT, "embed: the last end is " + last.toString() + ", not bytesLen " + req.bytesLen.toString());
  }
  const res = EmbeddingBatch.write(out, n, <u32>d);
  if (res === null) return out.fail(STATUS_INTERNAL, "embed: output does not fit in memory");
  const rowBytes = <usize>d << 2;
  let start: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const e = load<u32>(req.ends + (<usize>i << 2));
    const v = res.vectors + <usize>i * rowBytes;
    memory.fill(v, 0, rowBytes);
    countFeatures(req.utf8 + <usize>start, req.utf8 + <usize>e);
    start = e;
    if (features == 0) continue;
    scatter(v, <u32>d);
    if (weighted) weigh(v, req.weights, <u32>d);
    const norm = Math.sqrt(<f64>dotF32(v, v, <u32>d));
    if (norm > 0) scaleF32(v, <f32>(1.0 / norm), <u32>d);
  }
  return STATUS_OK;
}

registerEmbedder(embedderInfo, embed);
