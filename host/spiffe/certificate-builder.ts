// Builds the two certificate profiles of the mesh, signed with pkijs:
// - the CA: self-signed, basicConstraints cA (critical), keyUsage keyCertSign|cRLSign (critical), URI SAN
//   `spiffe://<td>` (SPIFFE X509-SVID §4: a signing certificate may carry the trust domain id);
// - the X.509-SVID (X509-SVID spec §2, §4.1–4.4): exactly one URI SAN (the node's SPIFFE id), cA false (critical),
//   keyUsage digitalSignature only (critical), extKeyUsage serverAuth + clientAuth, and the non-critical mesh-key
//   binding extension.
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { encodeMeshKeyBinding, MESH_KEY_BINDING_OID, type MeshKeyBinding } from './binding-extension.js';
import { certificateDer, spkiOf, webSigningKey, x509Engine } from './x509-engine.js';
import type { KeyObject } from 'node:crypto';

const OID = {
  commonName: '2.5.4.3',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;
export const X509_OID = OID;

/** keyUsage bits, numbered as in RFC 5280 §4.2.1.3. */
export const KEY_USAGE = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;
/** Backdating of notBefore, so a peer whose clock is a little behind accepts a fresh certificate. */
export const NOT_BEFORE_SKEW_MS = 5 * 60 * 1000;

function keyUsageBits(bits: readonly number[]): asn1js.BitString {
  const bytes = new Uint8Array(2);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  const used = bytes[1] === 0 ? 1 : 2;
  const last = bytes[used - 1]!;
  let unused = 0;
  while (unused < 7 && (last & (1 << unused)) === 0) unused++;
  return new asn1js.BitString({ valueHex: bytes.subarray(0, used), unusedBits: unused });
}

/** A one-attribute name (pkijs would put several attributes into one multi-valued RDN). */
function name(cn: string): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: [new pkijs.AttributeTypeAndValue({ type: OID.commonName, value: new asn1js.Utf8String({ value: cn }) })],
  });
}

function ext(extnID: string, critical: boolean, value: asn1js.AsnType | Uint8Array, parsedValue?: unknown): pkijs.Extension {
  const der = value instanceof Uint8Array ? value : new Uint8Array(value.toBER(false));
  return new pkijs.Extension({ extnID, critical, extnValue: der.slice().buffer, ...(parsedValue === undefined ? {} : { parsedValue }) });
}

function uriSan(uri: string): pkijs.Extension {
  const names = new pkijs.GeneralNames({ names: [new pkijs.GeneralName({ type: 6, value: uri })] });
  return ext(OID.subjectAltName, false, names.toSchema());
}

function keyIdentifier(spki: pkijs.PublicKeyInfo): Uint8Array {
  // RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits (an identifier, not a security function).
  return new Uint8Array(createHash('sha1').update(spki.subjectPublicKey.valueBlock.valueHexView).digest());
}

function randomSerial(): asn1js.Integer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01; // positive, 16 bytes, never zero (RFC 5280 §4.1.2.2)
  return new asn1js.Integer({ valueHex: b });
}

export interface CertificateWindow {
  readonly notBefore: number;
  readonly notAfter: number;
}

async function signed(cert: pkijs.Certificate, issuerKey: KeyObject): Promise<Uint8Array> {
  x509Engine();
  await cert.sign(await webSigningKey(issuerKey), 'SHA-256');
  return certificateDer(cert);
}

function base(spkiDer: Uint8Array, window: CertificateWindow): pkijs.Certificate {
  const cert = new pkijs.Certificate();
  cert.version = 2;
  cert.serialNumber = randomSerial();
  cert.notBefore.value = new Date(window.notBefore);
  cert.notAfter.value = new Date(window.notAfter);
  cert.subjectPublicKeyInfo = spkiOf(spkiDer);
  cert.extensions = [];
  return cert;
}

/** A self-signed CA certificate for `trustDomain`, signed by `caKey` whose public key is `spkiDer`. */
export async function buildCaCertificate(o: { trustDomain: string; spkiDer: Uint8Array; caKey: KeyObject; window: CertificateWindow }): Promise<Uint8Array> {
  const cert = base(o.spkiDer, o.window);
  const subject = name(`${o.trustDomain} mesh CA`);
  cert.subject = subject;
  cert.issuer = name(`${o.trustDomain} mesh CA`);
  const ski = keyIdentifier(cert.subjectPublicKeyInfo);
  cert.extensions!.push(
    ext(OID.basicConstraints, true, new pkijs.BasicConstraints({ cA: true }).toSchema()),
    ext(OID.keyUsage, true, keyUsageBits([KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign])),
    ext(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: ski })),
    uriSan(`spiffe://${o.trustDomain}`),
  );
  return signed(cert, o.caKey);
}

export interface SvidProfile {
  readonly spiffeId: string;
  /** SubjectPublicKeyInfo DER of the SVID's (TLS) key. */
  readonly spkiDer: Uint8Array;
  readonly binding: MeshKeyBinding;
  readonly window: CertificateWindow;
  /** Subject CN: the fingerprint (informational: SPIFFE ignores the subject). */
  readonly commonName: string;
}

/** An X.509-SVID issued by the CA certificate `issuer` (DER) with `caKey`. */
export async function buildSvidCertificate(p: SvidProfile, issuer: pkijs.Certificate, caKey: KeyObject): Promise<Uint8Array> {
  const cert = base(p.spkiDer, p.window);
  cert.subject = name(p.commonName);
  cert.issuer = issuer.subject;
  const ski = keyIdentifier(cert.subjectPublicKeyInfo);
  const aki = keyIdentifier(issuer.subjectPublicKeyInfo);
  cert.extensions!.push(
    ext(OID.basicConstraints, true, new pkijs.BasicConstraints({ cA: false }).toSchema()),
    ext(OID.keyUsage, true, keyUsageBits([KEY_USAGE.digitalSignature])),
    ext(OID.extKeyUsage, false, new pkijs.ExtKeyUsage({ keyPurposes: [OID.serverAuth, OID.clientAuth] }).toSchema()),
    ext(OID.subjectKeyIdentifier, false, new asn1js.OctetString({ valueHex: ski })),
    ext(OID.authorityKeyIdentifier, false, new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: aki }) }).toSchema()),
    uriSan(p.spiffeId),
    ext(MESH_KEY_BINDING_OID, false, encodeMeshKeyBinding(p.binding)),
  );
  return signed(cert, caKey);
}
