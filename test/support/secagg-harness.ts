// Runs one secure-aggregation round end to end for the tests: real clients and a real server, every message
// encoded to bytes and decoded again on the way (as a coordinator's transport would), with chosen clients dropping
// out before given steps, and a tap that sees every frame the server receives.
import { randomBytes } from 'node:crypto';
import { Ed25519Signer } from '../../host/crypto/ed25519-signer.js';
import {
  decodeSecAggMessage, encodeSecAggMessage, expectSecAggKind, SecAggClient, SecAggServer,
  type SecAggMessage, type SecAggParams, type SecAggResult, type SecAggSigning, type SecAggVerification,
} from '../../host/crypto/secagg/index.js';

export interface SecAggDrops {
  /** Never advertise keys. */
  readonly beforeAdvertise?: readonly number[];
  /** Advertise keys, then vanish (before round 1). */
  readonly beforeShare?: readonly number[];
  /** Share keys, then vanish before masking (after round 1). */
  readonly beforeMask?: readonly number[];
  /** Send a masked input, then vanish before unmasking (after round 2). */
  readonly beforeUnmask?: readonly number[];
}

export interface SecAggRun {
  readonly result: SecAggResult;
  /** Every frame the server received, decoded, in arrival order. */
  readonly serverInbox: readonly SecAggMessage[];
  readonly clients: ReadonlyMap<number, SecAggClient>;
  /** Total bytes each client sent. */
  readonly bytesSent: ReadonlyMap<number, number>;
}

export function secAggParams(n: number, threshold: number, dim: number, over: Partial<SecAggParams> = {}): SecAggParams {
  return {
    roundId: new Uint8Array(randomBytes(16)),
    clientIds: Array.from({ length: n }, (_, i) => 100 + 7 * i),
    threshold,
    dim,
    scale: 2 ** 16,
    range: 8,
    ...over,
  };
}

/** Uniform updates in [-range, range] (float32). */
export function randomUpdates(p: SecAggParams): Map<number, Float32Array> {
  return new Map(p.clientIds.map((id) => {
    const x = new Float32Array(p.dim);
    for (let i = 0; i < x.length; i++) x[i] = (Math.random() * 2 - 1) * p.range;
    return [id, x] as const;
  }));
}

export interface SignedSetup {
  readonly signing: ReadonlyMap<number, SecAggSigning>;
  readonly verification: SecAggVerification;
}

/** An Ed25519 identity per client and the PKI that maps ids to their public keys. */
export async function ed25519Identities(p: SecAggParams): Promise<SignedSetup> {
  const scheme = new Ed25519Signer();
  const keys = new Map<number, { publicKey: Uint8Array; secretKey: Uint8Array }>();
  for (const id of p.clientIds) keys.set(id, await scheme.keygen());
  const verificationKeys = new Map([...keys].map(([id, k]) => [id, k.publicKey] as const));
  const verification = { scheme, verificationKeys };
  return { verification, signing: new Map([...keys].map(([id, k]) => [id, { ...verification, secretKey: k.secretKey }] as const)) };
}

/** Through the codec and back, as a transport would carry it. */
const wire = (m: SecAggMessage): SecAggMessage => decodeSecAggMessage(encodeSecAggMessage(m));

export async function runSecAgg(
  p: SecAggParams,
  inputs: ReadonlyMap<number, Float32Array>,
  opts: { drops?: SecAggDrops; signed?: SignedSetup } = {},
): Promise<SecAggRun> {
  const drops = opts.drops ?? {};
  const server = new SecAggServer(p, opts.signed ? { verification: opts.signed.verification } : {});
  const clients = new Map(p.clientIds.map((id) => [id, new SecAggClient(p, id, opts.signed ? { signing: opts.signed.signing.get(id)! } : {})] as const));
  const serverInbox: SecAggMessage[] = [];
  const bytesSent = new Map<number, number>(p.clientIds.map((id) => [id, 0]));
  const send = async (from: number, m: SecAggMessage): Promise<void> => {
    const frame = encodeSecAggMessage(m);
    bytesSent.set(from, bytesSent.get(from)! + frame.length);
    const decoded = decodeSecAggMessage(frame);
    serverInbox.push(decoded);
    await server.receive(decoded);
  };
  const alive = (id: number, gone: readonly number[] | undefined): boolean => !(gone ?? []).includes(id);

  for (const [id, c] of clients) if (alive(id, drops.beforeAdvertise)) await send(id, await c.advertiseKeys());
  let out = server.advance();
  for (const [id, m] of out) {
    if (alive(id, drops.beforeShare)) await send(id, await clients.get(id)!.shareKeys(expectSecAggKind(wire(m), 'key-roster')));
  }
  out = server.advance();
  for (const [id, m] of out) {
    if (alive(id, drops.beforeMask)) await send(id, clients.get(id)!.maskInput(expectSecAggKind(wire(m), 'share-delivery'), inputs.get(id)!));
  }
  out = server.advance();
  for (const [id, m] of out) {
    if (alive(id, drops.beforeUnmask)) await send(id, clients.get(id)!.unmask(expectSecAggKind(wire(m), 'unmask-request')));
  }
  return { result: server.finish(), serverInbox, clients, bytesSent };
}
