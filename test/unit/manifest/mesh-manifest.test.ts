// The mesh parts of a node manifest: identity (keyFile, stateDir, ca, join), listen.adminMtls, peer fingerprints and
// the `mesh` section — defaults filled, paths resolved, pinned key files read, and conflicting options refused at
// load with the field path.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_MESH, meshSpecOf, NODE_MANIFEST_SCHEMA, parseNodeManifest, SIGNATURE_ALGORITHMS, trustedKeyFiles, type NodeManifestV1,
} from '../../../host/core/manifest/index.js';
import { assertInvalidAt, getAt, validNode } from './arbitraries.js';

const DIR = '/etc/x0t/nodes';
const CTX = { manifestPath: `${DIR}/a.json`, baseDir: DIR } as const;
const SHA = 'ab'.repeat(32);
const FP = '0123456789abcdef0123456789abcdef';

const parse = (json: unknown, files: Record<string, string> = {}) =>
  parseNodeManifest(json, { ...CTX, files: new Map(Object.entries(files)) });
const withMesh = (patch: Partial<NodeManifestV1>): NodeManifestV1 => ({ ...validNode(), ...patch });

function pubFile(fill: number, kem = true): string {
  const key = (n: number) => Buffer.alloc(n, fill).toString('base64');
  return JSON.stringify({
    kind: 'x0t-public-key', schemaVersion: 1, name: `k${fill}`,
    signing: { algorithm: 'ed25519+ml-dsa-65', publicKey: key(SIGNATURE_ALGORITHMS['ed25519+ml-dsa-65']!.publicKeyBytes) },
    ...(kem ? { kem: { algorithm: 'x-wing', publicKey: key(1216) } } : {}),
  });
}

