// The knowledge base end to end with real components: the lexical embedder plugin in a slot, the exact vector index
// and (when built) the HNSW plugin. A temp folder of markdown, text and incident files is ingested, edited,
// re-ingested (only the edited file re-chunked), a file deleted; duplicates, broken files, search modes, filters,
// MMR, the missing re-ranker notice, reopening, a corrupt / missing / stale index file (rebuilt with a message) and
// an embedder change (refused, or re-embedded on request).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KbConfigError, KbIndexCorruptError } from '../../../host/errors/index.js';
import type { VectorIndex, VectorIndexParams } from '../../../host/kb/kb-types.js';
import { KnowledgeBase, type IngestReport } from '../../../host/kb/knowledge-base.js';
import { LexicalEmbedder } from '../../../host/kb/lexical-embedder.js';
import { CrossEncoderReranker } from '../../../host/kb/cross-encoder.js';
import { ExactVectorIndex } from '../../../host/kb/exact-vector-index.js';
import { openHnswIndex, type PluginVectorIndex } from '../../../host/kb/vector-index.js';
import { productSpec } from '../../support/fixtures.js';

type OpenIndex = (p: VectorIndexParams) => Promise<VectorIndex>;
const openHnsw: OpenIndex = (p) => openHnswIndex(p);
const openExact: OpenIndex = async (p) => new ExactVectorIndex(p);

const WIFI = `# Wi-Fi link flaps

Mesh radio links that go down and up every few minutes.

## Symptoms

Peers log "link down" and "link up" pairs; video calls freeze for 10-15 s.

## Diagnosis

Check power saving with \`iw dev mesh0 get power_save\`. A node reimaged from an old image may have it on.

## Fix

Run \`iw dev mesh0 set power_save off\` and add it to the interface hook.
`;

const RAFT = `# Raft leader loss

## Symptoms

The state sync stalls and governance votes time out; \`x0t status\` shows no leader.

## Diagnosis

A partition left fewer than a quorum of voters on each side. Check the election timeout and clock skew.
`;

const NOTES = 'Plain notes about DNS. The resolver on the gateway caches negative answers for 300 s, so a fixed record may look broken for five minutes.';

const INCIDENTS = [
  { id: 'INC-1', opened: '2026-01-08T17:42:00Z', severity: 'major', nodes: ['rpi-07', 'rpi-12'], title: 'Link rpi-07 to rpi-12 flapping',
    symptoms: 'Video calls froze every few minutes.', diagnosis: 'power_save was on after a reimage.', actions: ['set power_save off'], tags: ['wifi', 'power'] },
  { id: 'INC-2', opened: '2026-02-01T10:00:00Z', severity: 'critical', nodes: ['rpi-01'], title: 'No Raft leader after storm',
    symptoms: 'Governance votes timed out; no leader for 20 minutes.', actions: ['restarted two voters'], tags: ['raft'] },
].map((r) => JSON.stringify(r)).join('\n');

async function writeCorpus(dir: string): Promise<void> {
  await mkdir(join(dir, 'runbooks'), { recursive: true });
  await mkdir(join(dir, 'incidents'), { recursive: true });
  await writeFile(join(dir, 'runbooks', 'wifi.md'), WIFI);
  await writeFile(join(dir, 'runbooks', 'raft.md'), RAFT);
  await writeFile(join(dir, 'runbooks', 'zz-wifi-copy.md'), WIFI.replace('# Wi-Fi link flaps', '#   Wi-Fi   link flaps')); // duplicate modulo spacing
  await writeFile(join(dir, 'notes.txt'), NOTES);
  await writeFile(join(dir, 'incidents', 'a.jsonl'), INCIDENTS);
  await writeFile(join(dir, 'incidents', 'broken.jsonl'), `${INCIDENTS.split('\n')[0]}\n${INCIDENTS.split('\n')[1]!.replace('"critical"', '"tiny"')}\n`);
  await writeFile(join(dir, 'blob.txt'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]));
  await writeFile(join(dir, 'ignored.pdf'), 'not ingested: unsupported extension');
}

