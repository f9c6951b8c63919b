// Shared set-up for the coordinator integration tests (not a test file itself): a federation of nodes on one
// in-process network, each with a signing key, an FlClient and optionally a CoordinatorDriver on the same
// endpoint, and the fedavg aggregator plugin in a real slot.
import { join } from 'node:path';
import type { SignatureScheme } from '../../../host/crypto/primitives.js';
import { aggregatorFromSlot, CoordinatorDriver, type Aggregate } from '../../../host/fl/coordinator-driver.js';
import { FlClient, type LocalTrain, type UpdateTransform } from '../../../host/fl/fl-client.js';
import { InProcessNetwork } from '../../../host/fl/in-process-transport.js';
import type { Transport } from '../../../host/fl/transport.js';
import { loadPluginSpec } from '../../../host/runtime/load-manifest.js';
import { Slot } from '../../../host/runtime/slot.js';

export async function openFedavg(): Promise<Slot> {
  const spec = await loadPluginSpec(join(process.cwd(), 'manifests/plugins/fedavg.json'));
  return Slot.open('aggregator', 'aggregator', spec);
}

export interface Member {
  readonly id: string;
  readonly transport: Transport;
  readonly client: FlClient;
  readonly publicKey: Uint8Array;
  coordinator: CoordinatorDriver | null;
}

export interface FederationOptions {
  readonly network: InProcessNetwork;
  readonly ids: readonly string[];
  readonly scheme: SignatureScheme;
  /** Local training of member `id`. */
  readonly train: (id: string) => LocalTrain;
  readonly transform?: (id: string) => UpdateTransform | undefined;
  /** Deterministic keys: seed byte i+1 for member i (the scheme's seed length). */
  readonly deterministicKeys?: boolean;
}

export async function federation(opts: FederationOptions): Promise<Member[]> {
  const members: Member[] = [];
  for (const [i, id] of opts.ids.entries()) {
    const seed = opts.deterministicKeys === true ? new Uint8Array(opts.scheme.sizes.seedBytes).fill(i + 1) : undefined;
    const keys = await opts.scheme.keygen(seed);
    const transport = opts.network.endpoint(id);
    const transform = opts.transform?.(id);
    const client = new FlClient({
      transport, scheme: opts.scheme, secretKey: keys.secretKey, train: opts.train(id), ...(transform === undefined ? {} : { transform }),
    });
    members.push({ id, transport, client, publicKey: keys.publicKey, coordinator: null });
  }
  return members;
}

export function keyRegistry(members: readonly Member[]): Map<string, Uint8Array> {
  return new Map(members.map((m) => [m.id, m.publicKey]));
}

/** Makes `member` a coordinator too (same endpoint), trusting every member's key. */
export function coordinate(member: Member, members: readonly Member[], scheme: SignatureScheme, aggregate: Aggregate, seed = 1): CoordinatorDriver {
  member.coordinator = new CoordinatorDriver({ transport: member.transport, scheme, publicKeys: keyRegistry(members), aggregate, seed });
  return member.coordinator;
}

/** Every member announces itself to `coordinator` and the joins are delivered. */
export async function joinAll(members: readonly Member[], coordinator: string, settleMs = 20): Promise<void> {
  await Promise.all(members.map((m) => m.client.join(coordinator)));
  await sleep(settleMs);
}

export async function closeAll(members: readonly Member[]): Promise<void> {
  for (const m of members) {
    await m.coordinator?.close();
    m.client.close();
    await m.transport.close();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The weighted mean sum_i w_i x_i / sum_i w_i in f64: the reference the fedavg plugin's f32 result is checked against. */
export function weightedMean(rows: readonly { weight: number; update: Float32Array }[]): Float64Array {
  const dim = rows[0]!.update.length;
  const out = new Float64Array(dim);
  const total = rows.reduce((n, r) => n + r.weight, 0);
  for (const r of rows) for (let i = 0; i < dim; i++) out[i]! += (r.weight * r.update[i]!) / total;
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A client's deterministic update for a round: a function of its index, the round and the global model. */
export function syntheticUpdate(index: number, round: number, model: Float32Array): Float32Array {
  return Float32Array.from(model, (x, j) => x + Math.sin(index * 0.7 + j * 0.3 + round));
}

export { aggregatorFromSlot };
