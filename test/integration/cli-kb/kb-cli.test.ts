// `x0t kb ingest|search|stats` end to end: the real CLI in a child process on temp knowledge-base folders built
// from copies of the labelled corpus (test/kb/corpus). An EMPTY temp models folder forces the lexical fallback
// (X0T_MODELS_DIR / X0T_KB_DIR blanked so the environment cannot leak in); one suite runs MiniLM when its model
// cache is installed. Checks the report lines, the JSON shapes, the notices, incremental re-ingest, every search
// mode and filter, the error exit codes (sdk/abi/errors.ts), binary files and a corrupted index file.
import assert from 'node:assert/strict';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { jsonError, ROOT, runCli, type CliResult } from '../cli/harness.js';
import { defaultModelsDir, MINILM_MODEL_NAME, openModelInfo, SETUP_COMMAND } from '../../../host/kb/model-cache.js';

const CORPUS = join(ROOT, 'test', 'kb', 'corpus');
const ISOLATED_ENV = { X0T_MODELS_DIR: '', X0T_KB_DIR: '' };

interface IngestJson {
  filesAdded: number; filesChanged: number; filesUnchanged: number; filesRemoved: number;
  chunksAdded: number; chunksRemoved: number; duplicates: number;
  errors: { path: string; code: string; message: string }[];
  notices: string[]; documents: number; chunks: number; embedder: string;
}
interface HitJson {
  chunk: {
    id: number; text: string; source: string; headingPath: string[]; start: number; end: number; kind: 'doc' | 'incident';
    incident?: { incidentId: string; severity: string; tags: string[] };
  };
  score: number;
  ranks: { vector?: number; bm25?: number; rerank?: number };
}
interface SearchJson { query: string; mode: string; k: number; ms: number; notices: string[]; hits: HitJson[] }
interface StatsJson {
  dir: string; documents: number; chunks: number; duplicatesSkipped: number;
  embedder: { id: string; kind: string; dim: number };
  index: { kind: string; info: { count: number; deleted: number; metric: string } };
  reranker: string | null; bytesOnDisk: number; lastIngest: string | null; notices: string[];
}

const out = (r: CliResult): string => r.stdout.toString('utf8');
const parse = <T>(r: CliResult): T => JSON.parse(out(r)) as T;
const noticeLines = (r: CliResult): string[] => r.stderr.split('\n').filter((l) => l.startsWith('notice: '));

function ok(r: CliResult): void {
  assert.equal(r.code, 0, `exit ${r.code}, stderr: ${r.stderr}`);
}

/** A failed command: its exit code, `x0t: CODE: …` on stderr, nothing on stdout. */
function fails(r: CliResult, exitCode: number, code: string): void {
  assert.equal(r.code, exitCode, `exit ${r.code}, stderr: ${r.stderr}`);
  assert.match(r.stderr, new RegExp(`^x0t: ${code}: `, 'm'));
  assert.equal(out(r), '', 'nothing on stdout');
}

/** The fallback notice names the setup command and says plainly that "vector" search matches words. */
function isFallbackNotice(n: string, modelsDir: string): boolean {
  return n.includes(MINILM_MODEL_NAME) && n.includes(modelsDir) && n.includes(SETUP_COMMAND) && n.includes('lexical embedder');
}

/** At most this many CLI processes at once: the suites run side by side, the machine has few cores. */
const MAX_PROCESSES = Math.max(2, availableParallelism());
let running = 0;
const waiting: (() => void)[] = [];

async function limited<T>(f: () => Promise<T>): Promise<T> {
  if (running >= MAX_PROCESSES) await new Promise<void>((r) => waiting.push(r));
  else running++;
  try {
    return await f();
  } finally {
    const next = waiting.shift();
    if (next) next(); // hands its slot over
    else running--;
  }
}

