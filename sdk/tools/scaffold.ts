// `x0t plugin new <capability> <name>`: a new plugin folder from the capability's template, ready to build and
// to pass its conformance kit unchanged.
//
// A template is the folder sdk/templates/<capability>/: every file in it is copied, with `__NAME__` replaced by the
// plugin's name and `__SDK__` by the path from the new folder to sdk/as (AssemblyScript resolves imports relative
// to the source file). A template without a plugin.json (the AssemblyScript ones) gets a default one; a template
// with one (the C ones, whose plugin.json names its sources and build flags) keeps its own.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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

/** Copies the capability's template to `<dir>/<name>/` (plus a default plugin.json if it has none); refuses to overwrite. */
export async function scaffoldPlugin(capability: string, name: string, dir = 'plugins', root = sdkRoot()): Promise<ScaffoldResult> {
  if (!isCapabilityName(capability)) throw new UsageError(`unknown capability ${capability}`, { capability });
  if (!NAME.test(name)) throw new UsageError(`plugin name must be a lowercase slug (a-z, 0-9, -): ${name}`, { name });
  const target = resolve(root, dir, name);
  if (existsSync(target)) throw new UsageError(`${target} already exists`, { path: target });
  const template = join(root, 'sdk', 'templates', capability);
  if (!existsSync(template)) throw new UsageError(`capability ${capability} has no template in ${template}`, { capability });
  const sdk = relative(target, join(root, 'sdk', 'as')).split('\\').join('/');
  const names = readdirSync(template).filter((f) => statSync(join(template, f)).isFile()).sort();
  const written: string[] = [];
  mkdirSync(target, { recursive: true });
  for (const f of names) {
    const text = readFileSync(join(template, f), 'utf8').replaceAll('__NAME__', name).replaceAll('__SDK__', sdk);
    writeFileSync(join(target, f), text);
    written.push(join(target, f));
  }
  if (!names.includes('plugin.json')) {
    const manifest = {
      name,
      version: '0.1.0',
      capability,
      description: `A ${capability} plugin scaffolded by x0t plugin new.`,
      limits: { maxMemoryPages: 256, callTimeoutMs: 1000, maxInputBytes: 4194304, maxOutputBytes: 4194304 },
    };
    writeFileSync(join(target, 'plugin.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    written.push(join(target, 'plugin.json'));
  }
  return { dir: target, files: written };
}
