// The mesh CA and X.509-SVIDs: issue → verify round trip, every refusal reason of the verifier, join tokens (single
// use, expiry, survive a restart), renewal, CA rollover, crash-safe files.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { keyFingerprint } from '../../../host/crypto/key-fingerprint.js';
import { IdentityError } from '../../../host/errors/index.js';
import { decodeMeshKeyBinding, encodeMeshKeyBinding, MESH_KEY_BINDING_OID } from '../../../host/spiffe/binding-extension.js';
import { refusalOf } from '../../../host/spiffe/identity-error.js';
import { MeshCa, SVID_TTL_MS } from '../../../host/spiffe/mesh-ca.js';
import { createSvidRequest, svidRequestFromJson, svidRequestToJson, type SvidRequest } from '../../../host/spiffe/svid-request.js';
import { SvidVerifier, verifySvidChain } from '../../../host/spiffe/svid-verifier.js';
import { TrustBundle } from '../../../host/spiffe/trust-bundle.js';
import { certificateDer, generateEcKeyPair, parseCertificate, webSigningKey, x509Engine } from '../../../host/spiffe/x509-engine.js';
import type { MeshKeys } from '../../../host/spiffe/node-identity.js';
import { bindingOf, classicKeys, ed25519 } from './classic-keys.js';

const TD = 'mesh.test';
let dir: string;
let clock = Date.parse('2026-06-01T12:00:00Z');
const now = () => clock;
let ca: MeshCa;
let keys: MeshKeys;

async function request(k: MeshKeys = keys): Promise<SvidRequest> {
  return createSvidRequest({ signer: ed25519, signingSecretKey: k.signing.secretKey, binding: bindingOf(k), svidKey: generateEcKeyPair() });
}

async function refused(p: Promise<unknown> | (() => unknown), reason: string): Promise<void> {
  await assert.rejects(async () => (typeof p === 'function' ? p() : p), (e: unknown) => {
    assert.ok(e instanceof IdentityError, `expected IdentityError, got ${String(e)}`);
    assert.equal(refusalOf(e), reason, (e as Error).message);
    return true;
  });
}

/** Re-signs a modified copy of `der` with `key` (to build SVIDs our CA would never issue). */
async function resign(der: Uint8Array, edit: (c: pkijs.Certificate) => void, key = caKeyFor(ca)): Promise<Uint8Array> {
  x509Engine();
  const c = parseCertificate(der);
  edit(c);
  await c.sign(await webSigningKey(await key), 'SHA-256');
  return certificateDer(c);
}

async function caKeyFor(c: MeshCa) {
  const { readFile } = await import('node:fs/promises');
  const { createPrivateKey } = await import('node:crypto');
  return createPrivateKey(await readFile(join(c.dir, 'ca.pem'), 'utf8'));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'x0t-spiffe-ca-'));
  ca = await MeshCa.create(join(dir, 'ca'), TD, { signers: [ed25519], now });
  keys = await classicKeys();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('MeshCa files', () => {
  it('writes the CA key 0600 next to its certificate, leaves no temporary files, and loads back the same CA', async () => {
    assert.equal((await stat(join(ca.dir, 'ca.pem'))).mode & 0o777, 0o600);
    const names = await readdir(ca.dir);
    assert.deepEqual(names.filter((n) => n.endsWith('.tmp')), []);
    const again = await MeshCa.load(ca.dir, { signers: [ed25519], now });
    assert.equal(again.trustDomain, TD);
    assert.equal(again.bundle().sha256(), ca.bundle().sha256());
    await assert.rejects(MeshCa.create(ca.dir, TD, { signers: [ed25519], now }), /already holds/);
  });

  it('the CA certificate is a CA for keyCertSign with URI SAN spiffe://<td>', () => {
    const c = new X509Certificate(ca.bundle().certificates[0]!);
    assert.equal(c.ca, true);
    assert.equal(c.subjectAltName, `URI:spiffe://${TD}`);
  });
});

describe('issue and verify', () => {
  it('round trip: the SVID verifies and yields the bound keys as PeerCredentials', async () => {
    const chain = await ca.attest((await ca.createJoinToken(60_000)).token, await request());
    const creds = await new SvidVerifier(ca.bundle()).verify(chain, clock);
    const fp = keyFingerprint(keys.signing.publicKey);
    assert.equal(creds.fingerprint, fp);
    assert.equal(creds.spiffeId, `spiffe://${TD}/node/${fp}`);
    assert.deepEqual(creds.signingPublicKey, keys.signing.publicKey);
    assert.deepEqual(creds.kemPublicKey, keys.kem!.publicKey);
    assert.equal(creds.signingAlgorithm, 'ed25519');
    assert.equal(creds.kemAlgorithm, 'x25519');
    assert.equal(creds.notAfter, Math.floor((clock + SVID_TTL_MS) / 1000) * 1000);
    const leaf = new X509Certificate(chain[0]!);
    assert.equal(leaf.ca, false);
    assert.equal(leaf.subjectAltName, `URI:${creds.spiffeId}`);
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // node names the EKU "keyUsage"
    assert.ok(Date.parse(leaf.validFrom) < clock, 'notBefore is a little in the past');
    assert.ok(leaf.checkIssued(new X509Certificate(ca.bundle().certificates[0]!)));
  });

  it('refuses to issue when the fingerprint is not that of the signing key to bind', async () => {
    const other = await classicKeys();
    await refused(ca.issue({ publicKey: generateEcKeyPair().publicKeySpki, fingerprint: keyFingerprint(other.signing.publicKey), binding: bindingOf(keys) }), 'binding');
  });

  it('the binding extension round trips and refuses trailing bytes', () => {
    const der = encodeMeshKeyBinding(bindingOf(keys));
    assert.deepEqual(decodeMeshKeyBinding(der), bindingOf(keys));
    assert.throws(() => decodeMeshKeyBinding(new Uint8Array([...der, 0])), (e) => refusalOf(e) === 'binding');
  });
});

