// A mesh of real node processes (`x0t node start --json`) on 127.0.0.1 for the mesh-node integration tests: the first
// node is the mesh CA, the others join with tokens it makes through its admin API; each node's static peers give
// the topology. Not a test file itself.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { admin, CLI, pluginManifest, ROOT } from '../cli/harness.js';

export const TRUST_DOMAIN = 'lab.x0tta6bl4.test';

export interface LabNode {
  readonly name: string;
  readonly index: number;
  readonly meshPort: number;
  readonly dir: string;
  readonly manifest: string;
  child: ChildProcessWithoutNullStreams | null;
  url: string;
  fingerprint: string;
  mtlsUrl: string | null;
  events: Record<string, unknown>[];
  stderr: string;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r, j) => s.once('error', j).bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export class MeshLab {
  readonly nodes: LabNode[] = [];
  readonly edges: readonly [number, number][];
  readonly dir: string;
  readonly helloMs: number;

  private constructor(dir: string, edges: readonly [number, number][], helloMs: number) {
    this.dir = dir;
    this.edges = edges;
    this.helloMs = helloMs;
  }

  static async create(n: number, edges: readonly [number, number][], helloMs: number): Promise<MeshLab> {
    const lab = new MeshLab(await mkdtemp(join(tmpdir(), 'x0t-mesh-lab-')), edges, helloMs);
    for (let i = 0; i < n; i++) {
      const dir = join(lab.dir, `n${i}`);
      await mkdir(dir, { recursive: true });
      lab.nodes.push({
        name: `n${i}`, index: i, meshPort: await freeUdpPort(), dir, manifest: join(dir, 'node.json'),
        child: null, url: '', fingerprint: '', mtlsUrl: null, events: [], stderr: '',
      });
    }
    return lab;
  }

  neighboursOf(i: number): number[] {
    return this.edges.flatMap(([a, b]) => (a === i ? [b] : b === i ? [a] : []));
  }

  /** Writes node i's manifest (identity given by the caller: ca or join) and starts it; resolves once it serves. */
  async start(i: number, identity: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<LabNode> {
    const nd = this.nodes[i]!;
    const m = {
      schemaVersion: 1,
      identity: { name: nd.name, trustDomain: TRUST_DOMAIN, stateDir: join(nd.dir, 'state'), ...identity },
      listen: { admin: '127.0.0.1:0', mesh: [`127.0.0.1:${nd.meshPort}`], ...(extra['listen'] as object | undefined) },
      peers: this.neighboursOf(i).map((j) => ({ name: this.nodes[j]!.name, address: `127.0.0.1:${this.nodes[j]!.meshPort}` })),
      mesh: { helloMs: this.helloMs },
      slots: {
        kem: { capability: 'kem', plugin: pluginManifest('ml-kem-768') },
        signer: { capability: 'signer', plugin: pluginManifest('ml-dsa-65') },
      },
    };
    await writeFile(nd.manifest, JSON.stringify(m, null, 2));
    return this.restart(i);
  }

  /** Starts node i again from the manifest it has (its state folder keeps its keys and SVID). */
  async restart(i: number): Promise<LabNode> {
    const nd = this.nodes[i]!;
    nd.events = [];
    nd.stderr = '';
    const child = spawn(process.execPath, [CLI, 'node', 'start', '--config', nd.manifest, '--json', '--no-watch'], {
      cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'],
    });
    nd.child = child;
    child.stderr.on('data', (c: Buffer) => (nd.stderr += c.toString()));
    let buf = '';
    const started = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => {
        buf += c.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const e = JSON.parse(line) as Record<string, unknown>;
          nd.events.push(e);
          if (e['event'] === 'started') {
            nd.url = e['admin'] as string;
            const mesh = e['mesh'] as { fingerprint: string; adminMtls: string | null };
            nd.fingerprint = mesh.fingerprint;
            nd.mtlsUrl = mesh.adminMtls;
            resolve();
          }
        }
      });
      child.once('exit', (code) => reject(new Error(`${nd.name} exited with ${code} before starting:\n${nd.stderr}`)));
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    try {
      await started;
    } finally {
      clearTimeout(timer);
    }
    return nd;
  }

  /** SIGTERM, SIGKILL after 10 s; resolves with the exit code and how long the stop took. */
  async stop(i: number): Promise<{ code: number | null; ms: number }> {
    const nd = this.nodes[i]!;
    const child = nd.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return { code: child?.exitCode ?? null, ms: 0 };
    const t0 = Date.now();
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(killer);
    nd.child = null;
    return { code, ms: Date.now() - t0 };
  }

  async token(): Promise<{ token: string; bundleSha256: string; server: string }> {
    const r = await admin(this.nodes[0]!.url, '/mesh/token', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ttlMs: 600_000 }),
    });
    if (r.status !== 200) throw new Error(`token: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }

  async routes(i: number): Promise<{ dest: string; nextHops: string[]; hops: number; tq: number }[]> {
    return (await admin(this.nodes[i]!.url, '/mesh/routes')).json;
  }

  async ping(from: number, to: number, body: Record<string, unknown> = {}): Promise<{ sent: number; received: number; samples: { seq: number; sentAtMs: number; rttMs: number | null }[] }> {
    const r = await admin(this.nodes[from]!.url, '/mesh/ping', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: this.nodes[to]!.fingerprint, count: 1, intervalMs: 100, timeoutMs: 1000, ...body }),
    });
    if (r.status !== 200) throw new Error(`ping: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json;
  }

  nameOf(fp: string | undefined): string {
    return this.nodes.find((n) => n.fingerprint === fp)?.name ?? String(fp);
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.stop(i)));
    await rm(this.dir, { recursive: true, force: true });
  }
}
