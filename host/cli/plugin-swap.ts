// x0t plugin swap <slot> <manifest.json> [--admin http://127.0.0.1:9470]
// Asks a running node, through its admin API, to hot-swap a slot to the plugin a manifest names. The manifest path
// is sent absolute, so it means the same file to the node whatever folder either was started in.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { errorFromWire, IoError, UsageError, type WireError } from '../errors/index.js';
import { printJson, printLine, withJson } from './output.js';

export const DEFAULT_ADMIN_URL = 'http://127.0.0.1:9470';

/** `http://host:port`, `host:port` or `:port` → a base URL without a trailing slash. */
export function adminBaseUrl(text: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `http://${text.startsWith(':') ? '127.0.0.1' + text : text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`--admin must be a URL such as ${DEFAULT_ADMIN_URL}, got ${JSON.stringify(text)}`, { path: '--admin' });
  }
  if (url.protocol !== 'http:') throw new UsageError(`--admin must be an http:// URL, got ${JSON.stringify(text)}`, { path: '--admin' });
  return url.origin;
}

/** One admin API request; rebuilds the node's error (same code and exit code) when it answers with one. */
export async function adminRequest(base: string, path: string, init: RequestInit = {}): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(base + path, { ...init, signal: AbortSignal.timeout(120_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message;
    throw new IoError(`cannot reach the node's admin API at ${base}: ${cause}`, { url: base + path }, { cause: e });
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new IoError(`the admin API at ${base} answered ${res.status} with something that is not JSON`, {
      url: base + path, status: res.status,
    });
  }
  const err = (body as { error?: WireError } | null)?.error;
  if (!res.ok || err) {
    if (err && typeof err.code === 'string') throw errorFromWire({ code: err.code, message: err.message, details: err.details ?? {} });
    throw new IoError(`the admin API at ${base} answered ${res.status}`, { url: base + path, status: res.status });
  }
  return body;
}

export function registerPluginSwap(plugin: Command): void {
  withJson(
    plugin
      .command('swap')
      .description('hot-swap a slot of a running node to another plugin (through the node\'s admin API)')
      .argument('<slot>', 'slot name, e.g. aggregator')
      .argument('<manifest>', 'plugin manifest (.json) to switch to')
      .option('--admin <url>', 'the node\'s admin API (env X0T_ADMIN)', process.env['X0T_ADMIN'] ?? DEFAULT_ADMIN_URL),
  ).action(async (slot: string, manifest: string, opts: { admin: string; json?: boolean }) => {
    const base = adminBaseUrl(opts.admin);
    const record = await adminRequest(base, `/slots/${encodeURIComponent(slot)}/swap`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ manifest: resolve(manifest) }),
    }) as { outcome?: string; from?: string | null; to?: string };
    if (opts.json) printJson({ slot, record });
    else printLine(`slot ${slot}: ${record.outcome ?? 'swapped'} ${record.from ?? '(none)'} → ${record.to ?? '?'}`);
  });
}
