// A running node: the PluginHost with its slots, the admin HTTP API, and a watch on the node manifest file so an
// edit to it swaps slots live. Prints nothing: everything worth telling goes to `onEvent`.
import { dirname, resolve } from 'node:path';
import type { Endpoint, NodeSpec } from '../core/manifest/index.js';
import { parseEndpoint } from '../core/manifest/endpoint.js';
import { TrustedManifestVerifier } from '../crypto/trusted-manifest-verifier.js';
import { UsageError, type X0tError } from '../errors/index.js';
import type { LogLevel } from '../runtime/extism-kernel.js';
import { loadNodeSpec } from '../runtime/load-manifest.js';
import type { ManifestVerifier } from '../runtime/manifest-verifier.js';
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
  /**
   * Checks plugin manifest signatures against policies.trustedPluginKeys; by default one over the shipped
   * ML-DSA-65 plugin, opened the first time a signature by a trusted key must be checked.
   */
  readonly verifier?: ManifestVerifier;
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
  /** The verifier this runtime made (and so closes); null when the caller gave one. */
  readonly #ownVerifier: TrustedManifestVerifier | null;

  private constructor(
    host: PluginHost, admin: AdminServer, manifestPath: string, stopWatching: (() => Promise<void>) | null,
    ownVerifier: TrustedManifestVerifier | null,
  ) {
    this.host = host;
    this.admin = admin;
    this.manifestPath = manifestPath;
    this.#stopWatching = stopWatching;
    this.#ownVerifier = ownVerifier;
  }

  /** Loads the manifest, opens every slot (each self-tested), binds the admin API, starts watching the file. */
  static async start(opts: NodeRuntimeOptions): Promise<NodeRuntime> {
    const manifestPath = resolve(opts.manifestPath);
    const spec = await loadNodeSpec(manifestPath);
    const listen = opts.admin === undefined ? spec.listen.admin : parseHostPort(opts.admin);
    const emit = opts.onEvent ?? (() => undefined);
    const ownVerifier = opts.verifier === undefined ? new TrustedManifestVerifier() : null;
    let host: PluginHost;
    try {
      host = await PluginHost.start(spec, {
        log: (plugin, level, message) => emit({ type: 'plugin-log', plugin, level, message }),
        onApply: (report) => emit({ type: 'applied', report }),
        onWatchError: (error) => emit({ type: 'watch-error', error }),
        verifier: opts.verifier ?? ownVerifier!,
      });
    } catch (e) {
      await ownVerifier?.close();
      throw e;
    }
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
      await ownVerifier?.close();
      throw e;
    }
    const stopWatching = opts.watch === false ? null : host.watch(manifestPath);
    return new NodeRuntime(host, admin, manifestPath, stopWatching, ownVerifier);
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
        try {
          await this.host.close();
        } finally {
          await this.#ownVerifier?.close();
        }
      }
    })();
    return this.#stopping;
  }
}
