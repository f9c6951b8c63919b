// The knowledge base inside a running node (`x0t node start` in a child process): a node manifest with a
// `knowledge` section over three copied runbooks (lexical embedder, so no model is needed) reaches `ready` through
// GET /kb, GET /kb/search finds the right runbook, /metrics carries the knowledge-base families, a restart ingests
// nothing new; a node whose knowledge base cannot open keeps serving and answers 503 with the reason; a node with no
// `knowledge` answers 404.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { KbConfigError } from '../../../host/errors/index.js';
import { NodeKnowledge, type KnowledgeEvent } from '../../../host/node/node-knowledge.js';
import { encodeF32Vector } from '../../../sdk/abi/generated/contract.js';
import {
  admin, CLI, eventually, ROOT, startNode, tempNodeManifest, type NodeManifestJson, type RunningNode,
} from '../cli/harness.js';
import { parseExposition } from './prometheus.js';

const RUNBOOKS = join(ROOT, 'test', 'kb', 'corpus', 'runbooks');
const COPIED = ['net-clock-skew.md', 'ops-plugin-timeouts.md', 'ops-sd-card-wear.md'];

/** Only the selftest slot: the knowledge base is what is under test, and fewer slots start faster. */
function selftestOnly(m: NodeManifestJson): void {
  for (const name of Object.keys(m.slots)) if (name !== 'selftest') delete m.slots[name];
}

interface KbStatusJson {
  state: string;
  message: string | null;
  notices: string[];
  dir: string;
  stats: { documents: number; chunks: number; embedder: { id: string; kind: string } } | null;
  ingest: { paths: string[]; report: { filesAdded: number; filesUnchanged: number; errors: unknown[] } | null };
  searches: number;
}

async function kbStatus(url: string): Promise<KbStatusJson> {
  const r = await admin(url, '/kb');
  assert.equal(r.status, 200);
  return r.json as KbStatusJson;
}

/** Polls GET /kb until `ready`; every state seen on the way must be one the API documents, and never `failed`. */
async function untilReady(url: string): Promise<{ status: KbStatusJson; seen: Set<string> }> {
  const seen = new Set<string>();
  const status = await eventually(async () => {
    const s = await kbStatus(url);
    seen.add(s.state);
    assert.notEqual(s.state, 'failed', `knowledge base failed: ${s.message}`);
    return s.state === 'ready' ? s : null;
  }, 60_000, 'the knowledge base to be ready');
  for (const s of seen) assert.ok(['opening', 'ingesting', 'ready'].includes(s), s);
  return { status, seen };
}

const search = (url: string, query: string, extra = ''): ReturnType<typeof admin> =>
  admin(url, `/kb/search?q=${encodeURIComponent(query)}${extra}`);

