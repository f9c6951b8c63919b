// SPIFFE ids (SPIFFE-ID spec): `spiffe://<trust domain>/<path>`. A mesh node is `spiffe://<td>/node/<fingerprint>`;
// the trust domain itself (the CA's URI SAN) is `spiffe://<td>`.
import { identityError } from './identity-error.js';

export const SPIFFE_SCHEME = 'spiffe://';
/** Trust domain names: lower-case letters, digits, '.', '-', '_' (SPIFFE-ID §2.1), at most 255 characters. */
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;
/** Path segments: letters, digits, '.', '-', '_'; not '.' or '..' (SPIFFE-ID §2.2). */
const SEGMENT = /^[A-Za-z0-9._-]+$/;
const FINGERPRINT = /^[0-9a-f]{32}$/;

export interface SpiffeId {
  readonly trustDomain: string;
  /** '' for a trust-domain id, else '/seg/seg…'. */
  readonly path: string;
}

export function checkTrustDomain(trustDomain: string): string {
  if (!TRUST_DOMAIN.test(trustDomain)) {
    throw identityError('trust-domain', `not a SPIFFE trust domain name: ${JSON.stringify(trustDomain)}`, { trustDomain });
  }
  return trustDomain;
}

export function checkFingerprint(fingerprint: string): string {
  if (!FINGERPRINT.test(fingerprint)) {
    throw identityError('spiffe-id', `not a node fingerprint (32 lower-case hex characters): ${JSON.stringify(fingerprint)}`, { fingerprint });
  }
  return fingerprint;
}

export function trustDomainId(trustDomain: string): string {
  return `${SPIFFE_SCHEME}${checkTrustDomain(trustDomain)}`;
}

export function nodeSpiffeId(trustDomain: string, fingerprint: string): string {
  return `${trustDomainId(trustDomain)}/node/${checkFingerprint(fingerprint)}`;
}

/** Parses a SPIFFE id strictly (no port, user info, query, fragment, percent-encoding or empty segments). */
export function parseSpiffeId(uri: string): SpiffeId {
  const bad = (why: string) => identityError('spiffe-id', `not a SPIFFE id (${why}): ${JSON.stringify(uri.slice(0, 300))}`, { uri: uri.slice(0, 300) });
  if (!uri.startsWith(SPIFFE_SCHEME)) throw bad('scheme must be spiffe');
  const rest = uri.slice(SPIFFE_SCHEME.length);
  const slash = rest.indexOf('/');
  const trustDomain = slash < 0 ? rest : rest.slice(0, slash);
  const path = slash < 0 ? '' : rest.slice(slash);
  if (!TRUST_DOMAIN.test(trustDomain)) throw bad('trust domain');
  if (path !== '') {
    for (const seg of path.slice(1).split('/')) {
      if (!SEGMENT.test(seg) || seg === '.' || seg === '..') throw bad('path segment');
    }
  }
  return { trustDomain, path };
}

/** The fingerprint named by a node id `spiffe://<td>/node/<fp>`, or null for any other id. */
export function nodeFingerprintOf(id: SpiffeId): string | null {
  const m = /^\/node\/([0-9a-f]{32})$/.exec(id.path);
  return m === null ? null : m[1]!;
}
