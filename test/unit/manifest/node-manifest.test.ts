import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  capLimits,
  DEFAULT_NODE_POLICIES,
  parseNodeManifest,
  type NodeManifestV1,
} from '../../../host/core/manifest/index.js';
import { DEFAULT_LIMITS } from '../../../host/core/plugin-spec.js';
import { assertInvalidAt, validNode } from './arbitraries.js';

const CTX = { manifestPath: '/etc/x0t/nodes/a.json', baseDir: '/etc/x0t/nodes' } as const;
const parse = (json: unknown) => parseNodeManifest(json, CTX);
const withField = (patch: Record<string, unknown>) => ({ ...validNode(), ...patch });

describe('parseNodeManifest: a valid manifest', () => {
  it('parses endpoints, resolves slot plugins and fills policies', () => {
    const spec = parse(validNode());
    assert.deepEqual(spec.identity, { name: 'node-a', trustDomain: 'mesh.example.org' });
    assert.deepEqual(spec.listen.admin, { host: '127.0.0.1', port: 9470, address: '127.0.0.1:9470' });
    assert.deepEqual(spec.listen.mesh, [{ host: '0.0.0.0', port: 9471, address: '0.0.0.0:9471' }]);
    assert.deepEqual(spec.peers[2], { name: 'node-d', address: { host: 'fe80::1', port: 9471, address: '[fe80::1]:9471' } });
    assert.deepEqual(spec.slots, {
      selftest: { name: 'selftest', capability: 'selftest', plugin: '/etc/x0t/plugins/selftest.json', limits: {} },
      aggregator: { name: 'aggregator', capability: 'aggregator', plugin: '/etc/x0t/plugins/fedavg.json', limits: {} },
    });
    assert.deepEqual(spec.policies, DEFAULT_NODE_POLICIES);
    assert.equal(spec.manifestPath, CTX.manifestPath);
  });

  it('defaults listen and peers when absent', () => {
    const { listen: _l, peers: _p, ...rest } = validNode();
    const spec = parse(rest);
    assert.deepEqual(spec.listen, { admin: { host: '127.0.0.1', port: 9470, address: '127.0.0.1:9470' }, mesh: [] });
    assert.deepEqual(spec.peers, []);
  });

  it('merges partial policies with the defaults', () => {
    const spec = parse(withField({ policies: { allowInThread: false, breaker: { observeMs: 0 } } }));
    assert.deepEqual(spec.policies, {
      ...DEFAULT_NODE_POLICIES,
      allowInThread: false,
      breaker: { ...DEFAULT_NODE_POLICIES.breaker, observeMs: 0 },
    });
  });

  it('carries slot limit ceilings, which capLimits applies', () => {
    const m: NodeManifestV1 = validNode();
    m.slots['aggregator'] = { capability: 'aggregator', plugin: 'p.json', limits: { maxMemoryPages: 64, callTimeoutMs: 5000 } };
    const slot = parse(m).slots['aggregator']!;
    assert.deepEqual(slot.limits, { maxMemoryPages: 64, callTimeoutMs: 5000 });
    assert.deepEqual(capLimits(DEFAULT_LIMITS, slot.limits), { ...DEFAULT_LIMITS, maxMemoryPages: 64 });
  });

  it('is frozen all the way down', () => {
    const spec = parse(validNode());
    assert.ok(Object.isFrozen(spec.slots['selftest']));
    assert.ok(Object.isFrozen(spec.peers[0]!.address));
    assert.ok(Object.isFrozen(spec.policies.breaker));
    assert.throws(() => {
      (spec.slots as Record<string, unknown>)['x'] = {};
    }, TypeError);
  });
});

describe('parseNodeManifest: each kind of error names its field', () => {
  const slots = (s: unknown) => withField({ slots: s });
  const cases: [string, unknown, string][] = [
    ['root not an object', 'node', ''],
    ['type: slots', slots([]), 'slots'],
    ['type: slot plugin', slots({ aggregator: { capability: 'aggregator', plugin: 7 } }), 'slots.aggregator.plugin'],
    ['type: peer address', withField({ peers: [{ name: 'b', address: 1 }] }), 'peers[0].address'],
    ['type: policy boolean', withField({ policies: { selfTest: 'yes' } }), 'policies.selfTest'],
    ['type: breaker integer', withField({ policies: { breaker: { windowMs: 1.5 } } }), 'policies.breaker.windowMs'],
    ['required: identity', (({ identity: _i, ...rest }) => rest)(validNode()), 'identity'],
    ['required: trustDomain', withField({ identity: { name: 'a' } }), 'identity.trustDomain'],
    ['required: slot capability', slots({ aggregator: { plugin: 'p.json' } }), 'slots.aggregator.capability'],
    ['required: peer name', withField({ peers: [{ address: 'h:1' }] }), 'peers[0].name'],
    ['additional: top level', withField({ plugins: {} }), 'plugins'],
    ['additional: in slot', slots({ aggregator: { capability: 'aggregator', plugin: 'p', version: '1' } }), 'slots.aggregator.version'],
    ['additional: in breaker', withField({ policies: { breaker: { halfOpenMs: 1 } } }), 'policies.breaker.halfOpenMs'],
    ['additional: in slot limits', slots({ a: { capability: 'selftest', plugin: 'p', limits: { pages: 1 } } }), 'slots.a.limits.pages'],
    ['const: schemaVersion', withField({ schemaVersion: '1' }), 'schemaVersion'],
    ['pattern: slot name not a slug', slots({ Aggregator: { capability: 'aggregator', plugin: 'p' } }), 'slots.Aggregator'],
    ['pattern: slot name needing quotes', slots({ 'a b': { capability: 'aggregator', plugin: 'p' } }), 'slots["a b"]'],
    ['pattern: trust domain', withField({ identity: { name: 'a', trustDomain: 'Mesh_Example' } }), 'identity.trustDomain'],
    ['pattern: admin address without port', withField({ listen: { admin: 'localhost' } }), 'listen.admin'],
    ['pattern: mesh port > 65535', withField({ listen: { mesh: ['0.0.0.0:9471', '0.0.0.0:65536'] } }), 'listen.mesh[1]'],
    ['pattern: peer address', withField({ peers: [{ name: 'b', address: 'b:1' }, { name: 'c', address: 'c:x' }] }), 'peers[1].address'],
    ['range: failureThreshold 0', withField({ policies: { breaker: { failureThreshold: 0 } } }), 'policies.breaker.failureThreshold'],
    ['range: drainTimeoutMs negative', withField({ policies: { drainTimeoutMs: -1 } }), 'policies.drainTimeoutMs'],
    ['range: slot ceiling 0', slots({ a: { capability: 'selftest', plugin: 'p', limits: { callTimeoutMs: 0 } } }), 'slots.a.limits.callTimeoutMs'],
    ['unknown slot capability', slots({ teleport: { capability: 'teleport', plugin: 'teleport.json' } }), 'slots.teleport.capability'],
    ['cross-field: duplicate peer name', withField({ peers: [{ name: 'b', address: 'b:1' }, { name: 'b', address: 'c:1' }] }), 'peers[1].name'],
  ];
  for (const [what, json, path] of cases) {
    it(`${what} → ${JSON.stringify(path)}`, () => {
      assertInvalidAt(() => parse(json), path);
    });
  }
});
