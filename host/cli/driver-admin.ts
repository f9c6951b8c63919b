// What every `x0t driver …` command shares: the --admin option naming the node's admin API, and one request to its
// /driver endpoints (through plugin-swap's adminRequest, so a node's error comes back with its code and exit code).
import { adminCall, withAdmin, type AdminCommandOptions } from './admin-options.js';

export type DriverCommandOptions = AdminCommandOptions;
export { withAdmin };

/** One request to `/driver…` of the node the options name. */
export function driverRequest(opts: DriverCommandOptions, path: string, init: RequestInit = {}): Promise<unknown> {
  return adminCall(opts, `/driver${path}`, init);
}