const tmpRoots: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'x0t-kb-'));
  tmpRoots.push(d);
  return d;
}

// Every knowledge base opened is closed at the end even when an assertion failed (an open HNSW slot would keep the
// process alive).
const opened: KnowledgeBase[] = [];
async function openKb(...args: Parameters<typeof KnowledgeBase.open>): Promise<KnowledgeBase> {
  const kb = await KnowledgeBase.open(...args);
  opened.push(kb);
  return kb;
}

let embedder: LexicalEmbedder;
before(async () => { embedder = await LexicalEmbedder.open(); });
after(async () => {
  for (const kb of opened) await kb.close();
  await embedder.close();
  for (const d of tmpRoots) await rm(d, { recursive: true, force: true });
});

function sum(r: IngestReport): string {
  return `+${r.filesAdded} ~${r.filesChanged} =${r.filesUnchanged} -${r.filesRemoved} chunks +${r.chunksAdded} -${r.chunksRemoved} dup ${r.duplicates} err ${r.errors.length}`;
}

for (const [name, factory] of [['exact', openExact], ['hnsw', openHnsw]] as const) {
  describe(`knowledge base over the ${name} index`, () => {
    const openIndex = factory;

    test('ingest, re-ingest, edit, delete, search, filter, reopen', async () => {
      const corpus = await tmp();
      const kbDir = join(await tmp(), 'kb');
      await writeCorpus(corpus);
      embedder.setIdf(null);
      let kb = await openKb(kbDir, { embedder, openIndex });
      const phases = new Set<string>();
      const r1 = await kb.ingest([corpus], { chunker: 'recursive', size: 256, overlap: 32 }, (p) => phases.add(p.phase));
      assert.deepEqual(new Set(['scan', 'chunk', 'embed', 'save']), new Set([...phases].filter((p) => p !== 'index')));
      // wifi.md, raft.md, wifi-copy.md, notes.txt, a.jsonl added; broken.jsonl and blob.txt fail; the pdf is not looked at.
      assert.equal(r1.filesAdded, 5, sum(r1));
      assert.equal(r1.errors.length, 2, JSON.stringify(r1.errors));
      const broken = r1.errors.find((e) => e.path === 'incidents/broken.jsonl')!;
      assert.equal(broken.code, 'X0T_KB_INGEST');
      assert.match(broken.message, /broken\.jsonl:2: .*"severity"/);
      assert.equal(r1.errors.find((e) => e.path === 'blob.txt')!.code, 'X0T_KB_INGEST');
      const wifiChunks = kb.documents().find((d) => d.source === 'runbooks/wifi.md')!.chunkIds.length;
      assert.equal(r1.duplicates, wifiChunks, 'every chunk of the copy duplicates one of wifi.md (normalised)');
      assert.ok(r1.notices.some((n) => /fitted lexical-hash-1024 corpus weights/.test(n)), r1.notices.join('; '));
      const s1 = await kb.stats();
      assert.equal(s1.documents, 5);
      assert.equal(s1.chunks, r1.chunksAdded);
      assert.equal(s1.duplicatesSkipped, r1.duplicates);
      assert.equal(s1.index.info.count, s1.chunks);
      assert.equal(s1.index.kind, name);
      assert.equal(s1.embedder.kind, 'lexical');
      assert.ok(s1.bytesOnDisk > 0 && s1.lastIngest !== null);

      // Nothing changed: nothing re-chunked. Operations issued together run one after another.
      const [r2, , s2] = await Promise.all([kb.ingest([corpus], { size: 256, overlap: 32 }), kb.search('leader'), kb.stats()]);
      assert.equal(s2.chunks, s1.chunks);
      assert.equal(sum(r2), `+0 ~0 =5 -0 chunks +0 -0 dup 0 err 2`);
      // Another chunker re-chunks every file; and back.
      const r2b = await kb.ingest([corpus], { chunker: 'paragraph', size: 256, overlap: 32 });
      assert.equal(r2b.filesChanged, 5, sum(r2b));
      assert.ok(kb.documents().every((d) => d.chunker.name === 'paragraph'));
      const r2c = await kb.ingest([corpus], { chunker: 'recursive', size: 256, overlap: 32 });
      assert.equal(r2c.filesChanged, 5, sum(r2c));

      // Edit raft.md: only its chunks are replaced; the other documents keep their chunk ids.
      const before = new Map(kb.documents().map((d) => [d.source, d.chunkIds]));
      await writeFile(join(corpus, 'runbooks', 'raft.md'), RAFT + '\n## Fix\n\nRestore connectivity between the halves; the quorum elects a leader within seconds.\n');
      const r3 = await kb.ingest([corpus], { size: 256, overlap: 32 });
      assert.equal(r3.filesChanged, 1, sum(r3));
      assert.equal(r3.filesUnchanged, 4);
      assert.equal(r3.chunksRemoved, before.get('runbooks/raft.md')!.length);
      const afterEdit = new Map(kb.documents().map((d) => [d.source, d.chunkIds]));
      for (const src of ['runbooks/wifi.md', 'notes.txt', 'incidents/a.jsonl']) assert.deepEqual(afterEdit.get(src), before.get(src), src);
      assert.ok(afterEdit.get('runbooks/raft.md')!.every((id) => !before.get('runbooks/raft.md')!.includes(id)));
      const fix = await kb.search('halves quorum elects a leader within seconds', { mode: 'bm25', k: 3 });
      assert.deepEqual(fix.hits[0]!.chunk.headingPath, ['Raft leader loss', 'Fix']);

      // Search modes on a distinctive query.
      for (const mode of ['vector', 'bm25', 'hybrid'] as const) {
        const r = await kb.search('resolver caches negative answers', { mode, k: 3 });
        assert.equal(r.hits[0]!.chunk.source, 'notes.txt', mode);
        assert.deepEqual(r.notices, []);
        if (mode === 'hybrid') assert.ok(r.hits[0]!.ranks.vector !== undefined && r.hits[0]!.ranks.bm25 !== undefined);
        else assert.equal(r.hits[0]!.ranks[mode], 1);
      }
      const v = await kb.search('iw dev mesh0 set power_save off', { mode: 'vector', k: 5 });
      assert.ok(v.hits[0]!.score > v.hits[v.hits.length - 1]!.score || v.hits.length === 1);

      // Filters: kind, severity, tags, source prefix; they hold in every mode.
      for (const mode of ['vector', 'bm25', 'hybrid'] as const) {
        const inc = await kb.search('power save flapping link', { mode, k: 10, filter: { kind: 'incident' } });
        assert.ok(inc.hits.length > 0 && inc.hits.every((h) => h.chunk.kind === 'incident'), mode);
        const crit = await kb.search('leader', { mode, k: 10, filter: { severity: 'critical' } });
        assert.deepEqual([...new Set(crit.hits.map((h) => h.chunk.source))], ['incident:INC-2'], mode);
        const tagged = await kb.search('link', { mode, k: 10, filter: { tags: ['wifi', 'power'] } });
        assert.ok(tagged.hits.every((h) => h.chunk.source === 'incident:INC-1'), mode);
        const runbooks = await kb.search('leader', { mode, k: 10, filter: { source: 'runbooks' } });
        assert.ok(runbooks.hits.length > 0 && runbooks.hits.every((h) => h.chunk.source.startsWith('runbooks/')), mode);
        const none = await kb.search('leader', { mode, k: 10, filter: { source: 'nowhere' } });
        assert.deepEqual(none.hits, []);
      }
      const inc1 = (await kb.search('rpi-07 rpi-12', { mode: 'bm25', k: 1 })).hits[0]!.chunk;
      assert.deepEqual(inc1.incident, { incidentId: 'INC-1', severity: 'major', tags: ['wifi', 'power'], nodes: ['rpi-07', 'rpi-12'], opened: '2026-01-08T17:42:00Z' });

      // Re-rank without a re-ranker: a notice, never a pretence. MMR returns k distinct chunks.
      const rr = await kb.search('leader', { rerank: true, k: 3 });
      assert.ok(rr.notices.some((n) => /no re-ranker model is present/.test(n)));
      assert.ok(rr.hits.every((h) => h.ranks.rerank === undefined));
      const mmr = await kb.search('link flaps power save', { mmr: 0.3, k: 4 });
      assert.equal(new Set(mmr.hits.map((h) => h.chunk.id)).size, mmr.hits.length);

      // Delete wifi.md: its chunks leave BM25 and the index.
      await unlink(join(corpus, 'runbooks', 'wifi.md'));
      const r4 = await kb.ingest([corpus], { size: 256, overlap: 32 });
      assert.equal(r4.filesRemoved, 1, sum(r4));
      assert.equal(r4.chunksRemoved, wifiChunks);
      // Its copy, whose chunks were all duplicates of wifi.md's, is re-chunked so the content stays findable.
      assert.ok(r4.notices.some((n) => n.startsWith('runbooks/zz-wifi-copy.md: re-chunked')), r4.notices.join('; '));
      assert.equal(r4.chunksAdded, wifiChunks);
      assert.equal((await kb.search('power_save off interface hook', { mode: 'bm25', k: 1 })).hits[0]!.chunk.source, 'runbooks/zz-wifi-copy.md');
      await unlink(join(corpus, 'runbooks', 'zz-wifi-copy.md'));
      assert.equal((await kb.ingest([corpus], { size: 256, overlap: 32 })).chunksRemoved, wifiChunks);
      for (const mode of ['vector', 'bm25', 'hybrid'] as const) {
        const r = await kb.search('power_save off interface hook', { mode, k: 20 });
        assert.ok(r.hits.every((h) => !h.chunk.source.includes('wifi')), mode);
      }
      const stats = await kb.stats();
      assert.equal(stats.index.info.count, stats.chunks);
      const query = await kb.search('quorum election timeout', { k: 5 });
      await kb.close();

      // Reopen: same answers, no rebuild.
      embedder.setIdf(null);
      kb = await openKb(kbDir, { embedder, openIndex });
      assert.deepEqual(kb.notices, []);
      assert.notEqual(embedder.idf, null, 'corpus weights restored');
      assert.deepEqual((await kb.search('quorum election timeout', { k: 5 })).hits, query.hits);
      await kb.close();
    });

    test('a corrupt, missing or stale index file is rebuilt with a message', async () => {
      const corpus = await tmp();
      const kbDir = join(await tmp(), 'kb');
      await writeCorpus(corpus);
      embedder.setIdf(null);
      let kb = await openKb(kbDir, { embedder, openIndex });
      await kb.ingest([corpus]);
      const expected = await kb.search('power save', { k: 5 });
      await kb.close();
      const indexPath = join(kbDir, 'index.bin');
      await copyFile(indexPath, join(kbDir, 'old-index'));

      const bytes = await readFile(indexPath);
      bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
      await writeFile(indexPath, bytes);
      kb = await openKb(kbDir, { embedder, openIndex });
      assert.equal(kb.notices.length, 1);
      assert.match(kb.notices[0]!, /corrupt.*rebuilt from \d+ stored embeddings/);
      assert.deepEqual((await kb.search('power save', { k: 5 })).hits.map((h) => h.chunk.id), expected.hits.map((h) => h.chunk.id));
      await writeFile(join(corpus, 'more.txt'), 'An added note about antenna alignment and link budget.');
      await kb.ingest([corpus]);
      await kb.close();

      await copyFile(join(kbDir, 'old-index'), indexPath); // from before the last ingest: stale
      kb = await openKb(kbDir, { embedder, openIndex });
      assert.match(kb.notices.join('\n'), /stale.*rebuilt/);
      assert.equal((await kb.search('antenna alignment', { mode: 'vector', k: 1 })).hits[0]!.chunk.source, 'more.txt');
      await kb.close();

      await unlink(indexPath);
      kb = await openKb(kbDir, { embedder, openIndex });
      assert.match(kb.notices.join('\n'), /missing.*rebuilt/);
      await kb.close();
      kb = await openKb(kbDir, { embedder, openIndex });
      assert.deepEqual(kb.notices, [], 'the rebuilt index was saved');
      await kb.close();
    });

    test('another embedder is refused, or re-embeds on request; addIncident', async () => {
      const corpus = await tmp();
      const kbDir = join(await tmp(), 'kb');
      await writeCorpus(corpus);
      embedder.setIdf(null);
      let kb = await openKb(kbDir, { embedder, openIndex });
      await kb.ingest([corpus]);
      await kb.close();
      const small = await LexicalEmbedder.open(undefined, { dim: 256 });
      try {
        await assert.rejects(KnowledgeBase.open(kbDir, { embedder: small, openIndex }),
          (e: unknown) => e instanceof KbConfigError && /re-embedding is needed/.test(e.message));
        kb = await openKb(kbDir, { embedder: small, openIndex, reembed: true });
        assert.match(kb.notices.join('\n'), /re-embedding \d+ chunks with lexical-hash-256/);
        assert.equal((await kb.stats()).embedder.id, 'lexical-hash-256');
        assert.equal((await kb.search('resolver negative answers', { mode: 'vector', k: 1 })).hits[0]!.chunk.source, 'notes.txt');

        const rec = { id: 'INC-77', opened: '2026-03-03T03:03:00Z', severity: 'minor' as const, nodes: ['rpi-03'],
          title: 'SD card wear warning', symptoms: 'smartctl-like wear counter at 90 percent on rpi-03.', actions: ['scheduled card swap'], tags: ['storage'] };
        const a = await kb.addIncident(rec);
        assert.equal(a.filesAdded, 1);
        assert.equal(a.chunksAdded, 1);
        assert.equal((await kb.addIncident(rec)).filesUnchanged, 1);
        const hit = (await kb.search('sd card wear', { k: 1, filter: { kind: 'incident' } })).hits[0]!;
        assert.equal(hit.chunk.source, 'incident:INC-77');
        // Re-ingesting the folder does not remove records added directly.
        await kb.ingest([corpus]);
        assert.equal((await kb.search('sd card wear', { k: 1, filter: { kind: 'incident' } })).hits[0]!.chunk.source, 'incident:INC-77');
        await assert.rejects(kb.addIncident({ ...rec, severity: 'low' as never }), (e: unknown) => (e as { code?: string }).code === 'X0T_KB_INGEST');
        await kb.close();
      } finally {
        await small.close();
      }
    });
  });
}

