// The plain Ed25519 SignatureScheme: RFC 8032 §7.1 test vectors 1 and 2, and the scheme's contract.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ed25519Signer } from '../../../host/crypto/ed25519-signer.js';
import { CryptoInputError } from '../../../host/errors/index.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte 0x72).
const VECTORS = [
  {
    sk: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    msg: '',
    sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    sk: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    msg: '72',
    sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
];

test('RFC 8032 test vectors: key derivation, deterministic signature, verification', async () => {
  const ed = new Ed25519Signer();
  for (const v of VECTORS) {
    const kp = await ed.keygen(hex(v.sk));
    assert.equal(toHex(kp.publicKey), v.pk);
    const sig = await ed.sign(kp.secretKey, hex(v.msg));
    assert.equal(toHex(sig), v.sig);
    assert.equal(await ed.verify(hex(v.pk), hex(v.msg), hex(v.sig)), true);
    const bad = hex(v.sig);
    bad[10]! ^= 1;
    assert.equal(await ed.verify(hex(v.pk), hex(v.msg), bad), false);
    assert.equal(await ed.verify(hex(v.pk), Uint8Array.of(1, 2, 3), hex(v.sig)), false);
  }
});

test('sizes, fresh keys, wrong lengths and contexts', async () => {
  const ed = new Ed25519Signer();
  assert.equal(ed.algorithm, 'ed25519');
  assert.deepEqual({ ...ed.sizes }, { publicKeyBytes: 32, secretKeyBytes: 32, signatureBytes: 64, seedBytes: 32, maxContextBytes: 0 });
  const a = await ed.keygen();
  const b = await ed.keygen();
  assert.notDeepEqual(a.publicKey, b.publicKey);
  const msg = new TextEncoder().encode('x0t');
  const sig = await ed.sign(a.secretKey, msg);
  assert.equal(sig.length, 64);
  assert.equal(await ed.verify(a.publicKey, msg, sig), true);
  assert.equal(await ed.verify(b.publicKey, msg, sig), false);
  assert.equal(await ed.verify(a.publicKey, msg, sig.subarray(0, 63)), false, 'a short signature is false, not an error');
  await assert.rejects(ed.keygen(new Uint8Array(31)), CryptoInputError);
  await assert.rejects(ed.sign(new Uint8Array(64), msg), CryptoInputError);
  await assert.rejects(ed.verify(new Uint8Array(33), msg, sig), CryptoInputError);
  await assert.rejects(ed.sign(a.secretKey, msg, { context: Uint8Array.of(1) }), CryptoInputError);
  assert.equal(await ed.verify(a.publicKey, msg, sig, { context: new Uint8Array(0) }), true);
});
