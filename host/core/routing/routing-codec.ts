// The routing messages on the wire (the body of a sealed inner type 1). Layout, little-endian:
//   version u8 = 1 | type u8 | body
//   1 ogm          originator(16) seq u32 ttl u8 tq u8 hops u8 gatewayClass u8 prevSender(16)     = 42 bytes
//   2 probe        seq u32 timestamp u32                                                          = 10 bytes
//   3 probe-reply  seq u32 timestamp u32                                                          = 10 bytes
//   4 rreq         requestId u32 originator(16) dest(16) hops u8 ttl u8                           = 40 bytes
//   5 rrep         requestId u32 originator(16) dest(16) hops u8                                  = 39 bytes
//   6 rerr         count u8 (1..255) address(16) × count
// The decoder is total: anything but exactly one well-formed message is a CodecError {kind: 'routing', reason}.
import { CodecError } from '../../errors/index.js';
import { isNodeAddress, type NodeAddress, type RoutingMessage } from './types.js';

export const ROUTING_WIRE_VERSION = 1;
const ADDRESS_BYTES = 16;
const TYPE_CODE = { ogm: 1, probe: 2, 'probe-reply': 3, rreq: 4, rrep: 5, rerr: 6 } as const satisfies Record<RoutingMessage['type'], number>;
const BODY_BYTES: Record<number, number> = { 1: 40, 2: 8, 3: 8, 4: 38, 5: 37 };

function fail(reason: string, message: string): never {
  throw new CodecError(`routing: ${message}`, { kind: 'routing', reason });
}

function putAddress(out: Uint8Array, at: number, a: NodeAddress, what: string): void {
  if (!isNodeAddress(a)) fail('address', `${what} is not a 32-hex-character address`);
  for (let i = 0; i < ADDRESS_BYTES; i++) out[at + i] = parseInt(a.slice(2 * i, 2 * i + 2), 16);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
function getAddress(b: Uint8Array, at: number): NodeAddress {
  let s = '';
  for (let i = 0; i < ADDRESS_BYTES; i++) s += HEX[b[at + i]!]!;
  return s;
}

function checkInt(v: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max) fail('range', `${what} must be an integer from 0 to ${max} (got ${v})`);
  return v;
}

/** Encoded size of a message, without encoding it (the simulator's byte counter). */
export function routingMessageSize(m: RoutingMessage): number {
  return 2 + (m.type === 'rerr' ? 1 + ADDRESS_BYTES * m.unreachable.length : BODY_BYTES[TYPE_CODE[m.type]]!);
}

export function encodeRoutingMessage(m: RoutingMessage): Uint8Array {
  const code = TYPE_CODE[m.type];
  if (code === undefined) fail('type', `unknown message type ${String((m as { type: unknown }).type)}`);
  if (m.type === 'rerr' && (m.unreachable.length === 0 || m.unreachable.length > 255)) fail('count', 'rerr must list 1 to 255 addresses');
  const out = new Uint8Array(routingMessageSize(m));
  const dv = new DataView(out.buffer);
  out[0] = ROUTING_WIRE_VERSION;
  out[1] = code;
  switch (m.type) {
    case 'ogm':
      putAddress(out, 2, m.originator, 'originator');
      dv.setUint32(18, checkInt(m.seq, 0xffffffff, 'seq'), true);
      out[22] = checkInt(m.ttl, 255, 'ttl');
      out[23] = checkInt(m.tq, 255, 'tq');
      out[24] = checkInt(m.hops, 255, 'hops');
      out[25] = checkInt(m.gatewayClass, 255, 'gatewayClass');
      putAddress(out, 26, m.prevSender, 'prevSender');
      break;
    case 'probe': case 'probe-reply':
      dv.setUint32(2, checkInt(m.seq, 0xffffffff, 'seq'), true);
      dv.setUint32(6, checkInt(m.timestamp, 0xffffffff, 'timestamp'), true);
      break;
    case 'rreq': case 'rrep':
      dv.setUint32(2, checkInt(m.requestId, 0xffffffff, 'requestId'), true);
      putAddress(out, 6, m.originator, 'originator');
      putAddress(out, 22, m.dest, 'dest');
      out[38] = checkInt(m.hops, 255, 'hops');
      if (m.type === 'rreq') out[39] = checkInt(m.ttl, 255, 'ttl');
      break;
    case 'rerr':
      out[2] = m.unreachable.length;
      m.unreachable.forEach((a, i) => putAddress(out, 3 + i * ADDRESS_BYTES, a, 'unreachable'));
      break;
  }
  return out;
}

export function decodeRoutingMessage(b: Uint8Array): RoutingMessage {
  if (!(b instanceof Uint8Array)) fail('type', 'message must be bytes');
  if (b.length < 2) fail('length', `message of ${b.length} bytes is shorter than its header`);
  if (b[0] !== ROUTING_WIRE_VERSION) fail('version', `unknown routing wire version ${b[0]}`);
  const code = b[1]!;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (code === 6) {
    if (b.length < 3) fail('length', 'rerr ends before its count');
    const n = b[2]!;
    if (n === 0) fail('count', 'rerr lists no address');
    if (b.length !== 3 + n * ADDRESS_BYTES) fail('length', `rerr of ${n} addresses must be ${3 + n * ADDRESS_BYTES} bytes (got ${b.length})`);
    return { type: 'rerr', unreachable: Array.from({ length: n }, (_, i) => getAddress(b, 3 + i * ADDRESS_BYTES)) };
  }
  const body = BODY_BYTES[code];
  if (body === undefined) fail('type', `unknown routing message type ${code}`);
  if (b.length !== 2 + body) fail('length', `message type ${code} must be ${2 + body} bytes (got ${b.length})`);
  switch (code) {
    case 1:
      return {
        type: 'ogm', originator: getAddress(b, 2), seq: dv.getUint32(18, true), ttl: b[22]!, tq: b[23]!, hops: b[24]!,
        gatewayClass: b[25]!, prevSender: getAddress(b, 26),
      };
    case 2: case 3:
      return { type: code === 2 ? 'probe' : 'probe-reply', seq: dv.getUint32(2, true), timestamp: dv.getUint32(6, true) };
    case 4:
      return { type: 'rreq', requestId: dv.getUint32(2, true), originator: getAddress(b, 6), dest: getAddress(b, 22), hops: b[38]!, ttl: b[39]! };
    default:
      return { type: 'rrep', requestId: dv.getUint32(2, true), originator: getAddress(b, 6), dest: getAddress(b, 22), hops: b[38]! };
  }
}