test('a plugin index that restarted empty (timeout) is reloaded from its saved file, or rebuilt from the stored embeddings without one, with a message', async () => {
  const corpus = await tmp();
  const kbDir = join(await tmp(), 'kb');
  await writeCorpus(corpus);
  embedder.setIdf(null);
  const spec = await productSpec('hnsw', { limits: { callTimeoutMs: 1000 } });
  const indexes: PluginVectorIndex[] = [];
  // A cheap graph (M 8, efConstruction 20) so the filler below builds quickly.
  const kb = await openKb(kbDir, { embedder, openIndex: async (p) => { const i = await openHnswIndex({ ...p, m: 8, efConstruction: 20 }, spec); indexes.push(i); return i; } });
  await kb.ingest([corpus]);
  const expected = await kb.search('power save', { mode: 'vector', k: 5 });
  const index = indexes[indexes.length - 1]!;
  // Filler vectors behind the knowledge base's back, then 1,500 queries at a huge beam in one call: the call times
  // out and the runtime starts a fresh, empty instance.
  let seed = 7;
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 2 ** 32 - 0.5; };
  const dim = embedder.dim;
  for (let b = 0; b < 4; b++) {
    await index.add(Uint32Array.from({ length: 1000 }, (_, i) => 1_000_000 + b * 1000 + i), Float32Array.from({ length: 1000 * dim }, rnd));
  }
  const heavy = Float32Array.from({ length: 1500 * dim }, rnd);
  await assert.rejects(index.searchMany(heavy, 10, { ef: 4000 }), (e: unknown) => (e as { details?: Record<string, unknown> }).details?.['lost'] === true);
  const after = await kb.search('power save', { mode: 'vector', k: 5 });
  assert.match(after.notices.join('\n'), /restarted empty; reloaded from .*index\.bin/);
  assert.deepEqual(after.hits.map((h) => h.chunk.id), expected.hits.map((h) => h.chunk.id));
  assert.deepEqual((await kb.search('power save', { mode: 'vector', k: 5 })).notices, []);
  // Without the saved file the same loss is repaired from the stored embeddings.
  await rm(join(kbDir, 'index.bin'));
  for (let b = 0; b < 4; b++) {
    await index.add(Uint32Array.from({ length: 1000 }, (_, i) => 1_000_000 + b * 1000 + i), Float32Array.from({ length: 1000 * dim }, rnd));
  }
  await assert.rejects(index.searchMany(heavy, 10, { ef: 4000 }), (e: unknown) => (e as { details?: Record<string, unknown> }).details?.['lost'] === true);
  const again = await kb.search('power save', { mode: 'vector', k: 5 });
  assert.match(again.notices.join('\n'), /restarted empty; rebuilt from \d+ stored embeddings/);
  assert.deepEqual(again.hits.map((h) => h.chunk.id), expected.hits.map((h) => h.chunk.id));
  await kb.close();
});

