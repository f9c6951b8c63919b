// Test helpers: load fixture and product plugin specs, with limits or isolation changed for a test.
import { join } from 'node:path';
import type { Isolation, PluginLimits, PluginSpec } from '../../host/core/plugin-spec.js';
import { loadPluginSpec } from '../../host/runtime/load-manifest.js';

export const ROOT = process.cwd();
export const FIXTURE_MANIFESTS = join(ROOT, 'test', 'fixtures', 'manifests');
export const PLUGIN_MANIFESTS = join(ROOT, 'manifests', 'plugins');

export interface SpecChanges {
  readonly limits?: Partial<PluginLimits>;
  readonly isolation?: Isolation;
}

function change(spec: PluginSpec, changes: SpecChanges): PluginSpec {
  return Object.freeze({
    ...spec,
    isolation: changes.isolation ?? spec.isolation,
    limits: Object.freeze({ ...spec.limits, ...changes.limits }),
  });
}

export async function fixtureSpec(name: string, changes: SpecChanges = {}): Promise<PluginSpec> {
  return change(await loadPluginSpec(join(FIXTURE_MANIFESTS, `${name}.json`)), changes);
}

export async function productSpec(name: string, changes: SpecChanges = {}): Promise<PluginSpec> {
  return change(await loadPluginSpec(join(PLUGIN_MANIFESTS, `${name}.json`)), changes);
}

/** Forces a full GC (the flag can be set at run time; `gc` then appears in a fresh context). */
export async function collectGarbage(): Promise<void> {
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}
