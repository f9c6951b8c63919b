// `x0t node start` in text mode, the way a newcomer runs it: it says where the admin API is, the --demo workload
// prints a FedAvg round and a selftest sum, and SIGINT stops it cleanly with exit code 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { admin, CLI, ROOT, runCli, tempNodeManifest } from './harness.js';

/** A node started by `x0t node start` in text mode, with its output collected and a way to wait for a line. */
function startNode(args: readonly string[]): {
  child: ReturnType<typeof spawn>; out: () => string; err: () => string; exited: Promise<number | null>;
  seen: (re: RegExp, ms?: number) => Promise<RegExpExecArray>;
} {
  const child = spawn(process.execPath, [CLI, 'node', 'start', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const seen = (re: RegExp, ms = 20_000): Promise<RegExpExecArray> => new Promise((resolve, reject) => {
    const check = (): boolean => {
      const m = re.exec(out);
      if (m) resolve(m);
      return m !== null;
    };
    if (check()) return;
    const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms; stdout:\n${out}\nstderr:\n${err}`)), ms);
    child.stdout!.on('data', () => {
      if (check()) clearTimeout(timer);
    });
  });
  return { child, out: () => out, err: () => err, exited, seen };
}

describe('x0t node start', () => {
  test('--demo: prints the admin address, runs rounds, stops on SIGINT with exit 0', async () => {
    const manifest = await tempNodeManifest();
    const { child, out, err, exited, seen } = startNode(['--config', manifest.file, '--admin', '127.0.0.1:0', '--demo']);
    try {
      const m = await seen(/^x0tta6bl4 node local-demo: admin API on (http:\/\/127\.0\.0\.1:\d+) \(slots: (.*)\)$/m);
      assert.deepEqual(m[2]!.split(', ').sort(), ['aggregator', 'kem', 'selftest', 'signer']);
      const url = m[1]!;
      assert.equal((await admin(url, '/healthz')).status, 200);
      await seen(/^\[demo\] round 1 {2}aggregator \S+: 8 clients × 1000 floats in [\d.]+ ms → \[/m);
      await seen(/^\[demo\] round 1 {2}selftest \S+: sum of 1000 floats = -?[\d.]+ \(host: -?[\d.]+\)/m);
      await seen(/^\[demo\] round 1 {2}kem ml-kem-768@\S+: keygen \+ encaps \(1088-byte ciphertext\) \+ decaps in [\d.]+ ms, shared secret [0-9a-f]{12}… agrees$/m);
      await seen(/^\[demo\] round 1 {2}signer ml-dsa-65@\S+: keygen \+ sign 1 KiB \(3309-byte signature\) \+ verify in [\d.]+ ms → valid$/m);
      await seen(/^\[demo\] round 2 /m, 10_000);
      const slots = (await admin(url, '/slots')).json as { slots: { name: string; calls: number }[] };
      for (const s of slots.slots) assert.ok(s.calls >= 2, `${s.name}: ${s.calls} calls`);
      child.kill('SIGINT');
      assert.equal(await exited, 0, err());
      assert.match(out(), /^SIGINT: stopping$/m);
      assert.match(out(), /^stopped$/m);
      assert.doesNotMatch(err(), /FAILED/);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await manifest.cleanup();
    }
  });

  test('SIGINT followed at once by SIGTERM (Ctrl-C to the group, then a supervisor) is one stop: exit 0', async () => {
    // The demo mesh hit this: its nodes got the terminal's SIGINT and the demo's SIGTERM together; the second was
    // taken for "stop now", and process.exit stalled while a plugin worker was being terminated.
    const manifest = await tempNodeManifest();
    const { child, out, err, exited, seen } = startNode(['--config', manifest.file, '--admin', '127.0.0.1:0', '--no-watch']);
    try {
      await seen(/Ctrl-C stops the node$/m);
      child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGTERM');
      assert.equal(await exited, 0, err());
      assert.match(out(), /^SIGINT: stopping$/m);
      assert.match(out(), /^stopped$/m);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await manifest.cleanup();
    }
  });

  test('an admin port already in use → X0T_IO, exit 4, and no slots left running', async () => {
    const manifest = await tempNodeManifest();
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runCli(['node', 'start', '--config', manifest.file, '--admin', `127.0.0.1:${port}`], { timeoutMs: 20_000 });
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, /^x0t: X0T_IO: admin API cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/m);
    } finally {
      blocker.close();
      await manifest.cleanup();
    }
  });

  test('a bad --admin or a missing manifest is refused before anything starts', async () => {
    const bad = await runCli(['node', 'start', '--admin', 'nonsense']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /X0T_USAGE: --admin must be HOST:PORT/);
    const missing = await runCli(['node', 'start', '--config', '/nonexistent/node.json', '--json']);
    assert.equal(missing.code, 4);
    assert.equal(JSON.parse(missing.stderr.trim()).error.code, 'X0T_IO');
  });
});
