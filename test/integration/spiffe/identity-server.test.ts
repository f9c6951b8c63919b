// The identity control plane over real HTTPS on loopback: a CA node (MeshCa + its own NodeIdentity + IdentityServer)
// and a joining node (NodeIdentity over remoteAuthority): bundle pinning, join-token attestation, renewal over mTLS,
// and an mTLS HTTPS server (mtlsServerOptions) that admits a client with a valid SVID, refuses one without or with a
// forged one, and picks up a rotated SVID without restarting.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { keyFingerprint } from '../../../host/crypto/key-fingerprint.js';
import { IdentityError } from '../../../host/errors/index.js';
import { IdentityClient, remoteAuthority } from '../../../host/spiffe/identity-client.js';
import { refusalOf } from '../../../host/spiffe/identity-error.js';
import { IdentityServer } from '../../../host/spiffe/identity-server.js';
import { MeshCa } from '../../../host/spiffe/mesh-ca.js';
import { followRotation, mtlsClientOptions, mtlsServerOptions, peerSpiffeId } from '../../../host/spiffe/mtls.js';
import { localAuthority, NodeIdentity, type MeshKeys } from '../../../host/spiffe/node-identity.js';
import { createSvidRequest, svidRequestToJson } from '../../../host/spiffe/svid-request.js';
import { verifySvidChain } from '../../../host/spiffe/svid-verifier.js';
import { generateEcKeyPair } from '../../../host/spiffe/x509-engine.js';
import { bindingOf, classicKeys, ed25519 } from '../../unit/spiffe/classic-keys.js';

const TD = 'loopback.test';
let dir: string;
let ca: MeshCa;
let caNode: NodeIdentity;
let server: IdentityServer;
let caKeys: MeshKeys;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'x0t-spiffe-int-'));
  ca = await MeshCa.create(join(dir, 'ca'), TD, { signers: [ed25519] });
  caKeys = await classicKeys();
  caNode = await NodeIdentity.open({ keys: caKeys, signer: ed25519, authority: localAuthority(ca), trustDomain: TD, stateDir: join(dir, 'ca-node') });
  server = await IdentityServer.start({ ca, identity: caNode });
});
after(async () => {
  caNode?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function refused(p: Promise<unknown>, reason: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof IdentityError, `expected IdentityError, got ${String(e)}`);
    assert.equal(refusalOf(e), reason, (e as Error).message);
    return true;
  });
}

describe('identity server', () => {
  it('GET /v1/bundle is accepted only when it holds the pinned CA', async () => {
    const good = new IdentityClient({ server: server.url, trustDomain: TD, bundleSha256: ca.bundle().sha256() });
    assert.equal((await good.bundle()).sha256(), ca.bundle().sha256());
    const wrongPin = new IdentityClient({ server: server.url, trustDomain: TD, bundleSha256: 'ab'.repeat(32) });
    await refused(wrongPin.bundle(), 'bundle');
  });

  it('a node joins with a token, then renews over mTLS; the token cannot be reused', async () => {
    const { token } = await ca.createJoinToken(60_000);
    const keys = await classicKeys();
    const authority = remoteAuthority({ server: server.url, trustDomain: TD, bundleSha256: ca.bundle().sha256(), token });
    const node = await NodeIdentity.open({ keys, signer: ed25519, authority, trustDomain: TD, stateDir: join(dir, 'joiner') });
    try {
      const first = node.current();
      assert.equal(first.spiffeId, `spiffe://${TD}/node/${keyFingerprint(keys.signing.publicKey)}`);
      const rotated = once(node, 'rotated');
      await node.renewNow();
      await rotated;
      assert.notEqual(node.current().privateKeyPem, first.privateKeyPem);
      verifySvidChain(node.current().chain, ca.bundle(), Date.now());
      // The same token again (a second node): refused by the server, reported with the registry error.
      const again = remoteAuthority({ server: server.url, trustDomain: TD, bundleSha256: ca.bundle().sha256(), token });
      await refused(NodeIdentity.open({ keys: await classicKeys(), signer: ed25519, authority: again, trustDomain: TD, stateDir: null }), 'token');
    } finally {
      node.close();
    }
  });

  it('renewal needs the client SVID: without one 401, with another node\'s SVID refused', async () => {
    const client = new IdentityClient({ server: server.url, trustDomain: TD, bundleSha256: ca.bundle().sha256() });
    const keys = await classicKeys();
    const req = await createSvidRequest({ signer: ed25519, signingSecretKey: keys.signing.secretKey, binding: bindingOf(keys), svidKey: generateEcKeyPair() });
    // Presenting the CA node's SVID to renew another node's identity.
    await refused(client.renew(caNode.current(), req), 'unauthorized');
    // No client certificate at all: 401 with the registry error.
    const { status, body } = await new Promise<{ status: number; body: string }>((ok, fail) => {
      const text = JSON.stringify({ request: svidRequestToJson(req) });
      const r = request(new URL('/v1/renew', server.url), { method: 'POST', agent: false, ...mtlsClientOptions(null, ca.bundle()) }, (res) => {
        let b = '';
        res.on('data', (c) => { b += c; });
        res.on('end', () => ok({ status: res.statusCode ?? 0, body: b }));
      });
      r.on('error', fail);
      r.end(text);
    });
    assert.equal(status, 401);
    assert.equal(JSON.parse(body).error.details.reason, 'unauthorized');
  });
});

