// The binary wire format of federated-learning messages (Yjs/lib0 habit: versioned, kept out of the model code,
// every encoder has a decoder). Numbers are raw little-endian f32, never JSON. Every message is one envelope:
//
//   offset  size  field
//   0       4     magic "XFL1" (bytes 58 46 4c 31)
//   4       1     version (1)
//   5       1     kind
//   6       2     senderLen (u16 LE, 1..255)
//   8       4     round (u32 LE)
//   12      4     payloadLen (u32 LE)
//   16      4     reserved, 0
//   20      senderLen   sender node id (UTF-8)
//   ..      payloadLen  payload (layout by kind)
//
// Kinds: 1 round-start, 2 update, 3 model, 4 join, 5 leave; 0x40..0xff are extensions whose payload is opaque bytes
// (the secure-aggregation sub-protocol and DP metadata will be carried there); 0 and 6..0x3f are reserved and refused.
// Payloads (all integers u32 LE unless noted, f32 arrays LE):
//   round-start: modelVersion, deadlineMs, dim, reserved 0, modelDigest[32], model f32[dim]
//   update:      modelVersion, dim, weight f32, loss f32 (NaN = none), coordinatorLen u16, signatureLen u16,
//                reserved 0, modelDigest[32], coordinator id, signature, update f32[dim]
//   model:       modelVersion, dim, modelDigest[32], model f32[dim]
//   join/leave:  empty
// Decoders refuse anything else with FlProtocolError (X0T_FL_PROTOCOL), naming the field in details.what.
import { createHash } from 'node:crypto';
import { FlProtocolError } from '../errors/index.js';

export const FL_MAGIC = 0x314c4658; // "XFL1" little-endian
export const FL_VERSION = 1;
export const FL_HEADER_BYTES = 20;
export const FL_MAX_ID_BYTES = 255;
export const DIGEST_BYTES = 32;
export const FL_KIND = Object.freeze({ roundStart: 1, update: 2, model: 3, join: 4, leave: 5 });
/** Kinds from here up carry opaque payloads for sub-protocols the core does not interpret. */
export const FL_EXTENSION_KIND_MIN = 0x40;
/** Domain separation of signed updates; also the first bytes of the signed message. */
export const UPDATE_SIGNING_DOMAIN = 'x0t-fl-update-v1';

const ROUND_START_FIXED = 16 + DIGEST_BYTES;
const UPDATE_FIXED = 24 + DIGEST_BYTES;
const MODEL_FIXED = 8 + DIGEST_BYTES;
const U32_MAX = 0xffff_ffff;
const LITTLE_ENDIAN_HOST = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

interface Base { readonly round: number; readonly sender: string }
export interface RoundStartMessage extends Base {
  readonly kind: 'round-start';
  readonly modelVersion: number;
  readonly deadlineMs: number;
  readonly modelDigest: Uint8Array;
  readonly model: Float32Array;
}
export interface UpdateMessage extends Base {
  readonly kind: 'update';
  /** The coordinator the update is for (signed, so an update cannot be replayed to another coordinator). */
  readonly coordinator: string;
  readonly modelVersion: number;
  readonly modelDigest: Uint8Array;
  /** An f32 on the wire (encoding rounds to f32). */
  readonly weight: number;
  readonly loss: number | null;
  readonly signature: Uint8Array;
  readonly update: Float32Array;
}
export interface ModelMessage extends Base {
  readonly kind: 'model';
  readonly modelVersion: number;
  readonly modelDigest: Uint8Array;
  readonly model: Float32Array;
}
export interface JoinMessage extends Base { readonly kind: 'join' }
export interface LeaveMessage extends Base { readonly kind: 'leave' }
export interface ExtensionMessage extends Base {
  readonly kind: 'extension';
  /** FL_EXTENSION_KIND_MIN..255. */
  readonly code: number;
  readonly payload: Uint8Array;
}
export type FlMessage = RoundStartMessage | UpdateMessage | ModelMessage | JoinMessage | LeaveMessage | ExtensionMessage;

/** The generic envelope: any kind, payload not interpreted. */
export interface FlEnvelope {
  readonly kind: number;
  readonly round: number;
  readonly sender: string;
  readonly payload: Uint8Array;
}

