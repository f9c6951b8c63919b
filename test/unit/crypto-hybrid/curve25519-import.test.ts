// curve25519.ts imports raw keys as JWK with a placeholder `x` on private keys, relying on OpenSSL deriving the public
// half from `d`. This checks that reliance against the RFC 8410 DER import (the slow, unambiguous path) on random keys,
// and against RFC 7748 / RFC 8032 vectors, so a Node or OpenSSL that starts using `x` fails here, not in a handshake.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, diffieHellman, randomBytes, sign } from 'node:crypto';
import { test } from 'node:test';
import { ed25519Public, ed25519Sign, ed25519Verify, x25519, x25519Public } from '../../../host/crypto/curve25519.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');
const ED25519_PKCS8 = Buffer.from('302e020100300506032b657004220420', 'hex');

function derPrivate(prefix: Buffer, raw: Uint8Array) {
  return createPrivateKey({ key: Buffer.concat([prefix, raw]), format: 'der', type: 'pkcs8' });
}
function derRawPublic(prefix: Buffer, raw: Uint8Array): Uint8Array {
  const spki = createPublicKey(derPrivate(prefix, raw)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - 32));
}

test('X25519 and Ed25519 through JWK agree with the DER import on 200 random keys', () => {
  for (let i = 0; i < 200; i++) {
    const a = new Uint8Array(randomBytes(32));
    const b = new Uint8Array(randomBytes(32));
    const bPub = derRawPublic(X25519_PKCS8, b);
    assert.deepEqual(x25519Public(a), derRawPublic(X25519_PKCS8, a));
    const reference = diffieHellman({
      privateKey: derPrivate(X25519_PKCS8, a),
      publicKey: createPublicKey({ key: Buffer.concat([X25519_SPKI, bPub]), format: 'der', type: 'spki' }),
    });
    assert.deepEqual(x25519(a, bPub), new Uint8Array(reference));
    const seed = new Uint8Array(randomBytes(32));
    const message = new Uint8Array(randomBytes(i));
    assert.deepEqual(ed25519Public(seed), derRawPublic(ED25519_PKCS8, seed));
    const signature = ed25519Sign(seed, message);
    assert.deepEqual(signature, new Uint8Array(sign(null, message, derPrivate(ED25519_PKCS8, seed))));
    assert.equal(ed25519Verify(ed25519Public(seed), message, signature), true);
  }
});

test('RFC 7748 §6.1 and RFC 8032 §7.1 test 1 vectors', () => {
  const alice = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bobPub = hex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  assert.deepEqual(x25519Public(alice), hex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'));
  assert.deepEqual(x25519(alice, bobPub), hex('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'));
  const seed = hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
  assert.deepEqual(ed25519Public(seed), hex('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'));
  assert.deepEqual(ed25519Sign(seed, new Uint8Array(0)), hex(
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'));
});

test('a key of the wrong length is refused, and a public key that is not a point does not verify', () => {
  assert.throws(() => x25519Public(new Uint8Array(31)), RangeError);
  assert.throws(() => x25519(new Uint8Array(32), new Uint8Array(33)), RangeError);
  assert.equal(ed25519Verify(new Uint8Array(31), new Uint8Array(0), new Uint8Array(64)), false);
});