describe('mTLS server on SVIDs', () => {
  let https: Server;
  let unfollow: () => void;
  let port: number;
  before(async () => {
    https = createServer(mtlsServerOptions(caNode), (req, res) => {
      res.end(JSON.stringify({ peer: peerSpiffeId(req.socket as TLSSocket) }));
    });
    unfollow = followRotation(https, caNode);
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', () => r()));
    port = (https.address() as AddressInfo).port;
  });
  after(async () => {
    unfollow();
    https.closeAllConnections();
    await new Promise<void>((r) => https.close(() => r()));
  });

  const get = (opts: object): Promise<{ status: number; body: string; serverCertSerial: string }> => new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, ...opts }, (res) => {
      const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => ok({ status: res.statusCode ?? 0, body, serverCertSerial: serial }));
    });
    req.on('error', fail);
    req.end();
  });

  it('admits a client with a valid SVID and tells the handler its SPIFFE id', async () => {
    const keys = await classicKeys();
    const svidKey = generateEcKeyPair();
    const chain = await ca.issueForRequest(await createSvidRequest({ signer: ed25519, signingSecretKey: keys.signing.secretKey, binding: bindingOf(keys), svidKey }));
    const r = await get(mtlsClientOptions({ chain, privateKeyPem: svidKey.privateKeyPem }, ca.bundle(), caNode.current().spiffeId));
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).peer, `spiffe://${TD}/node/${keyFingerprint(keys.signing.publicKey)}`);
  });

  it('refuses a client without an SVID and one whose SVID comes from another CA', async () => {
    await assert.rejects(get(mtlsClientOptions(null, ca.bundle())));
    const rogue = await MeshCa.create(join(dir, 'rogue'), TD, { signers: [ed25519] });
    const keys = await classicKeys();
    const svidKey = generateEcKeyPair();
    const forged = await rogue.issueForRequest(await createSvidRequest({ signer: ed25519, signingSecretKey: keys.signing.secretKey, binding: bindingOf(keys), svidKey }));
    await assert.rejects(get(mtlsClientOptions({ chain: forged, privateKeyPem: svidKey.privateKeyPem }, ca.bundle())));
  });

  it('the client refuses a server that is not the expected SPIFFE id', async () => {
    await assert.rejects(get(mtlsClientOptions(caNode.current(), ca.bundle(), `spiffe://${TD}/node/${'0'.repeat(32)}`)), (e: unknown) => refusalOf(e) === 'unauthorized');
  });

  it('serves the rotated SVID without a restart', async () => {
    const before = await get(mtlsClientOptions(caNode.current(), ca.bundle()));
    await caNode.renewNow();
    const afterRotation = await get(mtlsClientOptions(caNode.current(), ca.bundle()));
    assert.equal(afterRotation.status, 200);
    assert.notEqual(afterRotation.serverCertSerial, before.serverCertSerial);
  });
});
