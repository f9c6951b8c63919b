// The mesh CA: an ECDSA P-256 key and a self-signed CA certificate for one trust domain, kept in a directory; it
// issues X.509-SVIDs (1 h by default) to nodes that prove possession of their SVID key (CSR) and of the mesh
// signing key their fingerprint names, redeems join tokens, renews SVIDs for nodes holding a valid one, and serves
// the trust bundle (the previous CA certificate stays in it after a rollover until it expires).
//
// Directory:  ca.json (trust domain; written last, so its presence means "complete")
//             ca.pem  (0600: CA private key PKCS#8 + CA certificate, one file so they never disagree)
//             previous-ca.pem (the CA certificate before the last rollover)   join-tokens.json (hashes, 0600)
import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { keyFingerprint } from '../crypto/key-fingerprint.js';
import type { SignatureScheme } from '../crypto/primitives.js';
import { IoError } from '../errors/index.js';
import { replaceFileWith } from '../io/durable-file.js';
import type { MeshKeyBinding } from './binding-extension.js';
import { buildCaCertificate, buildSvidCertificate, NOT_BEFORE_SKEW_MS } from './certificate-builder.js';
import { identityError } from './identity-error.js';
import { JoinTokenStore } from './join-tokens.js';
import { checkFingerprint, checkTrustDomain, nodeSpiffeId } from './spiffe-id.js';
import { checkSvidRequest, type SvidRequest } from './svid-request.js';
import { verifySvidChain } from './svid-verifier.js';
import { TrustBundle } from './trust-bundle.js';
import { derToPem, ecKeyPairFromPem, generateEcKeyPair, parseCertificate, pemToDers, type EcKeyPair } from './x509-engine.js';

export const SVID_TTL_MS = 60 * 60 * 1000;
export const CA_TTL_MS = 365 * 24 * 60 * 60 * 1000;
const CA_KIND = 'x0t-mesh-ca';

/** Key algorithms an SVID may bind, with their public-key lengths. */
const BINDABLE_KEMS: Readonly<Record<string, number>> = { 'x-wing': 1216, x25519: 32 };

export interface MeshCaOptions {
  /** Signature schemes whose keys the CA accepts as mesh signing keys (composite and/or Ed25519). */
  readonly signers: readonly SignatureScheme[];
  readonly now?: () => number;
  readonly svidTtlMs?: number;
  readonly caTtlMs?: number;
}

export interface IssueOptions {
  /** SubjectPublicKeyInfo DER of the SVID key. */
  readonly publicKey: Uint8Array;
  /** Must equal keyFingerprint(binding.signingPublicKey). */
  readonly fingerprint: string;
  readonly binding: MeshKeyBinding;
  readonly ttlMs?: number;
}

interface CaState { readonly key: EcKeyPair; readonly certDer: Uint8Array }

export class MeshCa {
  readonly dir: string;
  readonly trustDomain: string;
  readonly #opts: MeshCaOptions;
  readonly #tokens: JoinTokenStore;
  #current: CaState;
  #previous: Uint8Array | null;

  private constructor(dir: string, trustDomain: string, opts: MeshCaOptions, tokens: JoinTokenStore, current: CaState, previous: Uint8Array | null) {
    this.dir = dir;
    this.trustDomain = trustDomain;
    this.#opts = opts;
    this.#tokens = tokens;
    this.#current = current;
    this.#previous = previous;
  }

  #now(): number {
    return (this.#opts.now ?? Date.now)();
  }

