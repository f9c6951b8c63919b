// The netlink wire format shared by every netlink family: the 16-byte message header, the attribute
// (type-length-value) lists that follow a family's fixed header, and the NLMSG_ERROR / NLMSG_DONE control messages.
// Pure: bytes in, values out. Netlink uses the host's byte order; every machine this project targets (x86-64,
// arm64, little-endian MIPS/ARM routers) is little-endian, so fields are read and written little-endian. A decoder
// never throws anything but CodecError, whatever the bytes.
import { CodecError } from '../../errors/index.js';

/** Control message types (linux/netlink.h). */
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

/** Header flags. */
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
/** The dump was interrupted by a change while the kernel built it: its contents may be inconsistent. */
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;

export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
/** Attribute type bits that are flags, not part of the type number. */
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export interface NetlinkMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  /** The sender's port id (0 for the kernel). */
  readonly pid: number;
  /** Everything after the header: a family header and attributes, or an error/done body. */
  readonly payload: Uint8Array;
}

export interface Attribute {
  /** The attribute number, without the nested / byte-order flag bits. */
  readonly type: number;
  readonly nested: boolean;
  readonly value: Uint8Array;
}

/** An attribute to encode; `nested` sets NLA_F_NESTED (the value is itself an attribute list). */
export interface AttributeInput {
  readonly type: number;
  readonly value: Uint8Array;
  readonly nested?: boolean;
}

/** Netlink aligns every message and attribute to 4 bytes. */
export function align4(n: number): number {
  return (n + 3) & ~3;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function checkUint(what: string, v: number, bits: number): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw new CodecError(`netlink: ${what} must be an unsigned ${bits}-bit integer`, { what, value: v });
}

export function encodeMessage(m: NetlinkMessage): Uint8Array {
  checkUint('type', m.type, 16);
  checkUint('flags', m.flags, 16);
  checkUint('seq', m.seq, 32);
  checkUint('pid', m.pid, 32);
  const len = NLMSG_HDRLEN + m.payload.byteLength;
  if (len >= 2 ** 32) throw new CodecError('netlink: message too long', { what: 'length', value: len });
  const out = new Uint8Array(align4(len));
  const dv = view(out);
  dv.setUint32(0, len, true);
  dv.setUint16(4, m.type, true);
  dv.setUint16(6, m.flags, true);
  dv.setUint32(8, m.seq, true);
  dv.setUint32(12, m.pid, true);
  out.set(m.payload, NLMSG_HDRLEN);
  return out;
}

