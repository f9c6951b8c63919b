// Shared fixtures and fast-check arbitraries for the manifest tests (not a test file itself).

import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HOST_PERMISSIONS, type PluginLimits } from '../../../host/core/plugin-spec.js';
import {
  KNOWN_CAPABILITIES,
  MAX_IN_THREAD_TIMEOUT_MS,
  SIGNATURE_ALGORITHM_NAMES,
  SIGNATURE_ALGORITHMS,
  type NodeManifestV1,
  type PluginManifestV1,
} from '../../../host/core/manifest/index.js';
import { ManifestInvalidError } from '../../../host/errors/index.js';

export const BASE_DIR = '/srv/x0t/manifests/plugins';
export const CTX = { manifestPath: `${BASE_DIR}/demo.json`, baseDir: BASE_DIR } as const;

export const SHA = 'ab'.repeat(32);

export function validPlugin(): PluginManifestV1 {
  return {
    schemaVersion: 1,
    name: 'fedavg',
    version: '1.2.3',
    capability: 'aggregator',
    abi: { min: 1, max: 1 },
    wasm: { path: '../../wasm/fedavg.wasm', sha256: SHA },
  };
}

export function validNode(): NodeManifestV1 {
  return {
    schemaVersion: 1,
    identity: { name: 'node-a', trustDomain: 'mesh.example.org' },
    listen: { admin: '127.0.0.1:9470', mesh: ['0.0.0.0:9471'] },
    peers: [
      { name: 'node-b', address: '10.0.0.2:9471' },
      { name: 'node-c', address: 'c.example.org:9471' },
      { name: 'node-d', address: '[fe80::1]:9471' },
    ],
    slots: {
      selftest: { capability: 'selftest', plugin: '../plugins/selftest.json' },
      aggregator: { capability: 'aggregator', plugin: '../plugins/fedavg.json' },
    },
  };
}

/** Asserts that `fn` throws a ManifestInvalidError for exactly `path`, with a message starting with it. */
export function assertInvalidAt(fn: () => unknown, path: string): ManifestInvalidError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ManifestInvalidError, `expected ManifestInvalidError, got ${String(caught)}`);
  assert.equal(caught.details['path'], path, caught.message);
  assert.ok(caught.message.startsWith(path === '' ? 'manifest' : `${path}: `), caught.message);
  return caught;
}