describe('refusals', () => {
  let chain: Uint8Array[];
  before(async () => {
    chain = await ca.issue({ publicKey: generateEcKeyPair().publicKeySpki, fingerprint: keyFingerprint(keys.signing.publicKey), binding: bindingOf(keys) });
  });
  const verify = (c: readonly Uint8Array[], at = clock, b = ca.bundle()) => verifySvidChain(c, b, at);

  it('forged: signed by another CA of the same trust domain', async () => {
    const rogue = await MeshCa.create(join(dir, 'rogue'), TD, { signers: [ed25519], now });
    const forged = await rogue.issue({ publicKey: generateEcKeyPair().publicKeySpki, fingerprint: keyFingerprint(keys.signing.publicKey), binding: bindingOf(keys) });
    await refused(() => verify(forged), 'forged');
  });

  it('forged: one byte of the signed part changed', async () => {
    const tampered = chain[0]!.slice();
    const at = Buffer.from(tampered).indexOf(Buffer.from(keys.kem!.publicKey.subarray(0, 8)));
    assert.ok(at > 0);
    tampered[at]! ^= 0x01; // inside the bound KEM key: still parses, signature no longer matches
    await refused(() => verify([tampered]), 'forged');
  });

  it('malformed: bytes that are not a certificate, or a certificate with trailing bytes', async () => {
    await refused(() => verify([new Uint8Array([0x30, 0x03, 0x02, 0x01])]), 'malformed');
    await refused(() => verify([new Uint8Array([...chain[0]!, 0])]), 'malformed');
    await refused(() => verify([]), 'malformed');
  });

  it('expired and not-yet-valid, at the exact bounds', async () => {
    const leaf = new X509Certificate(chain[0]!);
    const notAfter = Date.parse(leaf.validTo);
    const notBefore = Date.parse(leaf.validFrom);
    assert.doesNotThrow(() => verify(chain, notAfter));
    await refused(() => verify(chain, notAfter + 1), 'expired');
    assert.doesNotThrow(() => verify(chain, notBefore));
    await refused(() => verify(chain, notBefore - 1), 'not-yet-valid');
  });

  it('trust-domain: a valid SVID checked against another domain\'s bundle, or a bundle naming another domain', async () => {
    const other = await MeshCa.create(join(dir, 'other'), 'other.test', { signers: [ed25519], now });
    await refused(() => verify(chain, clock, other.bundle()), 'trust-domain');
    await refused(() => verify(chain, clock, new TrustBundle('other.test', ca.bundle().certificates)), 'trust-domain');
  });

  it('spiffe-id: two URI SANs, a non-node path', async () => {
    const sanWith = (uris: string[]) => (c: pkijs.Certificate) => {
      const e = c.extensions!.find((x) => x.extnID === '2.5.29.17')!;
      const names = new pkijs.GeneralNames({ names: uris.map((u) => new pkijs.GeneralName({ type: 6, value: u })) });
      e.extnValue = new asn1js.OctetString({ valueHex: names.toSchema().toBER(false) });
    };
    const fp = keyFingerprint(keys.signing.publicKey);
    await refused(async () => verify([await resign(chain[0]!, sanWith([`spiffe://${TD}/node/${fp}`, `spiffe://${TD}/node/${'0'.repeat(32)}`]))]), 'spiffe-id');
    await refused(async () => verify([await resign(chain[0]!, sanWith([`spiffe://${TD}/workload/${fp}`]))]), 'spiffe-id');
    await refused(async () => verify([await resign(chain[0]!, sanWith([`https://${TD}/node/${fp}`]))]), 'spiffe-id');
  });

  it('svid-profile: a CA:true leaf, a leaf that may sign certificates', async () => {
    await refused(async () => verify([await resign(chain[0]!, (c) => {
      const e = c.extensions!.find((x) => x.extnID === '2.5.29.19')!;
      e.extnValue = new asn1js.OctetString({ valueHex: new pkijs.BasicConstraints({ cA: true }).toSchema().toBER(false) });
    })]), 'svid-profile');
    await refused(async () => verify([await resign(chain[0]!, (c) => {
      const e = c.extensions!.find((x) => x.extnID === '2.5.29.15')!;
      e.extnValue = new asn1js.OctetString({ valueHex: new asn1js.BitString({ valueHex: Uint8Array.of(0x84), unusedBits: 2 }).toBER(false) });
    })]), 'svid-profile');
  });

  it('binding: the SVID names one node but binds another node\'s signing key, or binds nothing', async () => {
    const other = await classicKeys();
    await refused(async () => verify([await resign(chain[0]!, (c) => {
      const e = c.extensions!.find((x) => x.extnID === MESH_KEY_BINDING_OID)!;
      e.extnValue = new asn1js.OctetString({ valueHex: encodeMeshKeyBinding(bindingOf(other)) });
    })]), 'binding');
    await refused(async () => verify([await resign(chain[0]!, (c) => {
      c.extensions = c.extensions!.filter((x) => x.extnID !== MESH_KEY_BINDING_OID);
    })]), 'binding');
  });
});

