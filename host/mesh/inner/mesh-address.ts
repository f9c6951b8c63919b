// A node's mesh address is its fingerprint: 16 bytes on the wire, 32 lower-case hex characters in TypeScript.
import { CodecError } from '../../errors/index.js';

export const ADDRESS_BYTES = 16;
const HEX32 = /^[0-9a-f]{32}$/;

export function isMeshAddress(text: unknown): text is string {
  return typeof text === 'string' && HEX32.test(text);
}

/** The 16 wire bytes of a fingerprint; CodecError (reason 'address') for anything else. */
export function addressBytes(text: string): Uint8Array {
  if (!isMeshAddress(text)) {
    throw new CodecError(`a mesh address is 32 lower-case hex characters, got ${JSON.stringify(String(text).slice(0, 40))}`, {
      kind: 'inner', reason: 'address',
    });
  }
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** The fingerprint text of 16 wire bytes. */
export function addressText(bytes: Uint8Array): string {
  if (bytes.length !== ADDRESS_BYTES) {
    throw new CodecError(`a mesh address is ${ADDRESS_BYTES} bytes, got ${bytes.length}`, { kind: 'inner', reason: 'address' });
  }
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
