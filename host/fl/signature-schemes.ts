// Which signature scheme federated-learning updates are signed with is configuration: a name maps to a scheme
// here, and nothing else in host/fl names an algorithm. 'ed25519' is node:crypto; 'ml-dsa-65' is the sandboxed
// ML-DSA-65 plugin in a `signer` slot; 'ed25519+ml-dsa-65' is the composite over that same plugin.
import { UsageError } from '../errors/index.js';
import { Ed25519Signer } from '../crypto/ed25519-signer.js';
import { openSignerPlugin, type PqcSuiteOptions } from '../crypto/pqc-suite.js';
import type { SignatureScheme } from '../crypto/primitives.js';

export const FL_SIGNATURE_SCHEMES = ['ed25519', 'ml-dsa-65', 'ed25519+ml-dsa-65'] as const;
export type FlSignatureSchemeName = (typeof FL_SIGNATURE_SCHEMES)[number];

/** A scheme and what must be closed when it is no longer used (the plugin slot, for the PQC ones). */
export interface OpenSignatureScheme {
  readonly name: FlSignatureSchemeName;
  readonly scheme: SignatureScheme;
  close(): Promise<void>;
}

/** Checks a configured name; UsageError (details.path) for anything else. */
export function parseSignatureSchemeName(name: unknown, path = 'fl.signatureScheme'): FlSignatureSchemeName {
  if (typeof name === 'string' && (FL_SIGNATURE_SCHEMES as readonly string[]).includes(name)) return name as FlSignatureSchemeName;
  throw new UsageError(`${path} must be one of ${FL_SIGNATURE_SCHEMES.join(', ')}, got ${JSON.stringify(name)}`, {
    path, allowed: FL_SIGNATURE_SCHEMES, actual: name,
  });
}

/** Opens the named scheme; `plugin` options reach the ML-DSA-65 slot (manifest, isolation, slot options). */
export async function openSignatureScheme(name: unknown, plugin: PqcSuiteOptions = {}): Promise<OpenSignatureScheme> {
  const n = parseSignatureSchemeName(name);
  if (n === 'ed25519') return { name: n, scheme: new Ed25519Signer(), close: async () => undefined };
  const p = await openSignerPlugin(plugin);
  return { name: n, scheme: n === 'ml-dsa-65' ? p.signer : p.composite, close: () => p.close() };
}
