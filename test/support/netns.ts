// Network-namespace labs for tests on the real kernel: namespaces joined by veth pairs, commands run inside them,
// and a teardown that removes everything the lab made (namespaces take their veth ends with them). Names carry the
// test's tag and the process id, so labs of tests running side by side never collide.
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** veth pairs made by this process so far: numbers every pair, so labs in one process never reuse a name. */
let vethPairs = 0;

/** Why namespace tests cannot run here, or null when they can (root, `ip` present, a namespace can be made). */
export async function netnsUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'network-namespace tests need root';
  if (!existsSync('/usr/sbin/ip') && !existsSync('/sbin/ip') && !existsSync('/usr/bin/ip')) return 'iproute2 (`ip`) is not installed';
  const probe = `x0t-probe-${process.pid}`;
  try {
    await run('ip', ['netns', 'add', probe]);
    await run('ip', ['netns', 'del', probe]);
    return null;
  } catch (e) {
    return `cannot create a network namespace: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** Runs a command; resolves with its stdout, rejects with its stderr in the message. */
export async function sh(argv: readonly string[], opts: { readonly timeoutMs?: number } = {}): Promise<string> {
  try {
    const { stdout } = await run(argv[0]!, argv.slice(1), { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 << 20 });
    return stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${argv.join(' ')}: ${(err.stderr ?? '').trim() || err.message}`);
  }
}

export interface VethLink {
  /** Interface names on each side, and their IPv4/IPv6 addresses (without prefix length). */
  readonly a: { readonly ns: string; readonly dev: string; readonly ipv4: string; readonly ipv6: string };
  readonly b: { readonly ns: string; readonly dev: string; readonly ipv4: string; readonly ipv6: string };
}

export class NetnsLab {
  readonly #tag: string;
  readonly #namespaces: string[] = [];
  readonly #children = new Set<ChildProcess>();

  /** `tag` names the test (a few letters: interface names are at most 15 characters). */
  constructor(tag: string) {
    this.#tag = `${tag.slice(0, 6)}${process.pid % 100000}`;
  }

  /** The full name of one of this lab's namespaces. */
  ns(name: string): string {
    return `x0t-${this.#tag}-${name}`;
  }

  get namespaces(): readonly string[] {
    return this.#namespaces;
  }

  async addNamespace(name: string): Promise<string> {
    const ns = this.ns(name);
    await sh(['ip', 'netns', 'del', ns]).catch(() => undefined); // left over from a killed run of the same pid
    await sh(['ip', 'netns', 'add', ns]);
    this.#namespaces.push(ns);
    await this.exec(name, ['ip', 'link', 'set', 'lo', 'up']);
    return ns;
  }

  /**
   * Joins two of the lab's namespaces with a veth pair on subnet 10.<subnet>.0.0/24 and fd00:<subnet>::/64
   * (a side gets .1/::1, b side .2/::2), both ends up. IPv6 duplicate-address detection is off so addresses are
   * usable at once.
   */
  async link(a: string, b: string, subnet: number): Promise<VethLink> {
    const n = vethPairs++;
    const devA = `vx${process.pid % 100000}n${n}a`;
    const devB = `vx${process.pid % 100000}n${n}b`;
    await sh(['ip', 'link', 'add', devA, 'netns', this.ns(a), 'type', 'veth', 'peer', 'name', devB, 'netns', this.ns(b)]);
    const sides = [
      { name: a, dev: devA, ipv4: `10.${subnet}.0.1`, ipv6: `fd00:${subnet}::1` },
      { name: b, dev: devB, ipv4: `10.${subnet}.0.2`, ipv6: `fd00:${subnet}::2` },
    ];
    for (const s of sides) {
      await this.exec(s.name, ['sysctl', '-q', '-w', `net.ipv6.conf.${s.dev}.accept_dad=0`]);
      await this.exec(s.name, ['ip', 'link', 'set', s.dev, 'up']);
      await this.exec(s.name, ['ip', 'addr', 'add', `${s.ipv4}/24`, 'dev', s.dev]);
      await this.exec(s.name, ['ip', '-6', 'addr', 'add', `${s.ipv6}/64`, 'dev', s.dev, 'nodad']);
    }
    return {
      a: { ns: this.ns(a), dev: devA, ipv4: sides[0]!.ipv4, ipv6: sides[0]!.ipv6 },
      b: { ns: this.ns(b), dev: devB, ipv4: sides[1]!.ipv4, ipv6: sides[1]!.ipv6 },
    };
  }

  /** Runs a command inside one of the lab's namespaces (by its short name). */
  exec(name: string, argv: readonly string[], opts: { readonly timeoutMs?: number } = {}): Promise<string> {
    return sh(['ip', 'netns', 'exec', this.ns(name), ...argv], opts);
  }

  /** Starts a long-running process inside a namespace; it is killed at teardown if still running. */
  spawn(name: string, argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns(name), ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  /** Kills what the lab started and deletes its namespaces (their interfaces go with them). */
  async close(): Promise<void> {
    for (const c of this.#children) c.kill('SIGKILL');
    await Promise.all([...this.#children].map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(undefined) : c.once('exit', r)))));
    for (const ns of this.#namespaces.splice(0).reverse()) await sh(['ip', 'netns', 'del', ns]).catch(() => undefined);
  }
}
