// Signed plugins end to end: keys from `x0t keys gen`, manifests signed with `x0t plugin sign` (the real CLI), and a
// PluginHost (or a real node) whose policy requires signatures by a trusted key. Everything is written to a temp
// folder: copies of the shipped selftest manifest and the selftest-alt fixture, with their wasm next to them.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { NodeManifestV1 } from '../../../host/core/manifest/index.js';
import { TrustedManifestVerifier } from '../../../host/crypto/trusted-manifest-verifier.js';
import { HashMismatchError, PolicyRefusedError, SignatureError, type X0tError } from '../../../host/errors/index.js';
import { loadNodeSpec } from '../../../host/runtime/load-manifest.js';
import { PluginHost } from '../../../host/runtime/plugin-host.js';
import { decodeF64Vector, encodeF32Vector } from '../../../sdk/abi/generated/contract.js';
import { manifestText } from '../../../sdk/tools/build-plugins.js';
import { admin, fixtureManifest, fixtureWasm, jsonError, pluginManifest, runCli, startNode } from '../cli/harness.js';

const frame = encodeF32Vector({ len: 3, values: Float32Array.of(1, 2, 3.5) });
const sumOf = async (host: PluginHost) => decodeF64Vector(await host.slot('selftest').call('sum', frame)).values[0];

type Json = Record<string, unknown>;

let dir = '';
const verifier = new TrustedManifestVerifier();
const at = (name: string) => join(dir, name);
const TRUSTED_SEED = '11'.repeat(32);
const ROGUE_SEED = '22'.repeat(32);
let trustedFp = '';

