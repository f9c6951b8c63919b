// The fixed-size chunker: windows of `size` characters advancing by `size - overlap`, with both ends snapped to
// whitespace so words are not cut (unless a single "word" is longer than half a window, e.g. a base64 blob).
import type { TextSpan } from './chunk.js';
import { isSpace, trimSpan } from './spans.js';

export function fixedSpans(text: string, start: number, end: number, size: number, overlap: number): TextSpan[] {
  const out: TextSpan[] = [];
  let pos = start;
  while (pos < end && isSpace(text, pos)) pos++;
  while (pos < end) {
    let e = Math.min(pos + size, end);
    if (e < end) {
      // End at the last whitespace in the back half of the window, if any.
      const floor = pos + Math.floor(size / 2);
      let w = e;
      while (w > floor && !isSpace(text, w)) w--;
      if (w > floor) e = w;
    }
    const t = trimSpan(text, pos, e);
    if (t) out.push(t);
    if (e >= end) break;
    // Next window starts `overlap` back from this end, moved forward to the start of a word.
    let next = Math.max(e - overlap, pos + 1);
    if (next < e && !isSpace(text, next - 1)) {
      let n = next;
      while (n < e && !isSpace(text, n)) n++;
      next = n;
    }
    while (next < end && isSpace(text, next)) next++;
    pos = next;
  }
  return out;
}
