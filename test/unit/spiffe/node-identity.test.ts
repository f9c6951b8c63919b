// NodeIdentity: SVID rotation at half-life driven by an injected clock (an hour of lifetime in milliseconds), no gap
// (the old SVID stays current and valid until the new one is in hand), a fresh key per SVID, persistence across a
// restart, and retry after a failed renewal.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { keyFingerprint } from '../../../host/crypto/key-fingerprint.js';
import { MeshCa, SVID_TTL_MS } from '../../../host/spiffe/mesh-ca.js';
import { localAuthority, NodeIdentity, type CurrentSvid, type MeshKeys, type SvidAuthority } from '../../../host/spiffe/node-identity.js';
import { verifySvidChain } from '../../../host/spiffe/svid-verifier.js';
import { classicKeys, ed25519, ManualClock } from './classic-keys.js';

const TD = 'rotate.test';
let dir: string;
let clock: ManualClock;
let ca: MeshCa;
let keys: MeshKeys;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'x0t-spiffe-rot-'));
  clock = new ManualClock(Date.parse('2026-06-01T12:00:00Z'));
  ca = await MeshCa.create(join(dir, 'ca'), TD, { signers: [ed25519], now: clock.now });
  keys = await classicKeys();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** An authority whose renewals wait until the test releases them, to look at the node mid-renewal. */
function gatedAuthority(inner: SvidAuthority) {
  let release: () => void = () => undefined;
  let gate = new Promise<void>((r) => { release = r; });
  let calls = 0;
  return {
    authority: {
      bundle: () => inner.bundle(),
      obtain: (r) => inner.obtain(r),
      renew: async (c, r) => {
        calls++;
        await gate;
        return inner.renew(c, r);
      },
    } satisfies SvidAuthority,
    release: () => release(),
    rearm: () => { gate = new Promise<void>((r) => { release = r; }); },
    calls: () => calls,
  };
}

/** Lets the renewal started by a timer run up to its first real wait. */
const settle = () => new Promise<void>((r) => setTimeout(r, 20));

describe('NodeIdentity rotation', () => {
  it('renews at half-life with a fresh key, serving the old SVID until the new one is in hand', async () => {
    const gated = gatedAuthority(localAuthority(ca));
    const id = await NodeIdentity.open({ keys, signer: ed25519, authority: gated.authority, trustDomain: TD, stateDir: join(dir, 'node-a'), clock });
    try {
      const first = id.current();
      assert.equal(first.spiffeId, `spiffe://${TD}/node/${keyFingerprint(keys.signing.publicKey)}`);
      assert.equal(first.renewAt - clock.now(), Math.floor((first.notAfter - clock.now()) / 2));
      assert.ok(Math.abs(first.renewAt - clock.now() - SVID_TTL_MS / 2) < 1000, 'a 1 h SVID renews after ~30 min');

      clock.advanceTo(first.renewAt - 1);
      await settle();
      assert.equal(gated.calls(), 0, 'no renewal before half-life');
      clock.advanceTo(first.renewAt);
      await settle();
      assert.equal(gated.calls(), 1, 'renewal starts at half-life');
      // Mid-renewal: still the old SVID, and it is still valid now.
      assert.equal(id.current(), first);
      verifySvidChain(id.current().chain, id.bundle(), clock.now());
      assert.equal(id.localIdentity().credentials, first.credentials);

      const rotated = once(id, 'rotated');
      gated.release();
      const [next, previous] = (await rotated) as [CurrentSvid, CurrentSvid];
      assert.equal(previous, first);
      assert.equal(id.current(), next);
      assert.notEqual(next.privateKeyPem, first.privateKeyPem, 'a new key per SVID');
      assert.ok(next.notAfter > first.notAfter);
      assert.equal(next.spiffeId, first.spiffeId);
      verifySvidChain(next.chain, id.bundle(), clock.now());
      assert.deepEqual(id.localIdentity().signingSecretKey, keys.signing.secretKey);
      assert.equal(id.localIdentity().credentials, next.credentials);

      // And again at the next half-life: rotation keeps going for the whole run.
      gated.rearm();
      clock.advanceTo(next.renewAt);
      await settle();
      assert.equal(gated.calls(), 2);
      const again = once(id, 'rotated');
      gated.release();
      await again;
      assert.notEqual(id.current().privateKeyPem, next.privateKeyPem);
    } finally {
      id.close();
    }
  });

  it('persists the SVID (key file 0600) and reuses it after a restart instead of asking again', async () => {
    let asked = 0;
    const inner = localAuthority(ca);
    const counting: SvidAuthority = { bundle: () => inner.bundle(), obtain: (r) => { asked++; return inner.obtain(r); }, renew: (c, r) => inner.renew(c, r) };
    const stateDir = join(dir, 'node-b');
    const a = await NodeIdentity.open({ keys, signer: ed25519, authority: counting, trustDomain: TD, stateDir, clock });
    a.close();
    assert.equal((await stat(join(stateDir, 'svid.pem'))).mode & 0o777, 0o600);
    const b = await NodeIdentity.open({ keys, signer: ed25519, authority: counting, trustDomain: TD, stateDir, clock });
    b.close();
    assert.equal(asked, 1);
    assert.deepEqual(b.current().chain, a.current().chain);
    assert.equal(b.current().renewAt, a.current().renewAt, 'the half-life still counts from the original issue');
    // A stored SVID of other keys is not reused.
    const c = await NodeIdentity.open({ keys: await classicKeys(), signer: ed25519, authority: counting, trustDomain: TD, stateDir, clock });
    c.close();
    assert.equal(asked, 2);
  });

  it('a failed renewal keeps the current SVID, reports renew-failed and retries', async () => {
    let fail = true;
    const inner = localAuthority(ca);
    const flaky: SvidAuthority = {
      bundle: () => inner.bundle(), obtain: (r) => inner.obtain(r),
      renew: async (c, r) => { if (fail) throw new Error('CA unreachable'); return inner.renew(c, r); },
    };
    const id = await NodeIdentity.open({ keys, signer: ed25519, authority: flaky, trustDomain: TD, stateDir: null, clock, retryMs: 10_000 });
    try {
      const first = id.current();
      const failed = once(id, 'renew-failed');
      clock.advanceTo(first.renewAt);
      await failed;
      assert.equal(id.current(), first);
      fail = false;
      const rotated = once(id, 'rotated');
      clock.advanceTo(clock.now() + 10_000);
      await rotated;
      assert.notEqual(id.current(), first);
    } finally {
      id.close();
    }
  });
});