async function cli(args: readonly string[]): Promise<Json> {
  const r = await runCli([...args, '--json'], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `x0t ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout.toString('utf8')) as Json;
}

/** A copy of a plugin manifest in the temp folder, its wasm copied beside it (as `wasmName`), optionally edited. */
async function manifestCopy(name: string, source: string, wasmName: string, edit: (m: Json) => void = () => undefined): Promise<string> {
  const m = JSON.parse(await readFile(source, 'utf8')) as Json;
  const wasm = m['wasm'] as { path: string; sha256: string };
  await copyFile(join(source, '..', wasm.path), at(wasmName));
  m['wasm'] = { ...wasm, path: wasmName };
  edit(m);
  const file = at(`${name}.json`);
  await writeFile(file, JSON.stringify(m, null, 2) + '\n');
  return file;
}

/**
 * The trusted-signed selftest manifest copied into a subfolder of its own (edited or not) with `wasm` copied to where
 * its unchanged relative wasm.path points: a tampering that leaves every other field as signed.
 */
async function tamperedCopy(sub: string, wasm: string, edit: (m: Json) => void = () => undefined): Promise<string> {
  await mkdir(at(sub));
  const m = JSON.parse(await readFile(signedSelftest, 'utf8')) as Json;
  edit(m);
  await copyFile(wasm, join(at(sub), (m['wasm'] as { path: string }).path));
  const file = join(at(sub), 'selftest.json');
  await writeFile(file, JSON.stringify(m, null, 2) + '\n');
  return file;
}

const sign = (manifest: string, key = at('trusted.key.json')) => cli(['plugin', 'sign', '--key', key, manifest]);

async function editJson(file: string, edit: (m: Json) => void): Promise<void> {
  const m = JSON.parse(await readFile(file, 'utf8')) as Json;
  edit(m);
  await writeFile(file, JSON.stringify(m, null, 2) + '\n');
}

/** A node manifest in the temp folder with one selftest slot and the given policies. */
async function nodeManifest(name: string, plugin: string, policies: NodeManifestV1['policies']): Promise<string> {
  const m: NodeManifestV1 = {
    schemaVersion: 1,
    identity: { name: 'signed-node', trustDomain: 'test.x0tta6bl4.dev' },
    listen: { admin: '127.0.0.1:0' },
    slots: { selftest: { capability: 'selftest', plugin } },
    policies: { breaker: { observeMs: 0 }, ...policies },
  };
  const file = at(`${name}.node.json`);
  await writeFile(file, JSON.stringify(m, null, 2));
  return file;
}

const REQUIRE: NodeManifestV1['policies'] = { requireSignedPlugins: true, trustedPluginKeys: [{ file: 'trusted.pub.json' }] };

async function startHost(node: string, opts: { verifier?: TrustedManifestVerifier | null } = {}): Promise<PluginHost> {
  const v = opts.verifier === undefined ? verifier : opts.verifier;
  return PluginHost.start(await loadNodeSpec(node), v === null ? {} : { verifier: v });
}

async function refusal<T extends X0tError>(p: Promise<unknown>, cls: abstract new (...a: never[]) => T, reason?: string): Promise<T> {
  const e = await p.then(() => null, (x: unknown) => x);
  assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
  if (reason !== undefined) assert.equal((e as X0tError).details['reason'], reason, (e as Error).message);
  return e as T;
}

// Manifests made once in before(): signed by the trusted key, by the rogue key, and unsigned.
let signedSelftest = '';
let unsignedSelftest = '';
let rogueSelftest = '';
let signedAlt = '';
let unsignedAlt = '';
let rogueAlt = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'x0t-signed-'));
  const trusted = await cli(['keys', 'gen', '--out', at('trusted.key.json'), '--public-out', at('trusted.pub.json'),
    '--name', 'release', '--seed', TRUSTED_SEED]);
  trustedFp = trusted['fingerprint'] as string;
  await cli(['keys', 'gen', '--out', at('rogue.key.json'), '--seed', ROGUE_SEED, '--no-kem']);

  signedSelftest = await manifestCopy('selftest', pluginManifest('selftest'), 'selftest.wasm');
  await sign(signedSelftest);
  unsignedSelftest = await manifestCopy('selftest-unsigned', pluginManifest('selftest'), 'selftest.wasm');
  rogueSelftest = await manifestCopy('selftest-rogue', pluginManifest('selftest'), 'selftest.wasm');
  await sign(rogueSelftest, at('rogue.key.json'));
  signedAlt = await manifestCopy('alt', fixtureManifest('selftest-alt'), 'selftest-alt.wasm');
  await sign(signedAlt);
  unsignedAlt = await manifestCopy('alt-unsigned', fixtureManifest('selftest-alt'), 'selftest-alt.wasm');
  rogueAlt = await manifestCopy('alt-rogue', fixtureManifest('selftest-alt'), 'selftest-alt.wasm');
  await sign(rogueAlt, at('rogue.key.json'));
});

after(async () => {
  await verifier.close();
  await rm(dir, { recursive: true, force: true });
});

describe('x0t keys', () => {
  test('gen writes a 0600 key file and a public-key file; show prints the public part, never a secret', async () => {
    assert.equal((await stat(at('trusted.key.json'))).mode & 0o777, 0o600);
    const secret = JSON.parse(await readFile(at('trusted.key.json'), 'utf8')) as { signing: { secretKey: string }; kem: { secretKey: string } };
    assert.equal(secret.kem !== undefined, true, 'the node key has an X-Wing KEM key');
    for (const args of [['--json'], []]) {
      const r = await runCli(['keys', 'show', at('trusted.key.json'), ...args]);
      assert.equal(r.code, 0, r.stderr);
      const out = r.stdout.toString('utf8');
      assert.ok(!out.includes('secretKey'), out);
      assert.ok(!out.includes(secret.signing.secretKey.slice(0, 24)), 'signing secret printed');
      assert.ok(!out.includes(secret.kem.secretKey.slice(0, 24)), 'kem secret printed');
      assert.ok(out.includes(trustedFp), out);
    }
    const shown = await cli(['keys', 'show', at('trusted.key.json'), '--trust-domain', 'mesh.example.org']);
    assert.match(trustedFp, /^[0-9a-f]{32}$/);
    assert.equal(shown['id'], `spiffe://mesh.example.org/node/${trustedFp}`);
    assert.equal(shown['name'], 'release');
    assert.equal((shown['signing'] as Json)['algorithm'], 'ed25519+ml-dsa-65');
    assert.equal((shown['signing'] as Json)['publicKeyBytes'], 1984);
    assert.equal((shown['kem'] as Json)['algorithm'], 'x-wing');
    const pub = await cli(['keys', 'show', at('trusted.pub.json'), '--public-out', at('again.pub.json')]);
    assert.equal(pub['kind'], 'public');
    assert.equal(pub['fingerprint'], trustedFp);
    assert.equal(await readFile(at('again.pub.json'), 'utf8'), await readFile(at('trusted.pub.json'), 'utf8'));
  });

  test('the same --seed gives the same keys; without --out the key file goes to stdout', async () => {
    const r = await runCli(['keys', 'gen', '--seed', TRUSTED_SEED, '--no-kem'], { timeoutMs: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const printed = JSON.parse(r.stdout.toString('utf8')) as { kind: string; signing: { publicKey: string } };
    assert.equal(printed.kind, 'x0t-node-key');
    const written = JSON.parse(await readFile(at('trusted.key.json'), 'utf8')) as { signing: { publicKey: string } };
    assert.equal(printed.signing.publicKey, written.signing.publicKey);
  });

  test('gen refuses to replace a key file without --force, and a bad seed', async () => {
    const again = await runCli(['keys', 'gen', '--out', at('trusted.key.json'), '--json'], { timeoutMs: 60_000 });
    assert.equal(again.code, 4, again.stderr);
    assert.equal(jsonError(again.stderr).code, 'X0T_IO');
    const seed = await runCli(['keys', 'gen', '--seed', 'abc', '--json']);
    assert.equal(seed.code, 2, seed.stderr);
  });
});

