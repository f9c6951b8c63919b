// Spawns the real CLI (dist/host/cli/main.js) and real nodes for the CLI and admin API integration tests.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/integration/cli/). */
export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const CLI = join(ROOT, 'dist', 'host', 'cli', 'main.js');
export const FIXTURE_MANIFESTS = join(ROOT, 'test', 'fixtures', 'manifests');
export const FIXTURE_WASM = join(ROOT, 'test', 'fixtures', 'wasm');
export const PLUGIN_MANIFESTS = join(ROOT, 'manifests', 'plugins');
export const DEFAULT_NODE = join(ROOT, 'manifests', 'nodes', 'default.json');

export const fixtureManifest = (name: string): string => join(FIXTURE_MANIFESTS, `${name}.json`);
export const fixtureWasm = (name: string): string => join(FIXTURE_WASM, `${name}.wasm`);
export const pluginManifest = (name: string): string => join(PLUGIN_MANIFESTS, `${name}.json`);

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs `x0t …args` to completion; kills it after `timeoutMs` (then the result shows the signal). */
export function runCli(
  args: readonly string[],
  opts: { stdin?: Uint8Array | string; cwd?: string; timeoutMs?: number; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return new Promise((resolveRun, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({
        code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), ms: performance.now() - t0,
      });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

/** Parses `{"error": {code, message, details}}` from the last non-empty stderr line (CLI --json mode). */
export function jsonError(stderr: string): { code: string; message: string; details: Record<string, unknown> } {
  const last = stderr.trim().split('\n').at(-1) ?? '';
  return (JSON.parse(last) as { error: { code: string; message: string; details: Record<string, unknown> } }).error;
}

export interface RunningNode {
  readonly url: string;
  readonly child: ChildProcessWithoutNullStreams;
  /** Every JSON line the node printed so far. */
  readonly events: Record<string, unknown>[];
  readonly stderr: () => string;
  /** Resolves with the first event matching `pred` (already printed or yet to come). */
  waitFor(pred: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM, then resolves with the exit code (SIGKILL after 10 s). */
  stop(): Promise<number | null>;
}

/** Nodes still running; killed when the test process exits, however it ends. */
const liveNodes = new Set<ChildProcessWithoutNullStreams>();
process.once('exit', () => {
  for (const c of liveNodes) c.kill('SIGKILL');
});

/** Starts `x0t node start --json --admin 127.0.0.1:0 …` and waits until it says where its admin API is. */
export async function startNode(config: string, extra: readonly string[] = []): Promise<RunningNode> {
  const child = spawn(process.execPath, [CLI, 'node', 'start', '--json', '--config', config, '--admin', '127.0.0.1:0', ...extra], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  liveNodes.add(child);
  child.once('exit', () => liveNodes.delete(child));
  const events: Record<string, unknown>[] = [];
  const waiters: { pred: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  let err = '';
  let buf = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  child.stdout.on('data', (c: Buffer) => {
    buf += c.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === '') continue;
      const e = JSON.parse(line) as Record<string, unknown>;
      events.push(e);
      for (const w of [...waiters]) {
        if (w.pred(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    }
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const waitFor = (pred: (e: Record<string, unknown>) => boolean, timeoutMs = 20_000): Promise<Record<string, unknown>> => {
    const seen = events.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolveWait, reject) => {
      const timer = setTimeout(() => reject(new Error(`node did not print the expected event within ${timeoutMs} ms; stderr:\n${err}`)), timeoutMs);
      const w = { pred, resolve: (e: Record<string, unknown>) => { clearTimeout(timer); resolveWait(e); } };
      waiters.push(w);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`node exited (${code}) before the expected event; stderr:\n${err}`));
      });
    });
  };
  let started: Record<string, unknown>;
  try {
    started = await waitFor((e) => e['event'] === 'started');
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(killer);
    return code;
  };
  return { url: started['admin'] as string, child, events, stderr: () => err, waitFor, stop };
}

/** A temp folder holding a copy of a node manifest whose slot plugin paths are made absolute. */
export async function tempNodeManifest(
  source = DEFAULT_NODE,
  edit: (m: NodeManifestJson) => void = () => undefined,
): Promise<{
  dir: string;
  file: string;
  /** Edits the manifest in place, or (`replace`) the way editors save: write a new file, rename it over the old. */
  write: (edit: (m: NodeManifestJson) => void, how?: 'in-place' | 'replace') => Promise<void>;
  cleanup: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'x0t-node-'));
  const file = join(dir, 'node.json');
  const m = JSON.parse(await readFile(source, 'utf8')) as NodeManifestJson;
  delete m.$schema;
  for (const s of Object.values(m.slots)) s.plugin = resolve(dirname(source), s.plugin);
  // The default node's knowledge base (a folder relative to the manifest, ingested at start) would land outside the
  // temp folder and be shared by parallel nodes; tests that want one add their own in `edit`.
  delete (m as { knowledge?: unknown }).knowledge;
  edit(m);
  await writeFile(file, JSON.stringify(m, null, 2));
  return {
    dir,
    file,
    write: async (change, how = 'in-place') => {
      change(m);
      if (how === 'in-place') {
        await writeFile(file, JSON.stringify(m, null, 2));
      } else {
        await writeFile(file + '.tmp', JSON.stringify(m, null, 2));
        await rename(file + '.tmp', file);
      }
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface NodeManifestJson {
  $schema?: string;
  identity: { name: string; trustDomain: string };
  listen: { admin: string; mesh: string[] };
  slots: Record<string, { capability: string; plugin: string; limits?: Record<string, number> }>;
  policies: Record<string, unknown>;
  [k: string]: unknown;
}

/** GET/POST against a node's admin API; resolves with the status and the parsed JSON (or raw bytes). */
export async function admin(
  url: string, path: string, init: RequestInit = {},
): Promise<{ status: number; json: any; bytes: Uint8Array; type: string }> {
  const res = await fetch(url + path, init);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const type = res.headers.get('content-type') ?? '';
  const json: unknown = type.startsWith('application/json') ? JSON.parse(Buffer.from(bytes).toString('utf8')) : null;
  return { status: res.status, json, bytes, type };
}

/** Polls `f` until it returns a truthy value or the time is up. */
export async function eventually<T>(f: () => Promise<T | null | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
