// The recursive chunker, after the familiar recursive character splitter: try the coarsest separator that
// occurs (heading → paragraph → line → sentence → word → character); pieces that fit are packed up to `size`
// with overlap, pieces that do not are split again with the next separator. Cuts never fall inside an atomic
// range (a code fence that fits), so such a fence ends up whole in one chunk.
import type { TextSpan } from './chunk.js';
import { fixedSpans } from './fixed.js';
import { paragraphCuts } from './paragraph.js';
import { sentenceCuts } from './sentence.js';
import { type AtomicRanges, cutAt, insideAtomic, packSpans } from './spans.js';

type CutFinder = (text: string, start: number, end: number, atomic: AtomicRanges) => number[];

function regexCuts(re: RegExp, offset: number): CutFinder {
  return (text, start, end, atomic) => {
    const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
    g.lastIndex = start;
    const cuts: number[] = [];
    for (let m = g.exec(text); m && m.index < end; m = g.exec(text)) {
      const at = m.index + offset;
      if (at > start && at < end && !insideAtomic(atomic, at)) cuts.push(at);
      if (m[0].length === 0) g.lastIndex++;
    }
    return cuts;
  };
}

/** Separator levels, coarsest first. Character level is the fixed chunker. */
export const RECURSIVE_LEVELS: readonly { readonly name: string; readonly cuts: CutFinder }[] = [
  { name: 'heading', cuts: regexCuts(/\n(?=#{1,6}[ \t])/, 1) },
  { name: 'paragraph', cuts: paragraphCuts },
  { name: 'line', cuts: regexCuts(/\n/, 1) },
  { name: 'sentence', cuts: sentenceCuts },
  { name: 'word', cuts: regexCuts(/\s+/, 0) },
];

export function recursiveSpans(text: string, start: number, end: number, size: number, overlap: number,
  atomic: AtomicRanges = [], level = 0): TextSpan[] {
  for (let l = level; l < RECURSIVE_LEVELS.length; l++) {
    const pieces = cutAt(text, start, end, RECURSIVE_LEVELS[l]!.cuts(text, start, end, atomic));
    if (pieces.length === 0) return [];
    const only = pieces[0]!;
    if (pieces.length === 1 && only.end - only.start <= size) return [only];
    if (pieces.length === 1) continue; // this separator does not occur: try the next one
    const out: TextSpan[] = [];
    let fitting: TextSpan[] = [];
    for (const p of pieces) {
      if (p.end - p.start <= size) { fitting.push(p); continue; }
      out.push(...packSpans(fitting, size, overlap));
      fitting = [];
      out.push(...recursiveSpans(text, p.start, p.end, size, overlap, atomic, l + 1));
    }
    out.push(...packSpans(fitting, size, overlap));
    return out;
  }
  // No separator left (or an atomic range longer than size — those are not passed as atomic): cut by characters.
  return fixedSpans(text, start, end, size, overlap);
}