  static async #newCa(trustDomain: string, nowMs: number, ttlMs: number): Promise<CaState> {
    const key = generateEcKeyPair();
    const certDer = await buildCaCertificate({
      trustDomain, spkiDer: key.publicKeySpki, caKey: key.privateKey,
      window: { notBefore: nowMs - NOT_BEFORE_SKEW_MS, notAfter: nowMs + ttlMs },
    });
    return { key, certDer };
  }

  static async #writeCa(dir: string, s: CaState): Promise<void> {
    await replaceFileWith(join(dir, 'ca.pem'), s.key.privateKeyPem + derToPem('CERTIFICATE', s.certDer), { mode: 0o600, folderMode: 0o700 });
  }

  /** A new CA in `dir` (refuses a directory that already holds one). */
  static async create(dir: string, trustDomain: string, opts: MeshCaOptions): Promise<MeshCa> {
    const d = resolve(dir);
    checkTrustDomain(trustDomain);
    if (await exists(join(d, 'ca.json'))) throw new IoError(`${d} already holds a mesh CA`, { path: d, code: 'EEXIST' });
    const now = (opts.now ?? Date.now)();
    const state = await MeshCa.#newCa(trustDomain, now, opts.caTtlMs ?? CA_TTL_MS);
    await MeshCa.#writeCa(d, state);
    await replaceFileWith(join(d, 'ca.json'), `${JSON.stringify({ kind: CA_KIND, schemaVersion: 1, trustDomain })}\n`, { mode: 0o644, folderMode: 0o700 });
    return new MeshCa(d, trustDomain, opts, await JoinTokenStore.open(join(d, 'join-tokens.json')), state, null);
  }

  static async load(dir: string, opts: MeshCaOptions): Promise<MeshCa> {
    const d = resolve(dir);
    const read = async (f: string): Promise<string> => {
      try {
        return await readFile(join(d, f), 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? null;
        throw new IoError(`cannot read ${join(d, f)}: ${code ?? (e as Error).message}`, { path: join(d, f), code }, { cause: e });
      }
    };
    let meta: { kind?: unknown; trustDomain?: unknown };
    try {
      meta = JSON.parse(await read('ca.json')) as typeof meta;
    } catch (e) {
      if (e instanceof IoError) throw e;
      throw identityError('malformed', `${join(d, 'ca.json')} is not JSON`, {}, e);
    }
    if (meta.kind !== CA_KIND || typeof meta.trustDomain !== 'string') throw identityError('malformed', `${join(d, 'ca.json')} is not a mesh CA file`);
    const trustDomain = checkTrustDomain(meta.trustDomain);
    const pem = await read('ca.pem');
    const key = ecKeyPairFromPem(pem);
    const certDer = pemToDers('CERTIFICATE', pem)[0];
    if (certDer === undefined) throw identityError('malformed', `${join(d, 'ca.pem')} holds no certificate`);
    const spki = new Uint8Array(parseCertificate(certDer).subjectPublicKeyInfo.toSchema().toBER(false));
    if (Buffer.compare(spki, key.publicKeySpki) !== 0) throw identityError('malformed', `the key and certificate in ${join(d, 'ca.pem')} do not match`);
    const previous = (await exists(join(d, 'previous-ca.pem'))) ? pemToDers('CERTIFICATE', await read('previous-ca.pem'))[0] ?? null : null;
    return new MeshCa(d, trustDomain, opts, await JoinTokenStore.open(join(d, 'join-tokens.json')), { key, certDer }, previous);
  }

  /** Loads the CA in `dir`, or creates one there when the directory holds none. */
  static async open(dir: string, trustDomain: string, opts: MeshCaOptions): Promise<MeshCa> {
    if (await exists(join(resolve(dir), 'ca.json'))) {
      const ca = await MeshCa.load(dir, opts);
      if (ca.trustDomain !== trustDomain) throw identityError('trust-domain', `${dir} holds the CA of ${ca.trustDomain}, not ${trustDomain}`);
      return ca;
    }
    return MeshCa.create(dir, trustDomain, opts);
  }

  /** The CA certificates peers should trust: the current one, and the previous one until it expires. */
  bundle(): TrustBundle {
    const now = this.#now();
    const certs = [this.#current.certDer];
    if (this.#previous !== null && parseCertificate(this.#previous).notAfter.value.getTime() > now) certs.push(this.#previous);
    return new TrustBundle(this.trustDomain, certs);
  }

  /** Replaces the CA key and certificate; SVIDs of the old CA stay valid while its certificate stays in the bundle. */
  async rollover(): Promise<void> {
    const next = await MeshCa.#newCa(this.trustDomain, this.#now(), this.#opts.caTtlMs ?? CA_TTL_MS);
    await replaceFileWith(join(this.dir, 'previous-ca.pem'), derToPem('CERTIFICATE', this.#current.certDer), { mode: 0o644, folderMode: 0o700 });
    await MeshCa.#writeCa(this.dir, next);
    this.#previous = this.#current.certDer;
    this.#current = next;
  }

  /** An X.509-SVID (chain, leaf first) for `spiffe://<td>/node/<fingerprint>` binding the node's mesh keys. */
  async issue(o: IssueOptions): Promise<Uint8Array[]> {
    checkFingerprint(o.fingerprint);
    const fp = keyFingerprint(o.binding.signingPublicKey);
    if (fp !== o.fingerprint) {
      throw identityError('binding', `fingerprint ${o.fingerprint} is not that of the signing key to bind (${fp})`, { fingerprint: o.fingerprint, bound: fp });
    }
    const kemBytes = BINDABLE_KEMS[o.binding.kemAlgorithm];
    if (kemBytes === undefined || o.binding.kemPublicKey.length !== kemBytes) {
      throw identityError('binding', `cannot bind a ${o.binding.kemPublicKey.length}-byte ${o.binding.kemAlgorithm} key`, { algorithm: o.binding.kemAlgorithm });
    }
    const now = this.#now();
    const issuer = parseCertificate(this.#current.certDer);
    const ttl = o.ttlMs ?? this.#opts.svidTtlMs ?? SVID_TTL_MS;
    if (!(ttl > 0)) throw identityError('malformed', `an SVID TTL must be positive, got ${ttl}`);
    const leaf = await buildSvidCertificate({
      spiffeId: nodeSpiffeId(this.trustDomain, o.fingerprint),
      spkiDer: o.publicKey,
      binding: o.binding,
      commonName: o.fingerprint,
      window: { notBefore: now - NOT_BEFORE_SKEW_MS, notAfter: Math.min(now + ttl, issuer.notAfter.value.getTime()) },
    }, issuer, this.#current.key.privateKey);
    return [leaf];
  }

  /** Checks the request's proofs and issues (no token, no prior SVID: for the CA node's own SVID). */
  async issueForRequest(request: SvidRequest): Promise<Uint8Array[]> {
    const r = await checkSvidRequest(request, this.#opts.signers);
    return this.issue({ publicKey: r.spkiDer, fingerprint: r.fingerprint, binding: r.binding });
  }

  async createJoinToken(ttlMs: number): Promise<{ token: string; expiresAt: number }> {
    return this.#tokens.create(ttlMs, this.#now());
  }

  /** Join: redeems a single-use token for a first SVID. The token is used up only once the request checks out. */
  async attest(token: string, request: SvidRequest): Promise<Uint8Array[]> {
    this.#tokens.check(token, this.#now());
    const r = await checkSvidRequest(request, this.#opts.signers);
    await this.#tokens.consume(token, this.#now());
    return this.issue({ publicKey: r.spkiDer, fingerprint: r.fingerprint, binding: r.binding });
  }

  /** Renewal: a node presenting a valid SVID of this CA gets a new one for the same fingerprint (and a new key). */
  async renew(currentChain: readonly Uint8Array[], request: SvidRequest): Promise<Uint8Array[]> {
    const current = verifySvidChain(currentChain, this.bundle(), this.#now());
    const r = await checkSvidRequest(request, this.#opts.signers);
    if (r.fingerprint !== current.fingerprint) {
      throw identityError('unauthorized', `${current.spiffeId} cannot renew the SVID of node ${r.fingerprint}`, { spiffeId: current.spiffeId, requested: r.fingerprint });
    }
    return this.issue({ publicKey: r.spkiDer, fingerprint: r.fingerprint, binding: r.binding });
  }

  outstandingJoinTokens(): number {
    return this.#tokens.outstanding(this.#now());
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
