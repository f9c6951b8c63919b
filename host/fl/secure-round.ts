// A federated round under secure aggregation, carried over the FL transport: the coordinator runs a SecAggServer
// (host/crypto/secagg) and learns only the sum of the clients' (clipped, noised) updates; each client runs a
// SecAggClient for the round. Messages are FL envelopes of two extension kinds:
//   SECAGG_START  coordinator → client: the round's secagg parameters and the global model;
//   SECAGG_MSG    both ways: one encoded secagg message.
// Round k of the secagg protocol closes when every client still in it has answered or the deadline passes;
// whoever has not answered by then has dropped out (the protocol recovers while ≥ threshold remain).
//
// Start payload (little-endian): u32 n, u32 threshold, u32 dim, u32 roundIdLen, f64 scale, f64 range,
// n × (u32 secagg id, u8 nodeIdLen, node id UTF-8), roundId bytes, then dim × f32 model (copied out on decode).
import { randomBytes } from 'node:crypto';
import {
  decodeSecAggMessage, encodeSecAggMessage, SecAggClient, SecAggServer, type SecAggMessage, type SecAggParams,
  type SecAggSigning, type SecAggVerification,
} from '../crypto/secagg/index.js';
import { CodecError, FlRoundFailedError, FlUpdateInvalidError, isX0tError } from '../errors/index.js';
import type { RoundContext, TrainResult } from './fl-client.js';
import type { Transport } from './transport.js';
import { decodeEnvelope, encodeEnvelope, f32Bytes, modelDigest, readF32 } from './wire.js';

export const SECAGG_START = 0x40;
export const SECAGG_MSG = 0x41;

/** What clients send in secagg steps 0–3. */
const STEP_KINDS = ['advertise-keys', 'share-keys', 'masked-input', 'unmask-shares'] as const;

interface StartPayload {
  readonly params: SecAggParams;
  /** node id ↔ secagg id */
  readonly members: readonly (readonly [number, string])[];
  readonly model: Float32Array;
}

function encodeStart(p: StartPayload): Uint8Array {
  const ids = p.members.map(([, node]) => new TextEncoder().encode(node));
  const head = 32;
  const memberBytes = ids.reduce((s, b) => s + 5 + b.length, 0);
  const out = new Uint8Array(head + memberBytes + p.params.roundId.length + 4 * p.model.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, p.members.length, true);
  v.setUint32(4, p.params.threshold, true);
  v.setUint32(8, p.params.dim, true);
  v.setUint32(12, p.params.roundId.length, true);
  v.setFloat64(16, p.params.scale, true);
  v.setFloat64(24, p.params.range, true);
  let at = head;
  p.members.forEach(([id], k) => {
    v.setUint32(at, id, true);
    out[at + 4] = ids[k]!.length;
    out.set(ids[k]!, at + 5);
    at += 5 + ids[k]!.length;
  });
  out.set(p.params.roundId, at);
  at += p.params.roundId.length;
  out.set(f32Bytes(p.model), at);
  return out;
}

function decodeStart(b: Uint8Array): StartPayload {
  const bad = (what: string): never => { throw new CodecError(`secagg round start: ${what}`, { what }); };
  if (b.length < 32) bad('too short');
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = v.getUint32(0, true);
  const threshold = v.getUint32(4, true);
  const dim = v.getUint32(8, true);
  const ridLen = v.getUint32(12, true);
  const scale = v.getFloat64(16, true);
  const range = v.getFloat64(24, true);
  if (n > 255 || ridLen > 64) bad('counts');
  let at = 32;
  const members: [number, string][] = [];
  for (let k = 0; k < n; k++) {
    if (at + 5 > b.length) bad('members');
    const id = v.getUint32(at, true);
    const len = b[at + 4]!;
    if (at + 5 + len > b.length) bad('member id');
    members.push([id, new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(at + 5, at + 5 + len))]);
    at += 5 + len;
  }
  if (at + ridLen + 4 * dim !== b.length) bad('length');
  const roundId = b.slice(at, at + ridLen);
  at += ridLen;
  const model = readF32(b, at, dim);
  return { params: { roundId, clientIds: members.map(([id]) => id), threshold, dim, scale, range }, members, model };
}

/** The largest power-of-two scale with n · ceil(range · scale) < 2^31 (the secagg no-wrap bound), capped at 2^24. */
export function secAggScale(clients: number, range: number): number {
  let scale = 2 ** 24;
  while (clients * Math.ceil(range * scale) > 0x7fffffff) scale /= 2;
  return scale;
}

