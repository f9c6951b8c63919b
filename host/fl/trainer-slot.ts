// The shipped trainer plugin (mlp-lora) in a slot of its own, behind PluginTrainer: what the CLI and the
// simulations train with. The manifest's limits and isolation apply (a worker by default).
import { builtinManifest } from '../crypto/builtin-plugins.js';
import { loadPluginSpec } from '../runtime/load-manifest.js';
import { Slot } from '../runtime/slot.js';
import { PluginTrainer } from './trainer.js';

export const BUILTIN_TRAINER = 'mlp-lora';

export interface OpenTrainer {
  readonly slot: Slot;
  readonly trainer: PluginTrainer;
  close(): Promise<void>;
}

export async function openTrainer(manifest = builtinManifest(BUILTIN_TRAINER)): Promise<OpenTrainer> {
  const slot = await Slot.open('trainer', 'trainer', await loadPluginSpec(manifest));
  try {
    const trainer = await PluginTrainer.open((fn, input) => slot.call(fn, input));
    return { slot, trainer, close: () => slot.close() };
  } catch (e) {
    await slot.close();
    throw e;
  }
}