test('damaged knowledge base files: BM25 state is rebuilt from the chunks, damaged chunks or embeddings refuse to open', async () => {
  const corpus = await tmp();
  const kbDir = join(await tmp(), 'kb');
  await writeCorpus(corpus);
  embedder.setIdf(null);
  const openIndex = async (p: VectorIndexParams): Promise<VectorIndex> => new ExactVectorIndex(p);
  let kb = await openKb(kbDir, { embedder, openIndex });
  await kb.ingest([corpus]);
  await writeFile(join(corpus, 'extra.txt'), 'A second generation of the knowledge base files.');
  await kb.ingest([corpus]);
  const expected = await kb.search('negative answers resolver', { mode: 'bm25', k: 3 });
  await kb.close();
  const manifest = JSON.parse(await readFile(join(kbDir, 'kb.json'), 'utf8')) as { generation: number; files: Record<string, { name: string }> };
  assert.deepEqual((await readdir(kbDir)).sort(), ['bm25-2.bin', 'chunks-2.json', 'embeddings-2.f32', 'index.bin', 'kb.json', 'weights-2.f32'].sort(),
    'one generation of data files (older ones removed), the index and the manifest');
  const flip = async (name: string): Promise<Buffer> => {
    const path = join(kbDir, name);
    const original = await readFile(path);
    const b = Buffer.from(original);
    b[Math.floor(b.length / 2)] = b[Math.floor(b.length / 2)]! ^ 0x20;
    await writeFile(path, b);
    return original;
  };
  const bm25 = await flip(manifest.files['bm25']!.name);
  kb = await openKb(kbDir, { embedder, openIndex });
  assert.match(kb.notices.join('\n'), /BM25 state was damaged .*checksum.*rebuilt from the stored chunks/);
  assert.deepEqual((await kb.search('negative answers resolver', { mode: 'bm25', k: 3 })).hits, expected.hits);
  await kb.close();
  await writeFile(join(kbDir, manifest.files['bm25']!.name), bm25);
  for (const file of ['chunks', 'embeddings']) {
    const original = await flip(manifest.files[file]!.name);
    await assert.rejects(KnowledgeBase.open(kbDir, { embedder, openIndex }),
      (e: unknown) => e instanceof KbIndexCorruptError && /fails its checksum/.test(e.message), file);
    await writeFile(join(kbDir, manifest.files[file]!.name), original);
  }
  kb = await openKb(kbDir, { embedder, openIndex });
  assert.deepEqual(kb.notices, []);
  await kb.close();
});