describe('x0t plugin sign', () => {
  test('adds the signature block last and keeps the rest of the manifest as it was', async () => {
    const m = JSON.parse(await readFile(signedSelftest, 'utf8')) as Json;
    const original = JSON.parse(await readFile(pluginManifest('selftest'), 'utf8')) as Json;
    assert.deepEqual(Object.keys(m), [...Object.keys(original), 'signature']);
    const sig = m['signature'] as { algorithm: string; publicKey: string; value: string };
    assert.equal(sig.algorithm, 'ed25519+ml-dsa-65');
    assert.equal(Buffer.from(sig.value, 'base64').length, 64 + 3309);
    const pub = JSON.parse(await readFile(at('trusted.pub.json'), 'utf8')) as { signing: { publicKey: string } };
    assert.equal(sig.publicKey, pub.signing.publicKey);
  });

  test('plugin build keeps the signature only while the manifest is otherwise unchanged', async () => {
    const text = await readFile(signedSelftest, 'utf8');
    const { signature: _s, ...fresh } = JSON.parse(text) as Json;
    assert.equal(manifestText(fresh, text), text);
    assert.ok(!manifestText({ ...fresh, version: '1.0.1' }, text).includes('"signature"'));
  });

  test('refuses a manifest whose wasm does not match its hash, and a public-key file as the key', async () => {
    const stale = await manifestCopy('stale', pluginManifest('selftest'), 'stale.wasm');
    await copyFile(fixtureWasm('selftest-alt'), at('stale.wasm'));
    const r = await runCli(['plugin', 'sign', '--key', at('trusted.key.json'), stale, '--json'], { timeoutMs: 60_000 });
    assert.equal(r.code, 5, r.stderr);
    assert.equal(jsonError(r.stderr).code, 'X0T_HASH_MISMATCH');
    assert.ok(!(await readFile(stale, 'utf8')).includes('"signature"'));
    const pub = await runCli(['plugin', 'sign', '--key', at('trusted.pub.json'), unsignedSelftest, '--json']);
    assert.equal(pub.code, 3, pub.stderr);
    assert.match(jsonError(pub.stderr).message, /public-key file/);
  });
});

