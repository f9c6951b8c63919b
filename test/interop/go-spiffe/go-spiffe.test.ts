// Interop: a go-spiffe v2 client (main.go: x509svid.Load + x509bundle.Parse + x509svid.Verify) judges our SVIDs.
// It must accept an SVID of our mesh CA with our bundle (also the hybrid-suite binding extension, and an old SVID
// after a CA rollover), and reject a forged one (another CA of the same trust domain), one checked against another
// trust domain's bundle, and a CA:true leaf. Needs `go` and the go-spiffe module (Go proxy or a warm module cache);
// skipped with a message when `go` is not installed.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { keyFingerprint } from '../../../host/crypto/key-fingerprint.js';
import { PqcSuite } from '../../../host/crypto/pqc-suite.js';
import { MeshCa } from '../../../host/spiffe/mesh-ca.js';
import { createSvidRequest } from '../../../host/spiffe/svid-request.js';
import { TrustBundle } from '../../../host/spiffe/trust-bundle.js';
import { certificateDer, derToPem, generateEcKeyPair, parseCertificate, webSigningKey, x509Engine } from '../../../host/spiffe/x509-engine.js';
import { bindingOf, classicKeys, ed25519 } from '../../unit/spiffe/classic-keys.js';

// dist/test/interop/go-spiffe → test/interop/go-spiffe (the Go sources are not copied by tsc).
const SOURCE = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../test/interop/go-spiffe');
const TD = 'interop.test';

function goAvailable(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}
const skip = goAvailable() ? false : 'go is not installed (go-spiffe v2.9.0 needs Go >= 1.24: https://go.dev/dl): go-spiffe interop not run';

let dir: string;
let binary: string;
let ca: MeshCa;

interface Verdict { ok: boolean; id?: string; stage?: string; error?: string }

async function judge(chain: readonly Uint8Array[], keyPem: string, bundle: TrustBundle, trustDomain = TD): Promise<Verdict> {
  const d = await mkdtemp(join(dir, 'case-'));
  await writeFile(join(d, 'bundle.pem'), bundle.toPem());
  await writeFile(join(d, 'svid.pem'), chain.map((c) => derToPem('CERTIFICATE', c)).join(''));
  await writeFile(join(d, 'key.pem'), keyPem, { mode: 0o600 });
  const r = spawnSync(binary, ['-trust-domain', trustDomain, '-bundle', join(d, 'bundle.pem'), '-svid', join(d, 'svid.pem'), '-key', join(d, 'key.pem')], { encoding: 'utf8' });
  assert.ok(r.status === 0 || r.status === 1, `svidcheck exited ${r.status}: ${r.stderr}`);
  const v = JSON.parse(r.stdout) as Verdict;
  assert.equal(v.ok, r.status === 0);
  return v;
}

async function issue(by: MeshCa) {
  const keys = await classicKeys();
  const svidKey = generateEcKeyPair();
  const chain = await by.issueForRequest(await createSvidRequest({ signer: ed25519, signingSecretKey: keys.signing.secretKey, binding: bindingOf(keys), svidKey }));
  return { chain, keyPem: svidKey.privateKeyPem, id: `spiffe://${TD}/node/${keyFingerprint(keys.signing.publicKey)}` };
}

describe('go-spiffe v2 accepts our X.509-SVIDs', { skip }, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'x0t-go-spiffe-'));
    binary = join(dir, 'svidcheck');
    // -mod=readonly: go.sum is committed; the module comes from GOMODCACHE or the Go proxy.
    execFileSync('go', ['build', '-mod=readonly', '-o', binary, '.'], { cwd: SOURCE, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, GOFLAGS: '-mod=readonly' } });
    ca = await MeshCa.create(join(dir, 'ca'), TD, { signers: [ed25519] });
  });
  after(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('accepts an SVID of our CA with our bundle, with the SPIFFE id we issued', async () => {
    const s = await issue(ca);
    assert.deepEqual(await judge(s.chain, s.keyPem, ca.bundle()), { ok: true, id: s.id });
  });

  it('accepts an SVID binding the hybrid suite keys (composite ML-DSA-65 + X-Wing: a ~3 KB extension)', async () => {
    const suite = await PqcSuite.open();
    try {
      const signing = await suite.composite.keygen();
      const kem = await suite.xwing.keygen();
      const hybridCa = await MeshCa.create(join(dir, 'hybrid-ca'), TD, { signers: [suite.composite] });
      const svidKey = generateEcKeyPair();
      const binding = { signingAlgorithm: suite.composite.algorithm, signingPublicKey: signing.publicKey, kemAlgorithm: suite.xwing.algorithm, kemPublicKey: kem.publicKey };
      const chain = await hybridCa.issueForRequest(await createSvidRequest({ signer: suite.composite, signingSecretKey: signing.secretKey, binding, svidKey }));
      assert.deepEqual(await judge(chain, svidKey.privateKeyPem, hybridCa.bundle()), { ok: true, id: `spiffe://${TD}/node/${keyFingerprint(signing.publicKey)}` });
    } finally {
      await suite.close();
    }
  });

  it('rejects a forged SVID: issued by another CA of the same trust domain', async () => {
    const rogue = await MeshCa.create(join(dir, 'rogue'), TD, { signers: [ed25519] });
    const s = await issue(rogue);
    const v = await judge(s.chain, s.keyPem, ca.bundle());
    assert.equal(v.ok, false);
    assert.equal(v.stage, 'verify');
  });

  it('rejects our SVID checked against a bundle of another trust domain', async () => {
    const s = await issue(ca);
    const v = await judge(s.chain, s.keyPem, new TrustBundle('elsewhere.test', ca.bundle().certificates), 'elsewhere.test');
    assert.equal(v.ok, false);
  });

  it('rejects a leaf with CA:true (re-signed by our own CA, so only the X509-SVID rules object)', async () => {
    const s = await issue(ca);
    x509Engine();
    const cert = parseCertificate(s.chain[0]!);
    const bc = cert.extensions!.find((e) => e.extnID === '2.5.29.19')!;
    bc.extnValue = new asn1js.OctetString({ valueHex: new pkijs.BasicConstraints({ cA: true }).toSchema().toBER(false) });
    const { readFile } = await import('node:fs/promises');
    const { createPrivateKey } = await import('node:crypto');
    await cert.sign(await webSigningKey(createPrivateKey(await readFile(join(ca.dir, 'ca.pem'), 'utf8'))), 'SHA-256');
    const v = await judge([certificateDer(cert)], s.keyPem, ca.bundle());
    assert.equal(v.ok, false);
    assert.equal(v.stage, 'parse');
  });

  it('after a CA rollover, accepts both an old SVID and a new one with the two-certificate bundle', async () => {
    const old = await issue(ca);
    await ca.rollover();
    const fresh = await issue(ca);
    assert.equal(ca.bundle().certificates.length, 2);
    assert.equal((await judge(old.chain, old.keyPem, ca.bundle())).ok, true);
    assert.equal((await judge(fresh.chain, fresh.keyPem, ca.bundle())).ok, true);
    assert.equal((await judge(old.chain, old.keyPem, new TrustBundle(TD, [ca.bundle().certificates[0]!]))).ok, false);
  });
});