describe('a node with a knowledge base', () => {
  let node: RunningNode;
  let manifest: Awaited<ReturnType<typeof tempNodeManifest>>;

  before(async () => {
    manifest = await tempNodeManifest(undefined, (m) => {
      selftestOnly(m);
      // Relative to the manifest's folder, as the manifest documents.
      m['knowledge'] = { dir: 'kb', embedder: 'lexical', index: 'hnsw', ingest: ['runbooks'] };
    });
    await mkdir(join(manifest.dir, 'runbooks'));
    for (const f of COPIED) await copyFile(join(RUNBOOKS, f), join(manifest.dir, 'runbooks', f));
    node = await startNode(manifest.file);
  });
  after(async () => {
    const code = await node?.stop();
    await manifest?.cleanup();
    assert.equal(code, 0, `node exit code ${code}; stderr:\n${node?.stderr()}`);
  });

  test('GET /kb reaches ready with the three runbooks ingested into the folder the manifest names', async () => {
    const { status } = await untilReady(node.url);
    assert.equal(status.dir, join(manifest.dir, 'kb'));
    assert.deepEqual(status.ingest.paths, [join(manifest.dir, 'runbooks')]);
    assert.equal(status.stats?.documents, 3);
    assert.ok(status.stats!.chunks >= 3, `${status.stats!.chunks} chunks`);
    assert.equal(status.stats?.embedder.kind, 'lexical');
    assert.equal(status.ingest.report?.filesAdded, 3);
    assert.deepEqual(status.ingest.report?.errors, []);
    assert.equal(status.message, null);
    // The node told its log (JSON events in --json mode) that it is ready.
    const ready = await node.waitFor((e) => e['event'] === 'kb' && (e['kb'] as { kind?: string }).kind === 'ready');
    assert.equal((ready['kb'] as { stats: { documents: number } }).stats.documents, 3);
  });

  test('GET /kb/search finds the right runbook for each question, in every mode, as `x0t kb search --json` does', async () => {
    await untilReady(node.url);
    const cases: [string, string][] = [
      ['the clock is wrong after a reboot because there is no real-time clock', 'net-clock-skew.md'],
      ['plugin call timeouts on slow boards', 'ops-plugin-timeouts.md'],
      ['SD card wear makes the root filesystem read-only', 'ops-sd-card-wear.md'],
    ];
    for (const [q, source] of cases) {
      for (const mode of ['hybrid', 'bm25', 'vector']) {
        const r = await search(node.url, q, `&k=2&mode=${mode}`);
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.equal(r.json.query, q);
        assert.equal(r.json.mode, mode);
        assert.equal(r.json.k, 2);
        assert.equal(typeof r.json.ms, 'number');
        assert.ok(Array.isArray(r.json.notices));
        assert.ok(r.json.hits.length >= 1 && r.json.hits.length <= 2, `${r.json.hits.length} hits`);
        const top = r.json.hits[0];
        assert.equal(top.chunk.source, source, `${mode} "${q}" → ${top.chunk.source}`);
        assert.equal(typeof top.score, 'number');
        assert.ok(Array.isArray(top.chunk.headingPath));
        assert.equal(typeof top.chunk.text, 'string');
      }
    }
    // Defaults: k 5, hybrid.
    const d = await search(node.url, 'clock skew');
    assert.equal(d.json.k, 5);
    assert.equal(d.json.mode, 'hybrid');
    assert.ok(d.json.hits.length <= 5);
  });

  test('bad search arguments are 400 X0T_USAGE naming the parameter', async () => {
    for (const [path, param] of [
      ['/kb/search', 'q'], ['/kb/search?q=%20%20', 'q'], ['/kb/search?q=clock&k=0', 'k'], ['/kb/search?q=clock&k=x', 'k'],
      ['/kb/search?q=clock&k=101', 'k'], ['/kb/search?q=clock&mode=semantic', 'mode'],
    ] as const) {
      const r = await admin(node.url, path);
      assert.equal(r.status, 400, path);
      assert.equal(r.json.error.code, 'X0T_USAGE', path);
      assert.equal(r.json.error.details.path, param, path);
    }
    const post = await admin(node.url, '/kb/search?q=clock', { method: 'POST' });
    assert.equal(post.status, 405);
  });

  test('GET /metrics carries x0t_kb_documents, x0t_kb_chunks and x0t_kb_searches_total', async () => {
    const { status } = await untilReady(node.url);
    const before = (await kbStatus(node.url)).searches;
    await search(node.url, 'clock skew');
    await search(node.url, 'sd card');
    const r = await admin(node.url, '/metrics');
    assert.equal(r.status, 200);
    const families = parseExposition(Buffer.from(r.bytes).toString('utf8'));
    const one = (name: string, type: string): number => {
      const f = families.get(name);
      assert.ok(f, `family ${name} missing`);
      assert.equal(f.type, type, name);
      assert.ok(f.help.length > 0, `${name} has no HELP`);
      assert.equal(f.samples.length, 1, name);
      assert.deepEqual(f.samples[0]!.labels, {}, name);
      return f.samples[0]!.value;
    };
    assert.equal(one('x0t_kb_documents', 'gauge'), 3);
    assert.equal(one('x0t_kb_chunks', 'gauge'), status.stats!.chunks);
    assert.ok(one('x0t_kb_searches_total', 'counter') >= before + 2);
    // The slot families are still there.
    assert.ok(families.get('x0t_slot_calls_total'));
  });

  test('after a restart the knowledge base is loaded from its folder and the ingest finds nothing new', async () => {
    const first = (await untilReady(node.url)).status;
    assert.equal(await node.stop(), 0, node.stderr());
    node = await startNode(manifest.file);
    const { status } = await untilReady(node.url);
    assert.equal(status.stats?.chunks, first.stats?.chunks);
    assert.equal(status.ingest.report?.filesAdded, 0);
    assert.equal(status.ingest.report?.filesUnchanged, 3);
    const r = await search(node.url, 'plugin call timeouts on slow boards', '&k=1');
    assert.equal(r.json.hits[0].chunk.source, 'ops-plugin-timeouts.md');
  });
});

