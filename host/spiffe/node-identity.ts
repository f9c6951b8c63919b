// A node's SPIFFE identity over time: the current X.509-SVID and its key, renewed at half-life (1 h TTL → every
// 30 min) with a fresh ECDSA key each time, the old SVID served until the new one is in hand, `rotated` emitted on
// each change, persisted in a state directory (svid.pem: key + chain, 0600; bundle.pem) so a restart reuses it.
//
// Where SVIDs come from is an SvidAuthority: the local MeshCa on the CA node (localAuthority), or the CA node's
// identity server over HTTPS for a node that joined with a token (remoteAuthority, identity-client.ts).
import { X509Certificate } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { keyFingerprint } from '../crypto/key-fingerprint.js';
import type { LocalIdentity, PeerCredentials } from '../crypto/peer-credentials.js';
import type { SignatureScheme } from '../crypto/primitives.js';
import { replaceFileWith } from '../io/durable-file.js';
import type { MeshKeyBinding } from './binding-extension.js';
import { NOT_BEFORE_SKEW_MS } from './certificate-builder.js';
import { SYSTEM_CLOCK, type Clock, type TimerHandle } from './clock.js';
import { identityError } from './identity-error.js';
import type { MeshCa } from './mesh-ca.js';
import { checkTrustDomain } from './spiffe-id.js';
import { readSvidLeaf, type Svid } from './svid.js';
import { createSvidRequest, type SvidRequest } from './svid-request.js';
import { verifySvidChain } from './svid-verifier.js';
import { TrustBundle } from './trust-bundle.js';
import { derToPem, ecKeyPairFromPem, generateEcKeyPair, pemToDers } from './x509-engine.js';

export interface SvidAuthority {
  /** The current trust bundle of the mesh. */
  bundle(): Promise<TrustBundle>;
  /** A first SVID, when the node holds none that is valid (join). */
  obtain(request: SvidRequest): Promise<Uint8Array[]>;
  /** A new SVID while `current` is still valid (renewal: mTLS with `current` to a remote CA). */
  renew(current: Svid, request: SvidRequest): Promise<Uint8Array[]>;
}

/** The CA node's own authority: its MeshCa, in process. */
export function localAuthority(ca: MeshCa): SvidAuthority {
  return {
    bundle: async () => ca.bundle(),
    obtain: (request) => ca.issueForRequest(request),
    renew: (current, request) => ca.renew(current.chain, request),
  };
}

/** The node's long-lived mesh keys (NodeKeys from host/crypto/identity-keys.ts fits). */
export interface MeshKeys {
  readonly signing: { readonly algorithm: string; readonly publicKey: Uint8Array; readonly secretKey: Uint8Array };
  readonly kem: { readonly algorithm: string; readonly publicKey: Uint8Array; readonly secretKey: Uint8Array } | null;
}

export interface NodeIdentityOptions {
  readonly keys: MeshKeys;
  /** The scheme of keys.signing (signs SVID requests). */
  readonly signer: SignatureScheme;
  readonly authority: SvidAuthority;
  readonly trustDomain: string;
  /** Where svid.pem and bundle.pem live; null keeps nothing on disk. */
  readonly stateDir: string | null;
  readonly clock?: Clock;
  /** Wait before retrying a failed renewal (capped at a quarter of the remaining lifetime). Default 30 s. */
  readonly retryMs?: number;
}

/** The SVID a node presents now. */
export interface CurrentSvid extends Svid {
  /** Same as `chain` (the name the design contract uses). */
  readonly chainDer: readonly Uint8Array[];
  readonly credentials: PeerCredentials;
  /** When this node will start renewing it (half-life after it was received). */
  readonly renewAt: number;
}

export interface NodeIdentityEvents {
  rotated: [current: CurrentSvid, previous: CurrentSvid];
  'renew-failed': [error: unknown];
}

