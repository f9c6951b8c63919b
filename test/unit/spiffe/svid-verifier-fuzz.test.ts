// The verifier faces bytes from the network (a peer's identity frame): whatever it is given — random bytes, a real
// SVID with bytes flipped, cut or appended — it either returns credentials or throws IdentityError, nothing else.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import fc from 'fast-check';
import { keyFingerprint } from '../../../host/crypto/key-fingerprint.js';
import { IdentityError } from '../../../host/errors/index.js';
import { MeshCa } from '../../../host/spiffe/mesh-ca.js';
import { verifySvidChain } from '../../../host/spiffe/svid-verifier.js';
import { generateEcKeyPair } from '../../../host/spiffe/x509-engine.js';
import { bindingOf, classicKeys, ed25519 } from './classic-keys.js';

let dir: string;
let ca: MeshCa;
let leaf: Uint8Array;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'x0t-spiffe-fuzz-'));
  ca = await MeshCa.create(dir, 'fuzz.test', { signers: [ed25519] });
  const keys = await classicKeys();
  [leaf] = (await ca.issue({ publicKey: generateEcKeyPair().publicKeySpki, fingerprint: keyFingerprint(keys.signing.publicKey), binding: bindingOf(keys) })) as [Uint8Array];
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function outcome(chain: Uint8Array[]): 'ok' | 'refused' {
  try {
    verifySvidChain(chain, ca.bundle(), Date.now());
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof IdentityError, `threw ${String(e)}`);
    return 'refused';
  }
}

it('random bytes and chains of them are refused with IdentityError', () => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 0, maxLength: 4 }), (chain) => {
    assert.equal(outcome(chain), 'refused');
  }), { numRuns: 300 });
});

it('a real SVID with bytes changed, cut short or extended: IdentityError or (for bytes outside the signed part) ok', () => {
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat({ max: 2000 }), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat({ max: 2000 }), bit: fc.constant(0) }),
    fc.record({ kind: fc.constant('append' as const), at: fc.nat({ max: 255 }), bit: fc.constant(0) }),
  );
  fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (ms) => {
    let b = leaf.slice();
    for (const m of ms) {
      if (m.kind === 'flip') b[m.at % b.length]! ^= 1 << m.bit;
      else if (m.kind === 'cut') b = b.slice(0, m.at % b.length);
      else b = new Uint8Array([...b, m.at]);
    }
    outcome([b]);
  }), { numRuns: 400 });
  assert.equal(outcome([leaf]), 'ok');
});

it('every single-bit flip of a real SVID gives IdentityError or (outside the signed part) ok, never another error', () => {
  // Exhaustive where the property above samples: it once found a flip inside a validity time that made asn1js throw a
  // plain Error from its GeneralizedTime decoder.
  for (let at = 0; at < leaf.length; at++) {
    for (let bit = 0; bit < 8; bit++) {
      const b = leaf.slice();
      b[at]! ^= 1 << bit;
      outcome([b]);
    }
  }
});