function fail(what: string, message: string, details: Record<string, unknown> = {}): never {
  throw new FlProtocolError(`fl wire: ${message}`, { what, ...details });
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function idBytes(id: string, what: string): Uint8Array {
  if (typeof id !== 'string') fail(what, `${what} must be a string`);
  const b = utf8.encode(id);
  if (b.length < 1 || b.length > FL_MAX_ID_BYTES) fail(what, `${what} must be 1..${FL_MAX_ID_BYTES} UTF-8 bytes, got ${b.length}`);
  return b;
}

function decodeId(bytes: Uint8Array, what: string): string {
  if (bytes.length < 1 || bytes.length > FL_MAX_ID_BYTES) fail(what, `${what} must be 1..${FL_MAX_ID_BYTES} bytes, got ${bytes.length}`);
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return fail(what, `${what} is not valid UTF-8`);
  }
}

function u32(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > U32_MAX) fail(what, `${what} must be a u32, got ${n}`);
  return n;
}

function digest32(d: Uint8Array, what: string): Uint8Array {
  if (!(d instanceof Uint8Array) || d.length !== DIGEST_BYTES) fail(what, `${what} must be ${DIGEST_BYTES} bytes`);
  return d;
}

function f32Vector(v: Float32Array, what: string): Float32Array {
  if (!(v instanceof Float32Array)) fail(what, `${what} must be a Float32Array`);
  return v;
}

/** The little-endian bytes of an f32 array (a view when the host is little-endian). */
export function f32Bytes(v: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const out = new Uint8Array(v.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < v.length; i++) dv.setFloat32(i * 4, v[i]!, true);
  return out;
}

/** A fresh, aligned Float32Array of `count` little-endian f32 at bytes[offset..] (f32Bytes' inverse). */
export function readF32(bytes: Uint8Array, offset: number, count: number): Float32Array {
  if (LITTLE_ENDIAN_HOST) return new Float32Array(bytes.slice(offset, offset + count * 4).buffer);
  const out = new Float32Array(count);
  const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, count * 4);
  for (let i = 0; i < count; i++) out[i] = dv.getFloat32(i * 4, true);
  return out;
}

/** SHA-256 of a model's little-endian f32 bytes: the digest RoundStart, Model and signed updates name. */
export function modelDigest(model: Float32Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(f32Bytes(model)).digest());
}

// ---- envelope ----

export function encodeEnvelope(e: FlEnvelope): Uint8Array {
  if (!Number.isInteger(e.kind) || e.kind < 1 || e.kind > 255) fail('kind', `kind must be 1..255, got ${e.kind}`);
  const sender = idBytes(e.sender, 'sender');
  const round = u32(e.round, 'round');
  if (!(e.payload instanceof Uint8Array)) fail('payload', 'payload must be bytes');
  u32(e.payload.length, 'payloadLen');
  const out = new Uint8Array(FL_HEADER_BYTES + sender.length + e.payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, FL_MAGIC, true);
  dv.setUint8(4, FL_VERSION);
  dv.setUint8(5, e.kind);
  dv.setUint16(6, sender.length, true);
  dv.setUint32(8, round, true);
  dv.setUint32(12, e.payload.length, true);
  dv.setUint32(16, 0, true);
  out.set(sender, FL_HEADER_BYTES);
  out.set(e.payload, FL_HEADER_BYTES + sender.length);
  return out;
}

