// babeld (the reference routing daemon the issue compares against) on a MeshLab: one daemon per namespace on that
// node's lab interfaces, at a given wired hello interval, each with a private config, state, pid and log file (the
// defaults under /var would collide between namespaces). Also the ICMP probe the babeld side of the convergence
// measurement uses: `ping -D` from S to R's loopback every 10 ms, replies time-stamped by ping itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from './netns.js';
import { MESH_NODES, type MeshLab, type MeshLinkName, type MeshNode } from './mesh-lab.js';

export const BABELD = '/usr/sbin/babeld';
/** babeld's UDP port (RFC 8966), what the control-traffic counters match. */
export const BABEL_PORT = 6696;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function babeldUnavailable(): string | null {
  try {
    readFileSync(BABELD);
    return null;
  } catch {
    return `${BABELD} is not installed`;
  }
}

export class BabeldMesh {
  readonly #lab: MeshLab;
  readonly #dir: string;
  readonly #daemons = new Map<MeshNode, ChildProcess>();

  private constructor(lab: MeshLab, dir: string) {
    this.#lab = lab;
    this.#dir = dir;
  }

  /** Starts babeld in every node of the lab with `-H helloS` on its lab interfaces (announcing its local addresses). */
  static async start(lab: MeshLab, o: { readonly helloS: number }): Promise<BabeldMesh> {
    const m = new BabeldMesh(lab, mkdtempSync(join(tmpdir(), 'x0tm-babeld-')));
    try {
      for (const n of MESH_NODES) {
        const conf = join(m.#dir, `${n}.conf`);
        // Interfaces are wired (veth); only the lab's addresses are announced (the /32 loopback and link subnets).
        writeFileSync(conf, `default type wired\nredistribute local ip 10.0.0.0/8 ge 24 allow\nredistribute local deny\n`);
        const argv = [
          BABELD, '-d', '0', '-H', String(o.helloS), '-c', conf, '-S', join(m.#dir, `${n}.state`), '-I', join(m.#dir, `${n}.pid`),
          '-L', join(m.#dir, `${n}.log`), ...lab.ports(n).map((p) => p.dev),
        ];
        const child = lab.lab.spawn(n, argv, { stdio: 'ignore' });
        m.#daemons.set(n, child);
      }
      await sleep(200);
      for (const [n, c] of m.#daemons) {
        if (c.exitCode !== null) throw new Error(`babeld in ${n} exited (${c.exitCode}): ${m.log(n)}`);
      }
    } catch (e) {
      await m.stop();
      throw e;
    }
    return m;
  }

  /** A node's babeld log (for failure messages). */
  log(node: MeshNode): string {
    try {
      return readFileSync(join(this.#dir, `${node}.log`), 'utf8');
    } catch {
      return '';
    }
  }

  /**
   * Waits until `from`'s kernel routes `to` over device `dev` (babeld installed the route); returns the ms it took.
   * Throws after `timeoutMs`.
   */
  async waitForRoute(from: MeshNode, to: string, dev: string | null, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const out = await sh(['ip', '-n', this.#lab.ns(from), '-j', 'route', 'show', `${to}/32`]);
      const routes = JSON.parse(out || '[]') as { dev?: string; protocol?: string }[];
      if (routes.some((r) => r.protocol === 'babel' && (dev === null || r.dev === dev))) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs) throw new Error(`babeld: no route ${from} → ${to}${dev ? ` via ${dev}` : ''} after ${timeoutMs} ms`);
      await sleep(50);
    }
  }

  /**
   * After a lab link came back up: waits until both ends have their IPv6 link-local address again (the kernel flushes
   * it on admin down and re-adds it on carrier, after the link event babeld reacts to — babeld then finds no
   * link-local address and would only look again at its periodic interface check, up to 30 s later), then asks the
   * two daemons to check their interfaces now (SIGUSR2). Only the restore is sped up; faults are not touched.
   */
  async linkRestored(link: MeshLinkName, timeoutMs = 5000): Promise<void> {
    const v = this.#lab.link(link);
    const deadline = Date.now() + timeoutMs;
    for (const e of [v.a, v.b]) {
      for (;;) {
        const out = await sh(['ip', '-n', e.ns, '-6', '-j', 'addr', 'show', 'dev', e.dev, 'scope', 'link']);
        const [info] = JSON.parse(out || '[]') as { addr_info?: { local?: string; tentative?: boolean }[] }[];
        if ((info?.addr_info ?? []).some((a) => a.local?.startsWith('fe80') === true && a.tentative !== true)) break;
        if (Date.now() > deadline) throw new Error(`babeld: ${e.dev} has no link-local address ${timeoutMs} ms after restore`);
        await sleep(20);
      }
    }
    const [a, b] = [link[0] as MeshNode, link[1] as MeshNode];
    for (const n of [a, b]) this.#daemons.get(n)?.kill('SIGUSR2');
  }

  /** SIGTERM (babeld withdraws its routes), then SIGKILL for whoever is still running after `graceMs`. */
  async stop(graceMs = 300): Promise<void> {
    const alive = [...this.#daemons.values()].filter((c) => c.exitCode === null && c.signalCode === null);
    const exited = alive.map((c) => new Promise((r) => c.once('exit', r)));
    for (const c of alive) c.kill('SIGTERM');
    await Promise.race([Promise.all(exited), sleep(graceMs)]);
    for (const c of alive) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(exited);
    this.#daemons.clear();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** One echo of a probe flow: when it was sent and when its reply arrived (Date.now() clock), null when lost. */
export interface EchoSample {
  readonly seq: number;
  readonly sentAtMs: number;
  readonly rttMs: number | null;
}

/**
 * A running `ping -D -i 0.01` from a lab node: collects a sample per reply (ping stamps the arrival with the wall
 * clock; sent = arrival − rtt). Lost requests are not listed by ping; their absence is the outage.
 */
export class IcmpProbe {
  readonly samples: EchoSample[] = [];
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  #buffer = '';
  #waiters: (() => void)[] = [];

  constructor(lab: MeshLab, from: MeshNode, to: string, o: { readonly intervalMs: number }) {
    this.#child = spawn('ip', ['netns', 'exec', lab.ns(from), 'ping', '-D', '-n', '-i', String(o.intervalMs / 1000), '-W', '1', to], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.#exited = new Promise((r) => this.#child.once('exit', () => r()));
    this.#child.stdout!.setEncoding('utf8');
    this.#child.stdout!.on('data', (chunk: string) => {
      this.#buffer += chunk;
      let nl: number;
      while ((nl = this.#buffer.indexOf('\n')) >= 0) {
        this.#line(this.#buffer.slice(0, nl));
        this.#buffer = this.#buffer.slice(nl + 1);
      }
    });
  }

  #line(line: string): void {
    const m = /^\[(\d+\.\d+)\].*icmp_seq=(\d+).*time=([\d.]+) ms/.exec(line);
    if (m === null) return;
    const arrival = Number(m[1]) * 1000;
    const rtt = Number(m[3]);
    this.samples.push({ seq: Number(m[2]), sentAtMs: arrival - rtt, rttMs: rtt });
    for (const w of this.#waiters.splice(0)) w();
  }

  /** Resolves when a reply to a request sent at or after `sinceMs` has arrived, or after `timeoutMs` (false). */
  async replyAfter(sinceMs: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.samples.some((s) => s.rttMs !== null && s.sentAtMs >= sinceMs)) return true;
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGINT');
    await this.#exited;
  }
}

/**
 * Convergence from a probe's samples: the time from the fault to the arrival of the first reply to a request sent
 * at or after the fault; null when none arrived.
 */
export function convergenceMs(samples: readonly EchoSample[], faultAtMs: number): number | null {
  let best: number | null = null;
  for (const s of samples) {
    if (s.rttMs === null || s.sentAtMs < faultAtMs) continue;
    const arrival = s.sentAtMs + s.rttMs;
    if (best === null || arrival < best) best = arrival;
  }
  return best === null ? null : best - faultAtMs;
}
