// mTLS on SVIDs for HTTPS servers and clients (the admin API, the identity server's /v1/renew). Peers are
// authenticated by the trust bundle (OpenSSL's chain check) and identified by the SPIFFE id in their SVID's URI SAN;
// host names play no part. A rotation of the local SVID reaches a running server through setSecureContext (and
// SNICallback for clients that send SNI), so the server never restarts.
import { createSecureContext, type PeerCertificate, type SecureContext, type Server, type TLSSocket } from 'node:tls';
import { identityError } from './identity-error.js';
import type { NodeIdentity } from './node-identity.js';
import { leafSpiffeId } from './svid.js';
import type { TrustBundle } from './trust-bundle.js';
import { derToPem, parseCertificate } from './x509-engine.js';

type BundleSource = TrustBundle | (() => TrustBundle);
const bundleOf = (b: BundleSource): TrustBundle => (typeof b === 'function' ? b() : b);

/** The key, certificate chain and CA material a TLS context needs for the identity's current SVID. */
function contextMaterial(identity: NodeIdentity, bundle: BundleSource) {
  const svid = identity.current();
  return {
    key: svid.privateKeyPem,
    cert: svid.chain.map((d) => derToPem('CERTIFICATE', d)).join(''),
    ca: bundleOf(bundle).toPem(),
    minVersion: 'TLSv1.3' as const,
  };
}

export interface MtlsServerOptions {
  key: string;
  cert: string;
  ca: string;
  minVersion: 'TLSv1.3';
  requestCert: true;
  rejectUnauthorized: boolean;
  SNICallback: (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) => void;
}

/**
 * Options for https.createServer / tls.createServer: the current SVID as server certificate, client certificates
 * requested and checked against the bundle. `requireClientCert: false` accepts clients without one (the identity
 * server's join endpoint) — handlers must then check `peerSpiffeId` themselves. Pair with `followRotation`.
 */
export function mtlsServerOptions(identity: NodeIdentity, bundle: BundleSource = () => identity.bundle(), opts: { requireClientCert?: boolean } = {}): MtlsServerOptions {
  return {
    ...contextMaterial(identity, bundle),
    requestCert: true,
    rejectUnauthorized: opts.requireClientCert ?? true,
    SNICallback: (_name, cb) => {
      try {
        cb(null, createSecureContext(contextMaterial(identity, bundle)));
      } catch (e) {
        cb(e as Error);
      }
    },
  };
}

/** Keeps a running TLS server on the identity's current SVID and bundle; returns the unsubscribe function. */
export function followRotation(server: Server, identity: NodeIdentity, bundle: BundleSource = () => identity.bundle()): () => void {
  const update = (): void => server.setSecureContext(contextMaterial(identity, bundle));
  identity.on('rotated', update);
  return () => identity.off('rotated', update);
}

/** The SPIFFE id of an authenticated TLS peer (chain checked against the bundle by TLS), or null. */
export function peerSpiffeId(socket: TLSSocket): string | null {
  if (!socket.authorized) return null;
  const cert = socket.getPeerCertificate();
  if (cert === null || cert.raw === undefined || cert.raw.length === 0) return null;
  try {
    return leafSpiffeId(parseCertificate(new Uint8Array(cert.raw))).uri;
  } catch {
    return null;
  }
}

/** The peer's leaf certificate DER (whether or not TLS authorised it), or null when it sent none. */
export function peerCertificateDer(socket: TLSSocket): Uint8Array | null {
  const cert: PeerCertificate | null = socket.getPeerCertificate();
  return cert === null || cert.raw === undefined || cert.raw.length === 0 ? null : new Uint8Array(cert.raw);
}

/** Accepts a server SPIFFE id: an exact id, a predicate, or any id in the bundle's trust domain when omitted. */
export type ServerIdPolicy = string | ((spiffeId: string) => boolean);

export interface MtlsClientOptions {
  key?: string;
  cert?: string;
  ca: string;
  minVersion: 'TLSv1.3';
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
}

/**
 * Options for https.request / tls.connect: present `svid` (omit for server-auth only), trust `bundle`, and accept the
 * server by its SPIFFE id instead of its host name.
 */
export function mtlsClientOptions(svid: { chain: readonly Uint8Array[]; privateKeyPem: string } | null, bundle: TrustBundle, expect?: ServerIdPolicy): MtlsClientOptions {
  const accept = (id: string): boolean => {
    if (typeof expect === 'string') return id === expect;
    if (typeof expect === 'function') return expect(id);
    return id.startsWith(`spiffe://${bundle.trustDomain}/`);
  };
  return {
    ...(svid === null ? {} : { key: svid.privateKeyPem, cert: svid.chain.map((d) => derToPem('CERTIFICATE', d)).join('') }),
    ca: bundle.toPem(),
    minVersion: 'TLSv1.3',
    checkServerIdentity: (_host, cert) => {
      try {
        const id = leafSpiffeId(parseCertificate(new Uint8Array(cert.raw))).uri;
        return accept(id) ? undefined : identityError('unauthorized', `the server is ${id}, which is not the one expected`, { spiffeId: id });
      } catch (e) {
        return e as Error;
      }
    },
  };
}
