// The two session suites a node can be configured with. A node speaks exactly one: a hybrid node refuses a classic
// offer ('downgrade'), and the suite id is in every transcript both sides sign.
import { SessionError } from '../../errors/index.js';

export type SuiteName = 'hybrid' | 'classic';

export interface SessionSuite {
  readonly name: SuiteName;
  /** The byte on the wire. */
  readonly id: number;
  readonly kemAlgorithm: string;
  readonly signingAlgorithm: string;
  /** KEM public key and ciphertext lengths: message layouts are fixed per suite. */
  readonly kemPublicKeyBytes: number;
  readonly kemCiphertextBytes: number;
  readonly signatureBytes: number;
}

export const SUITES: Readonly<Record<SuiteName, SessionSuite>> = Object.freeze({
  hybrid: Object.freeze({
    name: 'hybrid', id: 1, kemAlgorithm: 'x-wing', signingAlgorithm: 'ed25519+ml-dsa-65',
    kemPublicKeyBytes: 1216, kemCiphertextBytes: 1120, signatureBytes: 3373,
  }),
  classic: Object.freeze({
    name: 'classic', id: 2, kemAlgorithm: 'x25519', signingAlgorithm: 'ed25519',
    kemPublicKeyBytes: 32, kemCiphertextBytes: 32, signatureBytes: 64,
  }),
});

export function suiteById(id: number): SessionSuite | undefined {
  return Object.values(SUITES).find((s) => s.id === id);
}

/** Checks that a node's configured KEM and signer are the algorithms its suite names. */
export function checkSuitePrimitives(suite: SessionSuite, kemAlgorithm: string, signingAlgorithm: string): void {
  if (kemAlgorithm !== suite.kemAlgorithm || signingAlgorithm !== suite.signingAlgorithm) {
    throw new SessionError(`suite ${suite.name} needs ${suite.kemAlgorithm} + ${suite.signingAlgorithm}, got ${kemAlgorithm} + ${signingAlgorithm}`, {
      reason: 'suite', suite: suite.name, kemAlgorithm, signingAlgorithm,
    });
  }
}
