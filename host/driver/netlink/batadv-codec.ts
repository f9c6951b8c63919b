// batman-adv's generic netlink messages (family "batadv"): the mesh settings (BATADV_CMD_GET_MESH / SET_MESH) and
// the originator, neighbour and gateway tables (dumps), written against the documented UAPI
// (linux/batman_adv.h: enum batadv_nl_commands, enum batadv_nl_attrs; attribute sizes as the kernel's netlink
// policy declares them). Our own constants and codecs; every request and reply has an encoder and a decoder. Pure.
import { CodecError } from '../../errors/index.js';
import { formatMac, parseMac } from './mac-address.js';
import { decodeGeneric, encodeGeneric, type GenericMessage } from './genetlink-codec.js';
import {
  cString, findAttribute, NLM_F_ACK, NLM_F_DUMP, NLM_F_MULTI, NLM_F_REQUEST, readString, readU32, readU8, u32, u8,
  type Attribute, type AttributeInput, type NetlinkMessage,
} from './netlink-message.js';

export const BATADV_FAMILY_NAME = 'batadv';
/** The genl version batman-adv registers its family with. */
export const BATADV_GENL_VERSION = 1;

/** Commands (enum batadv_nl_commands). */
export const BATADV_CMD = {
  GET_MESH: 1,
  GET_ORIGINATORS: 8,
  GET_NEIGHBORS: 9,
  GET_GATEWAYS: 10,
  SET_MESH: 15,
} as const;

/** Attributes (enum batadv_nl_attrs). */
export const BATADV_ATTR = {
  VERSION: 1,
  ALGO_NAME: 2,
  MESH_IFINDEX: 3,
  MESH_IFNAME: 4,
  MESH_ADDRESS: 5,
  HARD_IFINDEX: 6,
  HARD_IFNAME: 7,
  HARD_ADDRESS: 8,
  ORIG_ADDRESS: 9,
  TT_TTVN: 17,
  FLAG_BEST: 22,
  LAST_SEEN_MSECS: 23,
  NEIGH_ADDRESS: 24,
  TQ: 25,
  THROUGHPUT: 26,
  BANDWIDTH_UP: 27,
  BANDWIDTH_DOWN: 28,
  ROUTER: 29,
  AGGREGATED_OGMS_ENABLED: 41,
  AP_ISOLATION_ENABLED: 42,
  ISOLATION_MARK: 43,
  ISOLATION_MASK: 44,
  BONDING_ENABLED: 45,
  BRIDGE_LOOP_AVOIDANCE_ENABLED: 46,
  DISTRIBUTED_ARP_TABLE_ENABLED: 47,
  FRAGMENTATION_ENABLED: 48,
  GW_BANDWIDTH_DOWN: 49,
  GW_BANDWIDTH_UP: 50,
  GW_MODE: 51,
  GW_SEL_CLASS: 52,
  HOP_PENALTY: 53,
  LOG_LEVEL: 54,
  MULTICAST_FORCEFLOOD_ENABLED: 55,
  NETWORK_CODING_ENABLED: 56,
  ORIG_INTERVAL: 57,
  MULTICAST_FANOUT: 60,
} as const;

/** enum batadv_gw_modes, by position. */
export const GW_MODES = ['off', 'client', 'server'] as const;
export type GwMode = (typeof GW_MODES)[number];

/** The mesh-wide settings batman-adv reports and accepts; absent keys are left unchanged by SET_MESH. */
export interface MeshSettings {
  readonly aggregatedOgms?: boolean;
  readonly apIsolation?: boolean;
  readonly isolationMark?: number;
  readonly isolationMask?: number;
  readonly bonding?: boolean;
  readonly bridgeLoopAvoidance?: boolean;
  readonly distributedArpTable?: boolean;
  readonly fragmentation?: boolean;
  /** Advertised gateway bandwidth, in 100 kbit/s units. */
  readonly gwBandwidthDown?: number;
  readonly gwBandwidthUp?: number;
  readonly gwMode?: GwMode;
  readonly gwSelClass?: number;
  readonly hopPenalty?: number;
  readonly logLevel?: number;
  readonly multicastForceflood?: boolean;
  readonly networkCoding?: boolean;
  /** Originator message interval in milliseconds. */
  readonly origInterval?: number;
  readonly multicastFanout?: number;
}

