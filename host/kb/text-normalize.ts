// The lexical analyzer shared by BM25 (and usable by any lexical scorer): lower-casing, Unicode word splitting that
// keeps technical tokens whole (`wlan0`, `x0t_plugin_trap`, `10.0.0.1`, `eth0.100`, `wi-fi`) and also emits their
// parts (`x0t`, `plugin`, `trap`; `wi`, `fi`, `wifi`), English stopwords, and a Porter-style suffix stripper.

/** Common English function words; they carry no topic. Negations are kept ("not", "no") since "no carrier" matters. */
export const STOPWORDS: ReadonlySet<string> = new Set((
  'a about above after again against all am an and any are as at be because been before being below between both but by ' +
  'can could did do does doing down during each few for from further had has have having he her here hers herself him ' +
  'himself his how i if in into is it its itself just me more most my myself of off on once only or other our ours ' +
  'ourselves out over own same she should so some such than that the their theirs them themselves then there these ' +
  'they this those through to too under until up very was we were what when where which while who whom why will with ' +
  'would you your yours yourself yourselves also may might must shall us via per etc'
).split(' '));

/** A word: letters/digits, possibly joined by `.`, `_`, `-`, `:`, `/` between word characters. */
const TOKEN = /[\p{L}\p{N}]+(?:[._\-:/][\p{L}\p{N}]+)*/gu;
const PART_SPLIT = /[._\-:/]+/;
const ASCII = /^[\x00-\x7f]*$/;
/** A word that yields no parts: lower case, Capitalised or ALL CAPS ASCII letters and digits without joiners. */
const SINGLE_ASCII_WORD = /^(?:[A-Z]?[a-z0-9]*|[A-Z0-9]+)$/;

function isVowel(w: string, i: number): boolean {
  const c = w[i];
  if (c === 'a' || c === 'e' || c === 'i' || c === 'o' || c === 'u') return true;
  return c === 'y' && i > 0 && !isVowel(w, i - 1);
}

/** Porter's m: the number of vowel-consonant sequences in `w`. */
function measure(w: string): number {
  let m = 0;
  let i = 0;
  while (i < w.length && !isVowel(w, i)) i++;
  while (i < w.length) {
    while (i < w.length && isVowel(w, i)) i++;
    if (i >= w.length) break;
    while (i < w.length && !isVowel(w, i)) i++;
    m++;
  }
  return m;
}

const hasVowel = (w: string): boolean => {
  for (let i = 0; i < w.length; i++) if (isVowel(w, i)) return true;
  return false;
};
const doubleConsonant = (w: string): boolean =>
  w.length >= 2 && w[w.length - 1] === w[w.length - 2] && !isVowel(w, w.length - 1);
/** consonant-vowel-consonant ending, last not w/x/y ("hop" but not "snow"). */
const cvc = (w: string): boolean => {
  const n = w.length;
  return n >= 3 && !isVowel(w, n - 3) && isVowel(w, n - 2) && !isVowel(w, n - 1) && !'wxy'.includes(w[n - 1]!);
};

function replaceSuffix(w: string, rules: readonly (readonly [string, string])[], minMeasure: number): string {
  for (const [suf, rep] of rules) {
    if (w.endsWith(suf)) {
      const stem = w.slice(0, -suf.length);
      return measure(stem) > minMeasure ? stem + rep : w;
    }
  }
  return w;
}

const STEP2: readonly (readonly [string, string])[] = [
  ['ational', 'ate'], ['tional', 'tion'], ['enci', 'ence'], ['anci', 'ance'], ['izer', 'ize'], ['abli', 'able'],
  ['alli', 'al'], ['entli', 'ent'], ['eli', 'e'], ['ousli', 'ous'], ['ization', 'ize'], ['ation', 'ate'],
  ['ator', 'ate'], ['alism', 'al'], ['iveness', 'ive'], ['fulness', 'ful'], ['ousness', 'ous'], ['aliti', 'al'],
  ['iviti', 'ive'], ['biliti', 'ble'],
];
const STEP3: readonly (readonly [string, string])[] = [
  ['icate', 'ic'], ['ative', ''], ['alize', 'al'], ['iciti', 'ic'], ['ical', 'ic'], ['ful', ''], ['ness', ''],
];
/** Longest first: Porter removes the longest matching suffix (and nothing when its condition fails). */
const STEP4 = ['al', 'ance', 'ence', 'er', 'ic', 'able', 'ible', 'ant', 'ement', 'ment', 'ent', 'ion', 'ou', 'ism',
  'ate', 'iti', 'ous', 'ive', 'ize'].sort((a, b) => b.length - a.length);

