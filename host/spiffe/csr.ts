// PKCS#10 certificate signing requests: the joining node's proof that it holds the private key of the SVID it asks
// for (the CSR is self-signed by that key). The CA takes only the public key from it; the SPIFFE id comes from the
// node's fingerprint, never from the CSR's subject.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { KeyObject } from 'node:crypto';
import { identityError } from './identity-error.js';
import { berOf, spkiOf, webSigningKey, x509Engine } from './x509-engine.js';

export async function buildCsr(privateKey: KeyObject, spkiDer: Uint8Array, commonName: string): Promise<Uint8Array> {
  x509Engine();
  const csr = new pkijs.CertificationRequest();
  csr.version = 0;
  csr.subject.typesAndValues.push(new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: commonName }) }));
  csr.subjectPublicKeyInfo = spkiOf(spkiDer);
  await csr.sign(await webSigningKey(privateKey), 'SHA-256');
  return new Uint8Array(csr.toSchema(true).toBER(false));
}

/** The SubjectPublicKeyInfo DER a CSR asks a certificate for, after checking its self-signature (proof of possession). */
export async function csrPublicKey(der: Uint8Array): Promise<Uint8Array> {
  const parsed = berOf(der, 'the CSR');
  if (parsed.offset !== der.byteLength) throw identityError('malformed', 'the CSR is not one DER object');
  let csr: pkijs.CertificationRequest;
  try {
    csr = new pkijs.CertificationRequest({ schema: parsed.result });
  } catch (e) {
    throw identityError('malformed', 'the CSR does not parse as PKCS#10', {}, e);
  }
  x509Engine();
  const algorithm = csr.subjectPublicKeyInfo.algorithm.algorithmId;
  if (algorithm !== '1.2.840.10045.2.1') throw identityError('malformed', `the CSR's key is not an EC key (${algorithm})`);
  let ok = false;
  try {
    ok = await csr.verify();
  } catch (e) {
    throw identityError('proof', 'the CSR signature cannot be checked', {}, e);
  }
  if (!ok) throw identityError('proof', 'the CSR is not signed by the key it carries');
  return new Uint8Array(csr.subjectPublicKeyInfo.toSchema().toBER(false));
}