export class NodeIdentity extends EventEmitter<NodeIdentityEvents> {
  readonly trustDomain: string;
  readonly fingerprint: string;
  readonly #o: NodeIdentityOptions;
  readonly #clock: Clock;
  #current: CurrentSvid;
  #bundle: TrustBundle;
  #timer: TimerHandle | null = null;
  #renewing: Promise<void> | null = null;
  #closed = false;

  private constructor(o: NodeIdentityOptions, current: CurrentSvid, bundle: TrustBundle) {
    super();
    this.#o = o;
    this.#clock = o.clock ?? SYSTEM_CLOCK;
    this.trustDomain = o.trustDomain;
    this.fingerprint = keyFingerprint(o.keys.signing.publicKey);
    this.#current = current;
    this.#bundle = bundle;
  }

  /** Reuses a valid persisted SVID or obtains a new one, then schedules renewal at half-life. */
  static async open(o: NodeIdentityOptions): Promise<NodeIdentity> {
    checkTrustDomain(o.trustDomain);
    if (o.keys.kem === null) throw identityError('binding', 'a mesh node identity needs a KEM key (x0t keys gen makes one)');
    if (o.signer.algorithm !== o.keys.signing.algorithm) {
      throw identityError('binding', `the signer is ${o.signer.algorithm} but the key is ${o.keys.signing.algorithm}`);
    }
    const clock = o.clock ?? SYSTEM_CLOCK;
    const stored = o.stateDir === null ? null : await loadStored(resolve(o.stateDir), o, clock.now());
    let identity: NodeIdentity;
    if (stored !== null) {
      identity = new NodeIdentity(o, stored.svid, stored.bundle);
    } else {
      const bundle = await o.authority.bundle();
      identity = new NodeIdentity(o, await fetchSvid(o, bundle, clock.now(), null), bundle);
      await identity.#persist();
    }
    identity.#schedule(identity.#current.renewAt);
    return identity;
  }

  current(): CurrentSvid {
    return this.#current;
  }

  bundle(): TrustBundle {
    return this.#bundle;
  }

