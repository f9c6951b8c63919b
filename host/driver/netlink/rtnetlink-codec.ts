// rtnetlink (NETLINK_ROUTE) link and address messages: struct ifinfomsg / ifaddrmsg and the attributes the link
// watcher needs (linux/rtnetlink.h, if_link.h, if_addr.h; numbers written from the documented UAPI). Pure.
import { CodecError } from '../../errors/index.js';
import { decodeAddress, encodeAddress } from '../ip-address.js';
import {
  cString, decodeAttributes, encodeAttributes, encodeMessage, findAttribute, NLM_F_DUMP, NLM_F_REQUEST, readString, readU32, readU8, u32, u8,
  type AttributeInput, type NetlinkMessage,
} from './netlink-message.js';

export const NETLINK_ROUTE = 0;

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;

/** Multicast group bits for bind(2) (the legacy RTMGRP_* masks). */
export const RTMGRP_LINK = 0x1;
export const RTMGRP_IPV4_IFADDR = 0x10;
export const RTMGRP_IPV6_IFADDR = 0x100;

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

/** Interface flags (net/if.h). */
export const IFF_UP = 0x1;
export const IFF_RUNNING = 0x40;
export const IFF_LOWER_UP = 0x10000;

export const IFLA_MTU = 4;
export const IFLA_IFNAME = 3;
export const IFLA_OPERSTATE = 16;
export const IFLA_CARRIER = 33;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;

const IFINFOMSG_LEN = 16;
const IFADDRMSG_LEN = 8;

/** RFC 2863 operational states as IFLA_OPERSTATE numbers them. */
export const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;
export type Operstate = (typeof OPERSTATES)[number];

export interface LinkMessage {
  readonly kind: 'new-link' | 'del-link';
  readonly ifindex: number;
  /** IFF_* flags from ifinfomsg. */
  readonly flags: number;
  readonly name: string | null;
  readonly operstate: Operstate | null;
  /** IFLA_CARRIER when present. */
  readonly carrier: boolean | null;
  readonly mtu: number | null;
}

export interface AddressMessage {
  readonly kind: 'new-address' | 'del-address';
  readonly ifindex: number;
  readonly family: 4 | 6;
  readonly prefixLength: number;
  /** The interface's own address (IFA_LOCAL when present, else IFA_ADDRESS), canonical text. */
  readonly address: string;
}

export type RouteMessage = LinkMessage | AddressMessage;

/** Header fields of an encoded message other than type and payload. */
export interface Envelope {
  readonly flags?: number;
  readonly seq?: number;
  readonly pid?: number;
}

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** A dump request for every link (RTM_GETLINK) or every address of every family (RTM_GETADDR). */
export function encodeDumpRequest(type: typeof RTM_GETLINK | typeof RTM_GETADDR, seq: number): Uint8Array {
  // The fixed header must be present (zeroed: no filter); the kernel reads its family to choose what to dump.
  const payload = new Uint8Array(type === RTM_GETLINK ? IFINFOMSG_LEN : IFADDRMSG_LEN);
  return encodeMessage({ type, flags: NLM_F_REQUEST | NLM_F_DUMP, seq, pid: 0, payload });
}

export function encodeLinkMessage(m: LinkMessage, env: Envelope = {}): Uint8Array {
  const head = new Uint8Array(IFINFOMSG_LEN);
  const h = dv(head);
  if (!Number.isInteger(m.ifindex) || m.ifindex < 1 || m.ifindex > 0x7fffffff) throw new CodecError('rtnetlink: ifindex out of range', { what: 'ifindex', value: m.ifindex });
  h.setUint8(0, AF_UNSPEC);
  h.setInt32(4, m.ifindex, true);
  h.setUint32(8, m.flags >>> 0, true);
  const attrs: AttributeInput[] = [];
  if (m.name !== null) attrs.push({ type: IFLA_IFNAME, value: cString(m.name) });
  if (m.mtu !== null) attrs.push({ type: IFLA_MTU, value: u32(m.mtu) });
  if (m.operstate !== null) attrs.push({ type: IFLA_OPERSTATE, value: u8(OPERSTATES.indexOf(m.operstate)) });
  if (m.carrier !== null) attrs.push({ type: IFLA_CARRIER, value: u8(m.carrier ? 1 : 0) });
  const body = encodeAttributes(attrs);
  const payload = new Uint8Array(IFINFOMSG_LEN + body.byteLength);
  payload.set(head);
  payload.set(body, IFINFOMSG_LEN);
  return encodeMessage({ type: m.kind === 'new-link' ? RTM_NEWLINK : RTM_DELLINK, flags: env.flags ?? 0, seq: env.seq ?? 0, pid: env.pid ?? 0, payload });
}