describe('node manifest: mesh settings', () => {
  it('a manifest without mesh settings keeps the spec as it was; meshSpecOf gives the defaults', () => {
    const spec = parse(validNode());
    assert.equal(spec.mesh, undefined);
    assert.deepEqual(spec.identity, { name: 'node-a', trustDomain: 'mesh.example.org' });
    assert.equal('adminMtls' in spec.listen, false);
    assert.deepEqual(meshSpecOf(spec), DEFAULT_MESH);
    assert.deepEqual(DEFAULT_MESH, {
      helloMs: 1000, suite: 'hybrid', mtu: 1280, rekeyMs: 120_000,
      discovery: { multicast: false, interfaces: [], intervalMs: 5000 }, gateway: null, batman: null, trust: null,
    });
  });

  it('fills every mesh default and resolves identity paths against the manifest folder', () => {
    const spec = parse(withMesh({
      identity: { name: 'ca', trustDomain: 'mesh.example.org', keyFile: 'keys/ca.key.json', stateDir: '../state', ca: { dir: '/var/lib/x0t/ca', listen: '0.0.0.0:9472' } },
      listen: { admin: '127.0.0.1:9470', mesh: ['0.0.0.0:9471'], adminMtls: '[::1]:9473' },
      peers: [{ name: 'b', address: '10.0.0.2:9471', fingerprint: FP }],
      mesh: { helloMs: 250, discovery: { multicast: true, interfaces: ['eth0'] }, gateway: { bandwidthKbps: 50_000 }, batman: { interface: 'bat0' } },
    }));
    assert.deepEqual(spec.identity, {
      name: 'ca', trustDomain: 'mesh.example.org', keyFile: `${DIR}/keys/ca.key.json`, stateDir: '/etc/x0t/state',
      ca: { dir: '/var/lib/x0t/ca', listen: { host: '0.0.0.0', port: 9472, address: '0.0.0.0:9472' } },
    });
    assert.deepEqual(spec.listen.adminMtls, { host: '::1', port: 9473, address: '[::1]:9473' });
    assert.deepEqual(spec.peers[0], { name: 'b', address: { host: '10.0.0.2', port: 9471, address: '10.0.0.2:9471' }, fingerprint: FP });
    assert.deepEqual(spec.mesh, {
      helloMs: 250, suite: 'hybrid', mtu: 1280, rekeyMs: 120_000,
      discovery: { multicast: true, interfaces: ['eth0'], intervalMs: 5000 }, gateway: { bandwidthKbps: 50_000 },
      batman: { interface: 'bat0' }, trust: null,
    });
    assert.ok(Object.isFrozen(spec.mesh!.discovery));
  });

  it('a join: the server loses a trailing slash, token and pin are kept', () => {
    const spec = parse(withMesh({ identity: { name: 'b', trustDomain: 'mesh.example.org', join: { server: 'https://10.0.0.1:9472/', token: 'tok-123456', bundleSha256: SHA } } }));
    assert.deepEqual(spec.identity.join, { server: 'https://10.0.0.1:9472', token: 'tok-123456', bundleSha256: SHA });
  });

  it('refuses conflicting options at load, naming the field', () => {
    const join = { server: 'https://10.0.0.1:9472', token: 'tok-123456', bundleSha256: SHA };
    const ca = { dir: 'ca', listen: '127.0.0.1:9472' };
    assertInvalidAt(() => parse(withMesh({ identity: { name: 'a', trustDomain: 'm.org', ca, join } })), 'identity.join');
    assertInvalidAt(() => parse(withMesh({ identity: { name: 'a', trustDomain: 'm.org', join }, mesh: { trust: { pinned: [] } } })), 'mesh.trust');
    assertInvalidAt(() => parse(withMesh({ identity: { name: 'a', trustDomain: 'm.org', ca }, mesh: { trust: { pinned: [] } } })), 'mesh.trust');
    assertInvalidAt(() => parse(withMesh({ listen: { mesh: ['0.0.0.0:1'], adminMtls: '127.0.0.1:9473' } })), 'listen.adminMtls');
  });

  it('refuses out-of-range and malformed values with their path', () => {
    const cases: [Partial<NodeManifestV1> | Record<string, unknown>, string][] = [
      [{ mesh: { helloMs: 10 } }, 'mesh.helloMs'],
      [{ mesh: { rekeyMs: 120_001 } }, 'mesh.rekeyMs'],
      [{ mesh: { suite: 'rsa' } }, 'mesh.suite'],
      [{ mesh: { mtu: 100 } }, 'mesh.mtu'],
      [{ mesh: { hello: 1 } }, 'mesh.hello'],
      [{ mesh: { discovery: { interfaces: ['a/b'] } } }, 'mesh.discovery.interfaces[0]'],
      [{ mesh: { gateway: {} } }, 'mesh.gateway.bandwidthKbps'],
      [{ peers: [{ name: 'b', address: '10.0.0.2:1', fingerprint: 'XYZ' }] }, 'peers[0].fingerprint'],
      [{ identity: { name: 'a', trustDomain: 'm.org', join: { server: 'http://10.0.0.1:1', token: 'tok-123456', bundleSha256: SHA } } }, 'identity.join.server'],
      [{ identity: { name: 'a', trustDomain: 'm.org', join: { server: 'https://10.0.0.1:1', token: 'tok-123456', bundleSha256: 'AB' } } }, 'identity.join.bundleSha256'],
      [{ identity: { name: 'a', trustDomain: 'm.org', join: { server: 'https://10.0.0.1:1', token: 'has space!', bundleSha256: SHA } } }, 'identity.join.token'],
      [{ identity: { name: 'a', trustDomain: 'm.org', ca: { dir: 'ca' } } }, 'identity.ca.listen'],
      [{ identity: { name: 'a', trustDomain: 'm.org', keyFile: 'dir/' } }, 'identity.keyFile'],
    ];
    for (const [patch, path] of cases) assertInvalidAt(() => parse({ ...validNode(), ...patch }), path);
  });

  it('pinned keys: read from the files the manifest names (listed by trustedKeyFiles), duplicates and unread files refused', () => {
    const m = withMesh({ mesh: { trust: { pinned: ['keys/b.pub.json', '/abs/c.pub.json'] } } });
    assert.deepEqual(trustedKeyFiles(m, DIR), [`${DIR}/keys/b.pub.json`, '/abs/c.pub.json']);
    const spec = parse(m, { [`${DIR}/keys/b.pub.json`]: pubFile(1), '/abs/c.pub.json': pubFile(2, false) });
    const pinned = spec.mesh!.trust!.pinned;
    assert.equal(pinned.length, 2);
    assert.equal(pinned[0]!.file, `${DIR}/keys/b.pub.json`);
    assert.equal(pinned[0]!.name, 'k1');
    assert.equal(pinned[0]!.kem?.algorithm, 'x-wing');
    assert.equal(pinned[1]!.kem, null);
    assertInvalidAt(() => parse(m, { [`${DIR}/keys/b.pub.json`]: pubFile(1) }), 'mesh.trust.pinned[1]');
    assertInvalidAt(() => parse(m, { [`${DIR}/keys/b.pub.json`]: pubFile(1), '/abs/c.pub.json': pubFile(1) }), 'mesh.trust.pinned[1]');
    assertInvalidAt(() => parse(m, { [`${DIR}/keys/b.pub.json`]: '{"kind":"x0t-node-key"}', '/abs/c.pub.json': pubFile(2) }), 'mesh.trust.pinned[0]');
  });

  it('the schema\'s mesh defaults are DEFAULT_MESH', () => {
    const mesh = (...p: string[]) => getAt(NODE_MANIFEST_SCHEMA, ['properties', 'mesh', 'properties', ...p, 'default']);
    assert.equal(mesh('helloMs'), DEFAULT_MESH.helloMs);
    assert.equal(mesh('suite'), DEFAULT_MESH.suite);
    assert.equal(mesh('mtu'), DEFAULT_MESH.mtu);
    assert.equal(mesh('rekeyMs'), DEFAULT_MESH.rekeyMs);
    assert.equal(mesh('discovery', 'properties', 'multicast'), DEFAULT_MESH.discovery.multicast);
    assert.equal(mesh('discovery', 'properties', 'intervalMs'), DEFAULT_MESH.discovery.intervalMs);
  });
});
