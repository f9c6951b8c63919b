// The seven secure-aggregation messages and their one binary encoding. Every frame starts with the magic "X0SA",
// a version byte (1) and a kind byte; integers are little-endian; variable-length fields carry their length first;
// the decoder checks every length against what is left before reading or allocating, requires the frame to end
// exactly where the message does, and throws CodecError (X0T_CODEC) for anything else. Semantic checks (known ids,
// thresholds, signatures) belong to the state machines, not here.
import { CodecError } from '../../errors/index.js';
import { wordsLE } from './prg.js';

export const SECAGG_MAGIC = Uint8Array.of(0x58, 0x30, 0x53, 0x41); // "X0SA"
export const SECAGG_WIRE_VERSION = 1;
const X25519_BYTES = 32;
/** Shamir shares of a 32-byte seed or secret key. */
export const SECAGG_SHARE_BYTES = 32;

/** Round 0, client → server: the client's two public keys, signed when the round uses signatures. */
export interface AdvertiseKeys {
  readonly kind: 'advertise-keys';
  readonly roundId: Uint8Array;
  readonly from: number;
  /** c_pk: X25519 key for encrypting shares. */
  readonly encryptionKey: Uint8Array;
  /** s_pk: X25519 key for pairwise masks. */
  readonly maskingKey: Uint8Array;
  /** Empty when the round is unsigned. */
  readonly signature: Uint8Array;
}

/** Round 1 broadcast, server → every client in U1: all advertised keys, ascending by id. */
export interface KeyRoster {
  readonly kind: 'key-roster';
  readonly roundId: Uint8Array;
  readonly entries: readonly Omit<AdvertiseKeys, 'kind' | 'roundId'>[];
}

/** Round 1, client → server: one sealed pair of shares (of b and of s_sk) for every other client of U1. */
export interface ShareKeys {
  readonly kind: 'share-keys';
  readonly roundId: Uint8Array;
  readonly from: number;
  readonly ciphertexts: readonly { readonly to: number; readonly sealed: Uint8Array }[];
}

/** Round 2 broadcast, server → each client of U2: the ciphertexts addressed to it; their senders plus it are U2. */
export interface ShareDelivery {
  readonly kind: 'share-delivery';
  readonly roundId: Uint8Array;
  readonly to: number;
  readonly ciphertexts: readonly { readonly from: number; readonly sealed: Uint8Array }[];
}

/** Round 2, client → server: y = x + PRG(b) + Σ ±PRG(s_uv) in Z_2^32. */
export interface MaskedInput {
  readonly kind: 'masked-input';
  readonly roundId: Uint8Array;
  readonly from: number;
  readonly masked: Uint32Array;
}

/** Round 3 broadcast, server → each client of U3: who sent a masked input (U3, ascending). */
export interface UnmaskRequest {
  readonly kind: 'unmask-request';
  readonly roundId: Uint8Array;
  readonly survivors: readonly number[];
}

export type ShareKind = 'self-mask' | 'masking-key';

/** Round 3, client → server: shares of b for survivors and of s_sk for the dropped, never both for one peer. */
export interface UnmaskShares {
  readonly kind: 'unmask-shares';
  readonly roundId: Uint8Array;
  readonly from: number;
  readonly shares: readonly { readonly of: number; readonly type: ShareKind; readonly share: Uint8Array }[];
}

export type SecAggMessage = AdvertiseKeys | KeyRoster | ShareKeys | ShareDelivery | MaskedInput | UnmaskRequest | UnmaskShares;

const KIND_CODE = {
  'advertise-keys': 1, 'key-roster': 2, 'share-keys': 3, 'share-delivery': 4, 'masked-input': 5, 'unmask-request': 6, 'unmask-shares': 7,
} as const satisfies Record<SecAggMessage['kind'], number>;

