// What every `x0t mesh …` command shares: --admin (the node's admin API, env X0T_ADMIN) and --json, one request to
// its /mesh endpoints (the node's error comes back with its code and exit code), and short forms of fingerprints.
import type { Command } from 'commander';
import { withJson } from './output.js';
import { adminBaseUrl, adminRequest, DEFAULT_ADMIN_URL } from './plugin-swap.js';

export interface MeshCommandOptions {
  admin: string;
  json?: boolean;
}

export function withMeshAdmin(cmd: Command): Command {
  return withJson(cmd.option('--admin <url>', 'the node\'s admin API (env X0T_ADMIN)', process.env['X0T_ADMIN'] ?? DEFAULT_ADMIN_URL));
}

export function meshRequest(opts: MeshCommandOptions, path: string, init: RequestInit = {}): Promise<unknown> {
  return adminRequest(adminBaseUrl(opts.admin), `/mesh${path}`, init);
}

/** The first 8 hex characters of a fingerprint and an ellipsis: enough to tell a handful of nodes apart. */
export function shortFp(fp: string): string {
  return fp.length > 8 ? `${fp.slice(0, 8)}…` : fp;
}

/** `1h`, `30m`, `45s`, `2d`, `500ms` or plain milliseconds → ms; null when it is none of those. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) return null;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? 'ms']!;
  const v = Number(m[1]) * unit;
  return Number.isSafeInteger(v) ? v : null;
}
