// Markdown section parser: cuts a document at ATX headings (`#` … `######`, outside code fences) and gives each
// section its heading path, outermost first. A section spans from its heading line to the next heading line, so
// the heading text is part of the section. Setext headings (underlined with === / ---) are not recognised.
import type { TextSpan } from './chunk.js';

export interface MarkdownSection extends TextSpan {
  readonly headingPath: readonly string[];
  /** Code fences inside the section (from the opening fence line to the end of the closing one). */
  readonly fences: readonly TextSpan[];
}

const HEADING = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const CLOSING_FENCE = /^ {0,3}(`{3,}|~{3,})[ \t]*$/;

/** Inline markup removed from a heading's text (emphasis, code ticks, links) so paths read as plain words. */
export function plainHeading(raw: string): string {
  return raw
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*_`]+/g, '')
    .trim();
}

export function markdownSections(text: string): MarkdownSection[] {
  const sections: MarkdownSection[] = [];
  const stack: { level: number; title: string }[] = [];
  let sectionStart = 0;
  let path: string[] = [];
  let fences: TextSpan[] = [];
  let openFence: { marker: string; start: number } | undefined;
  let lineStart = 0;
  const close = (end: number): void => {
    if (end > sectionStart) sections.push({ start: sectionStart, end, headingPath: path, fences });
  };
  while (lineStart <= text.length) {
    const nl = text.indexOf('\n', lineStart);
    const lineEnd = nl < 0 ? text.length : nl;
    const line = text.slice(lineStart, lineEnd);
    const fence = FENCE.exec(line);
    if (openFence) {
      const closing = CLOSING_FENCE.exec(line)?.[1];
      if (closing && closing[0] === openFence.marker[0] && closing.length >= openFence.marker.length) {
        fences.push({ start: openFence.start, end: lineEnd });
        openFence = undefined;
      }
    } else if (fence) {
      openFence = { marker: fence[1]!, start: lineStart };
    } else {
      const h = HEADING.exec(line);
      if (h) {
        close(lineStart);
        const level = h[1]!.length;
        while (stack.length > 0 && stack[stack.length - 1]!.level >= level) stack.pop();
        stack.push({ level, title: plainHeading(h[2] ?? '') });
        path = stack.map((s) => s.title);
        sectionStart = lineStart;
        fences = [];
      }
    }
    if (nl < 0) break;
    lineStart = nl + 1;
  }
  // An unclosed fence runs to the end of the document (CommonMark).
  if (openFence) fences.push({ start: openFence.start, end: text.length });
  close(text.length);
  return sections;
}