/** `x0t kb <args> --kb <kb> --models <models>` with the environment blanked. */
function kbCli(kb: string, models: string) {
  return (args: readonly string[], timeoutMs = 60_000): Promise<CliResult> =>
    limited(() => runCli(['kb', ...args, '--kb', kb, '--models', models], { env: ISOLATED_ENV, timeoutMs }));
}

/** Number of files the knowledge base ingests from a folder (Markdown, text and incident files). */
async function ingestableFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && /\.(md|txt|jsonl)$|\.incident\.json$/.test(e.name)) n++;
  }
  return n;
}

const REPORT_FILES = /^files: (\d+) added, (\d+) changed, (\d+) unchanged, (\d+) removed(?:, (\d+) not ingested)?$/;
const REPORT_CHUNKS = /^chunks: (\d+) added, (\d+) removed, (\d+) duplicates skipped$/;
const REPORT_KB = /^knowledge base (.+): (\d+) documents, (\d+) chunks, embedder (\S+), index (hnsw|exact)$/;

/** The three report lines of a text-mode ingest, as numbers. */
function ingestReport(r: CliResult): { files: number[]; notIngested: number; chunks: number[]; kb: { dir: string; documents: number; chunks: number; embedder: string; index: string } } {
  const lines = out(r).trimEnd().split('\n');
  assert.equal(lines.length, 3, `three report lines, got:\n${out(r)}`);
  const f = REPORT_FILES.exec(lines[0]!);
  const c = REPORT_CHUNKS.exec(lines[1]!);
  const k = REPORT_KB.exec(lines[2]!);
  assert.ok(f && c && k, `unexpected report:\n${out(r)}`);
  return {
    files: f.slice(1, 5).map(Number), notIngested: f[5] === undefined ? 0 : Number(f[5]), chunks: c.slice(1, 4).map(Number),
    kb: { dir: k[1]!, documents: Number(k[2]), chunks: Number(k[3]), embedder: k[4]!, index: k[5]! },
  };
}

let tmp = '';

/** A fresh, empty folder under the suite's temp folder. */
async function freshDir(name: string): Promise<string> {
  const d = join(tmp, name);
  await mkdir(d, { recursive: true });
  return d;
}

/** The installed MiniLM model folder, or undefined (then its suite is skipped). Sizes only: the CLI hashes it. */
const minilm = await openModelInfo(MINILM_MODEL_NAME, { modelsDir: defaultModelsDir(), verifyHashes: false }).catch(() => undefined);