test('a process killed mid-ingest leaves a knowledge base that opens (the old or the new generation)', async () => {
  const corpus = await tmp();
  const kbDir = join(await tmp(), 'kb');
  await writeCorpus(corpus);
  const dist = new URL('../../../', import.meta.url).pathname;
  // The child re-ingests forever, rewriting one file each round so every round commits a new generation.
  const child = `
    const { writeFile } = await import('node:fs/promises');
    const { KnowledgeBase } = await import(${JSON.stringify(dist + 'host/kb/knowledge-base.js')});
    const { ExactVectorIndex } = await import(${JSON.stringify(dist + 'host/kb/exact-vector-index.js')});
    const { LexicalEmbedder } = await import(${JSON.stringify(dist + 'host/kb/lexical-embedder.js')});
    const embedder = await LexicalEmbedder.open();
    const kb = await KnowledgeBase.open(${JSON.stringify(kbDir)}, { embedder, openIndex: async (p) => new ExactVectorIndex(p) });
    for (let round = 0; ; round++) {
      await writeFile(${JSON.stringify(join(corpus, 'round.txt'))}, 'Round ' + round + ' of the crash test. '.repeat(1 + (round % 50)));
      await kb.ingest([${JSON.stringify(corpus)}]);
      process.stdout.write('r');
    }`;
  // A file, not `-e`: the embedder's worker would inherit `--input-type` and refuse to start.
  const script = join(await tmp(), 'ingest-forever.mjs');
  await writeFile(script, child);
  for (let kill = 0; kill < 5; kill++) {
    const proc = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let rounds = 0;
    proc.stdout.on('data', (b: Buffer) => { rounds += b.length; });
    // Wait for a first commit, then kill at a pseudo-random moment of a later round.
    while (rounds === 0 && proc.exitCode === null) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 37 + ((kill * 53) % 120)));
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));
    assert.ok(rounds > 0, 'the child committed at least once');
    embedder.setIdf(null);
    const kb = await openKb(kbDir, { embedder, openIndex: async (p) => new ExactVectorIndex(p) });
    const st = await kb.stats();
    assert.equal(st.chunks, kb.documents().reduce((n, d) => n + d.chunkIds.length, 0), 'documents and chunks agree');
    assert.equal(st.index.info.count, st.chunks);
    assert.equal((await kb.search('resolver negative answers', { k: 1 })).hits[0]!.chunk.source, 'notes.txt');
    assert.ok(kb.notices.every((n) => /vector index file/.test(n)), kb.notices.join('; '));
    await kb.close();
  }
});

