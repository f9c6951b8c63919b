// Every refusal in host/spiffe is an IdentityError whose `details.reason` says why, so callers (sessions, the
// identity server, metrics) branch on the reason, never on message text.
import { IdentityError } from '../errors/index.js';

export type IdentityRefusal =
  | 'forged'          // a signature does not verify against the issuer / the trust bundle
  | 'expired'         // now > notAfter
  | 'not-yet-valid'   // now < notBefore
  | 'trust-domain'    // the SPIFFE id or issuer belongs to another trust domain
  | 'spiffe-id'       // the SPIFFE id breaks the X509-SVID rules (URI SAN count, syntax, path)
  | 'binding'         // the mesh-key binding extension is missing, malformed or names another fingerprint
  | 'malformed'       // bytes that do not parse as what they claim to be
  | 'token'           // a join token that is unknown, used or expired
  | 'proof'           // a request whose proof of possession (CSR or mesh-key signature) does not verify
  | 'svid-profile'    // CA flag, key usage or extended key usage not allowed for an X509-SVID
  | 'bundle'          // a fetched trust bundle does not match its pinned SHA-256
  | 'unauthorized'    // an mTLS peer that is missing or not the node it claims to be
  | 'unavailable';    // the identity server could not be reached or answered with an error

export function identityError(reason: IdentityRefusal, message: string, details: Record<string, unknown> = {}, cause?: unknown): IdentityError {
  return new IdentityError(message, { reason, ...details }, cause === undefined ? undefined : { cause });
}

export function refusalOf(e: unknown): string | null {
  return e instanceof IdentityError && typeof e.details['reason'] === 'string' ? e.details['reason'] : null;
}
