// An X.509 trust bundle for one trust domain: the mesh CA certificates a peer's SVID may chain to (two during a CA
// rollover). Distributed as PEM (GET /v1/bundle) and pinned at join time by the SHA-256 of a CA certificate's DER
// (`openssl x509 -outform der | sha256sum` gives the same value).
import { createHash, X509Certificate } from 'node:crypto';
import { identityError } from './identity-error.js';
import { checkTrustDomain } from './spiffe-id.js';
import { derToPem, pemToDers } from './x509-engine.js';

export class TrustBundle {
  readonly trustDomain: string;
  /** CA certificates, DER, the current one first. */
  readonly certificates: readonly Uint8Array[];
  readonly #x509: readonly X509Certificate[];

  constructor(trustDomain: string, certificates: readonly Uint8Array[]) {
    this.trustDomain = checkTrustDomain(trustDomain);
    if (certificates.length === 0) throw identityError('bundle', `the trust bundle of ${trustDomain} is empty`);
    this.certificates = certificates.map((c) => c.slice());
    this.#x509 = this.certificates.map((der) => {
      try {
        return new X509Certificate(der);
      } catch (e) {
        throw identityError('malformed', 'a trust bundle certificate does not parse', {}, e);
      }
    });
    for (const c of this.#x509) {
      if (!c.ca) throw identityError('bundle', 'a trust bundle certificate is not a CA certificate', { subject: c.subject });
    }
  }

  static fromPem(trustDomain: string, pem: string): TrustBundle {
    return new TrustBundle(trustDomain, pemToDers('CERTIFICATE', pem));
  }

  toPem(): string {
    return this.certificates.map((c) => derToPem('CERTIFICATE', c)).join('');
  }

  /** Node's parsed form of each CA certificate (for signature checks). */
  authorities(): readonly X509Certificate[] {
    return this.#x509;
  }

  /** SHA-256 (hex) of the current CA certificate's DER: what a joining node pins. */
  sha256(): string {
    return certificateSha256(this.certificates[0]!);
  }

  /** True when one of the bundle's CA certificates has this SHA-256 (a pin survives a CA rollover). */
  matchesPin(sha256Hex: string): boolean {
    const pin = sha256Hex.toLowerCase();
    return this.certificates.some((c) => certificateSha256(c) === pin);
  }
}

export function certificateSha256(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex');
}