type SettingKind = 'bool' | 'u8' | 'u32' | 'gw-mode';
/** Each setting's attribute and wire type (u8 booleans and u8/u32 numbers, per the kernel's policy). */
const SETTINGS: ReadonlyArray<readonly [keyof MeshSettings, number, SettingKind]> = [
  ['aggregatedOgms', BATADV_ATTR.AGGREGATED_OGMS_ENABLED, 'bool'],
  ['apIsolation', BATADV_ATTR.AP_ISOLATION_ENABLED, 'bool'],
  ['isolationMark', BATADV_ATTR.ISOLATION_MARK, 'u32'],
  ['isolationMask', BATADV_ATTR.ISOLATION_MASK, 'u32'],
  ['bonding', BATADV_ATTR.BONDING_ENABLED, 'bool'],
  ['bridgeLoopAvoidance', BATADV_ATTR.BRIDGE_LOOP_AVOIDANCE_ENABLED, 'bool'],
  ['distributedArpTable', BATADV_ATTR.DISTRIBUTED_ARP_TABLE_ENABLED, 'bool'],
  ['fragmentation', BATADV_ATTR.FRAGMENTATION_ENABLED, 'bool'],
  ['gwBandwidthDown', BATADV_ATTR.GW_BANDWIDTH_DOWN, 'u32'],
  ['gwBandwidthUp', BATADV_ATTR.GW_BANDWIDTH_UP, 'u32'],
  ['gwMode', BATADV_ATTR.GW_MODE, 'gw-mode'],
  ['gwSelClass', BATADV_ATTR.GW_SEL_CLASS, 'u32'],
  ['hopPenalty', BATADV_ATTR.HOP_PENALTY, 'u8'],
  ['logLevel', BATADV_ATTR.LOG_LEVEL, 'u32'],
  ['multicastForceflood', BATADV_ATTR.MULTICAST_FORCEFLOOD_ENABLED, 'bool'],
  ['networkCoding', BATADV_ATTR.NETWORK_CODING_ENABLED, 'bool'],
  ['origInterval', BATADV_ATTR.ORIG_INTERVAL, 'u32'],
  ['multicastFanout', BATADV_ATTR.MULTICAST_FANOUT, 'u32'],
];

export interface MeshInfo {
  readonly version: string;
  readonly algorithm: string;
  readonly meshIfindex: number;
  readonly meshIfname: string;
  readonly meshAddress: string;
  /** The primary hard interface, when one is active. */
  readonly hardIfindex: number | null;
  readonly hardIfname: string | null;
  readonly hardAddress: string | null;
  readonly settings: MeshSettings;
}

/** One row of the originator table: the best (or an alternative) next hop towards an originator. */
export interface Originator {
  readonly originator: string;
  readonly neighbour: string;
  readonly hardIfindex: number;
  readonly lastSeenMs: number;
  /** Link quality 0–255 (B.A.T.M.A.N. IV) or estimated throughput in 100 kbit/s (B.A.T.M.A.N. V). */
  readonly tq: number | null;
  readonly throughput: number | null;
  /** This next hop is the one in use. */
  readonly best: boolean;
}

export interface Neighbour {
  readonly neighbour: string;
  readonly hardIfindex: number;
  readonly lastSeenMs: number;
  readonly throughput: number | null;
}

export interface Gateway {
  readonly originator: string;
  readonly router: string;
  readonly hardIfname: string | null;
  readonly bandwidthDown: number | null;
  readonly bandwidthUp: number | null;
  readonly tq: number | null;
  readonly throughput: number | null;
  readonly best: boolean;
}

