// BERT uncased WordPiece tokenizer, matching the Hugging Face `BertNormalizer` + `BertPreTokenizer` + `WordPiece`
// pipeline the MiniLM checkpoint was trained with:
//   clean text (drop NUL, U+FFFD and control characters; every white space becomes a space) → pad CJK ideographs
//   with spaces → NFD and drop non-spacing marks (accents) → lowercase → split on white space and punctuation
//   (Unicode P* plus ASCII symbols, each punctuation character its own word) → greedy longest-match word pieces
//   with the `##` continuation prefix; a word longer than 100 characters, or one with no match, is [UNK].
// Sequences are [CLS] a [SEP] or [CLS] a [SEP] b [SEP], truncated to `maxLength` tokens including the specials.

import { ModelUnavailableError } from '../errors/index.js';

export interface WordPieceOptions {
  /** Total tokens including [CLS]/[SEP]; 256 for all-MiniLM-L6-v2. */
  readonly maxLength?: number;
  /** Lowercase and strip accents (uncased models). Default true. */
  readonly lowercase?: boolean;
  readonly maxInputCharsPerWord?: number;
}

export interface PairEncoding {
  readonly ids: Int32Array;
  /** 0 for [CLS] a [SEP], 1 for b [SEP]. */
  readonly typeIds: Int32Array;
}

