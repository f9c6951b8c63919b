// Secure aggregation after Bonawitz et al. 2017 ("Practical Secure Aggregation for Privacy-Preserving Machine
// Learning", CCS'17): the server learns Σ x_i over the clients that survive, never an individual x_i, and clients
// may drop out at any step as long as at least t remain. Composed from node:crypto primitives only: X25519,
// HKDF-SHA256, AES-256-GCM (shares between clients, relayed by the server), AES-256-CTR (the mask PRG); Shamir
// sharing over GF(2^8) is in shamir.ts.
//
// Use (the coordinator carries the messages; encode/decode them with encodeSecAggMessage/decodeSecAggMessage):
//
//   const params = { roundId, clientIds, threshold, dim, scale, range };   // the same everywhere
//   server = new SecAggServer(params, { verification? });
//   client = new SecAggClient(params, id, { signing? });
//   round 0  client: await client.advertiseKeys()          → server: await server.receive(msg)
//            server: server.advance()  → Map<id, KeyRoster>
//   round 1  client: await client.shareKeys(roster)        → server.receive(msg)
//            server: server.advance()  → Map<id, ShareDelivery>  (one per client)
//   round 2  client: client.maskInput(delivery, update)    → server.receive(msg)
//            server: server.advance()  → Map<id, UnmaskRequest>
//   round 3  client: client.unmask(request)                → server.receive(msg)
//            server: server.finish()   → { sum, quantisedSum, contributors, dropped }
//
// A client drops out by not having its message delivered before the server advances. Every refusal is a
// SecAggError with a `reason` (see sdk/abi/errors.ts); a malformed frame is a CodecError. Updates are clipped to
// [-range, range] and quantised with `scale` into Z_2^32; params are refused unless clients · ceil(range · scale)
// < 2^31, so the ring sum cannot wrap. `sum` is the sum, not the mean. Signatures (optional, any SignatureScheme)
// authenticate each client's round keys so the relaying server cannot substitute its own.
//
// One SecAggClient and one SecAggServer per round (keys, seeds and share state are fresh per round; never reuse a
// roundId). Choose t > n/2: then no two disjoint sets of t clients exist, so even a server that tells different
// clients different survivor lists cannot collect both b and s_sk of one client (each client refuses to reveal both).
export { SecAggClient, type SecAggClientOptions } from './client.js';
export { SecAggServer, type SecAggResult, type SecAggServerOptions, type SecAggServerRound } from './server.js';
export { checkSecAggParams, SECAGG_MAX_CLIENTS, type CheckedParams, type SecAggParams } from './params.js';
export { dequantiseSum, quantiseUpdate } from './quantize.js';
export {
  decodeSecAggMessage, encodeSecAggMessage, expectSecAggKind, SECAGG_MAGIC, SECAGG_WIRE_VERSION,
  type AdvertiseKeys, type KeyRoster, type MaskedInput, type SecAggMessage, type ShareDelivery, type ShareKeys,
  type ShareKind, type UnmaskRequest, type UnmaskShares,
} from './messages.js';
export { advertisePayload, type SecAggSigning, type SecAggVerification } from './signing.js';
export { shamirCombine, shamirSplit, type ShamirShare } from './shamir.js';
