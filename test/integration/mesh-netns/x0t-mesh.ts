// Our mesh on a MeshLab: one `x0t node start` process per namespace, each with a generated node manifest (mesh
// sockets on its lab addresses, its lab neighbours as static peers, hello interval, pinned-key trust of all five
// nodes' public keys made by `x0t keys gen`), driven through its admin API (GET /mesh, GET /mesh/routes,
// POST /mesh/ping). The admin API listens on 127.0.0.1 inside each namespace, so requests are made with curl run in
// that namespace. Also the RoutingUnderTest adapter the convergence procedure uses (bench/mesh-converge.ts).
import { execFile, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { EchoSample } from '../../support/babeld.js';
import { MESH_NODES, type MeshLab, type MeshNode } from '../../support/mesh-lab.js';
import type { ProbeFlow, RoutingUnderTest } from '../../../bench/mesh-converge.js';

const run = promisify(execFile);
const CLI = resolve('dist/host/cli/main.js');
/** The UDP port every node's mesh sockets bind (on its lab addresses); what the control-traffic counters match. */
export const X0T_MESH_PORT = 7946;
const ADMIN = '127.0.0.1:9470';
const TRUST_DOMAIN = 'lab.x0t.test';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface RouteView {
  readonly dest: string;
  readonly nextHops: readonly string[];
  readonly tq: number;
  readonly hops: number;
}

export function x0tCliUnavailable(): string | null {
  try {
    readFileSync(CLI);
    return null;
  } catch {
    return `${CLI} is not built (npx tsc -p .)`;
  }
}

export class X0tMesh {
  readonly #lab: MeshLab;
  readonly #dir: string;
  readonly #nodes = new Map<MeshNode, ChildProcess>();
  readonly #fingerprints = new Map<MeshNode, string>();

  private constructor(lab: MeshLab, dir: string) {
    this.#lab = lab;
    this.#dir = dir;
  }

  /**
   * Generates keys and manifests and starts the five nodes. `suite` and `helloMs` go into every manifest.
   */
  static async start(lab: MeshLab, o: { readonly helloMs: number; readonly suite?: 'hybrid' | 'classic'; readonly startTimeoutMs?: number }): Promise<X0tMesh> {
    const m = new X0tMesh(lab, mkdtempSync(join(tmpdir(), 'x0tm-nodes-')));
    try {
      // One at a time: each loads the ML-KEM / ML-DSA plugins, which must start within a few seconds on 2 busy cores.
      for (const n of MESH_NODES) {
        await run(process.execPath, [
          CLI, 'keys', 'gen', '--out', join(m.#dir, `${n}.key.json`), '--public-out', join(m.#dir, `${n}.pub.json`), '--name', `lab-${n}`,
        ], { timeout: 120_000 });
      }
      for (const n of MESH_NODES) {
        const ports = lab.ports(n);
        const manifest = {
          schemaVersion: 1,
          identity: { name: `lab-${n}`, trustDomain: TRUST_DOMAIN, keyFile: `${n}.key.json` },
          listen: { admin: ADMIN, mesh: ports.map((p) => `${p.ipv4}:${X0T_MESH_PORT}`) },
          peers: ports.map((p) => ({ name: `lab-${p.neighbour}`, address: `${p.neighbourIpv4}:${X0T_MESH_PORT}` })),
          mesh: {
            helloMs: o.helloMs,
            suite: o.suite ?? 'hybrid',
            trust: { pinned: MESH_NODES.filter((p) => p !== n).map((p) => `${p}.pub.json`) },
          },
          slots: {},
        };
        writeFileSync(join(m.#dir, `${n}.json`), `${JSON.stringify(manifest, null, 2)}\n`);
      }
      await m.#launch(o.startTimeoutMs ?? 90_000);
    } catch (e) {
      await m.stop();
      throw e;
    }
    return m;
  }

  /** Starts the nodes one after the other, each once the previous one answers GET /mesh (plugins start in time). */
  async #launch(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const n of MESH_NODES) {
      const log = openSync(join(this.#dir, `${n}.log`), 'a');
      try {
        const child = this.#lab.lab.spawn(n, [process.execPath, CLI, 'node', 'start', '--config', join(this.#dir, `${n}.json`), '--no-watch'], { stdio: ['ignore', log, log] });
        this.#nodes.set(n, child);
      } finally {
        closeSync(log);
      }
      for (;;) {
        const child = this.#nodes.get(n)!;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`x0t node in ${n} exited: ${this.log(n).slice(-2000)}`);
        const st = (await this.api(n, 'GET', '/mesh').catch(() => null)) as { fingerprint?: string } | null;
        if (typeof st?.fingerprint === 'string') {
          const known = this.#fingerprints.get(n);
          if (known !== undefined && known !== st.fingerprint) throw new Error(`x0t node in ${n} came back as ${st.fingerprint}, was ${known}`);
          this.#fingerprints.set(n, st.fingerprint);
          break;
        }
        if (Date.now() > deadline) throw new Error(`x0t node in ${n} did not serve GET /mesh: ${this.log(n).slice(-2000)}`);
        await sleep(200);
      }
    }
  }

  /** Stops all nodes and starts them again with the same keys and manifests (a fresh routing state). */
  async restart(timeoutMs = 90_000): Promise<void> {
    await this.#terminate(3000);
    await this.#launch(timeoutMs);
  }

  fingerprint(node: MeshNode): string {
    const fp = this.#fingerprints.get(node);
    if (fp === undefined) throw new Error(`x0t mesh: no fingerprint for ${node}`);
    return fp;
  }

  /** A node's stdout/stderr so far (for failure messages). */
  log(node: MeshNode): string {
    try {
      return readFileSync(join(this.#dir, `${node}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  /** A JSON request to a node's admin API (curl inside its namespace). Rejects on a non-2xx status. */
  async api(node: MeshNode, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 10_000): Promise<unknown> {
    const argv = ['netns', 'exec', this.#lab.ns(node), 'curl', '-sS', '--fail-with-body', '--max-time', String(Math.ceil(timeoutMs / 1000)), '-X', method];
    if (body !== undefined) argv.push('-H', 'content-type: application/json', '--data-binary', JSON.stringify(body));
    argv.push(`http://${ADMIN}${path}`);
    const { stdout } = await run('ip', argv, { timeout: timeoutMs + 2000, maxBuffer: 64 << 20 }).catch((e: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`${method} ${path} on ${node}: ${(e.stdout ?? '').trim() || (e.stderr ?? '').trim() || e.message}`);
    });
    return JSON.parse(stdout) as unknown;
  }

  async routes(node: MeshNode): Promise<RouteView[]> {
    return (await this.api(node, 'GET', '/mesh/routes')) as RouteView[];
  }

  /** The next hops (fingerprints, best first) `from` has towards `to`; [] when it has no route. */
  async nextHops(from: MeshNode, to: MeshNode): Promise<readonly string[]> {
    const dest = this.fingerprint(to);
    return (await this.routes(from)).find((r) => r.dest === dest)?.nextHops ?? [];
  }

  /** Waits until `from` has a route to `to` whose first hop is `via` (any when null); returns the ms it took. */
  async waitForRoute(from: MeshNode, to: MeshNode, via: MeshNode | null, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const hops = await this.nextHops(from, to).catch(() => []);
      if (hops.length > 0 && (via === null || hops[0] === this.fingerprint(via))) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs) {
        throw new Error(`x0t mesh: no route ${from} → ${to}${via ? ` via ${via}` : ''} after ${timeoutMs} ms (next hops ${JSON.stringify(hops)})`);
      }
      await sleep(100);
    }
  }

  /** `POST /mesh/ping` from one node to another. */
  async ping(from: MeshNode, to: MeshNode, o: { readonly count: number; readonly intervalMs: number; readonly timeoutMs: number }): Promise<{ sent: number; received: number; samples: EchoSample[] }> {
    const budget = o.count * o.intervalMs + o.timeoutMs + 5000;
    return (await this.api(from, 'POST', '/mesh/ping', { to: this.fingerprint(to), count: o.count, intervalMs: o.intervalMs, timeoutMs: o.timeoutMs }, budget)) as {
      sent: number; received: number; samples: EchoSample[];
    };
  }

  /** SIGTERM, then SIGKILL for whoever is still running after `graceMs`; removes keys, manifests and logs. */
  async stop(graceMs = 3000): Promise<void> {
    await this.#terminate(graceMs);
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #terminate(graceMs: number): Promise<void> {
    const alive = [...this.#nodes.values()].filter((c) => c.exitCode === null && c.signalCode === null);
    const exited = alive.map((c) => new Promise((r) => c.once('exit', r)));
    for (const c of alive) c.kill('SIGTERM');
    await Promise.race([Promise.all(exited), sleep(graceMs)]);
    for (const c of alive) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(exited);
    this.#nodes.clear();
  }
}

/** Our mesh as a routing under test: POST /mesh/ping S → R; the first hop is S's best next hop towards R. */
export function x0tUnderTest(mesh: X0tMesh): RoutingUnderTest {
  return {
    name: 'x0t',
    async startFlow(intervalMs, durationMs): Promise<ProbeFlow> {
      const count = Math.ceil(durationMs / intervalMs);
      const result = mesh.ping('s', 'r', { count, intervalMs, timeoutMs: 1000 });
      result.catch(() => undefined); // awaited in finish; not an unhandled rejection meanwhile
      return {
        async finish() {
          return (await result).samples;
        },
      };
    },
    async firstHop() {
      const hops = await mesh.nextHops('s', 'r');
      if (hops[0] === mesh.fingerprint('a')) return 'primary';
      if (hops[0] === mesh.fingerprint('b')) return 'backup';
      return null;
    },
  };
}
