// What every command that talks to a running node shares: --admin (the node's admin API, env X0T_ADMIN) and --json,
// and one request to a path of that API (through plugin-swap's adminRequest, so a node's error comes back with its
// code and exit code).
import type { Command } from 'commander';
import { withJson } from './output.js';
import { adminBaseUrl, adminRequest, DEFAULT_ADMIN_URL } from './plugin-swap.js';

export interface AdminCommandOptions {
  admin: string;
  json?: boolean;
}

/** Adds --admin (env X0T_ADMIN) and --json. */
export function withAdmin(cmd: Command): Command {
  return withJson(cmd.option('--admin <url>', 'the node\'s admin API (env X0T_ADMIN)', process.env['X0T_ADMIN'] ?? DEFAULT_ADMIN_URL));
}

/** One request to `path` of the admin API the options name. */
export function adminCall(opts: AdminCommandOptions, path: string, init: RequestInit = {}): Promise<unknown> {
  return adminRequest(adminBaseUrl(opts.admin), path, init);
}
