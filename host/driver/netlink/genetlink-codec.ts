// Generic netlink (NETLINK_GENERIC): the 4-byte genlmsghdr after the netlink header, and the controller family
// ("nlctrl") query that turns a family name such as "batadv" into its dynamically assigned message type
// (linux/genetlink.h; numbers written from the documented UAPI). Pure.
import { CodecError } from '../../errors/index.js';
import {
  cString, decodeAttributes, encodeAttributes, encodeMessage, findAttribute, NLM_F_REQUEST, readString, readU16, readU32, u16, u32,
  type Attribute, type AttributeInput, type NetlinkMessage,
} from './netlink-message.js';

export const NETLINK_GENERIC = 16;
export const GENL_HDRLEN = 4;
/** The controller's fixed family id. */
export const GENL_ID_CTRL = 0x10;
export const CTRL_CMD_NEWFAMILY = 1;
export const CTRL_CMD_GETFAMILY = 3;
export const CTRL_ATTR_FAMILY_ID = 1;
export const CTRL_ATTR_FAMILY_NAME = 2;
export const CTRL_ATTR_VERSION = 3;

export interface GenericMessage {
  /** The family id (the netlink message type). */
  readonly family: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  readonly cmd: number;
  readonly version: number;
  readonly attributes: readonly Attribute[];
}

export interface GenericRequest {
  readonly family: number;
  readonly flags: number;
  readonly seq: number;
  readonly cmd: number;
  readonly version: number;
  readonly attributes: readonly AttributeInput[];
  readonly pid?: number;
}

export function encodeGeneric(r: GenericRequest): Uint8Array {
  if (!Number.isInteger(r.cmd) || r.cmd < 0 || r.cmd > 255) throw new CodecError('genetlink: cmd out of range', { what: 'cmd', value: r.cmd });
  if (!Number.isInteger(r.version) || r.version < 0 || r.version > 255) throw new CodecError('genetlink: version out of range', { what: 'version', value: r.version });
  const body = encodeAttributes(r.attributes);
  const payload = new Uint8Array(GENL_HDRLEN + body.byteLength);
  payload[0] = r.cmd;
  payload[1] = r.version;
  payload.set(body, GENL_HDRLEN);
  return encodeMessage({ type: r.family, flags: r.flags, seq: r.seq, pid: r.pid ?? 0, payload });
}

export function decodeGeneric(m: NetlinkMessage): GenericMessage {
  if (m.payload.byteLength < GENL_HDRLEN) throw new CodecError('genetlink: truncated genlmsghdr', { what: 'genlmsghdr', bytes: m.payload.byteLength });
  return {
    family: m.type,
    flags: m.flags,
    seq: m.seq,
    pid: m.pid,
    cmd: m.payload[0]!,
    version: m.payload[1]!,
    attributes: decodeAttributes(m.payload.subarray(GENL_HDRLEN)),
  };
}

export interface GenericFamily {
  readonly id: number;
  readonly name: string;
  readonly version: number;
}

/** CTRL_CMD_GETFAMILY for one family by name. */
export function encodeGetFamily(name: string, seq: number): Uint8Array {
  return encodeGeneric({ family: GENL_ID_CTRL, flags: NLM_F_REQUEST, seq, cmd: CTRL_CMD_GETFAMILY, version: 1, attributes: [{ type: CTRL_ATTR_FAMILY_NAME, value: cString(name) }] });
}

/** The controller's answer (CTRL_CMD_NEWFAMILY) as the kernel would send it; the tests' stand-in for the kernel. */
export function encodeFamily(f: GenericFamily, seq: number, pid: number): Uint8Array {
  return encodeGeneric({
    family: GENL_ID_CTRL, flags: 0, seq, pid, cmd: CTRL_CMD_NEWFAMILY, version: 2,
    attributes: [
      { type: CTRL_ATTR_FAMILY_NAME, value: cString(f.name) },
      { type: CTRL_ATTR_FAMILY_ID, value: u16(f.id) },
      { type: CTRL_ATTR_VERSION, value: u32(f.version) },
    ],
  });
}

export function decodeFamily(g: GenericMessage): GenericFamily {
  if (g.cmd !== CTRL_CMD_NEWFAMILY) throw new CodecError('genetlink: not a family description', { what: 'cmd', value: g.cmd });
  const id = findAttribute(g.attributes, CTRL_ATTR_FAMILY_ID);
  const name = findAttribute(g.attributes, CTRL_ATTR_FAMILY_NAME);
  const version = findAttribute(g.attributes, CTRL_ATTR_VERSION);
  if (id === undefined || name === undefined) throw new CodecError('genetlink: family description without id or name', { what: 'CTRL_ATTR_FAMILY_ID' });
  return { id: readU16('CTRL_ATTR_FAMILY_ID', id), name: readString('CTRL_ATTR_FAMILY_NAME', name), version: version === undefined ? 0 : readU32('CTRL_ATTR_VERSION', version) };
}
