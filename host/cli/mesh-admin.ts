// What every `x0t mesh …` command shares: --admin (the node's admin API, env X0T_ADMIN) and --json, one request to
// its /mesh endpoints (the node's error comes back with its code and exit code), and short forms of fingerprints.
import { adminCall, withAdmin, type AdminCommandOptions } from './admin-options.js';

export type MeshCommandOptions = AdminCommandOptions;
/** Adds --admin (env X0T_ADMIN) and --json. */
export const withMeshAdmin = withAdmin;

export function meshRequest(opts: MeshCommandOptions, path: string, init: RequestInit = {}): Promise<unknown> {
  return adminCall(opts, `/mesh${path}`, init);
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
