// The plaintext inside a sealed frame (kind 7): what one node says to a neighbour once their session is up.
//
//   inner type u8 | body
//   1 routing    a routing message, opaque here (host/core/routing/routing-codec.ts encodes and decodes it)
//   2 forward    src(16) | dst(16) | ttl u8 | flow u32 LE | payload — mesh data, forwarded hop by hop
//   3 keepalive  (empty body)
//
// The sealed frame around it is versioned (outer frame version), so the inner types carry no version of their own:
// a new layout is a new inner type. The decoder is total: anything that is not one of these is a CodecError with
// details {kind: 'inner', reason}, never another exception and never a read past the end.
import { CodecError } from '../../errors/index.js';
import { addressBytes, ADDRESS_BYTES, addressText } from './mesh-address.js';

export const INNER_ROUTING = 1;
export const INNER_FORWARD = 2;
export const INNER_KEEPALIVE = 3;
/** Bytes before a forward frame's payload: type, src, dst, ttl, flow. */
export const FORWARD_HEADER_BYTES = 1 + ADDRESS_BYTES * 2 + 1 + 4;

/** Mesh data travelling from `src` to `dst` (fingerprints, 32 lower-case hex). */
export interface ForwardMessage {
  readonly src: string;
  readonly dst: string;
  /** Hops left; a node that would send it on with ttl 0 drops it instead. */
  readonly ttl: number;
  /** A flow label (u32): which conversation the payload belongs to, e.g. a ping's id. */
  readonly flow: number;
  readonly payload: Uint8Array;
}

export type InnerMessage =
  | { readonly type: 'routing'; readonly bytes: Uint8Array }
  | { readonly type: 'forward'; readonly forward: ForwardMessage }
  | { readonly type: 'keepalive' };

function invalid(reason: string, message: string, extra: Record<string, unknown> = {}): CodecError {
  return new CodecError(`inner message: ${message}`, { kind: 'inner', reason, ...extra });
}

export function encodeInner(m: InnerMessage): Uint8Array {
  switch (m.type) {
    case 'routing': {
      const out = new Uint8Array(1 + m.bytes.length);
      out[0] = INNER_ROUTING;
      out.set(m.bytes, 1);
      return out;
    }
    case 'keepalive':
      return Uint8Array.of(INNER_KEEPALIVE);
    case 'forward': {
      const f = m.forward;
      if (!Number.isInteger(f.ttl) || f.ttl < 0 || f.ttl > 255) throw invalid('ttl', `ttl must be 0-255, got ${f.ttl}`);
      if (!Number.isInteger(f.flow) || f.flow < 0 || f.flow > 0xffff_ffff) throw invalid('flow', `flow must be a u32, got ${f.flow}`);
      const out = new Uint8Array(FORWARD_HEADER_BYTES + f.payload.length);
      const view = new DataView(out.buffer);
      out[0] = INNER_FORWARD;
      out.set(addressBytes(f.src), 1);
      out.set(addressBytes(f.dst), 1 + ADDRESS_BYTES);
      out[1 + ADDRESS_BYTES * 2] = f.ttl;
      view.setUint32(2 + ADDRESS_BYTES * 2, f.flow, true);
      out.set(f.payload, FORWARD_HEADER_BYTES);
      return out;
    }
  }
}

/** Decodes a sealed frame's plaintext. Bodies are copies (the caller may reuse its buffer). */
export function decodeInner(b: Uint8Array): InnerMessage {
  if (!(b instanceof Uint8Array)) throw invalid('type', 'input is not bytes');
  if (b.length === 0) throw invalid('length', 'empty plaintext');
  const type = b[0]!;
  switch (type) {
    case INNER_ROUTING:
      if (b.length === 1) throw invalid('length', 'routing message without a body');
      return { type: 'routing', bytes: b.slice(1) };
    case INNER_KEEPALIVE:
      if (b.length !== 1) throw invalid('length', `keepalive carries no body, got ${b.length - 1} bytes`);
      return { type: 'keepalive' };
    case INNER_FORWARD: {
      if (b.length < FORWARD_HEADER_BYTES) {
        throw invalid('length', `forward header needs ${FORWARD_HEADER_BYTES} bytes, got ${b.length}`);
      }
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      return {
        type: 'forward',
        forward: {
          src: addressText(b.subarray(1, 1 + ADDRESS_BYTES)),
          dst: addressText(b.subarray(1 + ADDRESS_BYTES, 1 + ADDRESS_BYTES * 2)),
          ttl: b[1 + ADDRESS_BYTES * 2]!,
          flow: view.getUint32(2 + ADDRESS_BYTES * 2, true),
          payload: b.slice(FORWARD_HEADER_BYTES),
        },
      };
    }
    default:
      throw invalid('kind', `unknown inner type ${type}`, { type });
  }
}
