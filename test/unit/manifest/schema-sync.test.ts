// The JSON Schemas repeat a few constants from TypeScript; these tests keep the two in step.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_ADMIN_ADDRESS,
  DEFAULT_NODE_POLICIES,
  NODE_MANIFEST_SCHEMA,
  PLUGIN_MANIFEST_SCHEMA,
} from '../../../host/core/manifest/index.js';
import { DEFAULT_LIMITS, HOST_PERMISSIONS, ISOLATIONS } from '../../../host/core/plugin-spec.js';
import { getAt } from './arbitraries.js';

const at = (schema: unknown, ...path: string[]) => getAt(schema, path);

describe('schemas agree with the TypeScript constants', () => {
  it('plugin: permission and isolation enums', () => {
    assert.deepEqual(at(PLUGIN_MANIFEST_SCHEMA, 'properties', 'permissions', 'properties', 'host', 'items', 'enum'), [...HOST_PERMISSIONS]);
    assert.deepEqual(at(PLUGIN_MANIFEST_SCHEMA, 'properties', 'isolation', 'enum'), [...ISOLATIONS]);
    assert.equal(at(PLUGIN_MANIFEST_SCHEMA, 'properties', 'isolation', 'default'), 'worker');
  });

  it('plugin: limit defaults are DEFAULT_LIMITS', () => {
    for (const [k, v] of Object.entries(DEFAULT_LIMITS)) {
      assert.equal(at(PLUGIN_MANIFEST_SCHEMA, 'properties', 'limits', 'properties', k, 'default'), v, k);
    }
  });

  it('node: policy and listen defaults are DEFAULT_NODE_POLICIES / DEFAULT_ADMIN_ADDRESS', () => {
    const policies = (...p: string[]) => at(NODE_MANIFEST_SCHEMA, 'properties', 'policies', 'properties', ...p, 'default');
    assert.equal(policies('requireSignedPlugins'), DEFAULT_NODE_POLICIES.requireSignedPlugins);
    assert.equal(policies('allowInThread'), DEFAULT_NODE_POLICIES.allowInThread);
    assert.equal(policies('drainTimeoutMs'), DEFAULT_NODE_POLICIES.drainTimeoutMs);
    assert.equal(policies('selfTest'), DEFAULT_NODE_POLICIES.selfTest);
    for (const [k, v] of Object.entries(DEFAULT_NODE_POLICIES.breaker)) {
      assert.equal(policies('breaker', 'properties', k), v, k);
    }
    assert.equal(at(NODE_MANIFEST_SCHEMA, 'properties', 'listen', 'properties', 'admin', 'default'), DEFAULT_ADMIN_ADDRESS);
  });

  it('node: slot limit ceilings have the same ranges as plugin limits', () => {
    const plugin = at(PLUGIN_MANIFEST_SCHEMA, 'properties', 'limits', 'properties') as Record<string, Record<string, unknown>>;
    const slot = at(
      NODE_MANIFEST_SCHEMA, 'properties', 'slots', 'additionalProperties', 'properties', 'limits', 'properties',
    ) as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(slot), Object.keys(plugin));
    for (const k of Object.keys(plugin)) {
      assert.equal(slot[k]?.['minimum'], plugin[k]?.['minimum'], k);
      assert.equal(slot[k]?.['maximum'], plugin[k]?.['maximum'], k);
    }
  });

  it('both schemas have versioned $ids', () => {
    assert.equal(PLUGIN_MANIFEST_SCHEMA['$id'], 'https://x0tta6bl4.dev/schema/plugin-manifest.v1.json');
    assert.equal(NODE_MANIFEST_SCHEMA['$id'], 'https://x0tta6bl4.dev/schema/node-manifest.v1.json');
  });
});
