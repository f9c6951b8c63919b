// The capability names a manifest may use: exactly those declared in the contract.

import contract from '../../../sdk/abi/contract.json' with { type: 'json' };

export const KNOWN_CAPABILITIES: readonly string[] = Object.freeze(Object.keys(contract.capabilities));

export function isKnownCapability(name: string): boolean {
  return Object.hasOwn(contract.capabilities, name);
}
