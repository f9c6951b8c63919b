// The mesh echo service's messages, carried as the payload of a forward message (inner type 2) whose flow is the
// ping's id: the answer to `POST /mesh/ping`, forwarded hop by hop like any mesh data.
//
//   op u8 (1 request, 2 reply) | seq u32 LE | padding (echoed back as is, so a ping can be sized)
import { CodecError } from '../../errors/index.js';

export const ECHO_REQUEST = 1;
export const ECHO_REPLY = 2;
const HEADER = 5;
/** Largest padding a ping may ask for (keeps one echo inside one fragmented frame of reasonable size). */
export const MAX_ECHO_PADDING = 8192;

export interface EchoMessage {
  readonly op: 'request' | 'reply';
  readonly seq: number;
  readonly padding: Uint8Array;
}

export function encodeEcho(m: EchoMessage): Uint8Array {
  if (!Number.isInteger(m.seq) || m.seq < 0 || m.seq > 0xffff_ffff) {
    throw new CodecError(`echo seq must be a u32, got ${m.seq}`, { kind: 'echo', reason: 'seq' });
  }
  if (m.padding.length > MAX_ECHO_PADDING) {
    throw new CodecError(`echo padding is limited to ${MAX_ECHO_PADDING} bytes`, { kind: 'echo', reason: 'length' });
  }
  const out = new Uint8Array(HEADER + m.padding.length);
  out[0] = m.op === 'request' ? ECHO_REQUEST : ECHO_REPLY;
  new DataView(out.buffer).setUint32(1, m.seq, true);
  out.set(m.padding, HEADER);
  return out;
}

export function decodeEcho(b: Uint8Array): EchoMessage {
  if (!(b instanceof Uint8Array) || b.length < HEADER) {
    throw new CodecError(`echo message needs ${HEADER} bytes`, { kind: 'echo', reason: 'length' });
  }
  if (b.length > HEADER + MAX_ECHO_PADDING) {
    throw new CodecError(`echo padding is limited to ${MAX_ECHO_PADDING} bytes`, { kind: 'echo', reason: 'length' });
  }
  const op = b[0];
  if (op !== ECHO_REQUEST && op !== ECHO_REPLY) throw new CodecError(`unknown echo op ${op}`, { kind: 'echo', reason: 'kind' });
  const seq = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(1, true);
  return { op: op === ECHO_REQUEST ? 'request' : 'reply', seq, padding: b.slice(HEADER) };
}
