// Five real node processes on 127.0.0.1 (no root): node n0 is the mesh CA, n1-n4 join with tokens; static peers
// make a ring n0-n1-n2-n3-n4-n0 with a chord n1-n3. Sessions form on the hybrid suite with SVIDs, routes converge,
// an echo crosses two hops, stopping the middle node of the path reroutes over the other side of the ring, a
// restarted node (SVID kept in its state folder, its join token already used) recovers its sessions, and the
// admin API over mutual TLS serves a client with an SVID and refuses one without.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { admin, eventually, runCli } from '../cli/harness.js';
import { MeshLab, TRUST_DOMAIN } from './mesh-lab.js';

const EDGES: [number, number][] = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 0], [1, 3]];
const HELLO_MS = 250;

function httpsGet(url: string, tls: { key?: string; cert?: string; ca: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...tls, method: 'GET', checkServerIdentity: () => undefined, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a five-node mesh of node processes on loopback', { timeout: 300_000 }, () => {
  let lab: MeshLab;

  before(async () => {
    lab = await MeshLab.create(5, EDGES, HELLO_MS);
    await lab.start(0, { ca: { dir: join(lab.dir, 'n0', 'ca'), listen: '127.0.0.1:0' } }, { listen: { adminMtls: '127.0.0.1:0' } });
    for (let i = 1; i < 5; i++) {
      const t = await lab.token();
      await lab.start(i, { join: { server: t.server, token: t.token, bundleSha256: t.bundleSha256 } });
    }
  });

  after(async () => {
    await lab?.close();
  });

  it('forms hybrid sessions on SVIDs and converges: every node has a route to every other', async () => {
    await eventually(async () => {
      for (let i = 0; i < 5; i++) {
        const dests = new Set((await lab.routes(i)).map((r) => r.dest));
        if (!lab.nodes.every((o) => o.index === i || dests.has(o.fingerprint))) return false;
      }
      return true;
    }, 60_000, 'full routing tables');
    const status = (await admin(lab.nodes[0]!.url, '/mesh')).json;
    assert.equal(status.fingerprint, lab.nodes[0]!.fingerprint);
    assert.equal(status.spiffeId, `spiffe://${TRUST_DOMAIN}/node/${status.fingerprint}`);
    assert.equal(status.trust.mode, 'ca');
    assert.equal(status.suite, 'hybrid');
    assert.deepEqual(status.neighbours.filter((n: { session: boolean }) => n.session).map((n: { fingerprint: string }) => lab.nameOf(n.fingerprint)).sort(), ['n1', 'n4']);
    const joined = (await admin(lab.nodes[2]!.url, '/mesh')).json;
    assert.equal(joined.trust.mode, 'join');
    const { sessions } = (await admin(lab.nodes[1]!.url, '/mesh/sessions')).json;
    const peers = new Set(sessions.map((s: { peer: string; suite: string }) => {
      assert.equal(s.suite, 'hybrid');
      return lab.nameOf(s.peer);
    }));
    assert.deepEqual([...peers].sort(), ['n0', 'n2', 'n3']);
    const metrics = (await admin(lab.nodes[1]!.url, '/metrics')).bytes;
    const text = Buffer.from(metrics).toString('utf8');
    assert.match(text, /^x0t_mesh_sessions 3$/m);
    assert.match(text, /^x0t_mesh_routes 4$/m);
    assert.match(text, /^x0t_mesh_handshakes_total [1-9]\d*$/m);
    // Without XDP the user-space packet driver counts what the mesh transport receives.
    const { peers: counted } = (await admin(lab.nodes[1]!.url, '/driver/peers')).json;
    const local = counted.find((p: { address: string }) => p.address === '127.0.0.1');
    assert.ok(local && local.packets > 0 && local.bytes > 0, JSON.stringify(counted));
  });

  it('an echo crosses two hops (n0 → n2) and comes back', async () => {
    const route = (await lab.routes(0)).find((r) => r.dest === lab.nodes[2]!.fingerprint)!;
    assert.equal(route.hops, 2);
    const r = await lab.ping(0, 2, { count: 5, intervalMs: 50, timeoutMs: 2000 });
    assert.equal(r.sent, 5);
    assert.equal(r.received, 5, JSON.stringify(r));
    for (const s of r.samples) assert.ok(typeof s.rttMs === 'number' && s.rttMs >= 0 && s.sentAtMs > 0);
    // The node in the middle forwarded them.
    const middle = lab.nodes.findIndex((n) => n.fingerprint === route.nextHops[0]);
    const m = Buffer.from((await admin(lab.nodes[middle]!.url, '/metrics')).bytes).toString('utf8');
    assert.match(m, /^x0t_mesh_data_forwarded_total ([1-9]\d*)$/m);
  });

  it('data for a node nobody knows starts on-demand discovery, waits, and is dropped when it fails', async () => {
    const nobody = 'fe'.repeat(16);
    const r = await admin(lab.nodes[3]!.url, '/mesh/ping', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ to: nobody, count: 1, timeoutMs: 500 }),
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.samples.map((s: { rttMs: number | null; error?: string }) => [s.rttMs, s.error]), [[null, 'not-sent']]);
    await eventually(async () => {
      const m = Buffer.from((await admin(lab.nodes[3]!.url, '/metrics')).bytes).toString('utf8');
      return /^x0t_mesh_data_dropped_total\{reason="no-route"\} 1$/m.test(m);
    }, 20_000, 'the held message dropped after discovery failed');
    const bad = await admin(lab.nodes[3]!.url, '/mesh/ping', { method: 'POST', body: JSON.stringify({ to: 'nope' }) });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'X0T_USAGE');
  });

  it('x0t mesh status | routes | sessions | ping | token create talk to a node through its admin API', async () => {
    const url = lab.nodes[0]!.url;
    const status = await runCli(['mesh', 'status', '--admin', url]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout.toString(), new RegExp(`^mesh node ${lab.nodes[0]!.fingerprint}$`, 'm'));
    assert.match(status.stdout.toString(), /trust {7}ca; suite hybrid/);
    const routes = await runCli(['mesh', 'routes', '--admin', url, '--json']);
    assert.equal(routes.code, 0, routes.stderr);
    assert.equal(JSON.parse(routes.stdout.toString()).length, 4);
    const sessions = await runCli(['mesh', 'sessions', '--admin', url]);
    assert.match(sessions.stdout.toString(), /^PEER +ENDPOINT +SUITE/m);
    const ping = await runCli(['mesh', 'ping', lab.nodes[2]!.fingerprint, '-c', '2', '-i', '50', '--admin', url]);
    assert.equal(ping.code, 0, ping.stderr);
    assert.match(ping.stdout.toString(), /^2 sent, 2 received, 0% loss; rtt min\/avg\/max /m);
    const token = await runCli(['mesh', 'token', 'create', '--ttl', '10m', '--admin', url, '--json']);
    assert.equal(token.code, 0, token.stderr);
    const t = JSON.parse(token.stdout.toString());
    assert.match(t.bundleSha256, /^[0-9a-f]{64}$/);
    assert.match(t.server, /^https:\/\/127\.0\.0\.1:\d+$/);
    // Only the CA makes tokens; a bad duration is refused before any request.
    const onJoiner = await runCli(['mesh', 'token', 'create', '--admin', lab.nodes[1]!.url]);
    assert.equal(onJoiner.code, 2, onJoiner.stderr);
    assert.match(onJoiner.stderr, /X0T_USAGE: join tokens are made by the mesh CA node/);
    assert.equal((await runCli(['mesh', 'token', 'create', '--ttl', 'soon', '--admin', url])).code, 2);
  });

  it('stopping the middle node of the path reroutes n0 → n2 over the other side of the ring', async (t) => {
    const before = (await lab.routes(0)).find((r) => r.dest === lab.nodes[2]!.fingerprint)!;
    const middle = lab.nodes.findIndex((n) => n.fingerprint === before.nextHops[0]);
    assert.ok(middle === 1 || middle === 4, `n0 reaches n2 through ${middle}`);
    const stopped = await lab.stop(middle);
    assert.equal(stopped.code, 0, lab.nodes[middle]!.stderr);
    assert.ok(stopped.ms < 8000, `stop took ${stopped.ms} ms`);
    const cutAt = Date.now();
    const ok = await eventually(async () => {
      const r = await lab.ping(0, 2, { count: 1, timeoutMs: 500 });
      return r.received === 1 ? r : null;
    }, 30_000, 'an echo over the other path');
    const ms = ok.samples[0]!.sentAtMs - cutAt;
    const after = (await lab.routes(0)).find((r) => r.dest === lab.nodes[2]!.fingerprint)!;
    assert.notEqual(after.nextHops[0], lab.nodes[middle]!.fingerprint);
    t.diagnostic(`stopped ${lab.nodes[middle]!.name} in ${stopped.ms} ms; first echo over the other path sent ${ms} ms after the stop`);
    assert.ok(ms < 15_000, `rerouted after ${ms} ms`);
  });

  it('a restarted node recovers its sessions with its stored SVID (its join token is used up)', async () => {
    const down = [1, 4].find((i) => lab.nodes[i]!.child === null)!;
    const fp = lab.nodes[down]!.fingerprint;
    await lab.restart(down);
    assert.equal(lab.nodes[down]!.fingerprint, fp);
    await eventually(async () => {
      const s = (await admin(lab.nodes[0]!.url, '/mesh')).json;
      return s.neighbours.some((n: { fingerprint: string; session: boolean; up: boolean }) => n.fingerprint === fp && n.session && n.up);
    }, 30_000, 'n0 sees the restarted node again');
    const r = await eventually(async () => {
      const p = await lab.ping(down, 2, { count: 1, timeoutMs: 1000 });
      return p.received === 1 ? p : null;
    }, 30_000, 'an echo from the restarted node');
    assert.equal(r.received, 1);
  });

  it('the admin API over mutual TLS serves a client with an SVID of the mesh and refuses one without', async () => {
    const url = lab.nodes[0]!.mtlsUrl;
    assert.ok(url !== null && url.startsWith('https://127.0.0.1:'), String(url));
    const state = join(lab.nodes[2]!.dir, 'state');
    const svidPem = await readFile(join(state, 'svid.pem'), 'utf8');
    const ca = await readFile(join(state, 'bundle.pem'), 'utf8');
    const at = svidPem.indexOf('-----BEGIN CERTIFICATE-----');
    const served = await httpsGet(`${url}/mesh`, { key: svidPem.slice(0, at), cert: svidPem.slice(at), ca });
    assert.equal(served.status, 200);
    assert.equal(JSON.parse(served.body).fingerprint, lab.nodes[0]!.fingerprint);
    await assert.rejects(httpsGet(`${url}/mesh`, { ca }), (e: NodeJS.ErrnoException) => {
      // TLS 1.3: the server's refusal arrives as an alert after the client's handshake finished.
      assert.match(String(e.code ?? e.message), /ERR_SSL|ECONNRESET|EPIPE|certificate/i);
      return true;
    });
  });
});
