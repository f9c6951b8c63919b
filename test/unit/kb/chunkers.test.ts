// The four chunkers and the markdown section parser: exact offsets (source.slice(start, end) === text), size and
// overlap bounds and coverage as fast-check properties over generated markdown; sentence boundaries around
// abbreviations, decimals, addresses and inline code; heading paths; code fences kept whole; spec validation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { KbConfigError } from '../../../host/errors/index.js';
import { type Chunk, type ChunkerName, CHUNKER_NAMES, chunkerSpec, DEFAULT_CHUNKER } from '../../../host/kb/chunkers/chunk.js';
import { chunkDocument } from '../../../host/kb/chunkers/chunk-document.js';
import { markdownSections } from '../../../host/kb/chunkers/markdown-sections.js';
import { splitSentences } from '../../../host/kb/chunkers/sentence.js';

const sentencesOf = (text: string): string[] => splitSentences(text, 0, text.length).map((s) => text.slice(s.start, s.end));

const word = fc.oneof(
  fc.constantFrom('mesh', 'node', 'wlan0', 'X0T_PLUGIN_TRAP', '10.0.0.1', 'e.g.', 'Dr.', '3.5', 'link', 'flaps', 'the',
    'restart', 'hostapd', '`iw dev wlan0 link`', 'quorum', 'Raft', 'i.e.', 'latency', 'ms.', 'ok!', 'why?'),
  fc.stringMatching(/^[a-z]{1,12}$/),
  fc.stringMatching(/^[A-Za-z0-9]{40,90}$/), // a long unbreakable token now and then
);
const sentence = fc.array(word, { minLength: 1, maxLength: 25 }).map((ws) => `${ws.join(' ')}.`);
const paragraph = fc.array(sentence, { minLength: 1, maxLength: 6 }).map((ss) => ss.join(' '));
const block = fc.oneof(
  { weight: 5, arbitrary: paragraph },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.array(word, { minLength: 1, maxLength: 4 })).map(([l, ws]) => `${'#'.repeat(l)} ${ws.join(' ')}`) },
  { weight: 1, arbitrary: fc.array(fc.array(word, { minLength: 1, maxLength: 6 }).map((ws) => `- ${ws.join(' ')}`), { minLength: 1, maxLength: 5 }).map((ls) => ls.join('\n')) },
  { weight: 1, arbitrary: fc.array(fc.array(word, { minLength: 0, maxLength: 8 }).map((ws) => ws.join(' ')), { minLength: 1, maxLength: 8 }).map((ls) => '```sh\n' + ls.join('\n') + '\n```') },
);
const markdown = fc.array(block, { minLength: 1, maxLength: 12 }).chain((bs) =>
  fc.array(fc.constantFrom('\n\n', '\n', '\n\n\n', '\n  \n'), { minLength: bs.length, maxLength: bs.length })
    .map((seps) => bs.map((b, i) => b + seps[i]).join('')));
const specArb = fc.record({
  name: fc.constantFrom<ChunkerName>(...CHUNKER_NAMES),
  size: fc.integer({ min: 32, max: 400 }),
  overlapFrac: fc.double({ min: 0, max: 0.5, noNaN: true }),
}).map(({ name, size, overlapFrac }) => ({ name, size, overlap: Math.floor(size * overlapFrac) }));

function checkChunks(text: string, chunks: readonly Chunk[], size: number, overlap: number): void {
  let prev: Chunk | undefined;
  for (const c of chunks) {
    assert.equal(text.slice(c.start, c.end), c.text, 'offsets address the text exactly');
    assert.ok(c.text.length > 0 && c.text.length <= size, `chunk length ${c.text.length} within (0, ${size}]`);
    assert.equal(c.text, c.text.trim(), 'no surrounding whitespace');
    if (prev) {
      assert.ok(c.start > prev.start, 'chunks advance');
      assert.ok(prev.end - c.start <= overlap, `overlap ${prev.end - c.start} <= ${overlap}`);
    }
    prev = c;
  }
  // Coverage: every non-whitespace character is in some chunk.
  const covered = new Uint8Array(text.length);
  for (const c of chunks) covered.fill(1, c.start, c.end);
  for (let i = 0; i < text.length; i++) if (!/\s/.test(text[i]!)) assert.equal(covered[i], 1, `character ${i} (${JSON.stringify(text[i])}) is covered`);
}