/** Stems of words seen so far (a corpus has a few ten thousand distinct words); cleared when it grows past the cap. */
const STEM_CACHE = new Map<string, string>();
const STEM_CACHE_CAP = 100_000;

/** Porter (1980) suffix stripping, written from the algorithm's description; words under 3 letters are kept. */
export function stem(word: string): string {
  let s = STEM_CACHE.get(word);
  if (s === undefined) {
    if (STEM_CACHE.size >= STEM_CACHE_CAP) STEM_CACHE.clear();
    s = porter(word);
    STEM_CACHE.set(word, s);
  }
  return s;
}

function porter(word: string): string {
  let w = word;
  if (w.length < 3 || !/^[a-z]+$/.test(w)) return w;
  // Step 1a: plurals.
  if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('ies')) w = w.slice(0, -2);
  else if (!w.endsWith('ss') && w.endsWith('s')) w = w.slice(0, -1);
  // Step 1b: -eed, -ed, -ing.
  let cleanup = false;
  if (w.endsWith('eed')) {
    if (measure(w.slice(0, -3)) > 0) w = w.slice(0, -1);
  } else if (w.endsWith('ed') && hasVowel(w.slice(0, -2))) {
    w = w.slice(0, -2); cleanup = true;
  } else if (w.endsWith('ing') && hasVowel(w.slice(0, -3))) {
    w = w.slice(0, -3); cleanup = true;
  }
  if (cleanup) {
    if (w.endsWith('at') || w.endsWith('bl') || w.endsWith('iz')) w += 'e';
    else if (doubleConsonant(w) && !/[lsz]$/.test(w)) w = w.slice(0, -1);
    else if (measure(w) === 1 && cvc(w)) w += 'e';
  }
  // Step 1c: y → i after a vowel-containing stem.
  if (w.endsWith('y') && hasVowel(w.slice(0, -1))) w = w.slice(0, -1) + 'i';
  w = replaceSuffix(w, STEP2, 0);
  w = replaceSuffix(w, STEP3, 0);
  // Step 4: drop a suffix when the stem has m > 1 (-ion only after s or t).
  for (const suf of STEP4) {
    if (!w.endsWith(suf)) continue;
    const s = w.slice(0, -suf.length);
    if (measure(s) > 1 && (suf !== 'ion' || /[st]$/.test(s))) w = s;
    break;
  }
  // Step 5: final -e and -ll.
  if (w.endsWith('e')) {
    const s = w.slice(0, -1);
    const m = measure(s);
    if (m > 1 || (m === 1 && !cvc(s))) w = s;
  }
  if (measure(w) > 1 && w.endsWith('ll')) w = w.slice(0, -1);
  return w;
}

/** Splits camelCase and letter/digit runs inside an identifier part: `maxRetries` → max, retries. */
function camelParts(part: string): string[] {
  return part.split(/(?<=\p{Ll})(?=\p{Lu})/u);
}

function normaliseWord(w: string): string {
  return STOPWORDS.has(w) ? '' : stem(w);
}

/**
 * Terms of a text, in order, with repeats (BM25 counts them). A compound token yields itself (lower-cased, not
 * stemmed) followed by its stemmed parts and, for hyphenated words, the parts joined (`wi-fi` → `wifi`).
 */
export function analyze(text: string): string[] {
  const out: string[] = [];
  // NFKC only matters outside ASCII; skipping it for ASCII text halves the analyzer's time.
  const normalized = ASCII.test(text) ? text : text.normalize('NFKC');
  for (const m of normalized.matchAll(TOKEN)) {
    const raw = m[0];
    const lower = raw.toLowerCase();
    if (SINGLE_ASCII_WORD.test(raw)) {
      // The common case: one plain word (no joiners, no camelCase), so no parts to emit.
      const t = normaliseWord(lower);
      if (t) out.push(t);
      continue;
    }
    const parts = raw.split(PART_SPLIT).flatMap(camelParts).map((p) => p.toLowerCase()).filter((p) => p.length > 0);
    if (parts.length <= 1) {
      const t = normaliseWord(lower);
      if (t) out.push(t);
      continue;
    }
    // Dotted numbers (addresses, versions) stay whole only: their parts are noise.
    if (/^[\d.:]+$/.test(lower)) { out.push(lower); continue; }
    out.push(lower);
    for (const p of parts) {
      const t = normaliseWord(p);
      if (t && t !== lower) out.push(t);
    }
    if (raw.includes('-') && /^[\p{L}\p{N}-]+$/u.test(raw)) out.push(parts.join(''));
  }
  return out;
}

/** Normal form used for de-duplicating chunks: NFKC, lower case, whitespace runs collapsed, trimmed. */
export function normalizeForDedup(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}
