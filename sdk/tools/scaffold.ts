// `x0t plugin new <capability> <name>`: a new plugin folder from the capability's template, ready to build and
// to pass its conformance kit unchanged.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCapabilityName } from '../abi/generated/contract.js';
import { UsageError } from '../abi/errors.js';

const NAME = /^[a-z][a-z0-9-]{0,62}$/;

/** The repository root, seen from this file once compiled (dist/sdk/tools/scaffold.js). */
export function sdkRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
}

export interface ScaffoldResult {
  readonly dir: string;
  readonly files: readonly string[];
}

/** Writes `<dir>/<name>/index.ts` and `plugin.json`; refuses to overwrite an existing plugin. */
export async function scaffoldPlugin(capability: string, name: string, dir = 'plugins', root = sdkRoot()): Promise<ScaffoldResult> {
  if (!isCapabilityName(capability)) throw new UsageError(`unknown capability ${capability}`, { capability });
  if (!NAME.test(name)) throw new UsageError(`plugin name must be a lowercase slug (a-z, 0-9, -): ${name}`, { name });
  const target = resolve(root, dir, name);
  if (existsSync(target)) throw new UsageError(`${target} already exists`, { path: target });
  const template = join(root, 'sdk', 'templates', capability, 'index.ts');
  // AssemblyScript resolves imports relative to the source file, so the SDK path depends on where the plugin lives.
  const sdk = relative(target, join(root, 'sdk', 'as')).split('\\').join('/');
  const source = readFileSync(template, 'utf8').replaceAll('__NAME__', name).replaceAll('__SDK__', sdk);
  const manifest = {
    name,
    version: '0.1.0',
    capability,
    description: `A ${capability} plugin scaffolded by x0t plugin new.`,
    limits: { maxMemoryPages: 256, callTimeoutMs: 1000, maxInputBytes: 4194304, maxOutputBytes: 4194304 },
  };
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, 'index.ts'), source);
  writeFileSync(join(target, 'plugin.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir: target, files: [join(target, 'index.ts'), join(target, 'plugin.json')] };
}