describe('chunker properties', () => {
  test('markdown: exact offsets, size bound, overlap bound, coverage, for all four chunkers', () => {
    fc.assert(fc.property(markdown, specArb, (text, spec) => {
      const chunks = chunkDocument('doc.md', text, 'markdown', spec);
      checkChunks(text, chunks, spec.size, spec.overlap);
      for (const c of chunks) assert.deepEqual(c.chunker, spec);
    }), { numRuns: 300 });
  });

  test('plain text: the same properties, heading path always empty', () => {
    fc.assert(fc.property(fc.string({ maxLength: 3000 }), specArb, (text, spec) => {
      const chunks = chunkDocument('doc.txt', text, 'text', spec);
      checkChunks(text, chunks, spec.size, spec.overlap);
      for (const c of chunks) assert.deepEqual(c.headingPath, []);
    }), { numRuns: 300 });
  });

  test('code fences that fit are whole in one chunk (sentence, paragraph, recursive)', () => {
    fc.assert(fc.property(markdown, fc.constantFrom<ChunkerName>('sentence', 'paragraph', 'recursive'), fc.integer({ min: 64, max: 400 }), (text, name, size) => {
      const chunks = chunkDocument('doc.md', text, 'markdown', { name, size, overlap: Math.floor(size / 8) });
      for (const sec of markdownSections(text)) {
        for (const f of sec.fences) {
          const raw = text.slice(f.start, f.end);
          const start = f.start + (raw.length - raw.trimStart().length);
          const end = f.end - (raw.length - raw.trimEnd().length);
          if (end - start > size || end <= start) continue;
          assert.ok(chunks.some((c) => c.start <= start && c.end >= end), `fence ${JSON.stringify(raw.slice(0, 40))} whole in a chunk`);
        }
      }
    }), { numRuns: 200 });
  });

  test('a fence after the closing marker of a fence too long to keep whole stays whole (seed 267697144)', () => {
    // Found by the property above: the long fence's closing marker paired with the short fence's opening marker as
    // "inline code", which hid the short fence's start, so it was cut by characters inside an over-long sentence.
    const long = '```sh\n' + 'ip route show table all\n'.repeat(3) + '\n' + 'ip -6 route flush cache now\n'.repeat(4) + '```';
    const short = '```sh\nip link set wlan0 down\nip link set wlan0 up\n```';
    const between = Array.from({ length: 6 }, (_, i) => `token${i}${'q'.repeat(14)}`).join(' ') + ' done.';
    const text = `# Fix\n\n${long}\n${between}\n${short}\n\nAfter.\n`;
    const start = text.indexOf(short);
    for (const name of ['paragraph', 'sentence'] as const) {
      const chunks = chunkDocument('doc.md', text, 'markdown', { name, size: 100, overlap: 12 });
      checkChunks(text, chunks, 100, 12);
      assert.ok(chunks.some((c) => c.start <= start && c.end >= start + short.length), `${name}: short fence whole in a chunk`);
    }
  });
});

describe('sentence splitter', () => {
  test('abbreviations, initials, decimals, addresses and versions do not end sentences', () => {
    assert.deepEqual(sentencesOf('Restart it, e.g. with systemctl. Then wait 3.5 s for 10.0.0.1 to answer. Dr. Smith and J. Doe agree.'),
      ['Restart it, e.g. with systemctl.', 'Then wait 3.5 s for 10.0.0.1 to answer.', 'Dr. Smith and J. Doe agree.']);
    assert.deepEqual(sentencesOf('Upgrade to v1.2.3 now! Why? Because "it works." It does.'),
      ['Upgrade to v1.2.3 now!', 'Why?', 'Because "it works."', 'It does.']);
  });

  test('inline code is never cut; lower-case continuation is not a new sentence', () => {
    assert.deepEqual(sentencesOf('Run `ip link set wlan0 down. Up again.` first. then check.'),
      ['Run `ip link set wlan0 down. Up again.` first. then check.']);
  });

  test('blank lines and list items start sentences even without punctuation', () => {
    assert.deepEqual(sentencesOf('Steps\n- restart hostapd\n- check dmesg\n\nDone'), ['Steps', '- restart hostapd', '- check dmesg', 'Done']);
  });
});

