// What round 0 signatures cover and how they are checked. Each client signs its two fresh X25519 public keys with
// its long-term identity key, bound to the round id and its own id, so a server relaying the roster cannot swap in
// keys of its own (the man-in-the-middle that would let it read every share). The verification keys are the PKI the
// protocol assumes: the caller supplies them.
import type { SignatureScheme } from '../primitives.js';
import { SecAggError } from '../../errors/index.js';

const LABEL = new TextEncoder().encode('x0t-secagg/v1 advertise-keys');

export interface SecAggVerification {
  readonly scheme: SignatureScheme;
  /** Every client's long-term public key, by client id. */
  readonly verificationKeys: ReadonlyMap<number, Uint8Array>;
}

export interface SecAggSigning extends SecAggVerification {
  /** This client's long-term secret key for `scheme`. */
  readonly secretKey: Uint8Array;
}

/** label ‖ len(roundId) ‖ roundId ‖ from (u32 LE) ‖ c_pk ‖ s_pk. */
export function advertisePayload(roundId: Uint8Array, from: number, encryptionKey: Uint8Array, maskingKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(LABEL.length + 1 + roundId.length + 4 + encryptionKey.length + maskingKey.length);
  let o = 0;
  out.set(LABEL, o); o += LABEL.length;
  out[o++] = roundId.length;
  out.set(roundId, o); o += roundId.length;
  new DataView(out.buffer).setUint32(o, from, true); o += 4;
  out.set(encryptionKey, o); o += encryptionKey.length;
  out.set(maskingKey, o);
  return out;
}

/** Throws SecAggError (reason 'signature') unless `from`'s advertised keys carry its valid signature. */
export async function verifyAdvertised(
  v: SecAggVerification,
  roundId: Uint8Array,
  entry: { readonly from: number; readonly encryptionKey: Uint8Array; readonly maskingKey: Uint8Array; readonly signature: Uint8Array },
): Promise<void> {
  const pk = v.verificationKeys.get(entry.from);
  if (pk === undefined) {
    throw new SecAggError(`secagg: no verification key for client ${entry.from}`, { reason: 'signature', client: entry.from });
  }
  let ok: boolean;
  try {
    ok = await v.scheme.verify(pk, advertisePayload(roundId, entry.from, entry.encryptionKey, entry.maskingKey), entry.signature);
  } catch (e) {
    throw new SecAggError(`secagg: verification key of client ${entry.from} is unusable`, { reason: 'signature', client: entry.from }, { cause: e });
  }
  if (!ok) throw new SecAggError(`secagg: keys of client ${entry.from} are not signed by it`, { reason: 'signature', client: entry.from });
}