export type BatadvTable = 'originators' | 'neighbours' | 'gateways';
const TABLE_CMD: Readonly<Record<BatadvTable, number>> = {
  originators: BATADV_CMD.GET_ORIGINATORS,
  neighbours: BATADV_CMD.GET_NEIGHBORS,
  gateways: BATADV_CMD.GET_GATEWAYS,
};

// ---- requests ------------------------------------------------------------------------------------------------

function meshIfindexAttr(ifindex: number): AttributeInput {
  if (!Number.isInteger(ifindex) || ifindex < 1 || ifindex > 0x7fffffff) throw new CodecError('batadv: mesh ifindex out of range', { what: 'meshIfindex', value: ifindex });
  return { type: BATADV_ATTR.MESH_IFINDEX, value: u32(ifindex) };
}

export function encodeGetMesh(family: number, meshIfindex: number, seq: number): Uint8Array {
  return encodeGeneric({ family, flags: NLM_F_REQUEST, seq, cmd: BATADV_CMD.GET_MESH, version: BATADV_GENL_VERSION, attributes: [meshIfindexAttr(meshIfindex)] });
}

export function settingsAttributes(s: MeshSettings): AttributeInput[] {
  const out: AttributeInput[] = [];
  for (const [key, type, kind] of SETTINGS) {
    const v = s[key];
    if (v === undefined) continue;
    switch (kind) {
      case 'bool':
        if (typeof v !== 'boolean') throw new CodecError(`batadv: ${key} must be a boolean`, { what: key });
        out.push({ type, value: u8(v ? 1 : 0) });
        break;
      case 'u8':
        if (typeof v !== 'number') throw new CodecError(`batadv: ${key} must be a number`, { what: key });
        out.push({ type, value: u8(v) });
        break;
      case 'u32':
        if (typeof v !== 'number') throw new CodecError(`batadv: ${key} must be a number`, { what: key });
        out.push({ type, value: u32(v) });
        break;
      case 'gw-mode': {
        const i = GW_MODES.indexOf(v as GwMode);
        if (i < 0) throw new CodecError('batadv: gwMode must be off, client or server', { what: key, value: String(v) });
        out.push({ type, value: u8(i) });
        break;
      }
    }
  }
  return out;
}

/** SET_MESH with an ACK requested, so the caller learns whether the kernel accepted it. */
export function encodeSetMesh(family: number, meshIfindex: number, settings: MeshSettings, seq: number): Uint8Array {
  return encodeGeneric({
    family, flags: NLM_F_REQUEST | NLM_F_ACK, seq, cmd: BATADV_CMD.SET_MESH, version: BATADV_GENL_VERSION,
    attributes: [meshIfindexAttr(meshIfindex), ...settingsAttributes(settings)],
  });
}

export function encodeDumpTable(family: number, table: BatadvTable, meshIfindex: number, seq: number): Uint8Array {
  return encodeGeneric({ family, flags: NLM_F_REQUEST | NLM_F_DUMP, seq, cmd: TABLE_CMD[table], version: BATADV_GENL_VERSION, attributes: [meshIfindexAttr(meshIfindex)] });
}

/** What a request was: its command and mesh interface (the decoder of the request encoders). */
export function decodeRequest(m: NetlinkMessage): { readonly cmd: number; readonly meshIfindex: number; readonly dump: boolean; readonly settings: MeshSettings } {
  const g = decodeGeneric(m);
  const idx = findAttribute(g.attributes, BATADV_ATTR.MESH_IFINDEX);
  if (idx === undefined) throw new CodecError('batadv: request without a mesh ifindex', { what: 'MESH_IFINDEX' });
  return { cmd: g.cmd, meshIfindex: readU32('MESH_IFINDEX', idx), dump: (m.flags & NLM_F_DUMP) === NLM_F_DUMP, settings: decodeSettings(g.attributes) };
}

// ---- replies -------------------------------------------------------------------------------------------------

