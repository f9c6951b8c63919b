// Link state in a real node on the real kernel: `x0t node start --json` runs inside network namespace B with the XDP
// driver on B's veth end, and a second node (no driver section, text output) beside it. Taking the veth down from A's
// side makes B's end lose its carrier: the JSON node's event stream reports `link-down` (reason carrier, marked as the
// driver's interface) within 100 ms of the `ip` command starting, the text node prints one line for it, GET
// /driver/links and `x0t driver status` show the link down, `x0t_link_up` is 0 (and promtool accepts the whole page);
// up again → link-up and 1. batman-adv's absence is stated with the reason. Stopping the nodes ends their processes
// (the link watcher's worker thread closed). Skipped, with the reason, where namespaces cannot be made.
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { LinkView, LinksReport } from '../../../host/node/node-driver.js';
import { netnsUnavailable, NetnsLab, type VethLink } from '../../support/netns.js';
import { parseExposition } from '../admin/prometheus.js';
import { CLI, ROOT, tempNodeManifest, type NodeManifestJson } from '../cli/harness.js';

const SUBNET = 114;
const skip = await netnsUnavailable();
/** The fast-failure-detection bound: link-down on the node's event stream within 100 ms of the command. */
const DETECT_MS = 100;
/**
 * The kernel's linkwatch passes on carrier changes it does not deem urgent in batches at most once a second, host-wide
 * (net/core/link_watch.c); it deems a change urgent when the device's ifindex differs from its link's (dev_get_iflink).
 * A veth end in a fresh namespace is ifindex 2, like its peer in the other fresh namespace, so it would be "not urgent"
 * and its carrier loss could wait up to a second behind any other namespace test's link changes. B gets two devices
 * of its own first, so its end of the pair is ifindex 4 with peer 2, as veth ends usually are.
 */
const PAD_DEVICES = ['x0tpad0', 'x0tpad1'];

function selftestOnly(m: NodeManifestJson): void {
  for (const name of Object.keys(m.slots)) if (name !== 'selftest') delete m.slots[name];
}

interface Line {
  readonly text: string;
  /** process.hrtime.bigint() of this (test) process when the line arrived: the same CLOCK_MONOTONIC as the node's. */
  readonly receivedNs: bigint;
}

