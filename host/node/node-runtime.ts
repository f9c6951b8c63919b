// A running node: the PluginHost with its slots, the admin HTTP API, and a watch on the node manifest file so an
// edit to it swaps slots live. Prints nothing: everything worth telling goes to `onEvent`.
import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import type { Endpoint, NodeSpec } from '../core/manifest/index.js';
import { parseEndpoint } from '../core/manifest/endpoint.js';
import { asX0tError, UsageError, type X0tError } from '../errors/index.js';
import type { LogLevel } from '../runtime/extism-kernel.js';
import { loadNodeSpec } from '../runtime/load-manifest.js';
import { PluginHost, type ApplyReport } from '../runtime/plugin-host.js';
import { AdminServer } from './admin-server.js';

export type NodeEvent =
  | { readonly type: 'applied'; readonly report: ApplyReport }
  | { readonly type: 'watch-error'; readonly error: X0tError }
  | { readonly type: 'admin-swap'; readonly slot: string; readonly manifest: string; readonly ok: boolean; readonly code: string | null }
  | { readonly type: 'plugin-log'; readonly plugin: string; readonly level: LogLevel; readonly message: string };

export interface NodeRuntimeOptions {
  /** The node manifest file. */
  readonly manifestPath: string;
  /** Overrides the manifest's `listen.admin` (`host:port`; port 0 picks a free one). */
  readonly admin?: string;
  /** Re-apply the manifest whenever the file changes (default true). */
  readonly watch?: boolean;
  readonly onEvent?: (event: NodeEvent) => void;
}

/** Parses `host:port` (IPv6 in brackets); UsageError naming `what` when it is not one. */
export function parseHostPort(text: string, what = '--admin'): Endpoint {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new UsageError(`${what} must be HOST:PORT (port 0-65535, IPv6 in brackets), got ${JSON.stringify(text)}`, {
      path: what, value: text,
    });
  }
  return parseEndpoint(text);
}

export class NodeRuntime {
  readonly host: PluginHost;
  readonly admin: AdminServer;
  readonly manifestPath: string;
  #stopWatching: (() => Promise<void>) | null;
  #stopping: Promise<void> | null = null;

  private constructor(host: PluginHost, admin: AdminServer, manifestPath: string, stopWatching: (() => Promise<void>) | null) {
    this.host = host;
    this.admin = admin;
    this.manifestPath = manifestPath;
    this.#stopWatching = stopWatching;
  }

  /** Loads the manifest, opens every slot (each self-tested), binds the admin API, starts watching the file. */
  static async start(opts: NodeRuntimeOptions): Promise<NodeRuntime> {
    const manifestPath = resolve(opts.manifestPath);
    const spec = await loadNodeSpec(manifestPath);
    const listen = opts.admin === undefined ? spec.listen.admin : parseHostPort(opts.admin);
    const emit = opts.onEvent ?? (() => undefined);
    const host = await PluginHost.start(spec, {
      log: (plugin, level, message) => emit({ type: 'plugin-log', plugin, level, message }),
    });
    let admin: AdminServer;
    try {
      admin = await AdminServer.start({
        host,
        listen,
        baseDir: process.cwd(),
        onSwap: (slot, manifest, outcome) => emit({
          type: 'admin-swap', slot, manifest, ok: outcome.ok, code: outcome.ok ? null : outcome.code,
        }),
      });
    } catch (e) {
      await host.close();
      throw e;
    }
    const stopWatching = opts.watch === false ? null : watchManifest(host, manifestPath, emit);
    return new NodeRuntime(host, admin, manifestPath, stopWatching);
  }

  get spec(): NodeSpec {
    return this.host.spec;
  }

  /** Base URL of the admin API. */
  get adminUrl(): string {
    return this.admin.url;
  }

  /** The folder of the node manifest (plugin paths in it are relative to this). */
  get manifestDir(): string {
    return dirname(this.manifestPath);
  }

  /** Stops watching, closes the admin API, then drains and closes every slot. Safe to call more than once. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const stopWatching = this.#stopWatching;
      this.#stopWatching = null;
      await stopWatching?.();
      try {
        await this.admin.close();
      } finally {
        await this.host.close();
      }
    })();
    return this.#stopping;
  }
}

/**
 * Applies the node manifest to the host whenever the file changes. Watches the file's folder rather than the file:
 * editors and `mv`-style writers replace the file with a new one, and a watch on the old file would see only the
 * first such save. A save that leaves the text as it was applies nothing.
 */
function watchManifest(host: PluginHost, file: string, emit: (e: NodeEvent) => void): () => Promise<void> {
  const name = basename(file);
  let timer: NodeJS.Timeout | null = null;
  let lastText: string | null = null;
  let stopped = false;
  let chain: Promise<void> = readFile(file, 'utf8').then((t) => { lastText = t; }, () => undefined);
  const reload = (): void => {
    timer = null;
    chain = chain.then(async () => {
      if (stopped) return;
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        return; // between an unlink and the rename that replaces it; the rename fires another event
      }
      if (text === lastText) return;
      try {
        const report = await host.apply(await loadNodeSpec(file));
        lastText = text;
        if (!stopped) emit({ type: 'applied', report });
      } catch (e) {
        if (!stopped) emit({ type: 'watch-error', error: asX0tError(e) });
      }
    });
  };
  // Editors save in several steps (truncate, write, rename): wait for the writes to settle.
  const watcher = watch(dirname(file), (_event, changed) => {
    if (changed !== null && changed !== name) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, 50);
  });
  watcher.on('error', (e) => emit({ type: 'watch-error', error: asX0tError(e) }));
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    watcher.close();
    await chain; // a reload already under way finishes before the slots close
  };
}
