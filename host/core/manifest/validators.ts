// The JSON Schema validators, compiled once per process on first use.

import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import nodeSchema from '../../../manifests/schema/node-manifest.v1.json' with { type: 'json' };
import pluginSchema from '../../../manifests/schema/plugin-manifest.v1.json' with { type: 'json' };
import publicKeySchema from '../../../manifests/schema/public-key.v1.json' with { type: 'json' };
import { deepFreeze } from './deep-freeze.js';

/** The schemas as loaded (deeply frozen; ajv compiles its own copies). */
export const PLUGIN_MANIFEST_SCHEMA: Readonly<Record<string, unknown>> = deepFreeze(pluginSchema);
export const NODE_MANIFEST_SCHEMA: Readonly<Record<string, unknown>> = deepFreeze(nodeSchema);
export const PUBLIC_KEY_SCHEMA: Readonly<Record<string, unknown>> = deepFreeze(publicKeySchema);

let ajv: Ajv2020 | undefined;
let pluginValidator: ValidateFunction | undefined;
let nodeValidator: ValidateFunction | undefined;
let publicKeyValidator: ValidateFunction | undefined;

function instance(): Ajv2020 {
  // verbose: errors carry the failing schema and data, used for readable messages.
  ajv ??= new Ajv2020({ allErrors: false, strict: true, allowUnionTypes: true, verbose: true });
  return ajv;
}

export function validatePluginManifest(): ValidateFunction {
  pluginValidator ??= instance().compile(structuredClone(pluginSchema));
  return pluginValidator;
}

export function validateNodeManifest(): ValidateFunction {
  nodeValidator ??= instance().compile(structuredClone(nodeSchema));
  return nodeValidator;
}

export function validatePublicKeyFile(): ValidateFunction {
  publicKeyValidator ??= instance().compile(structuredClone(publicKeySchema));
  return publicKeyValidator;
}
