// SPIFFE identities for the mesh: the public surface of host/spiffe.
export { MESH_KEY_BINDING_OID, decodeMeshKeyBinding, encodeMeshKeyBinding, type MeshKeyBinding } from './binding-extension.js';
export { SYSTEM_CLOCK, type Clock, type TimerHandle } from './clock.js';
export { IdentityClient, remoteAuthority, type IdentityClientOptions } from './identity-client.js';
export { identityError, refusalOf, type IdentityRefusal } from './identity-error.js';
export { IdentityServer, type IdentityServerOptions } from './identity-server.js';
export { CA_TTL_MS, MeshCa, SVID_TTL_MS, type IssueOptions, type MeshCaOptions } from './mesh-ca.js';
export {
  followRotation, mtlsClientOptions, mtlsServerOptions, peerCertificateDer, peerSpiffeId, type MtlsClientOptions,
  type MtlsServerOptions, type ServerIdPolicy,
} from './mtls.js';
export {
  localAuthority, NodeIdentity, type CurrentSvid, type MeshKeys, type NodeIdentityEvents, type NodeIdentityOptions,
  type SvidAuthority,
} from './node-identity.js';
export { nodeFingerprintOf, nodeSpiffeId, parseSpiffeId, trustDomainId, type SpiffeId } from './spiffe-id.js';
export { readSvidLeaf, type Svid, type SvidLeaf } from './svid.js';
export { checkSvidRequest, createSvidRequest, svidRequestFromJson, svidRequestToJson, type SvidRequest } from './svid-request.js';
export { SvidVerifier, verifySvidChain } from './svid-verifier.js';
export { certificateSha256, TrustBundle } from './trust-bundle.js';
export { derToPem, generateEcKeyPair, pemToDers } from './x509-engine.js';
export { WORKLOAD_HEADER, WorkloadApiServer, workloadServiceDefinition } from './workload-api.js';
