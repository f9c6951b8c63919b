// The paragraph chunker: blocks separated by blank lines (a code fence that fits counts as one block even with
// blank lines inside), packed up to `size` with whole-paragraph overlap; a paragraph longer than `size` is split
// into sentence chunks.
import type { TextSpan } from './chunk.js';
import { sentenceSpans } from './sentence.js';
import { type AtomicRanges, cutAt, insideAtomic, packSpans } from './spans.js';

const BLANK_LINE = /\n[ \t]*\n/g;

export function paragraphCuts(text: string, start: number, end: number, atomic: AtomicRanges = []): number[] {
  const cuts: number[] = [];
  BLANK_LINE.lastIndex = start;
  for (let m = BLANK_LINE.exec(text); m && m.index < end; m = BLANK_LINE.exec(text)) {
    const at = m.index + 1;
    if (!insideAtomic(atomic, at)) cuts.push(at);
    BLANK_LINE.lastIndex = m.index + 1; // runs of blank lines: every one is a candidate
  }
  return cuts;
}

export function paragraphSpans(text: string, start: number, end: number, size: number, overlap: number,
  atomic: AtomicRanges = []): TextSpan[] {
  const units: TextSpan[] = [];
  for (const p of cutAt(text, start, end, paragraphCuts(text, start, end, atomic))) {
    if (p.end - p.start <= size) units.push(p);
    else units.push(...sentenceSpans(text, p.start, p.end, size, overlap, atomic));
  }
  return packSpans(units, size, overlap);
}
