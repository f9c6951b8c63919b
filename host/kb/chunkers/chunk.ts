// What a chunker produces and how it is configured. A chunk is always an exact slice of its source text:
// `sourceText.slice(chunk.start, chunk.end) === chunk.text` (offsets in UTF-16 code units, as JavaScript strings
// index them). Leading and trailing whitespace is never part of a chunk.
import { KbConfigError } from '../../errors/index.js';

export type ChunkerName = 'fixed' | 'sentence' | 'paragraph' | 'recursive';
export const CHUNKER_NAMES: readonly ChunkerName[] = ['fixed', 'sentence', 'paragraph', 'recursive'];

/** How a text was cut: sizes and overlaps are in characters (UTF-16 code units). */
export interface ChunkerSpec {
  readonly name: ChunkerName;
  readonly size: number;
  readonly overlap: number;
}

export const DEFAULT_CHUNKER: ChunkerSpec = Object.freeze({ name: 'recursive', size: 512, overlap: 64 });
export const MIN_CHUNK_SIZE = 32;
export const MAX_CHUNK_SIZE = 1 << 20;

/** A half-open character range `[start, end)` of a source text. */
export interface TextSpan {
  readonly start: number;
  readonly end: number;
}

export interface Chunk extends TextSpan {
  readonly text: string;
  /** Relative path of the document, or `incident:<id>`. */
  readonly source: string;
  /** Markdown headings enclosing the chunk, outermost first; `[]` outside any heading. */
  readonly headingPath: readonly string[];
  readonly chunker: ChunkerSpec;
}

/** Normalises a partial spec once at the boundary (defaults filled in) and rejects impossible ones. */
export function chunkerSpec(input: Partial<ChunkerSpec> = {}): ChunkerSpec {
  const name = input.name ?? DEFAULT_CHUNKER.name;
  const size = input.size ?? DEFAULT_CHUNKER.size;
  const overlap = input.overlap ?? Math.min(DEFAULT_CHUNKER.overlap, Math.floor(size / 4));
  if (!CHUNKER_NAMES.includes(name)) {
    throw new KbConfigError(`unknown chunker "${String(name)}" (one of ${CHUNKER_NAMES.join(', ')})`, { path: 'chunker' });
  }
  if (!Number.isInteger(size) || size < MIN_CHUNK_SIZE || size > MAX_CHUNK_SIZE) {
    throw new KbConfigError(`chunk size must be an integer in [${MIN_CHUNK_SIZE}, ${MAX_CHUNK_SIZE}], got ${size}`, { path: 'size' });
  }
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size) {
    throw new KbConfigError(`chunk overlap must be an integer in [0, size) = [0, ${size}), got ${overlap}`, { path: 'overlap' });
  }
  // An overlap above half the size makes consecutive chunks mostly repeats and can stall packing.
  if (overlap > size / 2) {
    throw new KbConfigError(`chunk overlap ${overlap} exceeds half the size ${size}`, { path: 'overlap' });
  }
  return Object.freeze({ name, size, overlap });
}
