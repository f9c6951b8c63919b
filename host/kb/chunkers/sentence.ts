// Sentence splitting and the sentence chunker. A sentence ends at `.`, `!`, `?` or `…` (plus closing quotes and
// brackets) followed by whitespace, unless the period closes a known abbreviation or an initial, or the next word
// starts in lower case; blank lines and line starts that open a list item, heading, quote, table row or code fence
// also end a sentence, and a code fence is a sentence of its own. Decimals (`3.5`), versions and addresses
// (`10.0.0.1`) never qualify because no whitespace follows their periods. Nothing inside inline code or a code
// fence is cut.
import type { TextSpan } from './chunk.js';
import { fixedSpans } from './fixed.js';
import { type AtomicRanges, cutAt, insideAtomic, packSpans } from './spans.js';

const ABBREVIATIONS = new Set([
  'e.g', 'i.e', 'etc', 'vs', 'cf', 'al', 'approx', 'dr', 'mr', 'mrs', 'ms', 'prof', 'sr', 'jr', 'st', 'no', 'nos',
  'fig', 'figs', 'eq', 'sec', 'ch', 'vol', 'p', 'pp', 'inc', 'ltd', 'co', 'corp', 'dept', 'est', 'min', 'max',
  'avg', 'resp', 'incl', 'excl', 'e.t.c', 'a.m', 'p.m', 'u.s', 'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug',
  'sep', 'sept', 'oct', 'nov', 'dec', 'ref', 'refs', 'ver', 'v',
]);

const TERMINAL = new Set(['.', '!', '?', '…']);
const CLOSERS = new Set(['"', "'", ')', ']', '}', '’', '”', '»']);
/** A line opening one of these starts a new sentence even without terminal punctuation before it. */
const BLOCK_START = /^[ \t]*(?:[-*+][ \t]|\d{1,3}[.)][ \t]|#{1,6}[ \t]|>|\||```|~~~)/;

/** Inline code spans (`like this`) in `[start, end)`: cutting inside them would break identifiers and commands. */
export function inlineCodeRanges(text: string, start: number, end: number): TextSpan[] {
  const out: TextSpan[] = [];
  let i = start;
  while (i < end) {
    const open = text.indexOf('`', i);
    if (open < 0 || open >= end) break;
    let run = 1;
    while (text[open + run] === '`') run++;
    const fence = '`'.repeat(run);
    const close = text.indexOf(fence, open + run);
    if (close < 0 || close >= end) { i = open + run; continue; }
    out.push({ start: open, end: close + run });
    i = close + run;
  }
  return out;
}

function mergeRanges(a: AtomicRanges, b: AtomicRanges): TextSpan[] {
  const all = [...a, ...b].sort((x, y) => x.start - y.start);
  const out: TextSpan[] = [];
  for (const r of all) {
    const last = out[out.length - 1];
    if (last && r.start < last.end) out[out.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    else out.push(r);
  }
  return out;
}

function endsWithAbbreviation(text: string, start: number, dot: number): boolean {
  let w = dot;
  while (w > start && /[\p{L}\p{N}.]/u.test(text[w - 1]!)) w--;
  const word = text.slice(w, dot).toLowerCase();
  if (word.length === 0) return false;
  if (/^\p{L}$/u.test(word)) return true; // an initial: "J. Smith"
  return ABBREVIATIONS.has(word);
}

/** Positions in `[start, end)` where a new sentence begins. */
export function sentenceCuts(text: string, start: number, end: number, atomic: AtomicRanges = []): number[] {
  // Inline code is looked for only between fences: otherwise the closing marker of a fence too long to be atomic
  // pairs with the opening marker of the next fence, and the "inline code" between them hides that fence's start.
  const inline: TextSpan[] = [];
  let gap = start;
  for (const r of atomic) {
    if (r.start > gap) inline.push(...inlineCodeRanges(text, gap, Math.min(r.start, end)));
    gap = Math.max(gap, r.end);
  }
  if (gap < end) inline.push(...inlineCodeRanges(text, gap, end));
  const protectedRanges = mergeRanges(atomic, inline);
  const cuts: number[] = [];
  for (let i = start; i < end; i++) {
    const c = text[i]!;
    if (c === '\n') {
      // Blank line, or a new line that opens a block element.
      let j = i + 1;
      while (j < end && (text[j] === ' ' || text[j] === '\t')) j++;
      const blank = text[j] === '\n';
      const lineEnd = text.indexOf('\n', j);
      const line = text.slice(j, lineEnd < 0 || lineEnd > end ? end : lineEnd);
      if ((blank || BLOCK_START.test(line)) && !insideAtomic(protectedRanges, i + 1)) cuts.push(i + 1);
      continue;
    }
    if (!TERMINAL.has(c)) continue;
    let j = i + 1;
    while (j < end && (TERMINAL.has(text[j]!) || CLOSERS.has(text[j]!))) j++;
    if (j >= end || !/\s/.test(text[j]!)) continue;
    if (c === '.' && j === i + 1 && endsWithAbbreviation(text, start, i)) continue;
    let k = j;
    while (k < end && /\s/.test(text[k]!)) k++;
    if (k >= end) continue;
    if (/\p{Ll}/u.test(text[k]!)) continue; // "e.g. the", "3 p.m. today": a lower-case start is not a new sentence
    if (insideAtomic(protectedRanges, j)) continue;
    cuts.push(j);
    i = j - 1;
  }
  // A code fence is a sentence of its own: text on the line after its closing marker would otherwise join it into
  // one unit that may not fit, and a unit that does not fit is cut by characters, fence and all.
  for (const r of atomic) {
    if (r.start > start && r.start < end) cuts.push(r.start);
    if (r.end > start && r.end < end) cuts.push(r.end);
  }
  return [...new Set(cuts)].sort((a, b) => a - b);
}

/** The sentences of `[start, end)`, trimmed. */
export function splitSentences(text: string, start: number, end: number, atomic: AtomicRanges = []): TextSpan[] {
  return cutAt(text, start, end, sentenceCuts(text, start, end, atomic));
}

/** Sentences packed up to `size` characters with whole-sentence overlap; a sentence longer than `size` is cut by
 *  the fixed chunker. */
export function sentenceSpans(text: string, start: number, end: number, size: number, overlap: number,
  atomic: AtomicRanges = []): TextSpan[] {
  const units: TextSpan[] = [];
  for (const s of splitSentences(text, start, end, atomic)) {
    if (s.end - s.start <= size) units.push(s);
    else units.push(...fixedSpans(text, s.start, s.end, size, overlap));
  }
  return packSpans(units, size, overlap);
}