export interface SecureRoundOptions {
  /** The coordinator's endpoint (it may be shared with a CoordinatorDriver). */
  readonly transport: Transport;
  /** Node ids of the clients asked to take part. */
  readonly clients: readonly string[];
  /** Their secagg ids (distinct u32, aligned with `clients`; what `verification` keys are indexed by); default 1..n. */
  readonly ids?: readonly number[];
  readonly round: number;
  readonly model: Float32Array;
  readonly deadlineMs: number;
  /** Clients must survive every step; default ⌊n/2⌋ + 1 (> n/2, see host/crypto/secagg). */
  readonly threshold?: number;
  /** Updates are clipped to ±range before quantisation; default 8. */
  readonly range?: number;
  /** Checks the clients' signed round keys when given (secagg id → long-term public key). */
  readonly verification?: SecAggVerification;
}

export interface SecureRoundResult {
  /** Σ updates over the contributors (never an individual update: the coordinator holds only this). */
  readonly sum: Float32Array;
  readonly contributors: number;
  readonly dropped: number;
  /** Bytes a client sent in this round (its four secagg messages), averaged over the contributors. */
  readonly bytesPerClient: number;
  /** Client messages the server refused (bad signature, out of step, undecodable); those clients dropped out. */
  readonly refused: number;
}

/** Coordinator side: runs the four secagg steps over the transport and resolves with the sum. */
export async function runSecureRound(o: SecureRoundOptions): Promise<SecureRoundResult> {
  const members = o.clients.map((node, i) => [o.ids?.[i] ?? i + 1, node] as const);
  const secaggId = new Map(members.map(([id, node]) => [node, id]));
  const nodeOf = new Map(members);
  const range = o.range ?? 8;
  const params: SecAggParams = {
    roundId: new Uint8Array([...new TextEncoder().encode('x0t-fl'), ...new Uint8Array(Uint32Array.of(o.round).buffer), ...randomBytes(8)]),
    clientIds: members.map(([id]) => id), threshold: o.threshold ?? Math.floor(members.length / 2) + 1,
    dim: o.model.length, scale: secAggScale(members.length, range), range,
  };
  const server = new SecAggServer(params, o.verification === undefined ? {} : { verification: o.verification });
  const sentBytes = new Map<number, number>();
  let waiting = new Set(members.map(([id]) => id));
  let wake: (() => void) | null = null;
  /** Receives handed to the server and not settled yet. */
  const pending = new Set<Promise<void>>();
  const errors: unknown[] = [];
  const unsubscribe = o.transport.onMessage((from, bytes) => {
    let env;
    try {
      env = decodeEnvelope(bytes);
    } catch {
      return;
    }
    if (env.kind !== SECAGG_MSG || env.round !== o.round) return;
    const id = secaggId.get(from);
    if (id === undefined || env.sender !== from || !waiting.has(id)) return;
    let msg: SecAggMessage;
    try {
      msg = decodeSecAggMessage(env.payload);
    } catch (e) {
      errors.push(e);
      return;
    }
    if (!('from' in msg) || msg.from !== id) return; // a client speaks only for itself
    // Only an answer to the step being collected counts: a late duplicate of an earlier step's message (the network
    // may deliver twice) must not take the client's place, or its real answer would be ignored and it would drop.
    if (server.round === 'done' || msg.kind !== STEP_KINDS[server.round]) return;
    waiting.delete(id);
    sentBytes.set(id, (sentBytes.get(id) ?? 0) + bytes.length);
    const receiving: Promise<void> = server.receive(msg).catch((e: unknown) => { errors.push(e); }).finally(() => {
      pending.delete(receiving);
      if (waiting.size === 0 && pending.size === 0) wake?.();
    });
    pending.add(receiving);
  });
  const send = (node: string, payload: Uint8Array, kind: number): Promise<void> =>
    o.transport.send(node, encodeEnvelope({ kind, round: o.round, sender: o.transport.id, payload }));
  const collect = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, o.deadlineMs);
      wake = () => { clearTimeout(timer); resolve(); };
      if (waiting.size === 0) wake();
    });
    // Every receive handed to the server must settle before the step closes (a signature check can take longer than
    // the other clients' answers): advancing earlier would drop a client that answered in time.
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };
  try {
    const start = encodeStart({ params, members, model: o.model });
    await Promise.all(o.clients.map((node) => send(node, start, SECAGG_START)));
    for (let step = 0; step < 3; step++) {
      await collect();
      const out = server.advance();
      waiting = new Set(out.keys());
      await Promise.all([...out].map(([id, msg]) => send(nodeOf.get(id)!, encodeSecAggMessage(msg), SECAGG_MSG)));
    }
    await collect();
    const res = server.finish();
    const contributorBytes = res.contributors.map((id) => sentBytes.get(id) ?? 0);
    return {
      sum: res.sum, contributors: res.contributors.length, dropped: members.length - res.contributors.length,
      bytesPerClient: Math.round(contributorBytes.reduce((s, v) => s + v, 0) / Math.max(1, contributorBytes.length)),
      refused: errors.length,
    };
  } catch (e) {
    if (isX0tError(e)) throw new FlRoundFailedError(`secure round ${o.round} failed: ${e.message}`, { reason: 'secagg', cause: e.code }, { cause: e });
    throw e;
  } finally {
    unsubscribe();
  }
}