class Writer {
  private buf = new Uint8Array(256);
  private dv = new DataView(this.buf.buffer);
  private n = 0;
  private room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    next.set(this.buf.subarray(0, this.n));
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  u8(v: number): void { this.room(1); this.dv.setUint8(this.n, v); this.n += 1; }
  u16(v: number): void { this.room(2); this.dv.setUint16(this.n, v, true); this.n += 2; }
  u32(v: number): void { this.room(4); this.dv.setUint32(this.n, v, true); this.n += 4; }
  bytes(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.n); this.n += b.length; }
  fixed(b: Uint8Array, len: number, what: string): void {
    if (b.length !== len) throw new CodecError(`secagg: ${what} must be ${len} bytes`, { what });
    this.bytes(b);
  }
  /** u8 length then bytes. */
  short(b: Uint8Array, what: string): void {
    if (b.length > 0xff) throw new CodecError(`secagg: ${what} longer than 255 bytes`, { what });
    this.u8(b.length); this.bytes(b);
  }
  /** u16 length then bytes. */
  medium(b: Uint8Array, what: string): void {
    if (b.length > 0xffff) throw new CodecError(`secagg: ${what} longer than 65535 bytes`, { what });
    this.u16(b.length); this.bytes(b);
  }
  count(n: number, what: string): void {
    if (n > 0xffff) throw new CodecError(`secagg: too many ${what}`, { what });
    this.u16(n);
  }
  done(): Uint8Array { return this.buf.slice(0, this.n); }
}

class Reader {
  private readonly dv: DataView;
  private n = 0;
  constructor(private readonly buf: Uint8Array) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  private need(k: number, what: string): void {
    if (this.n + k > this.buf.length) throw new CodecError(`secagg: frame ends inside ${what}`, { what, offset: this.n });
  }
  u8(what: string): number { this.need(1, what); const v = this.dv.getUint8(this.n); this.n += 1; return v; }
  u16(what: string): number { this.need(2, what); const v = this.dv.getUint16(this.n, true); this.n += 2; return v; }
  u32(what: string): number { this.need(4, what); const v = this.dv.getUint32(this.n, true); this.n += 4; return v; }
  bytes(k: number, what: string): Uint8Array { this.need(k, what); const v = this.buf.slice(this.n, this.n + k); this.n += k; return v; }
  short(what: string): Uint8Array { return this.bytes(this.u8(what), what); }
  medium(what: string): Uint8Array { return this.bytes(this.u16(what), what); }
  /** A count of items of at least `minItemBytes` each, refused at once if they cannot fit in what is left. */
  count(minItemBytes: number, what: string): number {
    const c = this.u16(what);
    if (c * minItemBytes > this.buf.length - this.n) throw new CodecError(`secagg: ${c} ${what} cannot fit in the frame`, { what });
    return c;
  }
  end(): void {
    if (this.n !== this.buf.length) throw new CodecError(`secagg: ${this.buf.length - this.n} trailing bytes`, { offset: this.n });
  }
  remaining(): number { return this.buf.length - this.n; }
}

/** The binary frame of any secure-aggregation message. */
export function encodeSecAggMessage(m: SecAggMessage): Uint8Array {
  const w = new Writer();
  w.bytes(SECAGG_MAGIC);
  w.u8(SECAGG_WIRE_VERSION);
  w.u8(KIND_CODE[m.kind]);
  w.short(m.roundId, 'roundId');
  switch (m.kind) {
    case 'advertise-keys':
      w.u32(m.from);
      w.fixed(m.encryptionKey, X25519_BYTES, 'encryptionKey');
      w.fixed(m.maskingKey, X25519_BYTES, 'maskingKey');
      w.medium(m.signature, 'signature');
      break;
    case 'key-roster':
      w.count(m.entries.length, 'roster entries');
      for (const e of m.entries) {
        w.u32(e.from);
        w.fixed(e.encryptionKey, X25519_BYTES, 'encryptionKey');
        w.fixed(e.maskingKey, X25519_BYTES, 'maskingKey');
        w.medium(e.signature, 'signature');
      }
      break;
    case 'share-keys':
      w.u32(m.from);
      w.count(m.ciphertexts.length, 'ciphertexts');
      for (const c of m.ciphertexts) { w.u32(c.to); w.medium(c.sealed, 'ciphertext'); }
      break;
    case 'share-delivery':
      w.u32(m.to);
      w.count(m.ciphertexts.length, 'ciphertexts');
      for (const c of m.ciphertexts) { w.u32(c.from); w.medium(c.sealed, 'ciphertext'); }
      break;
    case 'masked-input': {
      w.u32(m.from);
      w.u32(m.masked.length);
      const le = new Uint8Array(m.masked.length * 4);
      const dv = new DataView(le.buffer);
      for (let i = 0; i < m.masked.length; i++) dv.setUint32(i * 4, m.masked[i]!, true);
      w.bytes(le);
      break;
    }
    case 'unmask-request':
      w.count(m.survivors.length, 'survivors');
      for (const id of m.survivors) w.u32(id);
      break;
    case 'unmask-shares':
      w.u32(m.from);
      w.count(m.shares.length, 'shares');
      for (const s of m.shares) {
        w.u32(s.of);
        w.u8(s.type === 'self-mask' ? 0 : 1);
        w.fixed(s.share, SECAGG_SHARE_BYTES, 'share');
      }
      break;
  }
  return w.done();
}