describe('a node whose knowledge base cannot open', () => {
  let node: RunningNode;
  let manifest: Awaited<ReturnType<typeof tempNodeManifest>>;

  before(async () => {
    manifest = await tempNodeManifest(undefined, (m) => {
      selftestOnly(m);
      // A file where the knowledge-base folder should be: opening it fails.
      m['knowledge'] = { dir: 'not-a-folder', embedder: 'lexical', index: 'exact' };
    });
    await writeFile(join(manifest.dir, 'not-a-folder'), 'x');
    node = await startNode(manifest.file);
  });
  after(async () => {
    const code = await node?.stop();
    await manifest?.cleanup();
    assert.equal(code, 0, `node exit code ${code}; stderr:\n${node?.stderr()}`);
  });

  test('GET /kb says failed and why; the search is 503 with a typed error; the node keeps serving', async () => {
    const status = await eventually(async () => {
      const s = await kbStatus(node.url);
      return s.state === 'failed' ? s : null;
    }, 30_000, 'the knowledge base to fail');
    assert.match(status.message ?? '', /^X0T_[A-Z_]+: /);
    assert.equal(status.stats, null);
    const r = await search(node.url, 'clock skew');
    assert.equal(r.status, 503);
    assert.equal(r.json.error.code, 'X0T_KB_CONFIG');
    assert.equal(r.json.error.details.state, 'failed');
    assert.equal(r.json.error.details.message, status.message);
    // The failure went to the node's log as a `kb` event, and the slots still answer.
    await node.waitFor((e) => e['event'] === 'kb' && (e['kb'] as { kind?: string }).kind === 'failed');
    assert.equal((await admin(node.url, '/healthz')).status, 200);
    const sum = await admin(node.url, '/slots/selftest/call/sum', { method: 'POST', body: encodeF32Vector({ len: 2, values: Float32Array.of(1, 2) }) });
    assert.equal(sum.status, 200);
    // Metrics: the sizes are unknown (NaN), the counter is 0.
    const families = parseExposition(Buffer.from((await admin(node.url, '/metrics')).bytes).toString('utf8'));
    assert.ok(Number.isNaN(families.get('x0t_kb_chunks')!.samples[0]!.value));
    assert.equal(families.get('x0t_kb_searches_total')!.samples[0]!.value, 0);
  });
});

describe('a node without a knowledge base', () => {
  let node: RunningNode;
  let manifest: Awaited<ReturnType<typeof tempNodeManifest>>;

  before(async () => {
    manifest = await tempNodeManifest(undefined, (m) => {
      selftestOnly(m);
      delete m['knowledge'];
    });
    node = await startNode(manifest.file);
  });
  after(async () => {
    const code = await node?.stop();
    await manifest?.cleanup();
    assert.equal(code, 0, `node exit code ${code}; stderr:\n${node?.stderr()}`);
  });

  test('GET /kb and /kb/search are 404 X0T_KB_CONFIG; /metrics has no knowledge-base families', async () => {
    for (const path of ['/kb', '/kb/search?q=clock']) {
      const r = await admin(node.url, path);
      assert.equal(r.status, 404, path);
      assert.equal(r.json.error.code, 'X0T_KB_CONFIG', path);
      assert.match(r.json.error.message, /no knowledge base/);
    }
    const families = parseExposition(Buffer.from((await admin(node.url, '/metrics')).bytes).toString('utf8'));
    assert.equal([...families.keys()].filter((k) => k.startsWith('x0t_kb_')).length, 0);
    assert.ok(families.get('x0t_slot_calls_total'));
  });
});