function optional<T>(attrs: readonly Attribute[], type: number, read: (a: Attribute) => T): T | null {
  const a = findAttribute(attrs, type);
  return a === undefined ? null : read(a);
}

function required<T>(attrs: readonly Attribute[], type: number, what: string, read: (a: Attribute) => T): T {
  const a = findAttribute(attrs, type);
  if (a === undefined) throw new CodecError(`batadv: reply without ${what}`, { what });
  return read(a);
}

const mac = (what: string) => (a: Attribute) => {
  if (a.value.byteLength !== 6) throw new CodecError(`batadv: ${what} must be 6 bytes`, { what, bytes: a.value.byteLength });
  return formatMac(a.value);
};
const str = (what: string) => (a: Attribute) => readString(what, a);
const num32 = (what: string) => (a: Attribute) => readU32(what, a);
const num8 = (what: string) => (a: Attribute) => readU8(what, a);
/** NLA_FLAG: present means true; it carries no payload. */
const flag = (attrs: readonly Attribute[], type: number) => findAttribute(attrs, type) !== undefined;

export function decodeSettings(attrs: readonly Attribute[]): MeshSettings {
  const out: Record<string, boolean | number | string> = {};
  for (const [key, type, kind] of SETTINGS) {
    const a = findAttribute(attrs, type);
    if (a === undefined) continue;
    if (kind === 'bool') out[key] = readU8(key, a) !== 0;
    else if (kind === 'u8') out[key] = readU8(key, a);
    else if (kind === 'u32') out[key] = readU32(key, a);
    else {
      const m = GW_MODES[readU8(key, a)];
      if (m === undefined) throw new CodecError('batadv: unknown gateway mode', { what: key, value: a.value[0] });
      out[key] = m;
    }
  }
  return out as MeshSettings;
}

function expectCmd(g: GenericMessage, cmd: number): void {
  if (g.cmd !== cmd) throw new CodecError('batadv: reply to a different command', { what: 'cmd', expected: cmd, value: g.cmd });
}

export function decodeMeshInfo(m: NetlinkMessage): MeshInfo {
  const g = decodeGeneric(m);
  // The kernel answers GET_MESH with GET_MESH and notifies setting changes with SET_MESH; both carry the same body.
  if (g.cmd !== BATADV_CMD.GET_MESH && g.cmd !== BATADV_CMD.SET_MESH) expectCmd(g, BATADV_CMD.GET_MESH);
  const a = g.attributes;
  return {
    version: required(a, BATADV_ATTR.VERSION, 'VERSION', str('VERSION')),
    algorithm: required(a, BATADV_ATTR.ALGO_NAME, 'ALGO_NAME', str('ALGO_NAME')),
    meshIfindex: required(a, BATADV_ATTR.MESH_IFINDEX, 'MESH_IFINDEX', num32('MESH_IFINDEX')),
    meshIfname: required(a, BATADV_ATTR.MESH_IFNAME, 'MESH_IFNAME', str('MESH_IFNAME')),
    meshAddress: required(a, BATADV_ATTR.MESH_ADDRESS, 'MESH_ADDRESS', mac('MESH_ADDRESS')),
    hardIfindex: optional(a, BATADV_ATTR.HARD_IFINDEX, num32('HARD_IFINDEX')),
    hardIfname: optional(a, BATADV_ATTR.HARD_IFNAME, str('HARD_IFNAME')),
    hardAddress: optional(a, BATADV_ATTR.HARD_ADDRESS, mac('HARD_ADDRESS')),
    settings: decodeSettings(a),
  };
}