export function encodeAddressMessage(m: AddressMessage, env: Envelope = {}): Uint8Array {
  const key = encodeAddress(m.address);
  if (key.family !== m.family) throw new CodecError('rtnetlink: address does not match the family', { what: 'address', value: m.address });
  const bytes = key.bytes;
  if (!Number.isInteger(m.prefixLength) || m.prefixLength < 0 || m.prefixLength > bytes.byteLength * 8) {
    throw new CodecError('rtnetlink: prefix length out of range', { what: 'prefixLength', value: m.prefixLength });
  }
  if (!Number.isInteger(m.ifindex) || m.ifindex < 1 || m.ifindex > 0xffffffff) throw new CodecError('rtnetlink: ifindex out of range', { what: 'ifindex', value: m.ifindex });
  const head = new Uint8Array(IFADDRMSG_LEN);
  const h = dv(head);
  h.setUint8(0, m.family === 4 ? AF_INET : AF_INET6);
  h.setUint8(1, m.prefixLength);
  h.setUint32(4, m.ifindex, true);
  // IPv4 addresses carry IFA_LOCAL (own) and IFA_ADDRESS (peer, equal on broadcast links); IPv6 only IFA_ADDRESS.
  const attrs: AttributeInput[] = m.family === 4 ? [{ type: IFA_ADDRESS, value: bytes }, { type: IFA_LOCAL, value: bytes }] : [{ type: IFA_ADDRESS, value: bytes }];
  const body = encodeAttributes(attrs);
  const payload = new Uint8Array(IFADDRMSG_LEN + body.byteLength);
  payload.set(head);
  payload.set(body, IFADDRMSG_LEN);
  return encodeMessage({ type: m.kind === 'new-address' ? RTM_NEWADDR : RTM_DELADDR, flags: env.flags ?? 0, seq: env.seq ?? 0, pid: env.pid ?? 0, payload });
}

export function decodeLinkMessage(m: NetlinkMessage): LinkMessage {
  if (m.type !== RTM_NEWLINK && m.type !== RTM_DELLINK) throw new CodecError('rtnetlink: not a link message', { what: 'type', type: m.type });
  if (m.payload.byteLength < IFINFOMSG_LEN) throw new CodecError('rtnetlink: truncated ifinfomsg', { what: 'ifinfomsg', bytes: m.payload.byteLength });
  const h = dv(m.payload);
  const ifindex = h.getInt32(4, true);
  if (ifindex < 1) throw new CodecError('rtnetlink: ifindex out of range', { what: 'ifindex', value: ifindex });
  const attrs = decodeAttributes(m.payload.subarray(IFINFOMSG_LEN));
  const name = findAttribute(attrs, IFLA_IFNAME);
  const oper = findAttribute(attrs, IFLA_OPERSTATE);
  const carrier = findAttribute(attrs, IFLA_CARRIER);
  const mtu = findAttribute(attrs, IFLA_MTU);
  let operstate: Operstate | null = null;
  if (oper !== undefined) {
    const v = readU8('IFLA_OPERSTATE', oper);
    operstate = OPERSTATES[v] ?? null;
    if (operstate === null) throw new CodecError('rtnetlink: unknown operstate', { what: 'IFLA_OPERSTATE', value: v });
  }
  return {
    kind: m.type === RTM_NEWLINK ? 'new-link' : 'del-link',
    ifindex,
    flags: h.getUint32(8, true),
    name: name === undefined ? null : readString('IFLA_IFNAME', name),
    operstate,
    carrier: carrier === undefined ? null : readU8('IFLA_CARRIER', carrier) !== 0,
    mtu: mtu === undefined ? null : readU32('IFLA_MTU', mtu),
  };
}

/** An address message, or null for a family the watcher does not track (neither IPv4 nor IPv6). */
export function decodeAddressMessage(m: NetlinkMessage): AddressMessage | null {
  if (m.type !== RTM_NEWADDR && m.type !== RTM_DELADDR) throw new CodecError('rtnetlink: not an address message', { what: 'type', type: m.type });
  if (m.payload.byteLength < IFADDRMSG_LEN) throw new CodecError('rtnetlink: truncated ifaddrmsg', { what: 'ifaddrmsg', bytes: m.payload.byteLength });
  const h = dv(m.payload);
  const af = h.getUint8(0);
  if (af !== AF_INET && af !== AF_INET6) return null;
  const family = af === AF_INET ? 4 : 6;
  const prefixLength = h.getUint8(1);
  const ifindex = h.getUint32(4, true);
  const size = family === 4 ? 4 : 16;
  if (prefixLength > size * 8) throw new CodecError('rtnetlink: prefix length out of range', { what: 'prefixLength', value: prefixLength });
  if (ifindex < 1) throw new CodecError('rtnetlink: ifindex out of range', { what: 'ifindex', value: ifindex });
  const attrs = decodeAttributes(m.payload.subarray(IFADDRMSG_LEN));
  const a = findAttribute(attrs, IFA_LOCAL) ?? findAttribute(attrs, IFA_ADDRESS);
  if (a === undefined) throw new CodecError('rtnetlink: address message without an address', { what: 'IFA_ADDRESS' });
  if (a.value.byteLength !== size) throw new CodecError('rtnetlink: address length does not match the family', { what: 'IFA_ADDRESS', bytes: a.value.byteLength });
  return {
    kind: m.type === RTM_NEWADDR ? 'new-address' : 'del-address',
    ifindex,
    family,
    prefixLength,
    address: decodeAddress(family, a.value),
  };
}

/** A link or address message; null for any other rtnetlink message or an untracked address family. */
export function decodeRouteMessage(m: NetlinkMessage): RouteMessage | null {
  if (m.type === RTM_NEWLINK || m.type === RTM_DELLINK) return decodeLinkMessage(m);
  if (m.type === RTM_NEWADDR || m.type === RTM_DELADDR) return decodeAddressMessage(m);
  return null;
}
