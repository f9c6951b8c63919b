// The X.509 extension that binds an SVID to the node's long-lived mesh keys. A session handshake is signed with the
// node's composite (or Ed25519) signing key and keyed with its X-Wing (or X25519) KEM key; the SVID's own ECDSA key
// only serves TLS. The extension lets a peer go from "the mesh CA vouches for spiffe://td/node/<fp>" to "and these
// are the keys behind <fp>", checked by fp = keyFingerprint(signingPublicKey).
//
//   MeshKeyBinding ::= SEQUENCE {
//     version           INTEGER (1),
//     signingAlgorithm  UTF8String,   -- 'ed25519+ml-dsa-65' | 'ed25519'
//     signingPublicKey  OCTET STRING,
//     kemAlgorithm      UTF8String,   -- 'x-wing' | 'x25519'
//     kemPublicKey      OCTET STRING }
//
// Non-critical, so X.509 software that does not know it (OpenSSL, Go, go-spiffe) still accepts the certificate.
import * as asn1js from 'asn1js';
import { identityError } from './identity-error.js';

/**
 * The extension's OID. PROVISIONAL: an arc under the IANA private-enterprise tree (1.3.6.1.4.1) that the project has
 * not registered yet; it must be replaced by a registered PEN arc before certificates leave a test mesh. (A 2.25 UUID
 * arc would need no registration, but Go's crypto/x509 rejects OID components over 31 bits.)
 */
export const MESH_KEY_BINDING_OID = '1.3.6.1.4.1.99999.7.1';
const VERSION = 1;
/** Generous bound on either key (ML-DSA-65 composite keys are 1984 bytes, X-Wing 1216). */
const MAX_KEY_BYTES = 8192;

export interface MeshKeyBinding {
  readonly signingAlgorithm: string;
  readonly signingPublicKey: Uint8Array;
  readonly kemAlgorithm: string;
  readonly kemPublicKey: Uint8Array;
}

export function encodeMeshKeyBinding(b: MeshKeyBinding): Uint8Array {
  const seq = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: VERSION }),
      new asn1js.Utf8String({ value: b.signingAlgorithm }),
      new asn1js.OctetString({ valueHex: b.signingPublicKey }),
      new asn1js.Utf8String({ value: b.kemAlgorithm }),
      new asn1js.OctetString({ valueHex: b.kemPublicKey }),
    ],
  });
  return new Uint8Array(seq.toBER(false));
}

export function decodeMeshKeyBinding(der: Uint8Array): MeshKeyBinding {
  const bad = (why: string) => identityError('binding', `the mesh-key binding extension is malformed: ${why}`);
  let parsed: ReturnType<typeof asn1js.fromBER>;
  try {
    parsed = asn1js.fromBER(der); // some value decoders throw instead of reporting offset -1
  } catch {
    throw bad('not DER');
  }
  if (parsed.offset !== der.byteLength || !(parsed.result instanceof asn1js.Sequence)) throw bad('not one DER SEQUENCE');
  const v = parsed.result.valueBlock.value;
  if (v.length !== 5) throw bad(`${v.length} fields, expected 5`);
  const [version, sAlg, sPk, kAlg, kPk] = v as [asn1js.AsnType, asn1js.AsnType, asn1js.AsnType, asn1js.AsnType, asn1js.AsnType];
  if (!(version instanceof asn1js.Integer) || version.valueBlock.valueDec !== VERSION) throw bad('unknown version');
  const text = (x: asn1js.AsnType, what: string): string => {
    if (!(x instanceof asn1js.Utf8String)) throw bad(`${what} is not a UTF8String`);
    const s = x.valueBlock.value;
    if (s.length === 0 || s.length > 64) throw bad(`${what} has ${s.length} characters`);
    return s;
  };
  const bytes = (x: asn1js.AsnType, what: string): Uint8Array => {
    if (!(x instanceof asn1js.OctetString) || x.idBlock.isConstructed) throw bad(`${what} is not a primitive OCTET STRING`);
    const b = new Uint8Array(x.valueBlock.valueHexView);
    if (b.length === 0 || b.length > MAX_KEY_BYTES) throw bad(`${what} has ${b.length} bytes`);
    return b.slice();
  };
  return {
    signingAlgorithm: text(sAlg, 'signingAlgorithm'),
    signingPublicKey: bytes(sPk, 'signingPublicKey'),
    kemAlgorithm: text(kAlg, 'kemAlgorithm'),
    kemPublicKey: bytes(kPk, 'kemPublicKey'),
  };
}
