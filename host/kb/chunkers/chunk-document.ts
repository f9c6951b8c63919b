// Chunks one document: markdown is first cut into heading sections (each chunk gets its section's heading path),
// plain text is one section; each section is then cut by the chosen chunker. Code fences that fit in a chunk are
// never cut by the sentence, paragraph or recursive chunkers (the fixed chunker cuts by size only).
import { type Chunk, type ChunkerSpec, type TextSpan, chunkerSpec } from './chunk.js';
import { fixedSpans } from './fixed.js';
import { markdownSections } from './markdown-sections.js';
import { paragraphSpans } from './paragraph.js';
import { recursiveSpans } from './recursive.js';
import { sentenceSpans } from './sentence.js';
import type { AtomicRanges } from './spans.js';

export type DocumentFormat = 'markdown' | 'text';

/** The spans of `[start, end)` under one chunker. */
export function chunkSpans(text: string, start: number, end: number, spec: ChunkerSpec, atomic: AtomicRanges = []): TextSpan[] {
  switch (spec.name) {
    case 'fixed': return fixedSpans(text, start, end, spec.size, spec.overlap);
    case 'sentence': return sentenceSpans(text, start, end, spec.size, spec.overlap, atomic);
    case 'paragraph': return paragraphSpans(text, start, end, spec.size, spec.overlap, atomic);
    case 'recursive': return recursiveSpans(text, start, end, spec.size, spec.overlap, atomic);
  }
}

export function chunkDocument(source: string, text: string, format: DocumentFormat,
  spec: Partial<ChunkerSpec> = {}): Chunk[] {
  const s = chunkerSpec(spec);
  const sections = format === 'markdown'
    ? markdownSections(text)
    : [{ start: 0, end: text.length, headingPath: [] as string[], fences: [] as TextSpan[] }];
  const chunks: Chunk[] = [];
  for (const sec of sections) {
    const atomic = sec.fences.filter((f) => f.end - f.start <= s.size);
    for (const sp of chunkSpans(text, sec.start, sec.end, s, atomic)) {
      chunks.push({ text: text.slice(sp.start, sp.end), source, headingPath: sec.headingPath, start: sp.start, end: sp.end, chunker: s });
    }
  }
  return chunks;
}