test('re-ranking with a cross-encoder reorders the candidates by its scores (tiny random fixture model)', async () => {
  const corpus = await tmp();
  const kbDir = join(await tmp(), 'kb');
  await writeCorpus(corpus);
  embedder.setIdf(null);
  const reranker = await CrossEncoderReranker.fromCheckpoint(join(process.cwd(), 'test', 'fixtures', 'models', 'tiny-cross-encoder'), { maxLength: 128 });
  try {
    const kb = await openKb(kbDir, { embedder, openIndex: async (p) => new ExactVectorIndex(p), reranker });
    await kb.ingest([corpus]);
    assert.equal((await kb.stats()).reranker, 'tiny-cross-encoder');
    const plain = await kb.search('leader quorum', { k: 50, depth: 50 });
    const r = await kb.search('leader quorum', { rerank: true, k: 5 });
    assert.deepEqual(r.notices, []);
    // The re-ranker saw the same candidates (hybrid, depth 50) and the hits are its top 5, best first.
    const texts = plain.hits.map((h) => h.chunk);
    const scores = await reranker.score('leader quorum', texts.map((c) => (c.kind === 'doc' && c.headingPath.length > 0 ? `${c.headingPath.join(' > ')}\n${c.text}` : c.text)));
    const best = [...scores.keys()].sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, 5);
    assert.deepEqual(r.hits.map((h) => h.chunk.id), best.map((i) => texts[i]!.id));
    r.hits.forEach((h, i) => {
      assert.equal(h.ranks.rerank, i + 1);
      assert.ok(Math.abs(h.score - scores[best[i]!]!) < 1e-6);
    });
    await kb.close();
  } finally {
    await reranker.close();
  }
});
