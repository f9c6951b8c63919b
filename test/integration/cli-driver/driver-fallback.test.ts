// The fallback on the real kernel: a node whose manifest names a driver interface but which runs without the
// privileges BPF needs (`x0t node start` as user nobody, inside a fresh network namespace) runs the user-space driver
// and says why — in its `started` event and in `x0t driver status` — instead of failing or pretending; with
// `driver.required: true` the same node refuses to start (UnsupportedError, exit 30). Skipped, with the reason, where
// this process cannot make namespaces or switch users (not root, no setpriv).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { netnsUnavailable, NetnsLab } from '../../support/netns.js';
import { CLI, ROOT, tempNodeManifest, type NodeManifestJson } from '../cli/harness.js';

const skip = (await netnsUnavailable()) ?? (spawnSync('setpriv', ['--version']).error ? 'setpriv (util-linux) is not installed' : null);
const AS_NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'env', 'HOME=/tmp'];

function selftestOnly(m: NodeManifestJson): void {
  for (const name of Object.keys(m.slots)) if (name !== 'selftest') delete m.slots[name];
}

/** A temp node manifest that user nobody can read. */
async function readableManifest(driver: Record<string, unknown>): Promise<Awaited<ReturnType<typeof tempNodeManifest>>> {
  const m = await tempNodeManifest(undefined, (n) => {
    selftestOnly(n);
    n['driver'] = driver;
  });
  await chmod(m.dir, 0o755);
  await chmod(m.file, 0o644);
  return m;
}

describe('a node without the privileges for XDP', { skip: skip ?? false }, () => {
  const lab = new NetnsLab('nodefb');
  before(async () => {
    await lab.addNamespace('b');
  });
  after(async () => {
    await lab.close();
  });

  test('falls back to the user-space driver and states the reason', async () => {
    const manifest = await readableManifest({ interface: 'lo' });
    try {
      const child = lab.spawn('b', [...AS_NOBODY, process.execPath, CLI, 'node', 'start', '--json', '--no-watch',
        '--config', manifest.file, '--admin', '127.0.0.1:0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.stderr!.on('data', (c: Buffer) => (err += c.toString('utf8')));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      const deadline = Date.now() + 30_000;
      while (!out.includes('\n') && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(out.includes('\n'), `no started event; stderr:\n${err}`);
      const started = JSON.parse(out.slice(0, out.indexOf('\n'))) as {
        event: string; admin: string; driver: { mode: string; reason: string }; links: unknown; batman: { available: boolean };
      };
      assert.equal(started.event, 'started');
      assert.equal(started.driver.mode, 'userspace');
      assert.match(started.driver.reason, /^XDP on lo is unavailable: ./);
      // rtnetlink link events need no privilege: the unprivileged node still watches its links.
      assert.deepEqual(started.links, { watching: true, reason: null });
      assert.equal(typeof started.batman.available, 'boolean');

      const status = await lab.exec('b', [process.execPath, CLI, 'driver', 'status', '--admin', started.admin]);
      assert.equal(status.split('\n')[0], `driver: userspace fallback, the XDP program is not running: ${started.driver.reason}`);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, err);
    } finally {
      await manifest.cleanup();
    }
  });

  test('refuses to start when the manifest requires the driver (UnsupportedError, exit 30)', async () => {
    const manifest = await readableManifest({ interface: 'lo', required: true });
    try {
      const r = spawnSync('ip', ['netns', 'exec', lab.ns('b'), ...AS_NOBODY, process.execPath, CLI, 'node', 'start', '--json',
        '--no-watch', '--config', manifest.file, '--admin', '127.0.0.1:0'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 30, r.stderr);
      assert.equal((JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { error: { code: string } }).error.code, 'X0T_UNSUPPORTED');
    } finally {
      await manifest.cleanup();
    }
  });
});
