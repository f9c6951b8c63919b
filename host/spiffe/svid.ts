// An X.509-SVID leaf read against the SPIFFE X509-SVID profile (spec §2 and §4): exactly one URI SAN holding a
// SPIFFE id, cA false, keyUsage with digitalSignature and without keyCertSign / cRLSign, no critical extension we do
// not understand; plus the mesh-key binding extension (node SVIDs only). Signatures and time are svid-verifier.ts.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { decodeMeshKeyBinding, MESH_KEY_BINDING_OID, type MeshKeyBinding } from './binding-extension.js';
import { KEY_USAGE, X509_OID } from './certificate-builder.js';
import { identityError } from './identity-error.js';
import { nodeFingerprintOf, parseSpiffeId, type SpiffeId } from './spiffe-id.js';
import { berOf, parseCertificate } from './x509-engine.js';

export interface SvidLeaf {
  readonly spiffeId: string;
  readonly id: SpiffeId;
  /** The fingerprint in `spiffe://<td>/node/<fp>`. */
  readonly fingerprint: string;
  readonly binding: MeshKeyBinding;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly serialHex: string;
}

/** An SVID's private key and certificate chain (DER, leaf first), as this node holds it. */
export interface Svid {
  readonly chain: readonly Uint8Array[];
  /** PKCS#8 PEM of the leaf's ECDSA P-256 key. */
  readonly privateKeyPem: string;
  readonly spiffeId: string;
  readonly notBefore: number;
  readonly notAfter: number;
}

const KNOWN_CRITICAL = new Set<string>([X509_OID.basicConstraints, X509_OID.keyUsage, X509_OID.extKeyUsage, X509_OID.subjectAltName]);

function bit(bits: asn1js.BitString, n: number): boolean {
  const bytes = bits.valueBlock.valueHexView;
  return n >> 3 < bytes.length && (bytes[n >> 3]! & (0x80 >> (n & 7))) !== 0;
}

function extensionValue(e: pkijs.Extension): asn1js.AsnType {
  const der = e.extnValue.valueBlock.valueHexView;
  const parsed = berOf(der, `extension ${e.extnID}`);
  if (parsed.offset !== der.byteLength) throw identityError('malformed', `extension ${e.extnID} is not one DER value`);
  return parsed.result;
}

/** The SPIFFE id a leaf certificate names (exactly one URI SAN), without the node-specific checks. */
export function leafSpiffeId(cert: pkijs.Certificate): SpiffeId & { uri: string } {
  const sans = (cert.extensions ?? []).filter((e) => e.extnID === X509_OID.subjectAltName);
  if (sans.length !== 1) throw identityError('spiffe-id', `the SVID has ${sans.length} subjectAltName extensions, expected 1`);
  let names: pkijs.GeneralNames;
  try {
    names = new pkijs.GeneralNames({ schema: extensionValue(sans[0]!) });
  } catch (e) {
    throw identityError('malformed', 'the subjectAltName extension does not parse', {}, e);
  }
  const uris = names.names.filter((n) => n.type === 6);
  if (uris.length !== 1) throw identityError('spiffe-id', `the SVID has ${uris.length} URI SANs, expected exactly 1`, { uris: uris.length });
  const uri = String(uris[0]!.value);
  return { ...parseSpiffeId(uri), uri };
}

/** Checks the X509-SVID leaf profile and reads the node identity and its key binding. */
export function readSvidLeaf(der: Uint8Array): SvidLeaf {
  const cert = parseCertificate(der);
  const exts = cert.extensions ?? [];
  for (const e of exts) {
    if (e.critical && !KNOWN_CRITICAL.has(e.extnID)) {
      throw identityError('svid-profile', `the SVID has an unknown critical extension ${e.extnID}`, { oid: e.extnID });
    }
  }
  const id = leafSpiffeId(cert);
  const bc = exts.find((e) => e.extnID === X509_OID.basicConstraints);
  if (bc !== undefined) {
    let ca = false;
    try {
      ca = new pkijs.BasicConstraints({ schema: extensionValue(bc) }).cA === true;
    } catch (e) {
      throw identityError('malformed', 'basicConstraints does not parse', {}, e);
    }
    if (ca) throw identityError('svid-profile', 'the SVID is a CA certificate (basicConstraints cA true)');
  }
  const ku = exts.find((e) => e.extnID === X509_OID.keyUsage);
  if (ku === undefined) throw identityError('svid-profile', 'the SVID has no keyUsage extension');
  const bits = extensionValue(ku);
  if (!(bits instanceof asn1js.BitString)) throw identityError('malformed', 'keyUsage is not a BIT STRING');
  if (!bit(bits, KEY_USAGE.digitalSignature)) throw identityError('svid-profile', 'the SVID keyUsage lacks digitalSignature');
  if (bit(bits, KEY_USAGE.keyCertSign) || bit(bits, KEY_USAGE.cRLSign)) {
    throw identityError('svid-profile', 'the SVID keyUsage allows keyCertSign or cRLSign');
  }
  const fingerprint = nodeFingerprintOf(id);
  if (fingerprint === null) throw identityError('spiffe-id', `${id.uri} is not a mesh node id (spiffe://<td>/node/<fingerprint>)`, { spiffeId: id.uri });
  const bindings = exts.filter((e) => e.extnID === MESH_KEY_BINDING_OID);
  if (bindings.length !== 1) throw identityError('binding', `the SVID has ${bindings.length} mesh-key binding extensions, expected 1`);
  const binding = decodeMeshKeyBinding(new Uint8Array(bindings[0]!.extnValue.valueBlock.valueHexView));
  return {
    spiffeId: id.uri,
    id: { trustDomain: id.trustDomain, path: id.path },
    fingerprint,
    binding,
    notBefore: cert.notBefore.value.getTime(),
    notAfter: cert.notAfter.value.getTime(),
    serialHex: Buffer.from(cert.serialNumber.valueBlock.valueHexView).toString('hex'),
  };
}