describe('join tokens', () => {
  it('are single use', async () => {
    const { token } = await ca.createJoinToken(60_000);
    await ca.attest(token, await request());
    await refused(ca.attest(token, await request()), 'token');
  });

  it('expire', async () => {
    const { token, expiresAt } = await ca.createJoinToken(1_000);
    clock = expiresAt + 1;
    try {
      await refused(ca.attest(token, await request()), 'token');
    } finally {
      clock = expiresAt - 1_000;
    }
  });

  it('a used token stays used after the CA restarts; an unused one still works', async () => {
    const a = await ca.createJoinToken(60_000);
    const b = await ca.createJoinToken(60_000);
    await ca.attest(a.token, await request());
    const restarted = await MeshCa.load(ca.dir, { signers: [ed25519], now });
    await refused(restarted.attest(a.token, await request()), 'token');
    await restarted.attest(b.token, await request());
  });

  it('a request without proof does not use up the token', async () => {
    const { token } = await ca.createJoinToken(60_000);
    const good = await request();
    const badSig = { ...good, signature: good.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) };
    await refused(ca.attest(token, badSig), 'proof');
    const badCsr = { ...good, csr: good.csr.map((x, i) => (i === good.csr.length - 3 ? x ^ 1 : x)) };
    await refused(ca.attest(token, badCsr), 'proof');
    await refused(ca.attest('x0tjt1.not-a-token', good), 'token');
    await ca.attest(token, svidRequestFromJson(JSON.parse(JSON.stringify(svidRequestToJson(good)))));
  });
});

describe('renewal', () => {
  it('a node with a valid SVID gets a new one (new key) for the same fingerprint', async () => {
    const first = await ca.attest((await ca.createJoinToken(60_000)).token, await request());
    clock += SVID_TTL_MS / 2;
    const second = await ca.renew(first, await request());
    const a = verifySvidChain(first, ca.bundle(), clock);
    const b = verifySvidChain(second, ca.bundle(), clock);
    assert.equal(a.spiffeId, b.spiffeId);
    assert.ok(b.notAfter > a.notAfter);
    assert.notDeepEqual(new X509Certificate(first[0]!).publicKey.export({ format: 'der', type: 'spki' }),
      new X509Certificate(second[0]!).publicKey.export({ format: 'der', type: 'spki' }));
  });

  it('refuses a renewal for another fingerprint, and with an expired SVID', async () => {
    const first = await ca.attest((await ca.createJoinToken(60_000)).token, await request());
    await refused(ca.renew(first, await request(await classicKeys())), 'unauthorized');
    clock += SVID_TTL_MS + 1000;
    await refused(ca.renew(first, await request()), 'expired');
  });
});

describe('CA rollover', () => {
  it('keeps the previous CA certificate in the bundle: old SVIDs still verify, new ones chain to the new CA', async () => {
    const old = await ca.issue({ publicKey: generateEcKeyPair().publicKeySpki, fingerprint: keyFingerprint(keys.signing.publicKey), binding: bindingOf(keys) });
    const pinBefore = ca.bundle().sha256();
    await ca.rollover();
    const bundle = ca.bundle();
    assert.equal(bundle.certificates.length, 2);
    assert.ok(bundle.matchesPin(pinBefore));
    assert.notEqual(bundle.sha256(), pinBefore);
    verifySvidChain(old, bundle, clock);
    const fresh = await ca.issue({ publicKey: generateEcKeyPair().publicKeySpki, fingerprint: keyFingerprint(keys.signing.publicKey), binding: bindingOf(keys) });
    verifySvidChain(fresh, new TrustBundle(TD, [bundle.certificates[0]!]), clock);
    await refused(() => verifySvidChain(old, new TrustBundle(TD, [bundle.certificates[0]!]), clock), 'forged');
    const reloaded = await MeshCa.load(ca.dir, { signers: [ed25519], now });
    assert.equal(reloaded.bundle().certificates.length, 2);
  });
});