export interface SecureRoundClientOptions {
  readonly transport: Transport;
  /** This client's index (kept for callers' bookkeeping). */
  readonly index: number;
  readonly train: (round: RoundContext, model: Float32Array) => Promise<TrainResult>;
  /** Runs on the update before masking (clipping, distributed DP noise), in place. */
  readonly prepare?: (update: Float32Array) => void;
  /** Signs this client's round keys (its long-term key under the mesh's signature scheme). */
  readonly signing?: (params: SecAggParams, secaggId: number) => SecAggSigning | undefined;
  /** Called with a failure this client could not recover from (it then drops out of the round). */
  readonly onError?: (e: unknown) => void;
}

/** Client side: answers SECAGG_START and the coordinator's secagg messages for each round. */
export class SecureRoundClient {
  readonly #o: SecureRoundClientOptions;
  readonly #rounds = new Map<number, { client: SecAggClient; coordinator: string; update: Promise<Float32Array> }>();
  readonly #unsubscribe: () => void;

  constructor(o: SecureRoundClientOptions) {
    this.#o = o;
    this.#unsubscribe = o.transport.onMessage((from, bytes) => { void this.#on(from, bytes).catch((e: unknown) => o.onError?.(e)); });
  }

  close(): void {
    this.#unsubscribe();
  }

  async #reply(to: string, round: number, msg: SecAggMessage): Promise<void> {
    await this.#o.transport.send(to, encodeEnvelope({ kind: SECAGG_MSG, round, sender: this.#o.transport.id, payload: encodeSecAggMessage(msg) }));
  }

  async #on(from: string, bytes: Uint8Array): Promise<void> {
    let env;
    try {
      env = decodeEnvelope(bytes);
    } catch {
      return;
    }
    if (env.sender !== from) return;
    if (env.kind === SECAGG_START) {
      if (this.#rounds.has(env.round)) return;
      const start = decodeStart(env.payload);
      const me = start.members.find(([, node]) => node === this.#o.transport.id);
      if (me === undefined) return;
      const signing = this.#o.signing?.(start.params, me[0]);
      const client = new SecAggClient(start.params, me[0], signing === undefined ? {} : { signing });
      const ctx: RoundContext = { round: env.round, coordinator: from, modelVersion: env.round - 1, modelDigest: modelDigest(start.model), deadlineMs: 0 };
      const update = this.#o.train(ctx, start.model).then((r) => {
        // A diverged local training (NaN/∞) is this client's failure: never masked (quantisation would clip ∞ to
        // ±range and silently add it to the sum), so the client drops out before masking.
        const bad = r.update.findIndex((v) => !Number.isFinite(v));
        if (bad >= 0) {
          throw new FlUpdateInvalidError(`round ${env.round}: local training produced a non-finite update (coordinate ${bad})`, { round: env.round, coordinate: bad });
        }
        const u = r.update.slice();
        this.#o.prepare?.(u);
        return u;
      });
      // A failed training is awaited (and reported through onError) only when masking, two messages later: mark the
      // promise handled now, or the rejection is unhandled until then (fatal for a Node process by default).
      update.catch(() => undefined);
      // Only the latest few rounds are kept: a round this client dropped out of is never closed by an unmask request.
      for (const r of [...this.#rounds.keys()]) if (r < env.round - 2) this.#rounds.delete(r);
      this.#rounds.set(env.round, { client, coordinator: from, update });
      await this.#reply(from, env.round, await client.advertiseKeys());
      return;
    }
    if (env.kind !== SECAGG_MSG) return;
    const state = this.#rounds.get(env.round);
    if (state === undefined || from !== state.coordinator) return; // only the coordinator that started the round
    const msg = decodeSecAggMessage(env.payload);
    if (msg.kind === 'key-roster') await this.#reply(from, env.round, await state.client.shareKeys(msg));
    else if (msg.kind === 'share-delivery') await this.#reply(from, env.round, state.client.maskInput(msg, await state.update));
    else if (msg.kind === 'unmask-request') {
      await this.#reply(from, env.round, state.client.unmask(msg));
      this.#rounds.delete(env.round);
    }
  }
}
