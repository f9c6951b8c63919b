// The one entry point from a spec (or a compiled plugin) to a live instance, in the isolation its manifest asks for.
import type { PluginSpec } from '../core/plugin-spec.js';
import { compilePlugin, type CompiledPlugin } from './compiled-plugin.js';
import { InThreadInstance } from './in-thread-instance.js';
import type { InstantiateOptions, PluginInstance } from './plugin-instance.js';
import { WorkerInstance } from './worker-instance.js';

export async function instantiate(compiled: CompiledPlugin, opts: InstantiateOptions = {}): Promise<PluginInstance> {
  return compiled.spec.isolation === 'in-thread'
    ? new InThreadInstance(compiled, opts)
    : WorkerInstance.start(compiled, opts);
}

/** Compile (hash and import checks included) and instantiate in one step. */
export async function loadPlugin(spec: PluginSpec, opts: InstantiateOptions = {}): Promise<PluginInstance> {
  return instantiate(await compilePlugin(spec), opts);
}