export function decodeOriginator(m: NetlinkMessage): Originator {
  const g = decodeGeneric(m);
  expectCmd(g, BATADV_CMD.GET_ORIGINATORS);
  const a = g.attributes;
  return {
    originator: required(a, BATADV_ATTR.ORIG_ADDRESS, 'ORIG_ADDRESS', mac('ORIG_ADDRESS')),
    neighbour: required(a, BATADV_ATTR.NEIGH_ADDRESS, 'NEIGH_ADDRESS', mac('NEIGH_ADDRESS')),
    hardIfindex: required(a, BATADV_ATTR.HARD_IFINDEX, 'HARD_IFINDEX', num32('HARD_IFINDEX')),
    lastSeenMs: required(a, BATADV_ATTR.LAST_SEEN_MSECS, 'LAST_SEEN_MSECS', num32('LAST_SEEN_MSECS')),
    tq: optional(a, BATADV_ATTR.TQ, num8('TQ')),
    throughput: optional(a, BATADV_ATTR.THROUGHPUT, num32('THROUGHPUT')),
    best: flag(a, BATADV_ATTR.FLAG_BEST),
  };
}

export function decodeNeighbour(m: NetlinkMessage): Neighbour {
  const g = decodeGeneric(m);
  expectCmd(g, BATADV_CMD.GET_NEIGHBORS);
  const a = g.attributes;
  return {
    neighbour: required(a, BATADV_ATTR.NEIGH_ADDRESS, 'NEIGH_ADDRESS', mac('NEIGH_ADDRESS')),
    hardIfindex: required(a, BATADV_ATTR.HARD_IFINDEX, 'HARD_IFINDEX', num32('HARD_IFINDEX')),
    lastSeenMs: required(a, BATADV_ATTR.LAST_SEEN_MSECS, 'LAST_SEEN_MSECS', num32('LAST_SEEN_MSECS')),
    throughput: optional(a, BATADV_ATTR.THROUGHPUT, num32('THROUGHPUT')),
  };
}

export function decodeGateway(m: NetlinkMessage): Gateway {
  const g = decodeGeneric(m);
  expectCmd(g, BATADV_CMD.GET_GATEWAYS);
  const a = g.attributes;
  return {
    originator: required(a, BATADV_ATTR.ORIG_ADDRESS, 'ORIG_ADDRESS', mac('ORIG_ADDRESS')),
    router: required(a, BATADV_ATTR.ROUTER, 'ROUTER', mac('ROUTER')),
    hardIfname: optional(a, BATADV_ATTR.HARD_IFNAME, str('HARD_IFNAME')),
    bandwidthDown: optional(a, BATADV_ATTR.BANDWIDTH_DOWN, num32('BANDWIDTH_DOWN')),
    bandwidthUp: optional(a, BATADV_ATTR.BANDWIDTH_UP, num32('BANDWIDTH_UP')),
    tq: optional(a, BATADV_ATTR.TQ, num8('TQ')),
    throughput: optional(a, BATADV_ATTR.THROUGHPUT, num32('THROUGHPUT')),
    best: flag(a, BATADV_ATTR.FLAG_BEST),
  };
}

// ---- reply encoders (what the kernel sends; used by tests as the kernel's stand-in) ---------------------------

/** Header fields of a reply: the family id, and the request's seq and port id it answers. */
export interface ReplyEnvelope {
  readonly family: number;
  readonly seq: number;
  readonly pid: number;
}

const macAttr = (type: number, text: string): AttributeInput => ({ type, value: parseMac(text) });
const strAttr = (type: number, text: string): AttributeInput => ({ type, value: cString(text) });
const flagAttr = (type: number, on: boolean): AttributeInput[] => (on ? [{ type, value: new Uint8Array(0) }] : []);
function opt<T>(v: T | null, f: (v: T) => AttributeInput): AttributeInput[] {
  return v === null ? [] : [f(v)];
}

