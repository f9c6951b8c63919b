// A growable little-endian byte buffer for encoders. Values out of their field's range throw CodecError{kind,
// reason: 'range'}: an encoder never silently truncates a number.
import { CodecError } from '../../errors/index.js';

export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private length = 0;

  constructor(readonly kind: string, initial = 64) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  fail(reason: string, message: string, extra: Record<string, unknown> = {}): CodecError {
    return new CodecError(`${this.kind}: ${message}`, { kind: this.kind, reason, ...extra });
  }

  private reserve(n: number): number {
    if (this.length + n > this.buf.byteLength) {
      const next = new Uint8Array(Math.max(this.buf.byteLength * 2, this.length + n));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const at = this.length;
    this.length += n;
    return at;
  }

  private checkUint(v: number, bits: number, what: string): void {
    if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits) throw this.fail('range', `${what} must be an unsigned ${bits}-bit integer`, { value: v });
  }

  u8(v: number, what = 'u8'): this {
    this.checkUint(v, 8, what);
    const at = this.reserve(1); // before reading this.view: reserve may replace it
    this.view.setUint8(at, v);
    return this;
  }

  u16(v: number, what = 'u16'): this {
    this.checkUint(v, 16, what);
    const at = this.reserve(2); // before reading this.view: reserve may replace it
    this.view.setUint16(at, v, true);
    return this;
  }

  u32(v: number, what = 'u32'): this {
    this.checkUint(v, 32, what);
    const at = this.reserve(4); // before reading this.view: reserve may replace it
    this.view.setUint32(at, v, true);
    return this;
  }

  u64(v: bigint, what = 'u64'): this {
    if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) throw this.fail('range', `${what} must be an unsigned 64-bit integer`, { value: String(v) });
    const at = this.reserve(8); // before reading this.view: reserve may replace it
    this.view.setBigUint64(at, v, true);
    return this;
  }

  bytes(b: Uint8Array): this {
    const at = this.reserve(b.byteLength); // before reading this.buf: reserve may replace it
    this.buf.set(b, at);
    return this;
  }

  /** UTF-8 text prefixed by its byte length as u8; lone surrogates (which do not round-trip) are refused. */
  shortText(s: string, what: string): this {
    if (!s.isWellFormed()) throw this.fail('utf8', `${what} is not well-formed Unicode`);
    const b = new TextEncoder().encode(s);
    if (b.byteLength > 255) throw this.fail('range', `${what} is ${b.byteLength} bytes of UTF-8, at most 255`);
    return this.u8(b.byteLength, what).bytes(b);
  }

  /** The bytes written; without a copy when the initial size was exact. Do not write after finishing. */
  finish(): Uint8Array {
    return this.length === this.buf.byteLength ? this.buf : this.buf.slice(0, this.length);
  }
}
