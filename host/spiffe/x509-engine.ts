// pkijs over node:crypto's WebCrypto, and the small conversions between pkijs objects, DER, PEM and KeyObjects the
// rest of host/spiffe shares. ECDSA P-256 with SHA-256 throughout: the most widely accepted TLS and SVID key type
// (OpenSSL, Go's crypto/tls and go-spiffe all take it).
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { identityError } from './identity-error.js';

let engineSet = false;
/** pkijs needs an engine before it signs or verifies; set once per process. */
export function x509Engine(): pkijs.ICryptoEngine {
  if (!engineSet) {
    pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto }));
    engineSet = true;
  }
  return pkijs.getCrypto(true);
}

export interface EcKeyPair {
  readonly privateKey: KeyObject;
  /** PKCS#8 PEM, what node:tls takes as `key`. */
  readonly privateKeyPem: string;
  /** SubjectPublicKeyInfo DER. */
  readonly publicKeySpki: Uint8Array;
}

export function generateEcKeyPair(): EcKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return ecKeyPairOf(privateKey, publicKey);
}

export function ecKeyPairFromPem(pem: string): EcKeyPair {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (e) {
    throw identityError('malformed', 'the key is not a PEM private key', {}, e);
  }
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw identityError('malformed', 'the key is not an ECDSA P-256 private key');
  }
  return ecKeyPairOf(privateKey, undefined);
}

function ecKeyPairOf(privateKey: KeyObject, publicKey: KeyObject | undefined): EcKeyPair {
  const spki = (publicKey ?? createPublicKey(privateKey)).export({ format: 'der', type: 'spki' });
  return {
    privateKey,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeySpki: new Uint8Array(spki),
  };
}

/** A WebCrypto signing key for pkijs, from a node KeyObject. */
export async function webSigningKey(privateKey: KeyObject): Promise<CryptoKey> {
  const der = privateKey.export({ format: 'der', type: 'pkcs8' });
  return webcrypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign']) as Promise<CryptoKey>;
}

/**
 * asn1js reports most malformed DER through `offset === -1`, but some value decoders throw a plain Error while
 * parsing (a GeneralizedTime that is not a time, found by the verifier fuzz test): both become IdentityError.
 */
export function berOf(der: Uint8Array, what: string): ReturnType<typeof asn1js.fromBER> {
  try {
    return asn1js.fromBER(der);
  } catch (e) {
    throw identityError('malformed', `${what} does not parse as DER`, {}, e);
  }
}

export function spkiOf(der: Uint8Array): pkijs.PublicKeyInfo {
  const parsed = berOf(der, 'the public key');
  if (parsed.offset !== der.byteLength) throw identityError('malformed', 'the public key is not one DER SubjectPublicKeyInfo');
  try {
    return new pkijs.PublicKeyInfo({ schema: parsed.result });
  } catch (e) {
    throw identityError('malformed', 'the public key is not a SubjectPublicKeyInfo', {}, e);
  }
}

export function parseCertificate(der: Uint8Array): pkijs.Certificate {
  const parsed = berOf(der, 'a certificate');
  if (parsed.offset !== der.byteLength) throw identityError('malformed', 'a certificate is not one DER object');
  try {
    return new pkijs.Certificate({ schema: parsed.result });
  } catch (e) {
    throw identityError('malformed', 'a certificate does not parse as X.509', {}, e);
  }
}

export function certificateDer(cert: pkijs.Certificate): Uint8Array {
  return new Uint8Array(cert.toSchema(true).toBER(false));
}

export function derToPem(label: 'CERTIFICATE' | 'CERTIFICATE REQUEST', der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

/** Every `label` block of a PEM text, as DER, in order. */
export function pemToDers(label: 'CERTIFICATE', pem: string): Uint8Array[] {
  const re = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+?)-----END ${label}-----`, 'g');
  return [...pem.matchAll(re)].map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64')));
}
