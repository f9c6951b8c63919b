// Span arithmetic shared by the chunkers: trimming whitespace off a range, "atomic" ranges that must not be cut
// (code fences and inline code that fit in a chunk), and packing small consecutive units into chunks with a
// unit-level overlap.
import type { TextSpan } from './chunk.js';

const WS = /\s/;

export function isSpace(text: string, i: number): boolean {
  const c = text[i];
  return c !== undefined && WS.test(c);
}

/** The span without leading/trailing whitespace; `undefined` when nothing but whitespace is left. */
export function trimSpan(text: string, start: number, end: number): TextSpan | undefined {
  let s = start;
  let e = end;
  while (s < e && isSpace(text, s)) s++;
  while (e > s && isSpace(text, e - 1)) e--;
  return s < e ? { start: s, end: e } : undefined;
}

/** Sorted, non-overlapping ranges no cut may fall strictly inside. */
export type AtomicRanges = readonly TextSpan[];

/** True when a cut at `pos` (between `pos - 1` and `pos`) would split an atomic range. */
export function insideAtomic(atomic: AtomicRanges, pos: number): boolean {
  // Linear scan is fine: a section holds a handful of fences.
  for (const r of atomic) {
    if (r.start >= pos) return false;
    if (pos < r.end) return true;
  }
  return false;
}

/** Cuts `[start, end)` at the given positions (sorted, inside the range) and trims each piece. */
export function cutAt(text: string, start: number, end: number, cuts: readonly number[]): TextSpan[] {
  const out: TextSpan[] = [];
  let from = start;
  for (const c of cuts) {
    if (c <= from || c >= end) continue;
    const t = trimSpan(text, from, c);
    if (t) out.push(t);
    from = c;
  }
  const t = trimSpan(text, from, end);
  if (t) out.push(t);
  return out;
}

/**
 * Packs consecutive units (each at most `size` long, sorted, disjoint) into chunks spanning at most `size`
 * characters. A new chunk starts with the trailing units of the previous one that together span at most
 * `overlap` characters and still leave room for the next unit, so overlap is whole units and never exceeds
 * `overlap` characters.
 */
export function packSpans(units: readonly TextSpan[], size: number, overlap: number): TextSpan[] {
  const chunks: TextSpan[] = [];
  let cur: TextSpan[] = [];
  for (const u of units) {
    const first = cur[0];
    if (first !== undefined && u.end - first.start > size) {
      const last = cur[cur.length - 1]!;
      chunks.push({ start: first.start, end: last.end });
      let keepFrom = cur.length;
      for (let j = cur.length - 1; j >= 1; j--) {
        const s = cur[j]!.start;
        if (last.end - s <= overlap && u.end - s <= size) keepFrom = j;
        else break;
      }
      cur = cur.slice(keepFrom);
    }
    cur.push(u);
  }
  const first = cur[0];
  if (first !== undefined) chunks.push({ start: first.start, end: cur[cur.length - 1]!.end });
  return chunks;
}
