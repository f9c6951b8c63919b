// The hybrid suite end to end over the real plugins (PqcSuite): node keys from `x0t keys gen` (composite Ed25519 +
// ML-DSA-65, X-Wing) join the mesh CA, the SVID binds them, the verifier hands sessions exactly those keys, and the
// proof of the mesh key is checked with the composite scheme.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateNodeKeys, type NodeKeys } from '../../../host/crypto/identity-keys.js';
import { PqcSuite } from '../../../host/crypto/pqc-suite.js';
import { IdentityError } from '../../../host/errors/index.js';
import { refusalOf } from '../../../host/spiffe/identity-error.js';
import { MeshCa } from '../../../host/spiffe/mesh-ca.js';
import { localAuthority, NodeIdentity } from '../../../host/spiffe/node-identity.js';
import { createSvidRequest } from '../../../host/spiffe/svid-request.js';
import { SvidVerifier } from '../../../host/spiffe/svid-verifier.js';
import { generateEcKeyPair } from '../../../host/spiffe/x509-engine.js';
import { ed25519 } from './classic-keys.js';

const TD = 'hybrid.test';
let suite: PqcSuite;
let dir: string;
let keys: NodeKeys;

before(async () => {
  suite = await PqcSuite.open();
  dir = await mkdtemp(join(tmpdir(), 'x0t-spiffe-hybrid-'));
  keys = await generateNodeKeys({ signer: suite.composite, kem: suite.xwing });
});
after(async () => {
  await suite?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('hybrid-suite SVIDs', () => {
  it('a node with composite + X-Wing keys gets an SVID whose credentials carry exactly those keys', async () => {
    const ca = await MeshCa.create(join(dir, 'ca'), TD, { signers: [suite.composite, ed25519] });
    const id = await NodeIdentity.open({ keys, signer: suite.composite, authority: localAuthority(ca), trustDomain: TD, stateDir: null });
    try {
      const local = id.localIdentity(keys);
      assert.equal(local.credentials.signingAlgorithm, 'ed25519+ml-dsa-65');
      assert.equal(local.credentials.kemAlgorithm, 'x-wing');
      assert.deepEqual(local.credentials.signingPublicKey, keys.signing.publicKey);
      assert.deepEqual(local.credentials.kemPublicKey, keys.kem!.publicKey);
      assert.deepEqual(local.kemSecretKey, keys.kem!.secretKey);
      const seen = await new SvidVerifier(() => ca.bundle()).verify(id.current().chain, Date.now());
      assert.deepEqual(seen, local.credentials);
    } finally {
      id.close();
    }
  });

  it('refuses a request signed by another composite key than the one it binds', async () => {
    const ca = await MeshCa.create(join(dir, 'ca2'), TD, { signers: [suite.composite] });
    const other = await suite.composite.keygen();
    const binding = { signingAlgorithm: 'ed25519+ml-dsa-65', signingPublicKey: keys.signing.publicKey, kemAlgorithm: 'x-wing', kemPublicKey: keys.kem!.publicKey };
    const forged = await createSvidRequest({ signer: suite.composite, signingSecretKey: other.secretKey, binding, svidKey: generateEcKeyPair() });
    await assert.rejects(ca.issueForRequest(forged), (e) => e instanceof IdentityError && refusalOf(e) === 'proof');
    // A CA that does not accept Ed25519 refuses a classic-suite request outright.
    const classic = await ed25519.keygen();
    const req = await createSvidRequest({ signer: ed25519, signingSecretKey: classic.secretKey, binding: { ...binding, signingAlgorithm: 'ed25519', signingPublicKey: classic.publicKey }, svidKey: generateEcKeyPair() });
    await assert.rejects(ca.issueForRequest(req), (e) => refusalOf(e) === 'binding');
  });
});
