import { CryptoInputError } from '../errors/index.js';

/** Throws CryptoInputError unless `bytes` is exactly `expected` long. */
export function checkLength(bytes: Uint8Array, expected: number, what: string, algorithm: string): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new CryptoInputError(`${algorithm}: ${what} must be bytes`, { algorithm, what });
  }
  if (bytes.length !== expected) {
    throw new CryptoInputError(`${algorithm}: ${what} must be ${expected} bytes, got ${bytes.length}`, {
      algorithm, what, expected, actual: bytes.length,
    });
  }
}
