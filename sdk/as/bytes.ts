// A raw view of a call's input bytes (for functions whose input is `bytes`): no copy is made.

@final
export class Bytes {
  /** Address of the first byte. Valid only during the call. */
  ptr: usize = 0;
  /** Number of bytes. */
  len: u32 = 0;

  /** Byte `i` (unchecked: 0 <= i < len is the caller's business). */
  @inline at(i: u32): u8 {
    return load<u8>(this.ptr + <usize>i);
  }

  /** A copy as a managed array, for code that prefers typed arrays to pointers. */
  toUint8Array(): Uint8Array {
    const a = new Uint8Array(<i32>this.len);
    memory.copy(a.dataStart, this.ptr, this.len);
    return a;
  }
}