/** Decodes one frame; throws CodecError for anything that is not exactly one well-formed message. */
export function decodeSecAggMessage(bytes: Uint8Array): SecAggMessage {
  if (!(bytes instanceof Uint8Array)) throw new CodecError('secagg: frame must be bytes', {});
  const r = new Reader(bytes);
  const magic = r.bytes(4, 'magic');
  if (!magic.every((b, i) => b === SECAGG_MAGIC[i])) throw new CodecError('secagg: bad magic', {});
  const version = r.u8('version');
  if (version !== SECAGG_WIRE_VERSION) throw new CodecError(`secagg: unknown wire version ${version}`, { version });
  const kind = r.u8('kind');
  const roundId = r.short('roundId');
  if (roundId.length === 0) throw new CodecError('secagg: empty roundId', {});
  let m: SecAggMessage;
  switch (kind) {
    case 1: {
      const from = r.u32('from');
      m = { kind: 'advertise-keys', roundId, from, encryptionKey: r.bytes(X25519_BYTES, 'encryptionKey'), maskingKey: r.bytes(X25519_BYTES, 'maskingKey'), signature: r.medium('signature') };
      break;
    }
    case 2: {
      const n = r.count(4 + 2 * X25519_BYTES + 2, 'roster entries');
      const entries = [];
      for (let i = 0; i < n; i++) {
        const from = r.u32('from');
        entries.push({ from, encryptionKey: r.bytes(X25519_BYTES, 'encryptionKey'), maskingKey: r.bytes(X25519_BYTES, 'maskingKey'), signature: r.medium('signature') });
      }
      m = { kind: 'key-roster', roundId, entries };
      break;
    }
    case 3: case 4: {
      const party = r.u32(kind === 3 ? 'from' : 'to');
      const n = r.count(4 + 2, 'ciphertexts');
      const list: { id: number; sealed: Uint8Array }[] = [];
      for (let i = 0; i < n; i++) list.push({ id: r.u32('peer'), sealed: r.medium('ciphertext') });
      m = kind === 3
        ? { kind: 'share-keys', roundId, from: party, ciphertexts: list.map((c) => ({ to: c.id, sealed: c.sealed })) }
        : { kind: 'share-delivery', roundId, to: party, ciphertexts: list.map((c) => ({ from: c.id, sealed: c.sealed })) };
      break;
    }
    case 5: {
      const from = r.u32('from');
      const dim = r.u32('dim');
      if (dim * 4 !== r.remaining()) throw new CodecError(`secagg: masked vector of ${dim} words does not fill the frame`, { dim });
      m = { kind: 'masked-input', roundId, from, masked: wordsLE(r.bytes(dim * 4, 'masked'), dim) };
      break;
    }
    case 6: {
      const n = r.count(4, 'survivors');
      const survivors: number[] = [];
      for (let i = 0; i < n; i++) survivors.push(r.u32('survivor'));
      m = { kind: 'unmask-request', roundId, survivors };
      break;
    }
    case 7: {
      const from = r.u32('from');
      const n = r.count(4 + 1 + SECAGG_SHARE_BYTES, 'shares');
      const shares: { of: number; type: ShareKind; share: Uint8Array }[] = [];
      for (let i = 0; i < n; i++) {
        const of = r.u32('of');
        const t = r.u8('share type');
        if (t > 1) throw new CodecError(`secagg: unknown share type ${t}`, { type: t });
        shares.push({ of, type: t === 0 ? 'self-mask' : 'masking-key', share: r.bytes(SECAGG_SHARE_BYTES, 'share') });
      }
      m = { kind: 'unmask-shares', roundId, from, shares };
      break;
    }
    default:
      throw new CodecError(`secagg: unknown message kind ${kind}`, { kind });
  }
  r.end();
  return m;
}

/** Narrows a decoded message to the kind a step expects; CodecError for any other kind. */
export function expectSecAggKind<K extends SecAggMessage['kind']>(m: SecAggMessage, kind: K): Extract<SecAggMessage, { kind: K }> {
  if (m.kind !== kind) throw new CodecError(`secagg: expected a ${kind} message, got ${m.kind}`, { expected: kind, actual: m.kind });
  return m as Extract<SecAggMessage, { kind: K }>;
}
