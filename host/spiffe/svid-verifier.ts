// Verifies a peer's X.509-SVID chain against a trust bundle at a given time, and turns it into the PeerCredentials
// sessions consume: signature chain to a bundle CA, validity of every certificate on the path, the X509-SVID leaf
// profile, the trust domain, and the mesh-key binding (fingerprint in the SPIFFE id = fingerprint of the bound key).
import { X509Certificate } from 'node:crypto';
import type { CredentialVerifier, PeerCredentials } from '../crypto/peer-credentials.js';
import { keyFingerprint } from '../crypto/key-fingerprint.js';
import { identityError } from './identity-error.js';
import { readSvidLeaf } from './svid.js';
import type { TrustBundle } from './trust-bundle.js';

/** A leaf and at most this many intermediates (the mesh CA signs leaves directly; allow one level of delegation). */
const MAX_CHAIN = 3;

function x509(der: Uint8Array): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (e) {
    throw identityError('malformed', 'a certificate of the chain does not parse', {}, e);
  }
}

function checkWindow(c: X509Certificate, nowMs: number, what: string): number {
  const notBefore = Date.parse(c.validFrom);
  const notAfter = Date.parse(c.validTo);
  if (nowMs < notBefore) throw identityError('not-yet-valid', `the ${what} is not valid before ${c.validFrom}`, { notBefore });
  if (nowMs > notAfter) throw identityError('expired', `the ${what} expired at ${c.validTo}`, { notAfter });
  return notAfter;
}

function signedBy(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

/** The verified credentials of `chain` (DER, leaf first), or IdentityError with the reason. */
export function verifySvidChain(chain: readonly Uint8Array[], bundle: TrustBundle, nowMs: number): PeerCredentials {
  if (chain.length === 0 || chain.length > MAX_CHAIN) {
    throw identityError('malformed', `an SVID chain has 1 to ${MAX_CHAIN} certificates, got ${chain.length}`);
  }
  const leaf = readSvidLeaf(chain[0]!);
  if (leaf.id.trustDomain !== bundle.trustDomain) {
    throw identityError('trust-domain', `${leaf.spiffeId} is not in trust domain ${bundle.trustDomain}`, {
      spiffeId: leaf.spiffeId, trustDomain: bundle.trustDomain,
    });
  }
  const certs = chain.map(x509);
  for (let i = 0; i + 1 < certs.length; i++) {
    if (!certs[i + 1]!.ca) throw identityError('forged', 'an intermediate of the chain is not a CA certificate');
    if (!signedBy(certs[i]!, certs[i + 1]!)) throw identityError('forged', `certificate ${i} of the chain is not signed by certificate ${i + 1}`);
  }
  const top = certs[certs.length - 1]!;
  const root = bundle.authorities().find((a) => signedBy(top, a));
  if (root === undefined) throw identityError('forged', `${leaf.spiffeId} does not chain to the trust bundle of ${bundle.trustDomain}`, { spiffeId: leaf.spiffeId });
  let notAfter = checkWindow(root, nowMs, 'trust bundle CA');
  certs.forEach((c, i) => {
    notAfter = Math.min(notAfter, checkWindow(c, nowMs, i === 0 ? 'SVID' : 'intermediate CA'));
  });
  const fp = keyFingerprint(leaf.binding.signingPublicKey);
  if (fp !== leaf.fingerprint) {
    throw identityError('binding', `the SVID names node ${leaf.fingerprint} but binds the signing key of ${fp}`, {
      spiffeId: leaf.spiffeId, bound: fp,
    });
  }
  return {
    fingerprint: leaf.fingerprint,
    spiffeId: leaf.spiffeId,
    signingAlgorithm: leaf.binding.signingAlgorithm,
    signingPublicKey: leaf.binding.signingPublicKey,
    kemAlgorithm: leaf.binding.kemAlgorithm,
    kemPublicKey: leaf.binding.kemPublicKey,
    chain: chain.map((c) => c.slice()),
    notAfter,
  };
}

/** CredentialVerifier over a trust bundle; `bundle` is re-read per call so bundle updates (CA rollover) apply. */
export class SvidVerifier implements CredentialVerifier {
  readonly #bundle: () => TrustBundle;
  constructor(bundle: TrustBundle | (() => TrustBundle)) {
    this.#bundle = typeof bundle === 'function' ? bundle : () => bundle;
  }
  async verify(chain: readonly Uint8Array[], nowMs: number): Promise<PeerCredentials> {
    return verifySvidChain(chain, this.#bundle(), nowMs);
  }
}
