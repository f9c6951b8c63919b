// The outer frame: the whole UDP payload of every mesh datagram.
//   magic 0x58 'X' | version u8 = 1 | kind u8 | flags u8 (0 in version 1) | body
// Kinds: 1 beacon, 2 fragment, 3 identity-request, 4 identity, 5 handshake-init, 6 handshake-resp, 7 sealed.
// Bodies of kinds 3–6 are opaque here (the session layer's codecs); a sealed body is receiver u32 | counter u64 |
// ciphertext+tag. Fragments are a transport matter: `decodeFrame` refuses them, `decodeDatagram` returns them.
// Decoders are total: anything malformed is CodecError{kind, reason}, nothing else escapes.
import { CodecError } from '../../errors/index.js';
import { readBeacon, writeBeacon, type Beacon } from './beacon.js';
import { ByteReader } from './byte-reader.js';
import { ByteWriter } from './byte-writer.js';
import { readFragment, writeFragment, type Fragment } from './fragment.js';

export const WIRE_MAGIC = 0x58;
export const WIRE_VERSION = 1;
/** magic, version, kind, flags. */
export const FRAME_HEADER_BYTES = 4;

export type OpaqueFrameKind = 'identity-request' | 'identity' | 'handshake-init' | 'handshake-resp';

export type Frame =
  | { kind: 'beacon'; beacon: Beacon }
  | { kind: OpaqueFrameKind; body: Uint8Array }
  | { kind: 'sealed'; receiver: number; counter: bigint; ciphertext: Uint8Array };

export type FragmentFrame = { kind: 'fragment'; fragment: Fragment };

/** What one UDP payload decodes to: a frame, or a fragment of one. */
export type Datagram = Frame | FragmentFrame;

export type FrameKind = Datagram['kind'];

export const FRAME_KIND_CODES: Readonly<Record<FrameKind, number>> = {
  beacon: 1,
  fragment: 2,
  'identity-request': 3,
  identity: 4,
  'handshake-init': 5,
  'handshake-resp': 6,
  sealed: 7,
};

const KIND_BY_CODE = new Map<number, FrameKind>(Object.entries(FRAME_KIND_CODES).map(([k, c]) => [c, k as FrameKind]));

/** Sealed frame: bytes before the ciphertext (header + receiver + counter). */
export const SEALED_OVERHEAD_BYTES = FRAME_HEADER_BYTES + 4 + 8;

export function encodeDatagram(d: Datagram): Uint8Array {
  const code = FRAME_KIND_CODES[d.kind];
  if (code === undefined) throw new CodecError(`frame: unknown kind ${String(d.kind)}`, { kind: 'frame', reason: 'kind' });
  // Exact sizes where they are known, so the hot paths (sealed, fragments) allocate once and copy once.
  const sizeHint = FRAME_HEADER_BYTES + ('body' in d ? d.body.byteLength : d.kind === 'sealed' ? 12 + d.ciphertext.byteLength : d.kind === 'fragment' ? 8 + d.fragment.chunk.byteLength : 128);
  const w = new ByteWriter(d.kind, sizeHint);
  w.u8(WIRE_MAGIC).u8(WIRE_VERSION).u8(code).u8(0);
  switch (d.kind) {
    case 'beacon':
      writeBeacon(w, d.beacon);
      break;
    case 'fragment':
      writeFragment(w, d.fragment);
      break;
    case 'sealed':
      w.u32(d.receiver, 'receiver').u64(d.counter, 'counter').bytes(d.ciphertext);
      break;
    default:
      w.bytes(d.body);
  }
  return w.finish();
}

export function decodeDatagram(bytes: Uint8Array): Datagram {
  const h = new ByteReader(bytes, 'frame');
  const magic = h.u8('magic');
  if (magic !== WIRE_MAGIC) throw h.fail('magic', `bad magic 0x${magic.toString(16)}`);
  const version = h.u8('version');
  if (version !== WIRE_VERSION) throw h.fail('version', `unsupported wire version ${version}`, { version });
  const code = h.u8('kind');
  const kind = KIND_BY_CODE.get(code);
  if (kind === undefined) throw h.fail('kind', `unknown frame kind ${code}`, { code });
  const flags = h.u8('flags');
  if (flags !== 0) throw h.fail('flags', `reserved flags 0x${flags.toString(16)} set`);
  const r = new ByteReader(bytes.subarray(FRAME_HEADER_BYTES), kind);
  let d: Datagram;
  switch (kind) {
    case 'beacon':
      d = { kind, beacon: readBeacon(r) };
      break;
    case 'fragment':
      d = { kind, fragment: readFragment(r) };
      break;
    case 'sealed':
      d = { kind, receiver: r.u32('receiver'), counter: r.u64('counter'), ciphertext: r.rest() };
      break;
    default:
      d = { kind, body: r.rest() };
  }
  r.end();
  return d;
}

export function encodeFrame(f: Frame): Uint8Array {
  return encodeDatagram(f);
}

/** A complete frame; a fragment here (e.g. a reassembled fragment of fragments) is CodecError reason 'kind'. */
export function decodeFrame(bytes: Uint8Array): Frame {
  const d = decodeDatagram(bytes);
  if (d.kind === 'fragment') throw new CodecError('frame: a fragment where a whole frame was expected', { kind: 'frame', reason: 'kind' });
  return d;
}
