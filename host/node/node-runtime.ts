// A running node: the packet driver, the PluginHost with its slots, the mesh (when the manifest lists mesh
// addresses), the admin HTTP API, and a watch on the node manifest file so an edit to it swaps slots live, and the
// knowledge base when the manifest has one. Prints nothing: everything worth telling goes to `onEvent`.
import { dirname, resolve } from 'node:path';
import type { Endpoint, NodeSpec } from '../core/manifest/index.js';
import type { LinkEvent } from '../driver/netlink/index.js';
import type { DriverEvent } from '../driver/packet-driver.js';
import { parseEndpoint } from '../core/manifest/endpoint.js';
import { TrustedManifestVerifier } from '../crypto/trusted-manifest-verifier.js';
import { UsageError, type X0tError } from '../errors/index.js';
import type { LogLevel } from '../runtime/extism-kernel.js';
import { loadNodeSpec } from '../runtime/load-manifest.js';
import { peerSpiffeId } from '../spiffe/mtls.js';
import type { ManifestVerifier } from '../runtime/manifest-verifier.js';
import { PluginHost, type ApplyReport } from '../runtime/plugin-host.js';
import { AdminServer, type AdminMtlsOptions } from './admin-server.js';
import { MeshService, type MeshEvent } from './mesh/mesh-service.js';
import { NodeDriver } from './node-driver.js';
import { NodeKnowledge, type KnowledgeEvent } from './node-knowledge.js';

