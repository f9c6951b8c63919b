// What a node sends to get an SVID (join or renewal): a PKCS#10 CSR self-signed by the new SVID key (proof it holds
// that key), the mesh keys to bind, and a signature by the node's long-lived signing key over both (proof it holds
// the mesh key whose fingerprint it claims as its SPIFFE id). Sent as JSON with base64 fields.
import { createHash } from 'node:crypto';
import { fromBase64, toBase64 } from '../crypto/base64.js';
import { keyFingerprint } from '../crypto/key-fingerprint.js';
import type { SignatureScheme } from '../crypto/primitives.js';
import { encodeMeshKeyBinding, type MeshKeyBinding } from './binding-extension.js';
import { buildCsr, csrPublicKey } from './csr.js';
import { identityError } from './identity-error.js';
import type { EcKeyPair } from './x509-engine.js';

const DOMAIN = new TextEncoder().encode('x0t-svid-request-v1\0');

export interface SvidRequest {
  readonly csr: Uint8Array;
  readonly binding: MeshKeyBinding;
  /** Signature by binding.signingPublicKey over svidRequestMessage(csr, binding). */
  readonly signature: Uint8Array;
}

export interface SvidRequestJson {
  csr: string;
  signingAlgorithm: string;
  signingPublicKey: string;
  kemAlgorithm: string;
  kemPublicKey: string;
  signature: string;
}

/** The bytes the node's signing key signs: a domain tag, SHA-256 of the CSR, the DER binding. */
export function svidRequestMessage(csr: Uint8Array, binding: MeshKeyBinding): Uint8Array {
  const digest = createHash('sha256').update(csr).digest();
  return new Uint8Array(Buffer.concat([DOMAIN, digest, encodeMeshKeyBinding(binding)]));
}

export async function createSvidRequest(o: {
  signer: SignatureScheme; signingSecretKey: Uint8Array; binding: MeshKeyBinding; svidKey: EcKeyPair;
}): Promise<SvidRequest> {
  if (o.signer.algorithm !== o.binding.signingAlgorithm) {
    throw identityError('binding', `the signer is ${o.signer.algorithm} but the binding names ${o.binding.signingAlgorithm}`);
  }
  const csr = await buildCsr(o.svidKey.privateKey, o.svidKey.publicKeySpki, keyFingerprint(o.binding.signingPublicKey));
  const signature = await o.signer.sign(o.signingSecretKey, svidRequestMessage(csr, o.binding));
  return { csr, binding: o.binding, signature };
}

export interface CheckedRequest {
  readonly fingerprint: string;
  /** SubjectPublicKeyInfo DER for the SVID. */
  readonly spkiDer: Uint8Array;
  readonly binding: MeshKeyBinding;
}

/** Checks both proofs of possession; `signers` are the schemes the CA accepts, by algorithm. */
export async function checkSvidRequest(req: SvidRequest, signers: readonly SignatureScheme[]): Promise<CheckedRequest> {
  const scheme = signers.find((s) => s.algorithm === req.binding.signingAlgorithm);
  if (scheme === undefined) {
    throw identityError('binding', `signing algorithm ${req.binding.signingAlgorithm} is not accepted here`, { algorithm: req.binding.signingAlgorithm });
  }
  if (req.binding.signingPublicKey.length !== scheme.sizes.publicKeyBytes) {
    throw identityError('binding', `a ${scheme.algorithm} public key has ${scheme.sizes.publicKeyBytes} bytes, got ${req.binding.signingPublicKey.length}`);
  }
  const spkiDer = await csrPublicKey(req.csr);
  let ok = false;
  try {
    ok = await scheme.verify(req.binding.signingPublicKey, svidRequestMessage(req.csr, req.binding), req.signature);
  } catch (e) {
    throw identityError('proof', 'the request signature cannot be checked', {}, e);
  }
  if (!ok) throw identityError('proof', 'the request is not signed by the mesh signing key it binds');
  return { fingerprint: keyFingerprint(req.binding.signingPublicKey), spkiDer, binding: req.binding };
}

export function svidRequestToJson(r: SvidRequest): SvidRequestJson {
  return {
    csr: toBase64(r.csr),
    signingAlgorithm: r.binding.signingAlgorithm,
    signingPublicKey: toBase64(r.binding.signingPublicKey),
    kemAlgorithm: r.binding.kemAlgorithm,
    kemPublicKey: toBase64(r.binding.kemPublicKey),
    signature: toBase64(r.signature),
  };
}

export function svidRequestFromJson(j: unknown): SvidRequest {
  const o = (j !== null && typeof j === 'object' ? j : {}) as Record<string, unknown>;
  const b = (k: string): Uint8Array => {
    const v = fromBase64(o[k]);
    if (v === null || v.length === 0) throw identityError('malformed', `the request field ${k} must be non-empty base64`, { field: k });
    return v;
  };
  const s = (k: string): string => {
    const v = o[k];
    if (typeof v !== 'string' || v.length === 0 || v.length > 64) throw identityError('malformed', `the request field ${k} must be a short string`, { field: k });
    return v;
  };
  return {
    csr: b('csr'),
    binding: { signingAlgorithm: s('signingAlgorithm'), signingPublicKey: b('signingPublicKey'), kemAlgorithm: s('kemAlgorithm'), kemPublicKey: b('kemPublicKey') },
    signature: b('signature'),
  };
}
