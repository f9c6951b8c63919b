// What every `x0t driver …` command shares: the --admin option naming the node's admin API, and one request to its
// /driver endpoints (through plugin-swap's adminRequest, so a node's error comes back with its code and exit code).
import type { Command } from 'commander';
import { adminBaseUrl, adminRequest, DEFAULT_ADMIN_URL } from './plugin-swap.js';
import { withJson } from './output.js';

export interface DriverCommandOptions {
  admin: string;
  json?: boolean;
}

/** Adds --admin (env X0T_ADMIN) and --json. */
export function withAdmin(cmd: Command): Command {
  return withJson(cmd.option('--admin <url>', 'the node\'s admin API (env X0T_ADMIN)', process.env['X0T_ADMIN'] ?? DEFAULT_ADMIN_URL));
}

/** One request to `/driver…` of the node the options name. */
export function driverRequest(opts: DriverCommandOptions, path: string, init: RequestInit = {}): Promise<unknown> {
  return adminRequest(adminBaseUrl(opts.admin), `/driver${path}`, init);
}