/** Splits one datagram into its messages (a datagram may carry several; the last need not be padded). */
export function decodeMessages(buf: Uint8Array): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  const dv = view(buf);
  let off = 0;
  while (off < buf.byteLength) {
    const rest = buf.byteLength - off;
    if (rest < NLMSG_HDRLEN) throw new CodecError('netlink: truncated message header', { what: 'header', offset: off, bytes: rest });
    const len = dv.getUint32(off, true);
    if (len < NLMSG_HDRLEN || len > rest) throw new CodecError('netlink: message length out of range', { what: 'length', offset: off, length: len, bytes: rest });
    out.push({
      type: dv.getUint16(off + 4, true),
      flags: dv.getUint16(off + 6, true),
      seq: dv.getUint32(off + 8, true),
      pid: dv.getUint32(off + 12, true),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += Math.min(align4(len), rest);
  }
  return out;
}

export function encodeAttributes(attrs: readonly AttributeInput[]): Uint8Array {
  let total = 0;
  for (const a of attrs) {
    checkUint('attribute type', a.type, 14);
    if (NLA_HDRLEN + a.value.byteLength > 0xffff) throw new CodecError('netlink: attribute too long', { what: 'attribute length', type: a.type, bytes: a.value.byteLength });
    total += align4(NLA_HDRLEN + a.value.byteLength);
  }
  const out = new Uint8Array(total);
  const dv = view(out);
  let off = 0;
  for (const a of attrs) {
    dv.setUint16(off, NLA_HDRLEN + a.value.byteLength, true);
    dv.setUint16(off + 2, a.type | (a.nested === true ? NLA_F_NESTED : 0), true);
    out.set(a.value, off + NLA_HDRLEN);
    off += align4(NLA_HDRLEN + a.value.byteLength);
  }
  return out;
}

export function decodeAttributes(buf: Uint8Array): Attribute[] {
  const out: Attribute[] = [];
  const dv = view(buf);
  let off = 0;
  while (off < buf.byteLength) {
    const rest = buf.byteLength - off;
    if (rest < NLA_HDRLEN) throw new CodecError('netlink: truncated attribute header', { what: 'attribute', offset: off, bytes: rest });
    const len = dv.getUint16(off, true);
    const rawType = dv.getUint16(off + 2, true);
    if (len < NLA_HDRLEN || len > rest) throw new CodecError('netlink: attribute length out of range', { what: 'attribute length', offset: off, length: len, bytes: rest });
    out.push({ type: rawType & NLA_TYPE_MASK, nested: (rawType & NLA_F_NESTED) !== 0, value: buf.subarray(off + NLA_HDRLEN, off + len) });
    off += Math.min(align4(len), rest);
  }
  return out;
}

/** The last attribute of a type (the kernel sends each once; a repeat wins as in the kernel's nla_parse). */
export function findAttribute(attrs: readonly Attribute[], type: number): Attribute | undefined {
  for (let i = attrs.length - 1; i >= 0; i--) if (attrs[i]!.type === type) return attrs[i];
  return undefined;
}

// ---- attribute values ----------------------------------------------------------------------------------------

function fixed(what: string, a: Attribute, bytes: number): DataView {
  if (a.value.byteLength !== bytes) throw new CodecError(`netlink: ${what} must be ${bytes} bytes`, { what, bytes: a.value.byteLength });
  return view(a.value);
}

export const readU8 = (what: string, a: Attribute): number => fixed(what, a, 1).getUint8(0);
export const readU16 = (what: string, a: Attribute): number => fixed(what, a, 2).getUint16(0, true);
export const readU32 = (what: string, a: Attribute): number => fixed(what, a, 4).getUint32(0, true);
export const readU64 = (what: string, a: Attribute): bigint => fixed(what, a, 8).getBigUint64(0, true);

/**
 * A NUL-terminated string attribute (the terminator is required; the kernel always sends it). Bytes that are not
 * UTF-8 become U+FFFD rather than an error: Linux allows any bytes in an interface name, and such an interface must
 * not vanish from the watcher's view.
 */
export function readString(what: string, a: Attribute): string {
  const nul = a.value.indexOf(0);
  if (nul < 0) throw new CodecError(`netlink: ${what} is not NUL-terminated`, { what });
  return new TextDecoder('utf-8').decode(a.value.subarray(0, nul));
}

export function u8(v: number): Uint8Array {
  checkUint('u8 attribute', v, 8);
  return Uint8Array.of(v);
}

export function u16(v: number): Uint8Array {
  checkUint('u16 attribute', v, 16);
  const b = new Uint8Array(2);
  view(b).setUint16(0, v, true);
  return b;
}

export function u32(v: number): Uint8Array {
  checkUint('u32 attribute', v, 32);
  const b = new Uint8Array(4);
  view(b).setUint32(0, v, true);
  return b;
}

export function u64(v: bigint): Uint8Array {
  if (v < 0n || v >= 2n ** 64n) throw new CodecError('netlink: u64 attribute out of range', { what: 'u64 attribute', value: String(v) });
  const b = new Uint8Array(8);
  view(b).setBigUint64(0, v, true);
  return b;
}

/** A string with its NUL terminator. */
export function cString(s: string): Uint8Array {
  if (s.includes('\0')) throw new CodecError('netlink: a string attribute cannot contain NUL', { what: 'string attribute' });
  const body = new TextEncoder().encode(s);
  const b = new Uint8Array(body.byteLength + 1);
  b.set(body);
  return b;
}

// ---- control messages ----------------------------------------------------------------------------------------

/** The body of NLMSG_ERROR: a negative errno (0 = acknowledgement) and the header of the request it answers. */
export interface NetlinkError {
  /** Positive errno, 0 for an ACK. */
  readonly errno: number;
  readonly requestType: number;
  readonly requestSeq: number;
}

export function decodeError(m: NetlinkMessage): NetlinkError {
  if (m.type !== NLMSG_ERROR) throw new CodecError('netlink: not an error message', { what: 'type', type: m.type });
  if (m.payload.byteLength < 4 + NLMSG_HDRLEN) throw new CodecError('netlink: truncated error message', { what: 'error', bytes: m.payload.byteLength });
  const dv = view(m.payload);
  const err = dv.getInt32(0, true);
  if (err > 0) throw new CodecError('netlink: error code must be zero or negative', { what: 'error', value: err });
  return { errno: err === 0 ? 0 : -err, requestType: dv.getUint16(8, true), requestSeq: dv.getUint32(12, true) };
}

/** NLMSG_ERROR answering `request` (the kernel echoes the request's header, and without NETLINK_CAP_ACK its payload). */
export function encodeError(errno: number, request: NetlinkMessage, seq = request.seq): Uint8Array {
  checkUint('errno', errno, 31);
  const echoed = encodeMessage(request).subarray(0, NLMSG_HDRLEN);
  const payload = new Uint8Array(4 + NLMSG_HDRLEN);
  view(payload).setInt32(0, -errno, true);
  payload.set(echoed, 4);
  return encodeMessage({ type: NLMSG_ERROR, flags: 0, seq, pid: 0, payload });
}