/** Path segments → the documented dotted form (`a.b`, `a[0]`, `a["x.y"]`). */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(s)) out += out === '' ? s : `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

export type Segment = string | number;

/** Every path to a value inside `v` (not including the root itself). */
export function allPaths(v: unknown, prefix: Segment[] = []): Segment[][] {
  const out: Segment[][] = [];
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push([...prefix, i], ...allPaths(x, [...prefix, i]));
    });
  } else if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      out.push([...prefix, k], ...allPaths(x, [...prefix, k]));
    }
  }
  return out;
}

/** The value at `path`, or undefined when the path does not exist (any more). */
export function getAt(root: unknown, path: readonly Segment[]): unknown {
  let v = root;
  for (const s of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, s)) return undefined;
    v = (v as Record<Segment, unknown>)[s];
  }
  return v;
}

/** Sets (as an own data property, so "__proto__" is a plain key) the value at `path`; no-op if the parent is gone. */
export function setAt(root: unknown, path: readonly Segment[], value: unknown): void {
  const parent = getAt(root, path.slice(0, -1));
  if (parent === null || typeof parent !== 'object') return;
  Object.defineProperty(parent, path[path.length - 1]!, { value, writable: true, enumerable: true, configurable: true });
}

/** Removes the value at `path` (splicing arrays); no-op if the parent is gone. */
export function deleteAt(root: unknown, path: readonly Segment[]): void {
  const parent = getAt(root, path.slice(0, -1));
  if (parent === null || typeof parent !== 'object') return;
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete (parent as Record<Segment, unknown>)[last];
}

/** A JSON round trip: what the parser really sees (plain prototypes, "__proto__" kept as an own key). */
export function asJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

// ---------------------------------------------------------------------------------------------- arbitraries

export const slugArb = fc.stringMatching(/^[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4}){0,2}$/);

const semverArb = fc
  .tuple(
    fc.nat(999),
    fc.nat(999),
    fc.nat(999),
    fc.option(fc.stringMatching(/^[0-9A-Za-z-]{1,6}(\.[0-9A-Za-z-]{1,6}){0,2}$/), { nil: undefined }),
    fc.option(fc.stringMatching(/^[0-9A-Za-z-]{1,6}$/), { nil: undefined }),
  )
  .map(([a, b, c, pre, build]) => `${a}.${b}.${c}${pre === undefined ? '' : `-${pre}`}${build === undefined ? '' : `+${build}`}`);

const relPathArb = (ext: string) =>
  fc.stringMatching(new RegExp(`^(\\.\\./)?[a-z0-9_-]{1,10}(/[a-z0-9_-]{1,10}){0,2}\\.${ext}$`));

export const limitsArb: fc.Arbitrary<Partial<PluginLimits>> = fc.record(
  {
    maxMemoryPages: fc.integer({ min: 1, max: 65536 }),
    callTimeoutMs: fc.integer({ min: 1, max: 600_000 }),
    maxInputBytes: fc.integer({ min: 1, max: 2 ** 30 }),
    maxOutputBytes: fc.integer({ min: 1, max: 2 ** 30 }),
  },
  { requiredKeys: [] },
);

const base64Arb = fc.stringMatching(/^[A-Za-z0-9+/]{1,40}={0,2}$/);

export const pluginManifestArb: fc.Arbitrary<PluginManifestV1> = fc
  .tuple(
    fc.record(
      {
        $schema: fc.constant('../schema/plugin-manifest.v1.json'),
        schemaVersion: fc.constant(1 as const),
        name: slugArb,
        version: semverArb,
        description: fc.string({ maxLength: 40 }),
        capability: fc.constantFrom(...KNOWN_CAPABILITIES),
        abi: fc.integer({ min: 1, max: 9 }).chain((min) => fc.record({ min: fc.constant(min), max: fc.integer({ min, max: 12 }) })),
        wasm: fc.record({ path: relPathArb('wasm'), sha256: fc.stringMatching(/^[0-9a-f]{64}$/) }),
        limits: limitsArb,
        isolation: fc.constantFrom('worker' as const, 'in-thread' as const),
        permissions: fc.record({ host: fc.shuffledSubarray([...HOST_PERMISSIONS]) }, { requiredKeys: [] }),
        config: fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 12 }), { maxKeys: 4 }),
        signature: fc.option(
          fc.record({ algorithm: fc.constantFrom('ml-dsa-65', 'ed25519'), publicKey: base64Arb, value: base64Arb }),
          { nil: null },
        ),
      },
      { requiredKeys: ['schemaVersion', 'name', 'version', 'capability', 'abi', 'wasm'] },
    ),
    fc.integer({ min: 1, max: MAX_IN_THREAD_TIMEOUT_MS }),
  )
  .map(([m, fastTimeout]) => {
    // In-thread isolation is only valid with a short call timeout.
    if (m.isolation === 'in-thread' && (m.limits?.callTimeoutMs ?? 1000) > MAX_IN_THREAD_TIMEOUT_MS) {
      return asJson({ ...m, limits: { ...m.limits, callTimeoutMs: fastTimeout } });
    }
    return asJson(m);
  });

const hostArb = fc.oneof(
  fc.ipV4(),
  fc.domain(),
  fc.ipV6().map((a) => `[${a}]`),
  fc.constantFrom('localhost', '0.0.0.0', '[::]'),
);
export const hostPortArb = fc.tuple(hostArb, fc.integer({ min: 0, max: 65535 })).map(([h, p]) => `${h}:${p}`);

/** An inline trusted key of a signature algorithm, with a key of the right length. */
export const trustedKeyEntryArb: fc.Arbitrary<{ name?: string; algorithm: string; publicKey: string }> = fc
  .record(
    {
      name: fc.string({ minLength: 1, maxLength: 12 }),
      algorithm: fc.constantFrom(...SIGNATURE_ALGORITHM_NAMES),
      seed: fc.integer({ min: 0, max: 255 }),
    },
    { requiredKeys: ['algorithm', 'seed'] },
  )
  .map(({ name, algorithm, seed }) => {
    const bytes = new Uint8Array(SIGNATURE_ALGORITHMS[algorithm]!.publicKeyBytes).map((_, i) => (i * 31 + seed) & 0xff);
    return { ...(name === undefined ? {} : { name }), algorithm, publicKey: Buffer.from(bytes).toString('base64') };
  });

export const nodeManifestArb: fc.Arbitrary<NodeManifestV1> = fc.record(
  {
    $schema: fc.constant('../schema/node-manifest.v1.json'),
    schemaVersion: fc.constant(1 as const),
    identity: fc.record({ name: slugArb, trustDomain: fc.stringMatching(/^[a-z0-9]{1,8}(\.[a-z0-9]([a-z0-9-]{0,6}[a-z0-9])?){0,3}$/) }),
    listen: fc.record({ admin: hostPortArb, mesh: fc.array(hostPortArb, { maxLength: 3 }) }, { requiredKeys: [] }),
    peers: fc.uniqueArray(fc.record({ name: slugArb, address: hostPortArb }), { selector: (p) => p.name, maxLength: 4 }),
    slots: fc.dictionary(
      slugArb,
      fc.record(
        { capability: fc.constantFrom(...KNOWN_CAPABILITIES), plugin: relPathArb('json'), limits: limitsArb },
        { requiredKeys: ['capability', 'plugin'] },
      ),
      { maxKeys: 4 },
    ),
    policies: fc.record(
      {
        requireSignedPlugins: fc.boolean(),
        trustedPluginKeys: fc.uniqueArray(trustedKeyEntryArb, { selector: (k) => k.publicKey, maxLength: 2 }),
        allowInThread: fc.boolean(),
        breaker: fc.record(
          {
            failureThreshold: fc.integer({ min: 1, max: 1_000_000 }),
            windowMs: fc.integer({ min: 1, max: 86_400_000 }),
            observeMs: fc.integer({ min: 0, max: 86_400_000 }),
          },
          { requiredKeys: [] },
        ),
        drainTimeoutMs: fc.integer({ min: 0, max: 600_000 }),
        selfTest: fc.boolean(),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['schemaVersion', 'identity', 'slots'] },
).chain((m) => {
  // A node that requires signed plugins must trust at least one key.
  const p = m.policies;
  if (p?.requireSignedPlugins !== true || (p.trustedPluginKeys ?? []).length > 0) return fc.constant(m);
  return trustedKeyEntryArb.map((k) => ({ ...m, policies: { ...p, trustedPluginKeys: [k] } }));
}).map(asJson);

/** A value whose JSON type differs from `current`'s (and is never valid where `current` was valid). */
export function wrongTypeArb(current: unknown, nullable: boolean): fc.Arbitrary<unknown> {
  const choices: fc.Arbitrary<unknown>[] = [];
  const isInt = typeof current === 'number';
  if (typeof current !== 'string') choices.push(fc.string({ maxLength: 5 }));
  if (isInt) choices.push(fc.constantFrom(1.5, -0.25, 1e-3));
  else choices.push(fc.integer());
  if (typeof current !== 'boolean') choices.push(fc.boolean());
  if (current !== null && !nullable) choices.push(fc.constant(null));
  if (!Array.isArray(current)) choices.push(fc.array(fc.integer(), { maxLength: 2 }));
  if (current === null || typeof current !== 'object' || Array.isArray(current)) {
    // An object is only "wrong" where the schema does not expect one.
    if (current !== null) choices.push(fc.constant({ zz: 1 }));
  }
  return fc.oneof(...choices);
}