describe('requireSignedPlugins at load', () => {
  test('a manifest signed by a trusted key loads and serves', async () => {
    const host = await startHost(await nodeManifest('ok', signedSelftest, REQUIRE));
    try {
      assert.equal(await sumOf(host), 6.5);
      assert.equal(host.slot('selftest').spec.name, 'selftest');
      assert.ok(verifier.opened, 'the ML-DSA-65 plugin was opened to verify');
    } finally {
      await host.close();
    }
  });

  test('an unsigned manifest is refused (PolicyRefusedError)', async () => {
    const e = await refusal(startHost(await nodeManifest('unsigned', unsignedSelftest, REQUIRE)), PolicyRefusedError, 'unsigned');
    assert.match(e.message, /slot selftest: the node requires signed plugins/);
  });

  test('a manifest signed by an untrusted key is refused (SignatureError)', async () => {
    const e = await refusal(startHost(await nodeManifest('rogue', rogueSelftest, REQUIRE)), SignatureError, 'untrusted-key');
    assert.match(e.message, new RegExp(`does not trust \\(trusted: ${trustedFp} \\(release\\)\\)`));
  });

  test('a manifest edited after signing (limits raised) is refused', async () => {
    // The module is the signed one; only a limit changed.
    const edited = await tamperedCopy('edited', at('selftest.wasm'), (m) => {
      (m['limits'] as Json)['maxMemoryPages'] = 65536;
    });
    await refusal(startHost(await nodeManifest('edited', edited, REQUIRE)), SignatureError, 'invalid');
  });

  test('a tampered wasm is refused: re-signed by an untrusted key, hash updated under the old signature, or left as is', async () => {
    const altWasm = fixtureWasm('selftest-alt');
    const altSha = (JSON.parse(await readFile(fixtureManifest('selftest-alt'), 'utf8')) as { wasm: { sha256: string } }).wasm.sha256;
    const pinAlt = (m: Json) => {
      (m['wasm'] as Json)['sha256'] = altSha;
    };
    // The attacker swaps the module, pins its hash and signs with their own key.
    const resigned = await tamperedCopy('tampered-resigned', altWasm, pinAlt);
    await sign(resigned, at('rogue.key.json'));
    await refusal(startHost(await nodeManifest('tampered-1', resigned, REQUIRE)), SignatureError, 'untrusted-key');
    // … pins the new hash but keeps the trusted signature.
    const kept = await tamperedCopy('tampered-kept', altWasm, pinAlt);
    await refusal(startHost(await nodeManifest('tampered-2', kept, REQUIRE)), SignatureError, 'invalid');
    // … or only replaces the module: the signature still verifies, the pinned hash does not match.
    const swapped = await tamperedCopy('tampered-module', altWasm);
    await refusal(startHost(await nodeManifest('tampered-3', swapped, REQUIRE)), HashMismatchError);
  });

  test('trusted keys may be given inline; a host without a verifier refuses rather than trusting', async () => {
    const pub = JSON.parse(await readFile(at('trusted.pub.json'), 'utf8')) as { signing: { algorithm: string; publicKey: string } };
    const inline = await nodeManifest('inline', signedSelftest, {
      requireSignedPlugins: true, trustedPluginKeys: [{ name: 'inline', ...pub.signing }],
    });
    const host = await startHost(inline);
    try {
      assert.equal(await sumOf(host), 6.5);
    } finally {
      await host.close();
    }
    await refusal(startHost(inline, { verifier: null }), PolicyRefusedError, 'no-verifier');
  });
});

