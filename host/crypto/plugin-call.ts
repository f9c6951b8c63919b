import { CryptoInputError, PluginReportedError } from '../errors/index.js';

/** How the crypto adapters reach a plugin: a slot's or an instance's `call`. */
export type PluginCall = (fn: string, input: Uint8Array) => Promise<Uint8Array>;

/**
 * Calls `fn` after the adapter has checked every length itself; a refusal the plugin still reports is then about
 * the value (FIPS 203/204 input checks), which callers see as CryptoInputError, with the plugin's error as cause.
 */
export async function callChecked(call: PluginCall, fn: string, input: Uint8Array, algorithm: string): Promise<Uint8Array> {
  try {
    return await call(fn, input);
  } catch (e) {
    if (e instanceof PluginReportedError) {
      throw new CryptoInputError(`${algorithm} ${fn}: ${e.message}`, { algorithm, fn, ...e.details }, { cause: e });
    }
    throw e;
  }
}