// Control characters (Unicode C*) except tab, newline and carriage return, plus NUL and U+FFFD, are dropped.
const DROP = /[\0\uFFFD]|(?![\t\n\r])\p{C}/gu;
const WHITE = /\p{White_Space}/gu;
// The CJK Unified Ideograph blocks BERT treats as one-character words (not Hangul, Hiragana or Katakana).
const CJK = /([\u4E00-\u9FFF\u3400-\u4DBF\uF900-\uFAFF\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\u{2F800}-\u{2FA1F}])/gu;
const MARKS = /\p{Mn}/gu;
// Punctuation is Unicode P* or any ASCII non-alphanumeric printable character (BERT's definition).
const WORDS = /[^\p{White_Space}\p{P}!-/:-@[-`{-~]+|[\p{P}!-/:-@[-`{-~]/gu;
// Split with a capture group: odd elements are the special tokens found in the text.
const SPECIAL_IN_TEXT = /(\[(?:PAD|UNK|CLS|SEP|MASK)\])/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const SURROGATE = /[\uD800-\uDFFF]/;

/** Word → word-piece ids memo; bounded so a long ingestion cannot grow it without limit. */
const MEMO_LIMIT = 200_000;

export class WordPieceTokenizer {
  readonly maxLength: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly unkId: number;
  readonly vocabSize: number;
  private readonly vocab: ReadonlyMap<string, number>;
  private readonly lowercase: boolean;
  private readonly maxInputCharsPerWord: number;
  private readonly memo = new Map<string, readonly number[]>();
  private inverse: Map<number, string> | null = null;

  constructor(tokens: readonly string[], options: WordPieceOptions = {}) {
    const vocab = new Map<string, number>();
    tokens.forEach((t, i) => {
      if (!vocab.has(t)) vocab.set(t, i);
    });
    const special = (t: string): number => {
      const id = vocab.get(t);
      if (id === undefined) throw new ModelUnavailableError(`vocab.txt has no ${t} token`, { file: 'vocab.txt', token: t });
      return id;
    };
    this.vocab = vocab;
    this.vocabSize = tokens.length;
    this.clsId = special('[CLS]');
    this.sepId = special('[SEP]');
    this.padId = special('[PAD]');
    this.unkId = special('[UNK]');
    this.maxLength = options.maxLength ?? 256;
    if (!Number.isSafeInteger(this.maxLength) || this.maxLength < 3) {
      throw new RangeError(`maxLength ${this.maxLength} leaves no room for [CLS] text [SEP]`);
    }
    this.lowercase = options.lowercase ?? true;
    this.maxInputCharsPerWord = options.maxInputCharsPerWord ?? 100;
  }

  /** vocab.txt: one token per line, the line number is the id. */
  static fromVocabText(text: string, options: WordPieceOptions = {}): WordPieceTokenizer {
    const lines = text.split('\n');
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return new WordPieceTokenizer(lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l)), options);
  }

  /** The normalised text (cleaning, CJK spacing, accents, case) that is split into words. */
  normalize(text: string): string {
    let s = text;
    if (!PRINTABLE_ASCII.test(s)) {
      s = s.replace(DROP, '').replace(WHITE, ' ').replace(CJK, ' $1 ');
      if (this.lowercase) s = s.normalize('NFD').replace(MARKS, '');
    }
    // Per-character lowercase: capital sigma always becomes σ (String.toLowerCase would pick ς at word ends).
    return this.lowercase ? s.replace(/Σ/g, 'σ').toLowerCase() : s;
  }

  /** Words after splitting on white space and punctuation. */
  words(text: string): string[] {
    return this.normalize(text).match(WORDS) ?? [];
  }

  /** Word-piece ids of the text, without added [CLS]/[SEP] or truncation. As in the Hugging Face tokenizer, a
   *  special token written literally in the text (`[SEP]`, `[MASK]`, … exactly, case-sensitive) is that token. */
  wordPieceIds(text: string): number[] {
    const out: number[] = [];
    const parts = text.includes('[') ? text.split(SPECIAL_IN_TEXT) : [text];
    parts.forEach((part, i) => {
      if (i % 2 === 1) {
        const id = this.vocab.get(part);
        if (id !== undefined) {
          out.push(id);
          return;
        }
      }
      for (const w of this.words(part)) {
        for (const id of this.wordIds(w)) out.push(id);
      }
    });
    return out;
  }

  /** Word-piece strings (for inspection and tests). */
  tokenize(text: string): string[] {
    if (this.inverse === null) {
      this.inverse = new Map<number, string>();
      for (const [t, i] of this.vocab) this.inverse.set(i, t);
    }
    const inverse = this.inverse;
    return this.wordPieceIds(text).map((i) => inverse.get(i) ?? '[UNK]');
  }

  /** [CLS] text [SEP], truncated to `maxLength` tokens in all. */
  encode(text: string, maxLength = this.maxLength): Int32Array {
    const pieces = this.wordPieceIds(text);
    const n = Math.min(pieces.length, maxLength - 2);
    const ids = new Int32Array(n + 2);
    ids[0] = this.clsId;
    for (let i = 0; i < n; i++) ids[i + 1] = pieces[i]!;
    ids[n + 1] = this.sepId;
    return ids;
  }

  /** [CLS] a [SEP] b [SEP] for a cross-encoder, truncated longest-first as the Hugging Face fast tokenizer does:
   *  the shorter side is kept whole when the longer can absorb the cut; otherwise both get half of the budget,
   *  the odd token going to the longer side (to b on a tie). */
  encodePair(a: string, b: string, maxLength = this.maxLength): PairEncoding {
    if (maxLength < 4) throw new RangeError(`maxLength ${maxLength} leaves no room for a pair`);
    const pa = this.wordPieceIds(a);
    const pb = this.wordPieceIds(b);
    const budget = maxLength - 3;
    let na = pa.length;
    let nb = pb.length;
    if (na + nb > budget) {
      const swap = na > nb;
      let short = swap ? nb : na;
      let long: number;
      long = short > budget ? short : Math.max(short, budget - short);
      if (short + long > budget) {
        short = Math.floor(budget / 2);
        long = short + (budget % 2);
      }
      [na, nb] = swap ? [long, short] : [short, long];
      na = Math.min(na, pa.length);
      nb = Math.min(nb, pb.length);
    }
    const ids = new Int32Array(na + nb + 3);
    const typeIds = new Int32Array(na + nb + 3);
    ids[0] = this.clsId;
    for (let i = 0; i < na; i++) ids[1 + i] = pa[i]!;
    ids[na + 1] = this.sepId;
    for (let i = 0; i < nb; i++) {
      ids[na + 2 + i] = pb[i]!;
      typeIds[na + 2 + i] = 1;
    }
    ids[na + nb + 2] = this.sepId;
    typeIds[na + nb + 2] = 1;
    return { ids, typeIds };
  }

  /** Greedy longest-match-first word pieces of one word; the whole word is [UNK] if any position has no match. */
  private wordIds(word: string): readonly number[] {
    const cached = this.memo.get(word);
    if (cached !== undefined) return cached;
    const chars = SURROGATE.test(word) ? Array.from(word) : null; // code points only when they differ from units
    const len = chars === null ? word.length : chars.length;
    const slice = chars === null ? (s: number, e: number) => word.slice(s, e) : (s: number, e: number) => chars.slice(s, e).join('');
    let ids: number[];
    if (len > this.maxInputCharsPerWord) {
      ids = [this.unkId];
    } else {
      ids = [];
      let start = 0;
      while (start < len) {
        let end = len;
        let found = -1;
        while (start < end) {
          const piece = start > 0 ? '##' + slice(start, end) : slice(start, end);
          const id = this.vocab.get(piece);
          if (id !== undefined) {
            found = id;
            break;
          }
          end--;
        }
        if (found < 0) {
          ids = [this.unkId];
          break;
        }
        ids.push(found);
        start = end;
      }
    }
    if (this.memo.size >= MEMO_LIMIT) this.memo.clear();
    this.memo.set(word, ids);
    return ids;
  }
}