describe('x0t node start --demo with a knowledge base', () => {
  test('says plainly which embedder it uses, then prints one search a round: [demo] kb: "<query>" → <source> › <heading>', async () => {
    const manifest = await tempNodeManifest(undefined, (m) => {
      selftestOnly(m);
      m['knowledge'] = { dir: 'kb', embedder: 'lexical', ingest: ['runbooks'] };
    });
    await mkdir(join(manifest.dir, 'runbooks'));
    for (const f of COPIED) await copyFile(join(RUNBOOKS, f), join(manifest.dir, 'runbooks', f));
    const child = spawn(process.execPath, [CLI, 'node', 'start', '--config', manifest.file, '--admin', '127.0.0.1:0', '--demo', '--no-watch'], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await eventually(async () => /^\[demo\] kb: .*\n(?:.*\n)*\[demo\] kb: .*\n(?:.*\n)*\[demo\] kb: /m.test(out), 30_000, `three demo searches; stdout:\n${out}\nstderr:\n${err}`);
      assert.match(out, /^knowledge base: using the lexical embedder lexical-\S+ .*matches words, not meaning/m);
      assert.match(out, /^knowledge base ready in [\d.]+ s: 3 documents, \d+ chunks \(lexical-\S+, hnsw\), ingest: 3 new, 0 changed, 0 removed, 0 unchanged file\(s\)/m);
      const lines = [...out.matchAll(/^\[demo\] kb: "([^"]+)" → (\S+)( › .+)?$/gm)];
      assert.ok(lines.length >= 3, out);
      // Three different questions in turn, each answered from one of the three runbooks (by heading).
      assert.equal(new Set(lines.slice(0, 3).map((m) => m[1])).size, 3);
      for (const m of lines) assert.ok(COPIED.includes(m[2]!), m[0]);
      assert.ok(lines.some((m) => m[2] === 'ops-sd-card-wear.md' && /SD card/.test(m[0])), out);
      child.kill('SIGINT');
      assert.equal(await exited, 0, err);
      assert.equal(err, '');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await manifest.cleanup();
    }
  });
});

describe('NodeKnowledge in process', () => {
  test('before it is open, search refuses with KbConfigError naming the state; close cuts an ingest short and leaves a loadable folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'x0t-node-kb-'));
    try {
      const events: KnowledgeEvent[] = [];
      const spec = { dir: join(dir, 'kb'), models: null, embedder: 'lexical', index: 'hnsw', ingest: [join(ROOT, 'test', 'kb', 'corpus')] } as const;
      const k = new NodeKnowledge(spec, (e) => events.push(e));
      assert.equal(k.state, 'opening');
      const early = await k.search({ query: 'clock skew' }).catch((e: unknown) => e);
      assert.ok(early instanceof KbConfigError, String(early));
      assert.equal(early.details['state'], 'opening');
      k.start();
      await eventually(async () => k.state !== 'opening', 30_000, 'the knowledge base to open');
      // Stop as soon as it is ingesting (or, on a fast machine, already ready): close must not wait for the whole ingest.
      await k.close();
      assert.ok(!events.some((e) => e.kind === 'failed'), JSON.stringify(events));
      // Whatever the ingest got to, the folder opens again, consistent: all of the corpus or none of it.
      const again = new NodeKnowledge({ ...spec, ingest: [] });
      again.start();
      await eventually(async () => again.state === 'ready' || again.state === 'failed', 30_000, 'the reopened knowledge base');
      const st = again.status();
      assert.equal(st.state, 'ready', st.message ?? '');
      assert.ok(st.stats!.documents === 0 || st.stats!.documents >= 40, `${st.stats!.documents} documents`);
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
