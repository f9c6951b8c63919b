// A bounds-checked cursor over received bytes. Every read that would run past the end throws
// CodecError{kind, reason: 'truncated'}, so decoders built on it are total: no RangeError, no out-of-bounds read.
import { CodecError } from '../../errors/index.js';

export class ByteReader {
  private offset = 0;
  private readonly bytes: Uint8Array;
  private readonly view: DataView;

  /** `kind` names the structure being decoded; it is carried in every CodecError this reader raises. */
  constructor(bytes: Uint8Array, readonly kind: string) {
    // A plain Uint8Array view even when handed a node Buffer: Buffer#slice shares memory, Uint8Array#slice copies,
    // and decoded values must not alias a datagram buffer the caller may reuse.
    this.bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.byteLength - this.offset;
  }

  /** A CodecError for this structure; decoders use it for their own checks too. */
  fail(reason: string, message: string, extra: Record<string, unknown> = {}): CodecError {
    return new CodecError(`${this.kind}: ${message}`, { kind: this.kind, reason, ...extra });
  }

  private need(n: number, what: string): number {
    if (n > this.remaining) throw this.fail('truncated', `${what} needs ${n} bytes, ${this.remaining} left`, { offset: this.offset });
    const at = this.offset;
    this.offset += n;
    return at;
  }

  u8(what = 'u8'): number {
    return this.view.getUint8(this.need(1, what));
  }

  u16(what = 'u16'): number {
    return this.view.getUint16(this.need(2, what), true);
  }

  u32(what = 'u32'): number {
    return this.view.getUint32(this.need(4, what), true);
  }

  u64(what = 'u64'): bigint {
    return this.view.getBigUint64(this.need(8, what), true);
  }

  /** `n` bytes as a copy (the caller may keep it after the datagram buffer is reused). */
  bytesCopy(n: number, what = 'bytes'): Uint8Array {
    const at = this.need(n, what);
    return this.bytes.slice(at, at + n);
  }

  /** Everything left, as a copy. */
  rest(): Uint8Array {
    return this.bytesCopy(this.remaining, 'rest');
  }

  /** UTF-8 text of `n` bytes; malformed UTF-8 is CodecError reason 'utf8'. */
  utf8(n: number, what = 'text'): string {
    const b = this.bytes.subarray(this.need(n, what), this.offset);
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b);
    } catch {
      throw this.fail('utf8', `${what} is not valid UTF-8`);
    }
  }

  /** Decoders call this last: bytes after the structure are an error, not something to ignore silently. */
  end(): void {
    if (this.remaining !== 0) throw this.fail('trailing', `${this.remaining} unexpected trailing bytes`);
  }
}