// The suites use separate folders and run side by side; inside a suite that builds on earlier steps, tests run in
// order (concurrency is inherited, so those suites say { concurrency: 1 }).
describe('x0t kb', { concurrency: true }, () => {
  // Hooks of this suite, not the file's: top-level hooks do not wait for concurrent suites on Node 20.
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'x0t-cli-kb-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  // First: the longest suite, so it gets a process slot early.
  describe(`MiniLM (${minilm ? minilm.dir : 'not installed: skipped'})`, { concurrency: 1 }, () => {
    const skip = minilm ? false : `no verified ${MINILM_MODEL_NAME} cache in ${defaultModelsDir()} (\`${SETUP_COMMAND}\`)`;
    // A labelled paraphrase query (test/kb/queries) sharing almost no words with its runbook.
    const QUERY_ID = 'a04';
    let kb: ReturnType<typeof kbCli>;
    let query = { query: '', relevant: [] as string[] };
    before(async () => {
      if (!minilm) return;
      const docs = await freshDir('minilm/docs/runbooks');
      for (const f of ['net-clock-skew.md', 'net-gateway-failover.md']) await cp(join(CORPUS, 'runbooks', f), join(docs, f));
      const labelled = JSON.parse(await readFile(join(ROOT, 'test', 'kb', 'queries', 'a.json'), 'utf8')) as { id: string; query: string; relevant: string[] }[];
      query = labelled.find((q) => q.id === QUERY_ID)!;
      kb = kbCli(join(tmp, 'minilm', 'kb'), defaultModelsDir());
    });

    test('--embedder minilm: ingest without fallback notice, a paraphrase query finds its runbook by vector search', { skip, timeout: 120_000 }, async () => {
      const r = await kb(['ingest', join(tmp, 'minilm', 'docs'), '--embedder', 'minilm', '--no-progress'], 90_000);
      ok(r);
      const rep = ingestReport(r);
      assert.deepEqual(rep.files, [2, 0, 0, 0]);
      assert.equal(rep.kb.embedder, MINILM_MODEL_NAME);
      assert.ok(!noticeLines(r).some((n) => n.includes('lexical embedder')), r.stderr);
      const want = query.relevant[0]!.split('#')[0]!;
      // auto = the embedder the knowledge base was built with.
      const s = await kb(['search', query.query, '--mode', 'vector', '-k', '3', '--json'], 60_000);
      ok(s);
      const hits = parse<SearchJson>(s).hits;
      assert.equal(hits[0]!.chunk.source, want, `"${query.query}": ${hits.map((h) => `${h.chunk.source} ${h.score.toFixed(3)}`).join(', ')}`);
      // The stored MiniLM vectors cannot be searched with the lexical embedder.
      fails(await kb(['search', query.query, '--embedder', 'lexical']), 50, 'X0T_KB_CONFIG');
    });
  });

  describe('lexical fallback on the whole corpus: ingest, search modes, filters, stats', { concurrency: 1 }, () => {
    let models = '';
    let kbDir = '';
    let corpus = '';
    let files = 0;
    let kb: ReturnType<typeof kbCli>;
    before(async () => {
      models = await freshDir('full/models'); // empty: no MiniLM, no cross-encoder
      kbDir = join(tmp, 'full', 'kb');
      corpus = join(tmp, 'full', 'corpus');
      await cp(CORPUS, corpus, { recursive: true });
      files = await ingestableFiles(corpus);
      kb = kbCli(kbDir, models);
    });

    test('ingest prints the three report lines, exits 0, and says plainly on stderr that it fell back to lexical', async () => {
      const r = await kb(['ingest', corpus]);
      ok(r);
      const rep = ingestReport(r);
      assert.deepEqual(rep.files, [files, 0, 0, 0]);
      assert.equal(rep.notIngested, 0);
      const [added, removed, duplicates] = rep.chunks as [number, number, number];
      assert.ok(added > files, `more chunks (${added}) than files (${files})`);
      assert.equal(removed, 0);
      assert.ok(duplicates >= 0);
      assert.deepEqual(rep.kb, { dir: kbDir, documents: files, chunks: added, embedder: rep.kb.embedder, index: 'hnsw' });
      assert.match(rep.kb.embedder, /^lexical-/);
      const notices = noticeLines(r);
      assert.ok(notices.some((n) => isFallbackNotice(n, models)), `fallback notice naming \`${SETUP_COMMAND}\`:\n${r.stderr}`);
    });

    describe('search', { concurrency: true }, () => {
      const search = (query: string, ...more: string[]): Promise<CliResult> => kb(['search', query, '--json', ...more]);

      for (const mode of ['vector', 'bm25', 'hybrid'] as const) {
        test(`--mode ${mode}: exact identifiers find their runbook; -k limits the count; ranks match the mode`, async () => {
          // X0T_SWAP_REJECTED occurs in exactly one runbook of the corpus: that runbook comes first. (Another such
          // identifier, x0t_xdp_attached, is searched in the corrupted-index test.)
          const one = await search('X0T_SWAP_REJECTED', '--mode', mode, '-k', '4');
          ok(one);
          const s = parse<SearchJson>(one);
          assert.deepEqual([s.query, s.mode, s.k], ['X0T_SWAP_REJECTED', mode, 4]);
          assert.equal(s.hits.length, 4, 'the corpus has far more than 4 chunks');
          assert.equal(s.hits[0]!.chunk.source, 'runbooks/ops-hot-swap-rejected.md', `${mode}: ${s.hits.map((h) => h.chunk.source).join(', ')}`);
          for (const h of s.hits) {
            assert.ok(h.ranks.vector !== undefined || h.ranks.bm25 !== undefined);
            if (mode === 'vector') assert.equal(h.ranks.bm25, undefined);
            if (mode === 'bm25') assert.equal(h.ranks.vector, undefined);
            assert.ok(h.chunk.end > h.chunk.start && h.chunk.text.length > 0);
          }
          const scores = s.hits.map((h) => h.score);
          assert.deepEqual(scores, [...scores].sort((a, b) => b - a), 'hits in score order');
          // X0T_PLUGIN_TIMEOUT is also in the traps runbook's table and in incidents: its runbook is in the top 3.
          const r = await search('X0T_PLUGIN_TIMEOUT', '--mode', mode, '-k', '3');
          ok(r);
          const sources = parse<SearchJson>(r).hits.map((h) => h.chunk.source);
          assert.equal(sources.length, 3);
          assert.ok(sources.includes('runbooks/ops-plugin-timeouts.md'), `${mode}: ${sources.join(', ')}`);
          if (mode === 'bm25') assert.equal(sources[0], 'runbooks/ops-plugin-timeouts.md');
        });
      }

      test('text output: numbered hits with source › heading path, offsets and ranks, then a summary line', async () => {
        const r = await kb(['search', 'X0T_SWAP_REJECTED', '-k', '2']);
        ok(r);
        const lines = out(r).trimEnd().split('\n');
        assert.equal(lines.length, 5, out(r));
        assert.match(lines[0]!, /^1\. runbooks\/ops-hot-swap-rejected\.md › .+ {2}\[\d+–\d+\] {2}score \d+\.\d{4} {2}\((vector|bm25) #\d+/);
        assert.match(lines[1]!, /^ {3}\S/);
        assert.match(lines[2]!, /^2\. \S+/);
        assert.match(lines[4]!, /^2 hits in \d+\.\d ms \(hybrid, embedder lexical-\S+\)$/);
        assert.equal(noticeLines(r).length, 0, 'the fallback notice is said once, when the knowledge base is created');
      });

      test('--rerank without a re-ranker model: a notice (stderr in text, "notices" in JSON), results still returned', async () => {
        const j = await search('plugin timeout on slow boards', '--rerank', '-k', '3');
        ok(j);
        const s = parse<SearchJson>(j);
        assert.equal(s.hits.length, 3);
        assert.ok(s.notices.some((n) => /re-rank/.test(n) && /no re-ranker/.test(n)), s.notices.join('\n'));
        assert.ok(s.hits.every((h) => h.ranks.rerank === undefined));
        assert.equal(noticeLines(j).length, 0, 'JSON mode keeps notices out of stderr');
        const t = await kb(['search', 'plugin timeout on slow boards', '--rerank', '-k', '3']);
        ok(t);
        assert.ok(noticeLines(t).some((n) => /no re-ranker/.test(n)), t.stderr);
        assert.match(out(t), /^1\. /);
      });

      test('--kind incident / --kind doc: every hit is of that kind', async () => {
        for (const kind of ['incident', 'doc'] as const) {
          const r = await search('link flapping power save', '--kind', kind, '-k', '8');
          ok(r);
          const hits = parse<SearchJson>(r).hits;
          assert.equal(hits.length, 8);
          for (const h of hits) {
            assert.equal(h.chunk.kind, kind, h.chunk.source);
            assert.equal(h.chunk.incident !== undefined, kind === 'incident');
          }
        }
      });

      test('--tag (repeatable, all must match) and --severity hold for every hit; the tagged incident is found', async () => {
        const first = JSON.parse((await readFile(join(CORPUS, 'incidents', 'a.jsonl'), 'utf8')).split('\n')[0]!) as
          { id: string; title: string; severity: string; tags: string[] };
        const [t1, t2] = first.tags as [string, string];
        const one = await search(first.title, '--tag', t1, '-k', '10');
        ok(one);
        const h1 = parse<SearchJson>(one).hits;
        assert.ok(h1.length > 0);
        for (const h of h1) assert.ok(h.chunk.incident?.tags.includes(t1), `${h.chunk.source} lacks tag ${t1}`);
        assert.equal(h1[0]!.chunk.incident?.incidentId, first.id);
        const two = await search(first.title, '--tag', t1, '--tag', t2, '-k', '10');
        ok(two);
        const h2 = parse<SearchJson>(two).hits;
        assert.ok(h2.length > 0 && h2.length <= h1.length);
        for (const h of h2) assert.ok(h.chunk.incident?.tags.includes(t1) && h.chunk.incident.tags.includes(t2), h.chunk.source);
        const sev = await search('gateway internet unreachable', '--severity', 'critical', '-k', '10');
        ok(sev);
        const hs = parse<SearchJson>(sev).hits;
        assert.ok(hs.length > 0);
        for (const h of hs) assert.equal(h.chunk.incident?.severity, 'critical', h.chunk.source);
      });

      test('--source: a folder prefix or files (repeatable); every hit comes from them; no match → "no results"', async () => {
        const folder = await search('power save', '--source', 'runbooks', '-k', '10');
        ok(folder);
        const hf = parse<SearchJson>(folder).hits;
        assert.equal(hf.length, 10);
        for (const h of hf) assert.ok(h.chunk.source.startsWith('runbooks/'), h.chunk.source);
        const wanted = ['runbooks/net-poe-power.md', 'runbooks/net-mesh-link-flaps.md'];
        const files2 = await search('power save', '--source', wanted[0]!, '--source', wanted[1]!, '-k', '10');
        ok(files2);
        const h2 = parse<SearchJson>(files2).hits;
        assert.ok(h2.length > 0);
        for (const h of h2) assert.ok(wanted.includes(h.chunk.source), h.chunk.source);
        assert.deepEqual(new Set(h2.map((h) => h.chunk.source)), new Set(wanted), 'both files match the query');
        const none = await kb(['search', 'power save', '--source', 'no-such-folder']);
        ok(none);
        assert.equal(out(none), 'no results\n');
      });

      test('--mmr-lambda λ diversifies: same count, distinct chunks, more distinct sources than plain retrieval', async () => {
        const sources = async (...more: string[]): Promise<string[]> => {
          const r = await search('plugin timeout limits', '--mode', 'bm25', '-k', '6', ...more);
          ok(r);
          const hits = parse<SearchJson>(r).hits;
          assert.equal(hits.length, 6);
          assert.equal(new Set(hits.map((h) => h.chunk.id)).size, 6);
          return hits.map((h) => h.chunk.source);
        };
        const plain = new Set(await sources()).size;
        const diverse = new Set(await sources('--mmr-lambda', '0.2')).size;
        assert.ok(diverse > plain, `MMR λ 0.2: ${diverse} distinct sources, plain: ${plain}`);
      });

      test('--index exact finds the same runbook for an exact identifier', async () => {
        // Its own copy of the knowledge base: switching the index kind rewrites index.bin.
        const copy = join(tmp, 'full', 'kb-exact');
        await cp(kbDir, copy, { recursive: true });
        const r = await kbCli(copy, models)(['search', 'X0T_SWAP_REJECTED', '--index', 'exact', '--json', '-k', '3']);
        ok(r);
        assert.equal(parse<SearchJson>(r).hits[0]!.chunk.source, 'runbooks/ops-hot-swap-rejected.md');
      });

      test('stats: text lines and --json agree with the ingest', async () => {
        const j = await kb(['stats', '--json']);
        ok(j);
        const s = parse<StatsJson>(j);
        assert.equal(s.dir, kbDir);
        assert.equal(s.documents, files);
        assert.ok(s.chunks > files);
        assert.match(s.embedder.id, /^lexical-/);
        assert.equal(s.embedder.kind, 'lexical');
        assert.ok(s.embedder.dim > 0);
        assert.equal(s.index.kind, 'hnsw');
        assert.equal(s.index.info.count - s.index.info.deleted, s.chunks);
        assert.equal(s.reranker, null);
        assert.ok(s.bytesOnDisk > 0);
        assert.ok(s.lastIngest !== null && !Number.isNaN(Date.parse(s.lastIngest)), String(s.lastIngest));
        assert.deepEqual(s.notices, []);
        const t = await kb(['stats']);
        ok(t);
        const text = out(t);
        assert.match(text, new RegExp(`^knowledge base +${kbDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
        assert.match(text, new RegExp(`^documents +${s.documents}$`, 'm'));
        assert.match(text, new RegExp(`^chunks +${s.chunks} \\(${s.duplicatesSkipped} duplicates skipped\\)$`, 'm'));
        assert.match(text, new RegExp(`^embedder +${s.embedder.id} \\(lexical, ${s.embedder.dim}-d\\)$`, 'm'));
        assert.match(text, new RegExp(`^index +hnsw: ${s.index.info.count} vectors, `, 'm'));
        assert.match(text, /^re-ranker +none/m);
        assert.match(text, new RegExp(`^last ingest +${s.lastIngest}$`, 'm'));
      });
    });
  });

  describe('incremental ingest: --json report, unchanged, changed, removed', { concurrency: 1 }, () => {
    let docs = '';
    let models = '';
    let kb: ReturnType<typeof kbCli>;
    const picked = ['ops-plugin-timeouts.md', 'ops-sd-card-wear.md', 'net-clock-skew.md', 'ops-hot-swap-rejected.md'];
    before(async () => {
      models = await freshDir('inc/models');
      docs = await freshDir('inc/docs');
      for (const f of picked) await cp(join(CORPUS, 'runbooks', f), join(docs, f));
      kb = kbCli(join(tmp, 'inc', 'kb'), models);
    });

    test('first ingest --json: one JSON object carrying the fallback notice; stderr has no notice lines', async () => {
      const r = await kb(['ingest', docs, '--json']);
      ok(r);
      const j = parse<IngestJson>(r);
      assert.deepEqual([j.filesAdded, j.filesChanged, j.filesUnchanged, j.filesRemoved], [picked.length, 0, 0, 0]);
      assert.deepEqual(j.errors, []);
      assert.equal(j.documents, picked.length);
      assert.equal(j.chunks, j.chunksAdded);
      assert.equal(j.chunksRemoved, 0);
      assert.match(j.embedder, /^lexical-/);
      assert.ok(j.notices.some((n) => isFallbackNotice(n, models)), j.notices.join('\n'));
      assert.equal(noticeLines(r).length, 0, r.stderr);
    });

    test('re-ingest unchanged: 0 added, N unchanged, no chunk changes', async () => {
      const r = await kb(['ingest', docs, '--json', '--no-progress']);
      ok(r);
      const j = parse<IngestJson>(r);
      assert.deepEqual([j.filesAdded, j.filesChanged, j.filesUnchanged, j.filesRemoved, j.chunksAdded, j.chunksRemoved],
        [0, 0, picked.length, 0, 0, 0]);
      const t = await kb(['ingest', docs, '--no-progress']);
      ok(t);
      assert.deepEqual(ingestReport(t).files, [0, 0, picked.length, 0]);
      assert.equal(r.stderr, '', '--no-progress and nothing to say: stderr stays empty');
    });

    test('edit one file: 1 changed, the rest unchanged; the new text is searchable', async () => {
      const file = join(docs, picked[0]!);
      await writeFile(file, (await readFile(file, 'utf8')) + '\n## Zebracorn probe\n\nRun the zebracorn7731 probe when calls stall.\n');
      const r = await kb(['ingest', docs, '--no-progress']);
      ok(r);
      const rep = ingestReport(r);
      assert.deepEqual(rep.files, [0, 1, picked.length - 1, 0]);
      assert.ok(rep.chunks[0]! > 0 && rep.chunks[1]! > 0, `changed file re-chunked: ${out(r)}`);
      assert.equal(rep.kb.documents, picked.length);
      const s = await kb(['search', 'zebracorn7731', '--mode', 'bm25', '--json', '-k', '1']);
      ok(s);
      const hit = parse<SearchJson>(s).hits[0]!;
      assert.equal(hit.chunk.source, picked[0]);
      assert.ok(hit.chunk.headingPath.includes('Zebracorn probe'), hit.chunk.headingPath.join(' › '));
    });

    test('delete one file: 1 removed, its chunks gone from search and stats', async () => {
      const before = parse<StatsJson>(await kb(['stats', '--json']));
      await rm(join(docs, picked[1]!));
      const r = await kb(['ingest', docs, '--no-progress']);
      ok(r);
      const rep = ingestReport(r);
      assert.deepEqual(rep.files, [0, 0, picked.length - 1, 1]);
      assert.equal(rep.chunks[0], 0);
      assert.ok(rep.chunks[1]! > 0);
      const after = parse<StatsJson>(await kb(['stats', '--json']));
      assert.equal(after.documents, picked.length - 1);
      assert.equal(after.chunks, before.chunks - rep.chunks[1]!);
      const gone = await kb(['search', 'SD card wear', '--source', picked[1]!, '--json']);
      ok(gone);
      assert.deepEqual(parse<SearchJson>(gone).hits, []);
    });
  });

  describe('binary files and a corrupted index file', { concurrency: 1 }, () => {
    let docs = '';
    let kbDir = '';
    let kb: ReturnType<typeof kbCli>;
    before(async () => {
      const models = await freshDir('bin/models');
      docs = await freshDir('bin/docs');
      for (const f of ['ops-hot-swap-rejected.md', 'net-xdp-driver-load.md']) await cp(join(CORPUS, 'runbooks', f), join(docs, f));
      // A Markdown name over binary content: found by the folder walk, refused by the decoder.
      const blob = Buffer.alloc(4096);
      for (let i = 0; i < blob.length; i++) blob[i] = (i * 131 + 7) % 256;
      await writeFile(join(docs, 'blob.md'), blob);
      kbDir = join(tmp, 'bin', 'kb');
      kb = kbCli(kbDir, models);
    });

    test('a binary file is listed as not ingested, the others are ingested, exit 54 (X0T_KB_INGEST)', async () => {
      const r = await kb(['ingest', docs, '--no-progress']);
      const rep = ingestReport(r);
      assert.deepEqual(rep.files, [2, 0, 0, 0]);
      assert.equal(rep.notIngested, 1);
      assert.equal(rep.kb.documents, 2);
      assert.match(r.stderr, /^not ingested: .*blob\.md.*binary.*\(X0T_KB_INGEST\)$/m);
      assert.equal(r.code, 54, `exit ${r.code}: KbIngestError's exit code when a file was not ingested`);
      const j = await kb(['ingest', docs, '--json', '--no-progress']);
      const rj = parse<IngestJson>(j);
      assert.deepEqual([rj.filesAdded, rj.filesUnchanged], [0, 2]);
      assert.equal(rj.errors.length, 1);
      assert.equal(rj.errors[0]!.path, 'blob.md');
      assert.equal(rj.errors[0]!.code, 'X0T_KB_INGEST');
      assert.equal(j.code, 54, `exit ${j.code} in --json mode`);
    });

    test('flipped bytes in index.bin: the next search still answers, with a notice that the index was rebuilt', async () => {
      const indexFile = join(kbDir, 'index.bin');
      assert.ok((await stat(indexFile)).size > 0, 'the ingest saved the index');
      for (const where of ['header', 'payload'] as const) {
        const bytes = await readFile(indexFile);
        const at = where === 'header' ? 12 : bytes.length >> 1;
        bytes[at] = bytes[at]! ^ 0x5a;
        bytes[at + 1] = bytes[at + 1]! ^ 0xa5;
        await writeFile(indexFile, bytes);
        const r = await kb(['search', 'x0t_xdp_attached', '--mode', 'vector', '-k', '1']);
        ok(r);
        assert.match(out(r), /^1\. net-xdp-driver-load\.md/);
        assert.ok(noticeLines(r).some((n) => n.includes(indexFile) && /corrupt/.test(n) && /rebuilt/.test(n)), `${where}: ${r.stderr}`);
        // The rebuilt index was saved: the search after it loads cleanly.
        const again = await kb(['search', 'x0t_xdp_attached', '--mode', 'vector', '-k', '1', '--json']);
        ok(again);
        assert.deepEqual(parse<SearchJson>(again).notices, []);
        assert.equal(parse<SearchJson>(again).hits[0]!.chunk.source, 'net-xdp-driver-load.md');
      }
    });
  });

  describe('bad options exit with their error code and print nothing on stdout', { concurrency: true }, () => {
    let models = '';
    let kb: ReturnType<typeof kbCli>;
    let docs = '';
    before(async () => {
      models = await freshDir('bad/models');
      docs = await freshDir('bad/docs');
      await cp(join(CORPUS, 'runbooks', 'ops-plugin-timeouts.md'), join(docs, 'ops-plugin-timeouts.md'));
      kb = kbCli(join(tmp, 'bad', 'kb'), models);
      const made = await kb(['ingest', docs, '--no-progress']);
      assert.equal(made.code, 0, made.stderr);
    });

    test('search or stats on a folder with no knowledge base: X0T_KB_CONFIG, exit 50, and nothing is created', async () => {
      const missing = join(tmp, 'bad', 'no-kb-here');
      const other = kbCli(missing, models);
      for (const args of [['search', 'q'], ['stats']]) {
        const r = await other(args);
        fails(r, 50, 'X0T_KB_CONFIG');
        assert.match(r.stderr, /no knowledge base at/);
      }
      await assert.rejects(stat(missing), 'the folder was not created');
    });

    test('unknown --mode, --size 10, -k 0, --mmr-lambda 2, unknown --embedder / --chunker: X0T_USAGE, exit 2', async () => {
      for (const args of [
        ['search', 'q', '--mode', 'fuzzy'],
        ['search', 'q', '-k', '0'],
        ['search', 'q', '--mmr-lambda', '2'],
        ['search', 'q', '--embedder', 'word2vec'],
        ['ingest', docs, '--size', '10'],
        ['ingest', docs, '--chunker', 'by-word'],
      ]) fails(await kb(args), 2, 'X0T_USAGE');
      const j = await kb(['search', 'q', '--mmr-lambda', '2', '--json']);
      assert.equal(j.code, 2);
      const e = jsonError(j.stderr);
      assert.equal(e.code, 'X0T_USAGE');
      assert.equal(e.details['option'], 'mmr-lambda');
    });

    test('--overlap ≥ --size, or over half of it: X0T_KB_CONFIG, exit 50', async () => {
      for (const args of [['--size', '100', '--overlap', '100'], ['--size', '100', '--overlap', '60']]) {
        const r = await kb(['ingest', docs, '--no-progress', ...args]);
        fails(r, 50, 'X0T_KB_CONFIG');
        assert.match(r.stderr, /overlap/);
      }
    });

    test('--embedder minilm with no model installed: X0T_MODEL_UNAVAILABLE, exit 52, naming the setup command', async () => {
      const r = await kb(['search', 'q', '--embedder', 'minilm']);
      fails(r, 52, 'X0T_MODEL_UNAVAILABLE');
      assert.ok(r.stderr.includes(SETUP_COMMAND), r.stderr);
    });

    test('a --reranker folder that does not exist is an error, not a notice: exit 52', async () => {
      fails(await kb(['search', 'q', '--reranker', join(tmp, 'bad', 'no-such-reranker')]), 52, 'X0T_MODEL_UNAVAILABLE');
    });
  });
});