  /** What a session presents and signs with; `keys` defaults to the keys this identity was opened with. */
  localIdentity(keys: MeshKeys = this.#o.keys): LocalIdentity {
    if (keyFingerprint(keys.signing.publicKey) !== this.fingerprint || keys.kem === null) {
      throw identityError('binding', 'these keys are not the ones this identity binds');
    }
    return { credentials: this.#current.credentials, signingSecretKey: keys.signing.secretKey, kemSecretKey: keys.kem.secretKey };
  }

  /** Renews now (new key, new SVID); resolves once the new SVID is current. Concurrent calls share one renewal. */
  renewNow(): Promise<void> {
    this.#renewing ??= this.#rotate().finally(() => {
      this.#renewing = null;
    });
    return this.#renewing;
  }

  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = null;
  }

  #schedule(at: number): void {
    this.#timer?.cancel();
    if (this.#closed) return;
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = null;
      this.renewNow().catch(() => undefined); // failures are reported as 'renew-failed' and retried
    }, Math.max(0, at - this.#clock.now()));
  }

  async #rotate(): Promise<void> {
    const previous = this.#current;
    try {
      const now = this.#clock.now();
      const bundle = await this.#o.authority.bundle();
      const stillValid = now < previous.notAfter;
      const next = await fetchSvid(this.#o, bundle, now, stillValid ? previous : null);
      if (this.#closed) return;
      this.#bundle = bundle;
      this.#current = next;
      await this.#persist();
      this.#schedule(next.renewAt);
      this.emit('rotated', next, previous);
    } catch (e) {
      if (this.#closed) return;
      const now = this.#clock.now();
      const retry = Math.max(1000, Math.min(this.#o.retryMs ?? 30_000, (previous.notAfter - now) / 4));
      this.#schedule(now + retry);
      this.emit('renew-failed', e);
      throw e;
    }
  }

  async #persist(): Promise<void> {
    if (this.#o.stateDir === null) return;
    const dir = resolve(this.#o.stateDir);
    const c = this.#current;
    await replaceFileWith(join(dir, 'bundle.pem'), this.#bundle.toPem(), { mode: 0o644, folderMode: 0o700 });
    await replaceFileWith(join(dir, 'svid.pem'), c.privateKeyPem + c.chain.map((d) => derToPem('CERTIFICATE', d)).join(''), { mode: 0o600, folderMode: 0o700 });
  }
}

function bindingOf(keys: MeshKeys): MeshKeyBinding {
  return { signingAlgorithm: keys.signing.algorithm, signingPublicKey: keys.signing.publicKey, kemAlgorithm: keys.kem!.algorithm, kemPublicKey: keys.kem!.publicKey };
}

/** `receivedAt` is now; `issuedAt` is when its lifetime started (the half-life counts from there). */
function currentOf(chain: readonly Uint8Array[], privateKeyPem: string, bundle: TrustBundle, o: NodeIdentityOptions, receivedAt: number, issuedAt = receivedAt): CurrentSvid {
  if (bundle.trustDomain !== o.trustDomain) throw identityError('trust-domain', `the authority's bundle is for ${bundle.trustDomain}, not ${o.trustDomain}`);
  const credentials = verifySvidChain(chain, bundle, receivedAt);
  const own = keyFingerprint(o.keys.signing.publicKey);
  if (credentials.fingerprint !== own) throw identityError('binding', `the SVID names node ${credentials.fingerprint}, not this node (${own})`);
  const leafSpki = new X509Certificate(chain[0]!).publicKey.export({ format: 'der', type: 'spki' });
  if (Buffer.compare(leafSpki, ecKeyPairFromPem(privateKeyPem).publicKeySpki) !== 0) {
    throw identityError('binding', 'the SVID certifies another key than the one this node generated');
  }
  const notAfter = credentials.notAfter;
  const from = Math.min(issuedAt, receivedAt);
  return {
    chain, chainDer: chain, privateKeyPem, spiffeId: credentials.spiffeId, credentials,
    notBefore: readSvidLeaf(chain[0]!).notBefore, notAfter, renewAt: from + Math.floor((notAfter - from) / 2),
  };
}

async function fetchSvid(o: NodeIdentityOptions, bundle: TrustBundle, now: number, current: Svid | null): Promise<CurrentSvid> {
  const svidKey = generateEcKeyPair();
  const request = await createSvidRequest({ signer: o.signer, signingSecretKey: o.keys.signing.secretKey, binding: bindingOf(o.keys), svidKey });
  const chain = current === null ? await o.authority.obtain(request) : await o.authority.renew(current, request);
  return currentOf(chain, svidKey.privateKeyPem, bundle, o, now);
}

async function loadStored(dir: string, o: NodeIdentityOptions, now: number): Promise<{ svid: CurrentSvid; bundle: TrustBundle } | null> {
  let svidPem: string;
  let bundlePem: string;
  try {
    svidPem = await readFile(join(dir, 'svid.pem'), 'utf8');
    bundlePem = await readFile(join(dir, 'bundle.pem'), 'utf8');
  } catch {
    return null;
  }
  try {
    const bundle = TrustBundle.fromPem(o.trustDomain, bundlePem);
    const chain = pemToDers('CERTIFICATE', svidPem);
    // The mesh CA backdates notBefore by NOT_BEFORE_SKEW_MS: the lifetime (and so the half-life) began that much later.
    const issuedAt = chain.length === 0 ? now : readSvidLeaf(chain[0]!).notBefore + NOT_BEFORE_SKEW_MS;
    const svid = currentOf(chain, svidPem.slice(0, svidPem.indexOf('-----BEGIN CERTIFICATE-----')), bundle, o, now, issuedAt);
    return { svid, bundle };
  } catch {
    return null; // expired, for another key, or damaged: get a new one
  }
}