export type NodeEvent =
  | { readonly type: 'applied'; readonly report: ApplyReport }
  | { readonly type: 'watch-error'; readonly error: X0tError }
  | { readonly type: 'admin-swap'; readonly slot: string; readonly manifest: string; readonly ok: boolean; readonly code: string | null }
  | { readonly type: 'plugin-log'; readonly plugin: string; readonly level: LogLevel; readonly message: string }
  | { readonly type: 'kb'; readonly kb: KnowledgeEvent }
  | { readonly type: 'driver'; readonly driver: DriverEvent }
  /**
   * A link or address change from rtnetlink (link-up, link-down with reason admin|carrier, link-added/removed,
   * address-added/removed), with the interface's name and whether the packet driver is attached to it.
   */
  | { readonly type: 'link'; readonly event: LinkEvent; readonly interface: string; readonly driverInterface: boolean }
  /** The link watcher stopped; the node runs on without link events (GET /driver/links says so). */
  | { readonly type: 'link-error'; readonly error: X0tError }
  /** The mesh: started, session up/down/rejected, neighbour down, route changes, errors. */
  | { readonly type: 'mesh'; readonly mesh: MeshEvent };

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
  /** The node's knowledge base (null when the manifest has no `knowledge`); see NodeKnowledge.status(). */
  readonly knowledge: NodeKnowledge | null;
  /** The packet driver (XDP, or the user-space fallback whose status says why). */
  readonly driver: NodeDriver;
  /** The mesh; null when the manifest lists no listen.mesh address. */
  readonly mesh: MeshService | null;
  #stopWatching: (() => Promise<void>) | null;
  #stopping: Promise<void> | null = null;
  /** The verifier this runtime made (and so closes); null when the caller gave one. */
  readonly #ownVerifier: TrustedManifestVerifier | null;

  private constructor(
    host: PluginHost, admin: AdminServer, manifestPath: string, stopWatching: (() => Promise<void>) | null,
    ownVerifier: TrustedManifestVerifier | null, knowledge: NodeKnowledge | null, driver: NodeDriver, mesh: MeshService | null,
  ) {
    this.host = host;
    this.mesh = mesh;
    this.driver = driver;
    this.knowledge = knowledge;
    this.admin = admin;
    this.manifestPath = manifestPath;
    this.#stopWatching = stopWatching;
    this.#ownVerifier = ownVerifier;
  }

  /**
   * Loads the manifest, opens the packet driver (XDP on the manifest's `driver.interface`, else the user-space driver
   * with its reason; a required driver that cannot run fails the start) and the link watcher beside it (without
   * netlink the node runs without link events and its status says why), opens every slot (each self-tested), binds
   * the admin API, starts watching the file; then,
   * when the manifest has `knowledge`, opens the knowledge base and runs its ingest in the background (the node
   * serves meanwhile; a failure there is reported as a `kb` event and the node runs on without one). A change to
   * `knowledge`, `driver`, `identity`, `listen`, `peers` or `mesh` in the manifest takes effect at the next start.
   */
  static async start(opts: NodeRuntimeOptions): Promise<NodeRuntime> {
    const manifestPath = resolve(opts.manifestPath);
    const spec = await loadNodeSpec(manifestPath);
    const listen = opts.admin === undefined ? spec.listen.admin : parseHostPort(opts.admin);
    const emit = opts.onEvent ?? (() => undefined);
    // The driver first: a required driver that cannot run fails the start before any slot is loaded.
    // The link watcher opens with it (and closes with it): link events are the node's fast failure detection.
    let mesh: MeshService | null = null;
    const driver = await NodeDriver.open(spec.driver, {
      onEvent: (event) => emit({ type: 'driver', driver: event }),
      onLinkEvent: (e) => {
        // The mesh first: a link-down is its fastest failure signal.
        mesh?.onLinkEvent(e);
        emit({ type: 'link', event: e.event, interface: e.interface, driverInterface: e.driverInterface });
      },
      onLinkError: (error) => emit({ type: 'link-error', error }),
    });
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
      try {
        await ownVerifier?.close();
      } finally {
        // The start's own failure is the one to report; the driver is closed (detached) either way.
        await driver.close().catch(() => undefined);
      }
      throw e;
    }
    if (spec.listen.mesh.length > 0) {
      try {
        mesh = await MeshService.open({ spec, host, driver, onEvent: (m) => emit({ type: 'mesh', mesh: m }) });
      } catch (e) {
        try {
          await host.close();
          await ownVerifier?.close();
        } finally {
          await driver.close().catch(() => undefined);
        }
        throw e;
      }
    }
    const knowledge = spec.knowledge === undefined ? null : new NodeKnowledge(spec.knowledge, (kb) => emit({ type: 'kb', kb }));
    let admin: AdminServer;
    try {
      admin = await AdminServer.start({
        host,
        knowledge,
        driver,
        mesh,
        mtls: adminMtlsOptions(spec, mesh),
        listen,
        baseDir: process.cwd(),
        onSwap: (slot, manifest, outcome) => emit({
          type: 'admin-swap', slot, manifest, ok: outcome.ok, code: outcome.ok ? null : outcome.code,
        }),
      });
    } catch (e) {
      try {
        await mesh?.close().catch(() => undefined);
        await host.close();
        await ownVerifier?.close();
      } finally {
        await driver.close().catch(() => undefined);
      }
      throw e;
    }
    const stopWatching = opts.watch === false ? null : host.watch(manifestPath);
    knowledge?.start();
    return new NodeRuntime(host, admin, manifestPath, stopWatching, ownVerifier, knowledge, driver, mesh);
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

  /**
   * Stops watching, closes the admin API, closes the mesh (sessions, sockets, identity server), cuts a running knowledge-base ingest short and closes the knowledge base,
   * drains and closes every slot, and closes the packet driver (detaching the XDP program) and the link watcher
   * whatever failed before.
   * Safe to call more than once.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const stopWatching = this.#stopWatching;
      this.#stopWatching = null;
      await stopWatching?.();
      try {
        await this.admin.close();
      } finally {
        try {
          // The mesh signs and encapsulates through the kem/signer slots: it closes before them.
          await this.mesh?.close().catch(() => undefined);
          // A knowledge base that fails to close must not keep the slots open.
          await this.knowledge?.close().catch(() => undefined);
          await this.host.close();
        } finally {
          try {
            await this.#ownVerifier?.close();
          } finally {
            await this.driver.close();
          }
        }
      }
    })();
    return this.#stopping;
  }
}

/** The mutual-TLS admin listener on the node's SVID (listen.adminMtls), serving clients of the same trust domain. */
function adminMtlsOptions(spec: NodeSpec, mesh: MeshService | null): AdminMtlsOptions | null {
  const at = spec.listen.adminMtls;
  if (at === undefined || mesh === null) return null;
  const trust = mesh.trust;
  const prefix = `spiffe://${spec.identity.trustDomain}/`;
  return {
    listen: at,
    tls: () => {
      const m = trust.tls();
      if (m === null) throw new UsageError('listen.adminMtls needs an SVID (identity.ca or identity.join)', { path: 'listen.adminMtls' });
      return m;
    },
    authorize: (socket) => peerSpiffeId(socket)?.startsWith(prefix) === true,
    onRotated: (update) => trust.onRotated(update),
  };
}