describe('markdown sections', () => {
  const md = '# Wi-Fi link flaps\nIntro.\n## Diagnosis\nLook.\n```sh\n# not a heading\n```\n### Deep *dive*\nMore.\n## Fix\nDo.\n# Other [link](http://x)\nEnd.';

  test('heading paths nest by level; headings inside fences are text; inline markup is dropped', () => {
    const secs = markdownSections(md);
    assert.deepEqual(secs.map((s) => s.headingPath), [
      ['Wi-Fi link flaps'], ['Wi-Fi link flaps', 'Diagnosis'], ['Wi-Fi link flaps', 'Diagnosis', 'Deep dive'],
      ['Wi-Fi link flaps', 'Fix'], ['Other link'],
    ]);
    assert.equal(secs.map((s) => md.slice(s.start, s.end)).join(''), md, 'sections tile the document');
    assert.equal(secs[1]!.fences.length, 1);
  });

  test('chunks carry their section path; text before the first heading has an empty path', () => {
    const chunks = chunkDocument('runbooks/wifi.md', 'Preamble here.\n\n' + md, 'markdown', { name: 'paragraph', size: 64, overlap: 0 });
    assert.deepEqual(chunks[0]!.headingPath, []);
    assert.ok(chunks.some((c) => c.text.includes('# not a heading') && c.headingPath.join(' > ') === 'Wi-Fi link flaps > Diagnosis'));
    for (const c of chunks) assert.equal(c.source, 'runbooks/wifi.md');
  });
});

describe('chunker spec', () => {
  test('defaults: recursive, 512, 64', () => {
    assert.deepEqual(chunkerSpec(), { name: 'recursive', size: 512, overlap: 64 });
    assert.deepEqual(DEFAULT_CHUNKER, { name: 'recursive', size: 512, overlap: 64 });
    assert.deepEqual(chunkerSpec({ size: 100 }), { name: 'recursive', size: 100, overlap: 25 });
  });

  test('impossible sizes and overlaps are KbConfigError naming the field', () => {
    const cases: [Parameters<typeof chunkerSpec>[0], string][] = [
      [{ size: 31 }, 'size'], [{ size: 100.5 }, 'size'], [{ size: 64, overlap: 64 }, 'overlap'],
      [{ size: 64, overlap: -1 }, 'overlap'], [{ size: 64, overlap: 40 }, 'overlap'],
      [{ name: 'words' as ChunkerName }, 'chunker'],
    ];
    for (const [spec, path] of cases) {
      assert.throws(() => chunkerSpec(spec), (e: unknown) => e instanceof KbConfigError && e.details['path'] === path, JSON.stringify(spec));
    }
  });

  test('fixed windows advance by size - overlap on plain words', () => {
    const text = Array.from({ length: 200 }, (_, i) => `w${String(i).padStart(3, '0')}`).join(' '); // 5 chars per word
    const chunks = chunkDocument('t.txt', text, 'text', { name: 'fixed', size: 50, overlap: 10 });
    assert.equal(chunks[0]!.text, text.slice(0, 49)); // 8 words + spaces, ending at a word boundary
    assert.ok(chunks.length >= Math.floor(text.length / 50));
    for (let i = 1; i < chunks.length; i++) assert.ok(chunks[i - 1]!.end - chunks[i]!.start <= 10 && chunks[i - 1]!.end - chunks[i]!.start >= 0);
  });
});
