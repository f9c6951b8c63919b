// Interop: go-spiffe's workloadapi client (workload/main.go) fetches this node's SVID and bundle from our SPIFFE
// Workload API on a unix socket, verifies it, and sees the rotated SVID arrive on the same stream; a request
// without the `workload.spiffe.io: true` header is refused. Skipped with a message when `go` is not installed.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { MeshCa } from '../../../host/spiffe/mesh-ca.js';
import { localAuthority, NodeIdentity } from '../../../host/spiffe/node-identity.js';
import { readSvidLeaf } from '../../../host/spiffe/svid.js';
import { WorkloadApiServer, workloadServiceDefinition } from '../../../host/spiffe/workload-api.js';
import { classicKeys, ed25519 } from '../../unit/spiffe/classic-keys.js';

const SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/interop/go-spiffe');
const TD = 'workload.test';
const skip = spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0
  ? false : 'go is not installed (go-spiffe v2.9.0 needs Go >= 1.24: https://go.dev/dl): Workload API interop not run';

let dir: string;
let binary: string;
let identity: NodeIdentity;
let api: WorkloadApiServer;

const serialOf = (der: Uint8Array): string => readSvidLeaf(der).serialHex.replace(/^0+/, '');

interface Verdict { ok: boolean; ids?: string[]; serials?: string[]; error?: string }

describe('go-spiffe workloadapi client against our Workload API', { skip }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'x0t-workload-'));
    binary = join(dir, 'workloadcheck');
    execFileSync('go', ['build', '-mod=readonly', '-o', binary, './workload'], { cwd: SOURCE, stdio: ['ignore', 'inherit', 'inherit'] });
    const ca = await MeshCa.create(join(dir, 'ca'), TD, { signers: [ed25519] });
    identity = await NodeIdentity.open({ keys: await classicKeys(), signer: ed25519, authority: localAuthority(ca), trustDomain: TD, stateDir: null });
    api = await WorkloadApiServer.start(identity, join(dir, 'agent.sock'));
  });
  after(async () => {
    await api?.close();
    identity?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('serves the socket to the node\'s user only', async () => {
    assert.equal((await stat(join(dir, 'agent.sock'))).mode & 0o777, 0o600);
  });

  it('FetchX509Context: the client gets and verifies our SVID and bundle', async () => {
    // Asynchronously: the server runs in this process's event loop.
    const child = spawn(binary, ['-addr', api.address], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (c) => { stdout += c; });
    await new Promise((ok) => child.on('exit', ok));
    const v = JSON.parse(stdout) as Verdict;
    assert.equal(v.ok, true, v.error);
    assert.deepEqual(v.ids, [identity.current().spiffeId]);
    assert.deepEqual(v.serials, [serialOf(identity.current().chain[0]!)]);
  });

  it('a watching client receives the rotated SVID on the open stream', async () => {
    const child = spawn(binary, ['-addr', api.address, '-updates', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (c) => { stdout += c; });
    const firstUpdate = new Promise<void>((ok) => child.stderr.on('data', (c) => { if (String(c).includes('update 1')) ok(); }));
    const exited = new Promise<number | null>((ok) => child.on('exit', (code) => ok(code)));
    await firstUpdate;
    const before = serialOf(identity.current().chain[0]!);
    await identity.renewNow();
    const code = await exited;
    const v = JSON.parse(stdout) as Verdict;
    assert.equal(code, 0, v.error);
    assert.deepEqual(v.serials, [before, serialOf(identity.current().chain[0]!)]);
    assert.notEqual(v.serials![0], v.serials![1]);
  });

  it('refuses a call without the workload.spiffe.io header', async () => {
    const Client = grpc.makeClientConstructor(workloadServiceDefinition(), 'SpiffeWorkloadAPI');
    const client = new Client(api.address, grpc.credentials.createInsecure());
    try {
      const status = await new Promise<grpc.StatusObject>((ok) => {
        const call = (client as unknown as { FetchX509SVID(req: object, md: grpc.Metadata): grpc.ClientReadableStream<unknown> }).FetchX509SVID({}, new grpc.Metadata());
        call.on('data', () => undefined);
        call.on('error', () => undefined);
        call.on('status', ok);
      });
      assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    } finally {
      client.close();
    }
  });
});
