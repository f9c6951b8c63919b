import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_ADMIN_ADDRESS,
  DEFAULT_NODE_POLICIES,
  parseNodeManifest,
  parsePluginManifest,
  type NodeManifestV1,
  type PluginManifestV1,
} from '../../../host/core/manifest/index.js';
import { DEFAULT_LIMITS } from '../../../host/core/plugin-spec.js';
import { ManifestInvalidError } from '../../../host/errors/index.js';
import {
  allPaths,
  CTX,
  deleteAt,
  formatPath,
  getAt,
  nodeManifestArb,
  pluginManifestArb,
  setAt,
  wrongTypeArb,
  type Segment,
} from './arbitraries.js';

const RUNS = { numRuns: 300 };

type Parser = (json: unknown) => unknown;
const parsers: [string, Parser, fc.Arbitrary<unknown>][] = [
  ['plugin', (j) => parsePluginManifest(j, CTX), pluginManifestArb],
  ['node', (j) => parseNodeManifest(j, CTX), nodeManifestArb],
];

/** Runs the parser; any throw must be a ManifestInvalidError with a string path that starts its message. */
function parsesOrRejectsCleanly(parse: Parser, json: unknown): void {
  try {
    parse(json);
  } catch (e) {
    if (!(e instanceof ManifestInvalidError)) throw e;
    const path = e.details['path'];
    assert.equal(typeof path, 'string');
    assert.ok(e.message.startsWith(path === '' ? 'manifest' : `${String(path)}: `), e.message);
  }
}

/** One random edit of a valid manifest: delete a field, replace it with any JSON, or add a key somewhere. */
function mutationArb(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return valid.chain((m) => {
    const paths = allPaths(m);
    const containers: Segment[][] = [[], ...paths.filter((p) => {
      const v = getAt(m, p);
      return v !== null && typeof v === 'object' && !Array.isArray(v);
    })];
    const edits: fc.Arbitrary<(x: unknown) => void>[] = [
      fc.tuple(fc.constantFrom(...containers), fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 })).map(
        ([at, key, value]) => (x: unknown) => setAt(x, [...at, key], value),
      ),
    ];
    if (paths.length > 0) {
      edits.push(fc.constantFrom(...paths).map((at) => (x: unknown) => deleteAt(x, at)));
      edits.push(
        fc.tuple(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 3 })).map(([at, value]) => (x: unknown) => setAt(x, at, value)),
      );
    }
    return fc.array(fc.oneof(...edits), { minLength: 1, maxLength: 3 }).map((fs) => {
      const copy = structuredClone(m);
      for (const f of fs) f(copy);
      return copy;
    });
  });
}

for (const [kind, parse, valid] of parsers) {
  describe(`${kind} manifest properties`, () => {
    it('(a) never throws anything but ManifestInvalidError for any JSON value', () => {
      fc.assert(fc.property(fc.jsonValue(), (j) => parsesOrRejectsCleanly(parse, j)), RUNS);
    });

    it('(a) never throws anything but ManifestInvalidError for random edits of a valid manifest', () => {
      fc.assert(fc.property(mutationArb(valid), (j) => parsesOrRejectsCleanly(parse, j)), RUNS);
    });

    it('(c) the spec is deeply frozen and the input is left alone', () => {
      fc.assert(
        fc.property(valid, (m) => {
          const before = structuredClone(m);
          const spec = parse(m);
          assertDeepFrozen(spec, 'spec');
          assert.deepEqual(m, before);
          assert.ok(!Object.isFrozen(m));
        }),
        { numRuns: 100 },
      );
    });

    it('(d) a wrong-typed value in one field is reported at exactly that field', () => {
      const arb = valid.chain((m) => {
        const paths = allPaths(m);
        return fc.constantFrom(...paths).chain((at) => {
          const current = getAt(m, at);
          const nullable = kind === 'plugin' && at.length === 1 && at[0] === 'signature';
          return wrongTypeArb(current, nullable).map((value) => ({ m, at, value }));
        });
      });
      fc.assert(
        fc.property(arb, ({ m, at, value }) => {
          const copy = structuredClone(m);
          setAt(copy, at, value);
          let caught: unknown;
          try {
            parse(copy);
          } catch (e) {
            caught = e;
          }
          assert.ok(caught instanceof ManifestInvalidError, `no error for ${formatPath(at)} = ${JSON.stringify(value)}`);
          assert.equal(caught.details['path'], formatPath(at), caught.message);
        }),
        RUNS,
      );
    });
  });
}

function assertDeepFrozen(v: unknown, where: string): void {
  if (v === null || typeof v !== 'object') return;
  assert.ok(Object.isFrozen(v), `${where} is not frozen`);
  for (const k of Reflect.ownKeys(v)) assertDeepFrozen((v as Record<PropertyKey, unknown>)[k], `${where}.${String(k)}`);
}

function endpoint(address: string) {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i);
  return {
    host: host.startsWith('[') ? host.slice(1, -1) : host,
    port: Number(address.slice(i + 1)),
    address,
  };
}

describe('(b) round trip: valid manifests parse and the spec mirrors them', () => {
  it('plugin', () => {
    fc.assert(
      fc.property(pluginManifestArb, (m: PluginManifestV1) => {
        const spec = parsePluginManifest(m, CTX);
        assert.deepEqual(spec, {
          name: m.name,
          version: m.version,
          capability: m.capability,
          abi: { min: m.abi.min, max: m.abi.max },
          wasm: { path: resolve(CTX.baseDir, m.wasm.path), sha256: m.wasm.sha256 },
          limits: { ...DEFAULT_LIMITS, ...m.limits },
          isolation: m.isolation ?? 'worker',
          permissions: { host: m.permissions?.host ?? [] },
          config: { ...m.config },
          signature: m.signature ?? null,
          description: m.description ?? '',
          manifestPath: CTX.manifestPath,
        });
      }),
      RUNS,
    );
  });

  it('node', () => {
    fc.assert(
      fc.property(nodeManifestArb, (m: NodeManifestV1) => {
        const spec = parseNodeManifest(m, CTX);
        const slots = Object.fromEntries(
          Object.entries(m.slots).map(([name, s]) => [
            name,
            { name, capability: s.capability, plugin: resolve(CTX.baseDir, s.plugin), limits: { ...s.limits } },
          ]),
        );
        const p = m.policies ?? {};
        assert.deepEqual(spec, {
          identity: m.identity,
          listen: {
            admin: endpoint(m.listen?.admin ?? DEFAULT_ADMIN_ADDRESS),
            mesh: (m.listen?.mesh ?? []).map(endpoint),
          },
          peers: (m.peers ?? []).map((x) => ({ name: x.name, address: endpoint(x.address) })),
          slots,
          policies: {
            ...DEFAULT_NODE_POLICIES,
            ...p,
            breaker: { ...DEFAULT_NODE_POLICIES.breaker, ...p.breaker },
            trustedPluginKeys: (p.trustedPluginKeys ?? []).map((k) => ({
              name: k.name ?? null, algorithm: k.algorithm, publicKey: k.publicKey, file: null,
            })),
          },
          manifestPath: CTX.manifestPath,
        });
      }),
      RUNS,
    );
  });
});
