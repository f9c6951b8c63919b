// Shared set-up for the FL simulation tests (not a test file itself): a secure-aggregation federation on one
// in-process network whose clients "train" by returning known vectors, with a tap that decodes every secagg message
// sent to the coordinator (what the coordinator could ever hold) and a switch that swallows chosen messages to
// simulate a client dropping out at a given step.
import assert from 'node:assert/strict';
import { Ed25519Signer } from '../../../host/crypto/ed25519-signer.js';
import {
  checkSecAggParams, decodeSecAggMessage, quantiseUpdate, type SecAggMessage, type SecAggSigning, type SecAggVerification,
} from '../../../host/crypto/secagg/index.js';
import type { LocalTrain } from '../../../host/fl/fl-client.js';
import { InProcessNetwork, type InProcessNetworkOptions } from '../../../host/fl/in-process-transport.js';
import { SECAGG_MSG, secAggScale, SecureRoundClient } from '../../../host/fl/secure-round.js';
import { SeededRandom } from '../../../host/fl/seeded-random.js';
import type { Transport } from '../../../host/fl/transport.js';
import { decodeEnvelope } from '../../../host/fl/wire.js';

export const COORDINATOR = 'coordinator';
export type SecAggKind = SecAggMessage['kind'];

export const nodeId = (i: number): string => `node-${i}`;

/** Deterministic updates in ±2 (well inside the default clipping range 8). */
export function knownUpdates(n: number, dim: number, seed: number): Float32Array[] {
  const r = new SeededRandom(seed);
  return Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => 4 * r.next() - 2));
}

/** Σ updates[i] over `members`, in f64. */
export function clearSum(updates: readonly Float32Array[], members: readonly number[]): Float64Array {
  const out = new Float64Array(updates[0]!.length);
  for (const i of members) for (let k = 0; k < out.length; k++) out[k]! += updates[i]![k]!;
  return out;
}

/** The bound of the secure sum vs the clear sum: half a quantisation step per input plus f32 rounding of the sum. */
export function sumTolerance(contributors: number, scale: number, magnitude: number): number {
  return contributors * 0.5 / scale + 2 ** -22 * magnitude;
}

/** What the coordinator's quantiser makes of a client update in a round of `n` clients (range 8). */
export function quantisedAsInt32(update: Float32Array, n: number, range = 8): Int32Array {
  const p = checkSecAggParams({
    roundId: Uint8Array.of(1), clientIds: Array.from({ length: n }, (_, i) => i + 1), threshold: 2,
    dim: update.length, scale: secAggScale(n, range), range,
  });
  return new Int32Array(quantiseUpdate(update, p).buffer);
}

export function pearson(a: Int32Array, b: Int32Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]!; mb += b[i]!; }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Long-term Ed25519 identities for secagg ids 1..n (the ids runSecureRound assigns in client order). */
export async function ed25519RoundKeys(n: number): Promise<{ verification: SecAggVerification; secretKeys: Uint8Array[] }> {
  const scheme = new Ed25519Signer();
  const keys = await Promise.all(Array.from({ length: n }, () => scheme.keygen()));
  return {
    verification: { scheme, verificationKeys: new Map(keys.map((k, i) => [i + 1, k.publicKey] as const)) },
    secretKeys: keys.map((k) => k.secretKey),
  };
}

export interface TappedMessage {
  readonly from: string;
  readonly round: number;
  readonly msg: SecAggMessage;
}

export interface SecureFederationOptions {
  readonly n: number;
  readonly dim: number;
  readonly updates: readonly Float32Array[];
  /** Swallow this message (from client node `from`, to the coordinator) in flight. */
  readonly drop?: (from: string, kind: SecAggKind) => boolean;
  /** Signs client i's round keys. */
  readonly signing?: (i: number) => SecAggSigning | undefined;
  readonly network?: Omit<InProcessNetworkOptions, 'intercept'>;
  /** Replaces client i's training (default: resolve with updates[i]). */
  readonly train?: (i: number) => LocalTrain | undefined;
}

export interface SecureFederation {
  readonly network: InProcessNetwork;
  readonly coordinator: Transport;
  readonly clientIds: readonly string[];
  /** Every secagg message that reached the coordinator's endpoint (after the drop switch), decoded. */
  readonly toCoordinator: TappedMessage[];
  /** Failures the clients reported through onError. */
  readonly clientErrors: unknown[];
  close(): Promise<void>;
}

export function secureFederation(o: SecureFederationOptions): SecureFederation {
  const toCoordinator: TappedMessage[] = [];
  const clientErrors: unknown[] = [];
  const network = new InProcessNetwork({
    ...o.network,
    intercept: (from, to, bytes) => {
      if (to !== COORDINATOR) return bytes;
      const env = decodeEnvelope(bytes);
      if (env.kind !== SECAGG_MSG) return bytes;
      const msg = decodeSecAggMessage(env.payload);
      if (o.drop?.(from, msg.kind) === true) return null;
      toCoordinator.push({ from, round: env.round, msg });
      return bytes;
    },
  });
  const coordinator = network.endpoint(COORDINATOR);
  const clientIds = Array.from({ length: o.n }, (_, i) => nodeId(i));
  const clients = clientIds.map((id, i) => new SecureRoundClient({
    transport: network.endpoint(id), index: i,
    train: o.train?.(i) ?? (async () => ({ update: o.updates[i]!.slice(), weight: 1, loss: 0 })),
    signing: o.signing === undefined ? undefined : (_params, secaggId) => {
      assert.equal(secaggId, i + 1, `secagg id of client ${i}`);
      return o.signing!(i);
    },
    onError: (e) => { clientErrors.push(e); },
  }));
  return {
    network, coordinator, clientIds, toCoordinator, clientErrors,
    close: async () => {
      for (const c of clients) c.close();
      await network.close();
    },
  };
}