/** Checks magic, version, reserved bits and that the lengths add up exactly; the payload is a copy-free view. */
export function decodeEnvelope(bytes: Uint8Array): FlEnvelope {
  if (!(bytes instanceof Uint8Array)) fail('bytes', 'input must be bytes');
  if (bytes.length < FL_HEADER_BYTES) fail('header', `message of ${bytes.length} bytes is shorter than the ${FL_HEADER_BYTES}-byte header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== FL_MAGIC) fail('magic', 'bad magic (not an XFL1 message)');
  const version = dv.getUint8(4);
  if (version !== FL_VERSION) fail('version', `unsupported version ${version}`, { version });
  const kind = dv.getUint8(5);
  if (kind === 0) fail('kind', 'kind 0 is reserved');
  const senderLen = dv.getUint16(6, true);
  const round = dv.getUint32(8, true);
  const payloadLen = dv.getUint32(12, true);
  if (dv.getUint32(16, true) !== 0) fail('reserved', 'reserved header bytes must be zero');
  if (FL_HEADER_BYTES + senderLen + payloadLen !== bytes.length) {
    fail('length', `header says ${FL_HEADER_BYTES} + ${senderLen} + ${payloadLen} bytes, message has ${bytes.length}`);
  }
  const sender = decodeId(bytes.subarray(FL_HEADER_BYTES, FL_HEADER_BYTES + senderLen), 'sender');
  return { kind, round, sender, payload: bytes.subarray(FL_HEADER_BYTES + senderLen) };
}

// ---- typed messages ----

function payloadOf(m: FlMessage): { kind: number; payload: Uint8Array } {
  switch (m.kind) {
    case 'round-start': {
      const model = f32Vector(m.model, 'model');
      const p = new Uint8Array(ROUND_START_FIXED + model.length * 4);
      const dv = new DataView(p.buffer);
      dv.setUint32(0, u32(m.modelVersion, 'modelVersion'), true);
      dv.setUint32(4, u32(m.deadlineMs, 'deadlineMs'), true);
      dv.setUint32(8, model.length, true);
      p.set(digest32(m.modelDigest, 'modelDigest'), 16);
      p.set(f32Bytes(model), ROUND_START_FIXED);
      return { kind: FL_KIND.roundStart, payload: p };
    }
    case 'update': {
      const update = f32Vector(m.update, 'update');
      const coordinator = idBytes(m.coordinator, 'coordinator');
      if (!(m.signature instanceof Uint8Array) || m.signature.length > 0xffff) fail('signature', 'signature must be at most 65535 bytes');
      if (typeof m.weight !== 'number') fail('weight', 'weight must be a number');
      const p = new Uint8Array(UPDATE_FIXED + coordinator.length + m.signature.length + update.length * 4);
      const dv = new DataView(p.buffer);
      dv.setUint32(0, u32(m.modelVersion, 'modelVersion'), true);
      dv.setUint32(4, update.length, true);
      dv.setFloat32(8, m.weight, true);
      dv.setFloat32(12, m.loss ?? Number.NaN, true);
      dv.setUint16(16, coordinator.length, true);
      dv.setUint16(18, m.signature.length, true);
      p.set(digest32(m.modelDigest, 'modelDigest'), 24);
      p.set(coordinator, UPDATE_FIXED);
      p.set(m.signature, UPDATE_FIXED + coordinator.length);
      p.set(f32Bytes(update), UPDATE_FIXED + coordinator.length + m.signature.length);
      return { kind: FL_KIND.update, payload: p };
    }
    case 'model': {
      const model = f32Vector(m.model, 'model');
      const p = new Uint8Array(MODEL_FIXED + model.length * 4);
      const dv = new DataView(p.buffer);
      dv.setUint32(0, u32(m.modelVersion, 'modelVersion'), true);
      dv.setUint32(4, model.length, true);
      p.set(digest32(m.modelDigest, 'modelDigest'), 8);
      p.set(f32Bytes(model), MODEL_FIXED);
      return { kind: FL_KIND.model, payload: p };
    }
    case 'join': return { kind: FL_KIND.join, payload: new Uint8Array(0) };
    case 'leave': return { kind: FL_KIND.leave, payload: new Uint8Array(0) };
    case 'extension':
      if (!Number.isInteger(m.code) || m.code < FL_EXTENSION_KIND_MIN || m.code > 255) {
        fail('kind', `extension kinds are ${FL_EXTENSION_KIND_MIN}..255, got ${m.code}`);
      }
      return { kind: m.code, payload: m.payload };
    default:
      return fail('kind', `unknown message kind ${String((m as { kind: unknown }).kind)}`);
  }
}

export function encodeFlMessage(m: FlMessage): Uint8Array {
  const { kind, payload } = payloadOf(m);
  return encodeEnvelope({ kind, round: m.round, sender: m.sender, payload });
}

function expectLength(p: Uint8Array, expected: number, what: string): void {
  if (p.length !== expected) fail('payloadLen', `${what} payload must be ${expected} bytes, got ${p.length}`, { kind: what });
}

/** Decodes any message; arrays and digests are fresh copies (safe to keep after the input buffer is reused). */
export function decodeFlMessage(bytes: Uint8Array): FlMessage {
  const { kind, round, sender, payload: p } = decodeEnvelope(bytes);
  const base = { round, sender };
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const need = (n: number, what: string): void => {
    if (p.length < n) fail('payloadLen', `${what} payload of ${p.length} bytes is shorter than its ${n}-byte fixed part`, { kind: what });
  };
  switch (kind) {
    case FL_KIND.roundStart: {
      need(ROUND_START_FIXED, 'round-start');
      const dim = dv.getUint32(8, true);
      if (dv.getUint32(12, true) !== 0) fail('reserved', 'round-start reserved field must be zero');
      expectLength(p, ROUND_START_FIXED + dim * 4, 'round-start');
      return {
        kind: 'round-start', ...base, modelVersion: dv.getUint32(0, true), deadlineMs: dv.getUint32(4, true),
        modelDigest: p.slice(16, 16 + DIGEST_BYTES), model: readF32(p, ROUND_START_FIXED, dim),
      };
    }
    case FL_KIND.update: {
      need(UPDATE_FIXED, 'update');
      const dim = dv.getUint32(4, true);
      const coordLen = dv.getUint16(16, true);
      const sigLen = dv.getUint16(18, true);
      if (dv.getUint32(20, true) !== 0) fail('reserved', 'update reserved field must be zero');
      expectLength(p, UPDATE_FIXED + coordLen + sigLen + dim * 4, 'update');
      const loss = dv.getFloat32(12, true);
      return {
        kind: 'update', ...base,
        coordinator: decodeId(p.subarray(UPDATE_FIXED, UPDATE_FIXED + coordLen), 'coordinator'),
        modelVersion: dv.getUint32(0, true),
        modelDigest: p.slice(24, 24 + DIGEST_BYTES),
        weight: dv.getFloat32(8, true),
        loss: Number.isNaN(loss) ? null : loss,
        signature: p.slice(UPDATE_FIXED + coordLen, UPDATE_FIXED + coordLen + sigLen),
        update: readF32(p, UPDATE_FIXED + coordLen + sigLen, dim),
      };
    }
    case FL_KIND.model: {
      need(MODEL_FIXED, 'model');
      const dim = dv.getUint32(4, true);
      expectLength(p, MODEL_FIXED + dim * 4, 'model');
      return {
        kind: 'model', ...base, modelVersion: dv.getUint32(0, true), modelDigest: p.slice(8, 8 + DIGEST_BYTES),
        model: readF32(p, MODEL_FIXED, dim),
      };
    }
    case FL_KIND.join:
      expectLength(p, 0, 'join');
      return { kind: 'join', ...base };
    case FL_KIND.leave:
      expectLength(p, 0, 'leave');
      return { kind: 'leave', ...base };
    default:
      if (kind >= FL_EXTENSION_KIND_MIN) return { kind: 'extension', ...base, code: kind, payload: p.slice() };
      return fail('kind', `kind ${kind} is reserved`, { kind });
  }
}

// ---- what a client signs ----

/** The fields of an update its signature covers. */
export interface SignedUpdateFields {
  readonly round: number;
  readonly coordinator: string;
  readonly modelVersion: number;
  readonly modelDigest: Uint8Array;
  readonly sender: string;
  readonly weight: number;
  readonly loss: number | null;
  readonly update: Float32Array;
}

/**
 * The message an update's signature is over: "x0t-fl-update-v1" ‖ 0x00 ‖ round u32 ‖ len u8 ‖ coordinator ‖
 * modelVersion u32 ‖ modelDigest[32] ‖ len u8 ‖ sender ‖ weight f32 ‖ loss f32 (NaN = none) ‖ dim u32 ‖
 * SHA-256(update's little-endian f32 bytes). Weight and loss are the f32 the wire carries.
 */
export function updateSigningMessage(f: SignedUpdateFields): Uint8Array {
  const domain = utf8.encode(UPDATE_SIGNING_DOMAIN);
  const coordinator = idBytes(f.coordinator, 'coordinator');
  const sender = idBytes(f.sender, 'sender');
  const updateHash = createHash('sha256').update(f32Bytes(f32Vector(f.update, 'update'))).digest();
  const out = new Uint8Array(domain.length + 1 + 4 + 1 + coordinator.length + 4 + DIGEST_BYTES + 1 + sender.length + 12 + 32);
  const dv = new DataView(out.buffer);
  let o = 0;
  out.set(domain, o); o += domain.length;
  out[o++] = 0;
  dv.setUint32(o, u32(f.round, 'round'), true); o += 4;
  out[o++] = coordinator.length;
  out.set(coordinator, o); o += coordinator.length;
  dv.setUint32(o, u32(f.modelVersion, 'modelVersion'), true); o += 4;
  out.set(digest32(f.modelDigest, 'modelDigest'), o); o += DIGEST_BYTES;
  out[o++] = sender.length;
  out.set(sender, o); o += sender.length;
  dv.setFloat32(o, f.weight, true); o += 4;
  dv.setFloat32(o, f.loss ?? Number.NaN, true); o += 4;
  dv.setUint32(o, f.update.length, true); o += 4;
  out.set(updateHash, o);
  return out;
}