/** A node running inside a namespace, its stdout lines collected with their arrival times. */
class NodeProcess {
  readonly lines: Line[] = [];
  #stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      const receivedNs = process.hrtime.bigint();
      buf += c.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (text.trim() !== '') this.lines.push({ text, receivedNs });
      }
    });
    child.stderr!.on('data', (c: Buffer) => (this.#stderr += c.toString('utf8')));
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }

  get stderr(): string {
    return this.#stderr;
  }

  mark(): number {
    return this.lines.length;
  }

  async waitForLine(what: string, pred: (l: Line) => boolean, from = 0, timeoutMs = 30_000): Promise<Line> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const l = this.lines.slice(from).find(pred);
      if (l) return l;
      if (this.child.exitCode !== null) throw new Error(`node exited ${this.child.exitCode} before ${what}; stderr:\n${this.#stderr}`);
      if (Date.now() > deadline) {
        throw new Error(`no ${what} in ${timeoutMs} ms; lines since mark:\n${this.lines.slice(from).map((x) => x.text).join('\n')}\nstderr:\n${this.#stderr}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Waits for a JSON line matching `pred`; resolves with it and its arrival time. */
  async waitForJson(what: string, pred: (e: Record<string, unknown>) => boolean, from = 0): Promise<{ e: Record<string, unknown>; receivedNs: bigint }> {
    const l = await this.waitForLine(what, (x) => pred(JSON.parse(x.text) as Record<string, unknown>), from);
    return { e: JSON.parse(l.text) as Record<string, unknown>, receivedNs: l.receivedNs };
  }
}

describe('link state of a node inside a network namespace', { skip: skip ?? false }, () => {
  const lab = new NetnsLab('nodelnk');
  let veth: VethLink;
  let manifest: Awaited<ReturnType<typeof tempNodeManifest>>;
  let plainManifest: Awaited<ReturnType<typeof tempNodeManifest>>;
  let node: NodeProcess;
  let textNode: NodeProcess;
  let url: string;
  const latencies: { kernelMs: number; streamMs: number }[] = [];

  const x0t = (...args: string[]) => lab.exec('b', [process.execPath, CLI, ...args, '--admin', url]);
  /** GET `path` of the JSON node's admin API, from inside B (where it listens). */
  const get = (path: string) => lab.exec('b', [process.execPath, '-e',
    `fetch(${JSON.stringify(url + path)}).then((r)=>r.text()).then((t)=>process.stdout.write(t)).catch((e)=>{console.error(e);process.exit(1);});`]);
  const ourLink = async (): Promise<LinkView> => {
    const report = JSON.parse(await get('/driver/links')) as LinksReport;
    assert.ok(report.links, JSON.stringify(report));
    const l = report.links.find((x) => x.name === veth.b.dev);
    assert.ok(l, `${veth.b.dev} in ${JSON.stringify(report.links)}`);
    return l;
  };
  const metric = async (name: string, labels: Record<string, string>): Promise<{ value: number | undefined; text: string }> => {
    const text = await get('/metrics');
    const f = parseExposition(text).get(name);
    return { value: f?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value, text };
  };

  /**
   * Sets A's end down or up, noting the monotonic time just before the command; resolves with the JSON node's link
   * event for B's end and the latencies (kernel → node: the event's atNs; → the event stream: the line's arrival).
   */
  const flip = async (state: 'down' | 'up') => {
    const from = node.mark();
    const t0 = process.hrtime.bigint();
    await lab.exec('a', ['ip', 'link', 'set', veth.a.dev, state]);
    const kind = state === 'down' ? 'link-down' : 'link-up';
    const { e, receivedNs } = await node.waitForJson(`${kind} of ${veth.b.dev}`,
      (x) => x['event'] === 'link' && x['kind'] === kind && x['interface'] === veth.b.dev, from);
    return { e, kernelMs: Number(BigInt(e['atNs'] as string) - t0) / 1e6, streamMs: Number(receivedNs - t0) / 1e6 };
  };

  before(async () => {
    await lab.addNamespace('a');
    await lab.addNamespace('b');
    await lab.exec('b', ['ip', 'link', 'add', PAD_DEVICES[0]!, 'type', 'veth', 'peer', 'name', PAD_DEVICES[1]!]);
    veth = await lab.link('a', 'b', SUBNET);
    const ifindex = async (ns: string, dev: string) => (JSON.parse(await lab.exec(ns, ['ip', '-j', 'link', 'show', dev])) as { ifindex: number }[])[0]!.ifindex;
    assert.notEqual(await ifindex('b', veth.b.dev), await ifindex('a', veth.a.dev), 'B\'s veth end must not share its peer\'s ifindex');
    manifest = await tempNodeManifest(undefined, (m) => {
      selftestOnly(m);
      m['driver'] = { interface: veth.b.dev, mode: 'auto' };
    });
    plainManifest = await tempNodeManifest(undefined, selftestOnly);
    node = new NodeProcess(lab.spawn('b', [
      process.execPath, CLI, 'node', 'start', '--json', '--no-watch', '--config', manifest.file, '--admin', '127.0.0.1:0',
    ], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    textNode = new NodeProcess(lab.spawn('b', [
      process.execPath, CLI, 'node', 'start', '--no-watch', '--config', plainManifest.file, '--admin', '127.0.0.1:0',
    ], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    const { e: started } = await node.waitForJson('the started event', (e) => e['event'] === 'started');
    url = started['admin'] as string;
    await textNode.waitForLine('the start banner', (l) => l.text.startsWith('watching') || l.text.startsWith('Ctrl-C'));
  });
  after(async () => {
    try {
      for (const n of [node, textNode]) {
        if (n && n.child.exitCode === null) {
          n.child.kill('SIGTERM');
          await n.exited;
        }
      }
    } finally {
      await lab.close();
      await manifest?.cleanup();
      await plainManifest?.cleanup();
    }
  });

  test('the started event and the text banner say the links are watched and whether batman-adv is there', async () => {
    const { e: started } = await node.waitForJson('the started event', (e) => e['event'] === 'started');
    const driver = started['driver'] as { mode: string; interface: string };
    assert.ok(driver.mode === 'xdp-native' || driver.mode === 'xdp-generic', JSON.stringify(driver));
    assert.deepEqual(started['links'], { watching: true, reason: null });
    const batman = existsSync('/sys/module/batman_adv')
      ? { available: true }
      : { available: false, reason: 'batman-adv is not available in this kernel' };
    assert.deepEqual(started['batman'], batman);
    const banner = textNode.lines.map((l) => l.text);
    assert.ok(banner.includes('  links: watched through rtnetlink (up/down, carrier and address events)'), banner.join('\n'));
    assert.ok(banner.includes(batman.available ? '  batman-adv: available' : `  batman-adv: not available: ${batman.reason}`), banner.join('\n'));
  });

  test('GET /driver/links lists B\'s veth end up, with carrier and its addresses, marked as the driver\'s', async () => {
    const l = await ourLink();
    assert.equal(l.up, true);
    assert.equal(l.adminUp, true);
    assert.equal(l.carrier, true);
    assert.equal(l.driverInterface, true);
    assert.ok(l.addresses.some((a) => a.family === 4 && a.address === veth.b.ipv4 && a.prefixLength === 24), JSON.stringify(l));
    assert.ok(l.addresses.some((a) => a.family === 6 && a.address === veth.b.ipv6 && a.prefixLength === 64), JSON.stringify(l));
    const report = JSON.parse(await get('/driver')) as { links: LinkView[]; linksReason: string | null; interface: string };
    assert.equal(report.linksReason, null);
    assert.equal(report.interface, veth.b.dev);
    assert.deepEqual(report.links.find((x) => x.name === veth.b.dev), l);
    assert.equal((await metric('x0t_link_up', { interface: veth.b.dev })).value, 1);
  });

  test('A\'s end down: carrier loss on the event stream within 100 ms; /driver/links, status and x0t_link_up say down', async (t) => {
    const textFrom = textNode.mark();
    const downsBefore = (await metric('x0t_link_events_total', { kind: 'link-down' })).value ?? NaN;
    const { e, kernelMs, streamMs } = await flip('down');
    latencies.push({ kernelMs, streamMs });
    t.diagnostic(`carrier loss: kernel → node ${kernelMs.toFixed(2)} ms, → event stream ${streamMs.toFixed(2)} ms after the command started`);
    assert.equal(e['reason'], 'carrier');
    assert.equal(e['driverInterface'], true);
    const link = e['link'] as LinkView;
    assert.deepEqual([link.up, link.adminUp, link.carrier], [false, true, false]);
    assert.ok(streamMs < DETECT_MS, `link-down reached the event stream ${streamMs} ms after the command`);

    await textNode.waitForLine('the text line', (l) => l.text === `link ${veth.b.dev}: down (carrier lost)`, textFrom, 5_000);
    const l = await ourLink();
    assert.deepEqual([l.up, l.adminUp, l.carrier], [false, true, false]);
    const status = await x0t('driver', 'status');
    assert.match(status, new RegExp(`^ {2}${veth.b.dev} \\(driver\\) +down \\(no carrier\\) +no +.*${veth.b.ipv4.replace(/\./g, '\\.')}/24`, 'm'));
    assert.match(status, /^ {2}links {7}\d+ interfaces, watched through rtnetlink$/m);
    assert.match(status, /^ {2}batman-adv {2}(available|not available: .+)$/m);
    const json = JSON.parse(await x0t('driver', 'status', '--json')) as { links: LinkView[]; batman: { available: boolean } };
    assert.equal(json.links.find((x) => x.name === veth.b.dev)?.up, false);
    assert.equal(typeof json.batman.available, 'boolean');

    const up = await metric('x0t_link_up', { interface: veth.b.dev });
    assert.equal(up.value, 0);
    assert.equal((await metric('x0t_link_carrier', { interface: veth.b.dev })).value, 0);
    assert.equal((await metric('x0t_link_events_total', { kind: 'link-down' })).value, downsBefore + 1);
    if (spawnSync('promtool', ['--version']).error) return t.skip('promtool is not installed');
    const all = spawnSync('promtool', ['check', 'metrics'], { input: up.text, encoding: 'utf8' });
    assert.equal(all.status, 0, `promtool (whole page):\n${all.stdout}${all.stderr}`);
  });

  test('A\'s end up again: link-up on the event stream and in the text output, x0t_link_up 1', async () => {
    const textFrom = textNode.mark();
    const { e } = await flip('up');
    assert.equal(e['driverInterface'], true);
    assert.equal((e['link'] as LinkView).up, true);
    await textNode.waitForLine('the text line', (l) => l.text === `link ${veth.b.dev}: up`, textFrom, 5_000);
    assert.equal((await ourLink()).up, true);
    assert.equal((await metric('x0t_link_up', { interface: veth.b.dev })).value, 1);
    assert.equal((await metric('x0t_link_carrier', { interface: veth.b.dev })).value, 1);
  });

  test('carrier loss is reported within 100 ms every time (5 more rounds)', async (t) => {
    for (let round = 0; round < 5; round++) {
      const down = await flip('down');
      latencies.push({ kernelMs: down.kernelMs, streamMs: down.streamMs });
      assert.equal(down.e['reason'], 'carrier');
      await flip('up');
    }
    const stream = latencies.map((x) => x.streamMs).sort((a, b) => a - b);
    t.diagnostic(`carrier loss → event stream, ms: ${latencies.map((x) => x.streamMs.toFixed(1)).join(', ')} ` +
      `(median ${stream[Math.floor(stream.length / 2)]!.toFixed(1)}, max ${stream.at(-1)!.toFixed(1)}); ` +
      `kernel → node: max ${Math.max(...latencies.map((x) => x.kernelMs)).toFixed(1)} ms`);
    for (const x of latencies) assert.ok(x.streamMs < DETECT_MS, `link-down reached the event stream ${x.streamMs} ms after the command`);
  });

  test('stopping the nodes ends their processes (the link watcher closed) with exit 0', async () => {
    for (const n of [node, textNode]) {
      n.child.kill('SIGTERM');
      assert.equal(await n.exited, 0, n.stderr);
    }
    assert.ok(node.lines.some((l) => l.text.includes('"event":"stopped"')));
  });
});