export function encodeMeshInfo(info: MeshInfo, env: ReplyEnvelope): Uint8Array {
  return encodeGeneric({
    family: env.family, flags: 0, seq: env.seq, pid: env.pid, cmd: BATADV_CMD.GET_MESH, version: BATADV_GENL_VERSION,
    attributes: [
      strAttr(BATADV_ATTR.VERSION, info.version),
      strAttr(BATADV_ATTR.ALGO_NAME, info.algorithm),
      { type: BATADV_ATTR.MESH_IFINDEX, value: u32(info.meshIfindex) },
      strAttr(BATADV_ATTR.MESH_IFNAME, info.meshIfname),
      macAttr(BATADV_ATTR.MESH_ADDRESS, info.meshAddress),
      ...opt(info.hardIfindex, (v) => ({ type: BATADV_ATTR.HARD_IFINDEX, value: u32(v) })),
      ...opt(info.hardIfname, (v) => strAttr(BATADV_ATTR.HARD_IFNAME, v)),
      ...opt(info.hardAddress, (v) => macAttr(BATADV_ATTR.HARD_ADDRESS, v)),
      ...settingsAttributes(info.settings),
    ],
  });
}

export function encodeOriginator(o: Originator, env: ReplyEnvelope): Uint8Array {
  return encodeGeneric({
    family: env.family, flags: NLM_F_MULTI, seq: env.seq, pid: env.pid, cmd: BATADV_CMD.GET_ORIGINATORS, version: BATADV_GENL_VERSION,
    attributes: [
      macAttr(BATADV_ATTR.ORIG_ADDRESS, o.originator),
      macAttr(BATADV_ATTR.NEIGH_ADDRESS, o.neighbour),
      { type: BATADV_ATTR.HARD_IFINDEX, value: u32(o.hardIfindex) },
      { type: BATADV_ATTR.LAST_SEEN_MSECS, value: u32(o.lastSeenMs) },
      ...opt(o.tq, (v) => ({ type: BATADV_ATTR.TQ, value: u8(v) })),
      ...opt(o.throughput, (v) => ({ type: BATADV_ATTR.THROUGHPUT, value: u32(v) })),
      ...flagAttr(BATADV_ATTR.FLAG_BEST, o.best),
    ],
  });
}

export function encodeNeighbour(n: Neighbour, env: ReplyEnvelope): Uint8Array {
  return encodeGeneric({
    family: env.family, flags: NLM_F_MULTI, seq: env.seq, pid: env.pid, cmd: BATADV_CMD.GET_NEIGHBORS, version: BATADV_GENL_VERSION,
    attributes: [
      macAttr(BATADV_ATTR.NEIGH_ADDRESS, n.neighbour),
      { type: BATADV_ATTR.HARD_IFINDEX, value: u32(n.hardIfindex) },
      { type: BATADV_ATTR.LAST_SEEN_MSECS, value: u32(n.lastSeenMs) },
      ...opt(n.throughput, (v) => ({ type: BATADV_ATTR.THROUGHPUT, value: u32(v) })),
    ],
  });
}

export function encodeGateway(gw: Gateway, env: ReplyEnvelope): Uint8Array {
  return encodeGeneric({
    family: env.family, flags: NLM_F_MULTI, seq: env.seq, pid: env.pid, cmd: BATADV_CMD.GET_GATEWAYS, version: BATADV_GENL_VERSION,
    attributes: [
      macAttr(BATADV_ATTR.ORIG_ADDRESS, gw.originator),
      macAttr(BATADV_ATTR.ROUTER, gw.router),
      ...opt(gw.hardIfname, (v) => strAttr(BATADV_ATTR.HARD_IFNAME, v)),
      ...opt(gw.bandwidthDown, (v) => ({ type: BATADV_ATTR.BANDWIDTH_DOWN, value: u32(v) })),
      ...opt(gw.bandwidthUp, (v) => ({ type: BATADV_ATTR.BANDWIDTH_UP, value: u32(v) })),
      ...opt(gw.tq, (v) => ({ type: BATADV_ATTR.TQ, value: u8(v) })),
      ...opt(gw.throughput, (v) => ({ type: BATADV_ATTR.THROUGHPUT, value: u32(v) })),
      ...flagAttr(BATADV_ATTR.FLAG_BEST, gw.best),
    ],
  });
}