describe('signatures when the node does not require them', () => {
  test('with trusted keys: unsigned loads, a trusted signature loads, an untrusted one is refused', async () => {
    const optional = { trustedPluginKeys: [{ file: 'trusted.pub.json' }] };
    for (const [name, plugin] of [['opt-unsigned', unsignedSelftest], ['opt-signed', signedSelftest]] as const) {
      const host = await startHost(await nodeManifest(name, plugin, optional));
      try {
        assert.equal(await sumOf(host), 6.5, name);
      } finally {
        await host.close();
      }
    }
    await refusal(startHost(await nodeManifest('opt-rogue', rogueSelftest, optional)), SignatureError, 'untrusted-key');
  });

  test('without trusted keys a signature is carried, not checked', async () => {
    const host = await startHost(await nodeManifest('none-rogue', rogueSelftest, {}), { verifier: null });
    try {
      assert.equal(await sumOf(host), 6.5);
    } finally {
      await host.close();
    }
  });
});

describe('requireSignedPlugins at swap', () => {
  test('swapSlot refuses unsigned and untrusted versions, the old one keeps serving; a trusted one swaps in', async () => {
    const host = await startHost(await nodeManifest('swap', signedSelftest, REQUIRE));
    try {
      await refusal(host.swapSlot('selftest', unsignedAlt), PolicyRefusedError, 'unsigned');
      assert.equal(await sumOf(host), 6.5);
      await refusal(host.swapSlot('selftest', rogueAlt), SignatureError, 'untrusted-key');
      assert.equal(await sumOf(host), 6.5);
      assert.equal(host.slot('selftest').spec.name, 'selftest');
      const rec = await host.swapSlot('selftest', signedAlt);
      assert.equal(rec.outcome, 'switched');
      assert.equal(host.slot('selftest').spec.name, 'selftest-alt');
      assert.equal(await sumOf(host), 6.5);
    } finally {
      await host.close();
    }
  });

  test('a node manifest change (what the watcher applies) to an unsigned plugin fails that slot and keeps it serving', async () => {
    const node = await nodeManifest('apply', signedSelftest, REQUIRE);
    const host = await startHost(node);
    try {
      const next = await nodeManifest('apply-next', unsignedAlt, REQUIRE);
      const report = await host.apply(await loadNodeSpec(next));
      assert.deepEqual(report.failed.map((f) => [f.slot, f.code]), [['selftest', 'X0T_POLICY_REFUSED']]);
      assert.deepEqual(report.swapped, []);
      assert.equal(host.slot('selftest').spec.name, 'selftest');
      assert.equal(await sumOf(host), 6.5);
    } finally {
      await host.close();
    }
  });

  test('a running node (x0t node start) refuses unsigned and untrusted swaps from the admin API and x0t plugin swap', async () => {
    const node = await startNode(await nodeManifest('live', signedSelftest, REQUIRE), ['--no-watch']);
    try {
      const unsigned = await admin(node.url, '/slots/selftest/swap', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ manifest: unsignedAlt }),
      });
      assert.equal(unsigned.status, 403);
      assert.equal(unsigned.json.error.code, 'X0T_POLICY_REFUSED');
      const rogue = await runCli(['plugin', 'swap', 'selftest', rogueAlt, '--admin', node.url, '--json']);
      assert.equal(rogue.code, 5, rogue.stderr);
      assert.equal(jsonError(rogue.stderr).code, 'X0T_SIGNATURE');
      const call = await admin(node.url, '/slots/selftest/call/sum', { method: 'POST', body: frame });
      assert.equal(call.status, 200);
      assert.equal(decodeF64Vector(call.bytes).values[0], 6.5);
      assert.equal((await admin(node.url, '/slots/selftest')).json.plugin.name, 'selftest');
      const ok = await runCli(['plugin', 'swap', 'selftest', signedAlt, '--admin', node.url, '--json']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal((await admin(node.url, '/slots/selftest')).json.plugin.name, 'selftest-alt');
    } finally {
      assert.equal(await node.stop(), 0, node.stderr());
    }
  });
});

test('no committed manifest was touched', async () => {
  for (const f of [pluginManifest('selftest'), fixtureManifest('selftest-alt')]) {
    assert.ok(!(await readFile(f, 'utf8')).includes('"signature"'), f);
  }
});
