// The node's admin HTTP API (node:http, loopback by default). Read-only views of the slots, a Prometheus
// /metrics page written by hand from SlotInfo, a hot swap by plugin manifest path and a raw call into a slot.
//
//   GET  /healthz                    → {status, node, slots, uptimeSeconds}
//   GET  /slots                      → {node, slots: SlotInfo[]}
//   GET  /slots/:name                → SlotInfo
//   POST /slots/:name/swap           {"manifest": "path.json"} → SwapRecord
//   POST /slots/:name/call/:fn       raw bytes (≤ the plugin's maxInputBytes) → raw output bytes
//   GET  /kb                         → the knowledge base's state (opening|ingesting|ready|failed), stats, notices
//   GET  /kb/search?q=…&k=5&mode=hybrid → {query, mode, k, ms, notices, hits} as `x0t kb search --json` prints it
//   GET  /driver                     → DriverReport: mode (xdp-native|xdp-generic|userspace), interface, reason, …,
//                                      links (LinkView[] or null), linksReason, batman {available, reason}
//   GET  /driver/links               → LinksReport {links: LinkView[] | null, reason, events, watcher}
//   GET  /driver/peers               → {peers: PeerCounters[]} sorted by address
//   GET  /driver/quarantine          → {quarantine: QuarantineEntry[]}
//   POST /driver/quarantine          {"address": "10.0.0.2"} → {entry: QuarantineEntry, added}
//   DELETE /driver/quarantine/:address → {address, removed: true}; 404 when the address is not quarantined
//   GET  /mesh                       → {fingerprint, spiffeId, suite, trust, endpoints, neighbours: [{fingerprint,
//                                      endpoint, interface, tq, rttMs, up, session}], routes: count, gateway, counters}
//   GET  /mesh/routes                → [{dest, nextHops, tq, hops, source, gatewayClass}]
//   GET  /mesh/sessions              → {sessions: SessionInfo[]}
//   GET  /mesh/batman                → {interface, routes: [{dest, nextHops, tq, throughput, lastSeenMs}], gateways}: the
//                                      kernel's batman-adv tables (mesh.batman); 501 X0T_UNSUPPORTED with the reason without one
//   POST /mesh/ping                  {to, count, intervalMs, timeoutMs, size} → {to, sent, received, samples: [{seq,
//                                      sentAtMs, rttMs | null}]}: echo requests forwarded hop by hop through the mesh
//   POST /mesh/token                 {ttlMs} → {token, expiresAt, bundleSha256, server} (on the mesh CA node only)
//   GET  /metrics                    → Prometheus text exposition format 0.0.4
//
// Beside the plain listener (loopback by default) the same API can be served over HTTPS with mutual TLS on the
// node's X.509-SVID (`listen.adminMtls`): a client must present an SVID of the node's trust domain, or the TLS
// handshake fails.
//
// Every failure is JSON `{error: {code, message, details}}` with an HTTP status chosen by the error's class.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SecureContextOptions, TLSSocket } from 'node:tls';
import { isAbsolute, resolve } from 'node:path';
import type { Endpoint } from '../core/manifest/index.js';
import {
  asX0tError, InputLimitError, IoError, KbConfigError, SlotUnavailableError, UsageError, type X0tError,
} from '../errors/index.js';
import type { SearchMode } from '../kb/knowledge-base.js';
import type { PluginHost } from '../runtime/plugin-host.js';
import type { SlotInfo } from '../runtime/slot.js';
import type { NodeDriver } from './node-driver.js';
import type { MeshService } from './mesh/mesh-service.js';
import { parsePingRequest } from './mesh/ping-tracker.js';
import { notReady, type KnowledgeStatus, type NodeKnowledge } from './node-knowledge.js';
import { familyLines, type MetricType } from './prometheus-text.js';

/** Largest JSON request body the API reads (the swap request is a path). */
const MAX_JSON_BODY = 64 * 1024;
/** How much of an oversized body is read and thrown away so the client can read the 413 (see readBody). */
const DRAIN_LIMIT = 16 * 1024 * 1024;

/** HTTP status for each error code; anything unlisted is a 500. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  X0T_USAGE: 400,
  X0T_CODEC: 400,
  X0T_MANIFEST_INVALID: 422,
  X0T_IO: 422,
  X0T_HASH_MISMATCH: 422,
  X0T_MODULE_INVALID: 422,
  X0T_IMPORT_NOT_PERMITTED: 422,
  X0T_ABI_INCOMPATIBLE: 422,
  X0T_CAPABILITY_MISMATCH: 422,
  X0T_SELFTEST_FAILED: 422,
  X0T_SIGNATURE: 422,
  X0T_CRYPTO_INPUT: 422,
  X0T_POLICY_REFUSED: 403,
  X0T_PLUGIN_ERROR: 422,
  X0T_FUNCTION_NOT_FOUND: 404,
  X0T_SLOT_UNAVAILABLE: 404,
  X0T_PLUGIN_INPUT_LIMIT: 413,
  X0T_SWAP_REJECTED: 409,
  X0T_PLUGIN_TRAP: 502,
  X0T_PLUGIN_MEMORY_LIMIT: 502,
  X0T_PLUGIN_OUTPUT_LIMIT: 502,
  X0T_PLUGIN_MALFORMED_OUTPUT: 502,
  X0T_PLUGIN_CLOSED: 503,
  X0T_PLUGIN_TIMEOUT: 504,
  X0T_UNSUPPORTED: 501,
  X0T_KB_CONFIG: 422,
  X0T_KB_INGEST: 422,
  X0T_KB_INDEX_CORRUPT: 500,
  X0T_MODEL_UNAVAILABLE: 503,
  X0T_MODEL_RUNTIME: 500,
  X0T_DRIVER: 500,
  X0T_INTERNAL: 500,
  X0T_SESSION: 502,
  X0T_IDENTITY: 403,
  X0T_ROUTING: 503,
};

export function httpStatusOf(error: X0tError): number {
  return STATUS_BY_CODE[error.code] ?? 500;
}

/** A failure with an HTTP status other than its class's (unknown route, wrong method). */
class HttpFailure {
  constructor(readonly status: number, readonly error: X0tError, readonly headers: Record<string, string> = {}) {}
}

export interface AdminServerOptions {
  readonly host: PluginHost;
  /** The node's knowledge base, served under /kb; null or absent when the node has none. */
  readonly knowledge?: NodeKnowledge | null;
  /** The node's packet driver, served under /driver; null or absent when the server has none. */
  readonly driver?: NodeDriver | null;
  /** Where to listen; port 0 picks a free port. */
  readonly listen: Pick<Endpoint, 'host' | 'port'>;
  /** Relative manifest paths in swap requests are resolved against this folder (default: the process's cwd). */
  readonly baseDir?: string;
  /** The node's mesh, served under /mesh; null or absent when the node runs none. */
  readonly mesh?: MeshService | null;
  /**
   * A second listener: HTTPS with mutual TLS. `tls()` is read at start and again every `refreshMs` (the SVID rotates);
   * `authorize` decides on a client whose certificate chain verified against the bundle (e.g. same trust domain).
   */
  readonly mtls?: AdminMtlsOptions | null;
  /** Told about each swap made through the API. */
  readonly onSwap?: (slot: string, manifest: string, outcome: { ok: true } | { ok: false; code: string }) => void;
}

export interface AdminMtlsOptions {
  readonly listen: Pick<Endpoint, 'host' | 'port'>;
  readonly tls: () => Pick<SecureContextOptions, 'key' | 'cert' | 'ca'>;
  readonly authorize: (socket: TLSSocket) => boolean;
  /** Subscribes to SVID rotations (the certificate is re-read at once); returns the unsubscribe function. */
  readonly onRotated?: (update: () => void) => () => void;
  /** How often the server certificate is re-read besides; default 60 s. */
  readonly refreshMs?: number;
}

export class AdminServer {
  readonly #server: Server;
  #tlsServer: HttpsServer | null = null;
  #tlsAddress: AddressInfo | null = null;
  #tlsRefresh: NodeJS.Timeout | null = null;
  #tlsUnsubscribe: (() => void) | null = null;
  readonly #opts: AdminServerOptions;
  readonly #started = Date.now();
  #address: AddressInfo | null = null;

  private constructor(opts: AdminServerOptions) {
    this.#opts = opts;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((e: unknown) => this.#sendError(res, asX0tError(e)));
    });
    // A slow or idle client must not keep the node from stopping.
    this.#server.keepAliveTimeout = 1_000;
    this.#server.requestTimeout = 60_000;
  }

  /** Binds and starts serving; rejects with IoError when the address cannot be bound. */
  static async start(opts: AdminServerOptions): Promise<AdminServer> {
    const admin = new AdminServer(opts);
    const { host, port } = opts.listen;
    await new Promise<void>((resolveListen, reject) => {
      const onError = (e: NodeJS.ErrnoException): void => {
        reject(new IoError(`admin API cannot listen on ${formatHostPort(host, port)}: ${e.code ?? e.message}`, {
          host, port, code: e.code ?? null,
        }, { cause: e }));
      };
      admin.#server.once('error', onError);
      admin.#server.listen({ host, port }, () => {
        admin.#server.off('error', onError);
        resolveListen();
      });
    });
    admin.#address = admin.#server.address() as AddressInfo;
    if (opts.mtls) {
      try {
        await admin.#startMtls(opts.mtls);
      } catch (e) {
        await admin.close();
        throw e;
      }
    }
    return admin;
  }

  async #startMtls(m: AdminMtlsOptions): Promise<void> {
    const server = createHttpsServer({ ...m.tls(), requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (req, res) => {
      // The chain verified against the bundle during the handshake; the SPIFFE id decides the rest.
      if (!m.authorize(req.socket as TLSSocket)) {
        this.#sendError(res, new UsageError('this client certificate is not an SVID this node serves', { path: 'tls' }), 403);
        return;
      }
      this.#handle(req, res).catch((e: unknown) => this.#sendError(res, asX0tError(e)));
    });
    server.keepAliveTimeout = 1_000;
    server.requestTimeout = 60_000;
    const { host, port } = m.listen;
    await new Promise<void>((resolveListen, reject) => {
      const onError = (e: NodeJS.ErrnoException): void => {
        reject(new IoError(`admin mTLS API cannot listen on ${formatHostPort(host, port)}: ${e.code ?? e.message}`, {
          host, port, code: e.code ?? null,
        }, { cause: e }));
      };
      server.once('error', onError);
      server.listen({ host, port }, () => {
        server.off('error', onError);
        resolveListen();
      });
    });
    this.#tlsServer = server;
    this.#tlsAddress = server.address() as AddressInfo;
    const refresh = (): void => {
      try {
        server.setSecureContext({ ...m.tls(), minVersion: 'TLSv1.3' });
      } catch {
        // Keep serving on the previous certificate until the next refresh.
      }
    };
    this.#tlsRefresh = setInterval(refresh, m.refreshMs ?? 60_000);
    this.#tlsRefresh.unref();
    this.#tlsUnsubscribe = m.onRotated?.(refresh) ?? null;
  }

  /** Base URL of the mutual-TLS listener; null when there is none. */
  get mtlsUrl(): string | null {
    const a = this.#tlsAddress;
    return a === null ? null : `https://${formatHostPort(a.address, a.port)}`;
  }

  /** The bound address (the real port when 0 was asked for). */
  get address(): { host: string; port: number } {
    const a = this.#address!;
    return { host: a.address, port: a.port };
  }

  /** Base URL of the API, e.g. `http://127.0.0.1:9470`. */
  get url(): string {
    const { host, port } = this.address;
    return `http://${formatHostPort(host, port)}`;
  }

  async close(): Promise<void> {
    if (this.#tlsRefresh !== null) clearInterval(this.#tlsRefresh);
    this.#tlsRefresh = null;
    this.#tlsUnsubscribe?.();
    this.#tlsUnsubscribe = null;
    const tls = this.#tlsServer;
    this.#tlsServer = null;
    if (tls?.listening) {
      const closed = new Promise<void>((r) => tls.close(() => r()));
      tls.closeAllConnections();
      await closed;
    }
    if (!this.#server.listening) return;
    const closed = new Promise<void>((r) => this.#server.close(() => r()));
    this.#server.closeIdleConnections();
    // Give requests in flight a moment, then cut whatever is left.
    const timer = setTimeout(() => this.#server.closeAllConnections(), 2_000);
    timer.unref();
    await closed;
    clearTimeout(timer);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeSegment);
    const method = req.method ?? 'GET';
    try {
      if (parts.length === 1 && parts[0] === 'healthz') {
        allow(method, ['GET', 'HEAD']);
        return this.#sendJson(res, 200, this.#health());
      }
      if (parts.length === 1 && parts[0] === 'metrics') {
        allow(method, ['GET', 'HEAD']);
        return this.#send(res, 200, 'text/plain; version=0.0.4; charset=utf-8', Buffer.from(this.metrics(), 'utf8'));
      }
      if (parts[0] === 'kb' && parts.length <= 2) {
        if (parts.length === 1) {
          allow(method, ['GET', 'HEAD']);
          return this.#sendJson(res, 200, this.#knowledge().status());
        }
        if (parts[1] === 'search') {
          allow(method, ['GET', 'HEAD']);
          return this.#sendJson(res, 200, await this.#kbSearch(url.searchParams));
        }
      }
      if (parts[0] === 'driver') {
        const answer = await this.#driverRoute(req, method, parts);
        if (answer !== undefined) return this.#sendJson(res, 200, answer);
      }
      if (parts[0] === 'mesh') {
        const answer = await this.#meshRoute(req, method, parts);
        if (answer !== undefined) return this.#sendJson(res, 200, answer);
      }
      if (parts[0] === 'slots') {
        if (parts.length === 1) {
          allow(method, ['GET', 'HEAD']);
          // The node's name and trust domain only: its identity section may hold a join token and file paths.
          const info = this.#opts.host.info();
          return this.#sendJson(res, 200, { ...info, node: { name: info.node.name, trustDomain: info.node.trustDomain } });
        }
        const name = parts[1]!;
        if (parts.length === 2) {
          allow(method, ['GET', 'HEAD']);
          return this.#sendJson(res, 200, this.#slot(name).info());
        }
        if (parts.length === 3 && parts[2] === 'swap') {
          allow(method, ['POST']);
          return this.#sendJson(res, 200, await this.#swap(name, await readJson(req)));
        }
        if (parts.length === 4 && parts[2] === 'call') {
          allow(method, ['POST']);
          return await this.#call(req, res, name, parts[3]!);
        }
      }
      throw new HttpFailure(404, new UsageError(`no such endpoint: ${method} ${url.pathname}`, { method, path: url.pathname }));
    } catch (e) {
      if (e instanceof HttpFailure) return this.#sendError(res, e.error, e.status, e.headers);
      throw e;
    }
  }

  #health(): Record<string, unknown> {
    const info = this.#opts.host.info();
    return {
      status: 'ok',
      node: info.node.name,
      slots: info.slots.map((s) => s.name),
      uptimeSeconds: Math.round((Date.now() - this.#started) / 1000),
    };
  }

  #slot(name: string) {
    const slot = this.#opts.host.slots.get(name);
    if (!slot) {
      throw new SlotUnavailableError(`this node has no slot ${name}`, { slot: name, slots: [...this.#opts.host.slots.keys()] });
    }
    return slot;
  }

  #knowledge(): NodeKnowledge {
    const k = this.#opts.knowledge;
    if (!k) {
      throw new HttpFailure(404, new KbConfigError('this node has no knowledge base (the node manifest has no `knowledge` section)', {
        path: 'knowledge',
      }));
    }
    return k;
  }

  #driver(): NodeDriver {
    const d = this.#opts.driver;
    if (!d) throw new HttpFailure(404, new UsageError('this admin API serves no packet driver', { path: 'driver' }));
    return d;
  }

  /** The /driver endpoints; undefined for a path under /driver that is none of them (a 404). */
  async #driverRoute(req: IncomingMessage, method: string, parts: readonly string[]): Promise<unknown> {
    if (parts.length === 1) {
      allow(method, ['GET', 'HEAD']);
      return this.#driver().report();
    }
    if (parts.length === 2 && parts[1] === 'links') {
      allow(method, ['GET', 'HEAD']);
      return this.#driver().links.report();
    }
    if (parts.length === 2 && parts[1] === 'peers') {
      allow(method, ['GET', 'HEAD']);
      return { peers: this.#driver().peers() };
    }
    if (parts.length === 2 && parts[1] === 'quarantine') {
      allow(method, ['GET', 'HEAD', 'POST']);
      const d = this.#driver();
      if (method !== 'POST') return { quarantine: d.quarantineList() };
      const address = (await readJson(req) as { address?: unknown } | null)?.address;
      if (typeof address !== 'string' || address === '') {
        throw new UsageError('the quarantine request needs {"address": "<IPv4 or IPv6 address>"}', { path: 'address' });
      }
      return d.quarantineAdd(address);
    }
    if (parts.length === 3 && parts[1] === 'quarantine') {
      allow(method, ['DELETE']);
      const result = this.#driver().quarantineDelete(parts[2]!);
      if (!result.removed) {
        throw new HttpFailure(404, new UsageError(`${result.address} is not quarantined`, { path: 'address', value: result.address }));
      }
      return result;
    }
    return undefined;
  }

  #mesh(): MeshService {
    const m = this.#opts.mesh;
    if (!m) throw new HttpFailure(404, new UsageError('this node runs no mesh (its manifest has no listen.mesh address)', { path: 'mesh' }));
    return m;
  }

  /** The /mesh endpoints; undefined for a path under /mesh that is none of them (a 404). */
  async #meshRoute(req: IncomingMessage, method: string, parts: readonly string[]): Promise<unknown> {
    if (parts.length === 1) {
      allow(method, ['GET', 'HEAD']);
      return this.#mesh().status();
    }
    if (parts.length !== 2) return undefined;
    switch (parts[1]) {
      case 'routes':
        allow(method, ['GET', 'HEAD']);
        return this.#mesh().routes();
      case 'sessions':
        allow(method, ['GET', 'HEAD']);
        return { sessions: this.#mesh().sessions() };
      case 'batman':
        allow(method, ['GET', 'HEAD']);
        return this.#mesh().batman();
      case 'ping': {
        allow(method, ['POST']);
        const mesh = this.#mesh();
        return mesh.ping(parsePingRequest(await readJson(req)));
      }
      case 'token': {
        allow(method, ['POST']);
        const mesh = this.#mesh();
        const ttl = (await readJson(req) as { ttlMs?: unknown } | null)?.ttlMs ?? 3_600_000;
        if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1000 || ttl > 7 * 86_400_000) {
          throw new UsageError('ttlMs must be an integer from 1000 (1 s) to 604800000 (7 days)', { path: 'ttlMs', value: ttl as never });
        }
        return mesh.createJoinToken(ttl);
      }
      default:
        return undefined;
    }
  }

  async #kbSearch(params: URLSearchParams): Promise<unknown> {
    const k = this.#knowledge();
    const q = params.get('q');
    if (q === null || q.trim() === '') throw new UsageError('GET /kb/search needs a query: ?q=…', { path: 'q' });
    const kText = params.get('k');
    const kNum = kText === null ? undefined : /^\d{1,4}$/.test(kText) ? Number(kText) : NaN;
    if (kNum !== undefined && Number.isNaN(kNum)) throw new UsageError(`k must be a positive integer, got ${JSON.stringify(kText)}`, { path: 'k', value: kText });
    const mode = params.get('mode') ?? undefined;
    const status = k.status();
    // Checked before searching so that a node still ingesting answers at once instead of queueing behind the ingest.
    if (status.state !== 'ready') throw new HttpFailure(503, notReady(status), { 'retry-after': status.state === 'failed' ? '60' : '2' });
    try {
      return await k.search({ query: q, ...(kNum !== undefined ? { k: kNum } : {}), ...(mode !== undefined ? { mode: mode as SearchMode } : {}) });
    } catch (e) {
      // The knowledge base may have stopped being ready between the check and the search (the node is stopping).
      if (e instanceof KbConfigError && k.state !== 'ready') throw new HttpFailure(503, e);
      throw e;
    }
  }

  async #swap(name: string, body: unknown): Promise<unknown> {
    this.#slot(name);
    const manifest = (body as { manifest?: unknown } | null)?.manifest;
    if (typeof manifest !== 'string' || manifest === '') {
      throw new UsageError('the swap request needs {"manifest": "<path of a plugin manifest>"}', { path: 'manifest' });
    }
    const file = isAbsolute(manifest) ? manifest : resolve(this.#opts.baseDir ?? process.cwd(), manifest);
    try {
      const record = await this.#opts.host.swapSlot(name, file);
      this.#opts.onSwap?.(name, file, { ok: true });
      return record;
    } catch (e) {
      const err = asX0tError(e);
      this.#opts.onSwap?.(name, file, { ok: false, code: err.code });
      throw err;
    }
  }

  async #call(req: IncomingMessage, res: ServerResponse, name: string, fn: string): Promise<void> {
    const slot = this.#slot(name);
    const limit = slot.spec.limits.maxInputBytes;
    const input = await readBody(req, limit, () => new InputLimitError(
      `input is over slot ${name}'s limit of ${limit} bytes`, { slot: name, limit },
    ));
    const out = await slot.call(fn, input);
    this.#send(res, 200, 'application/octet-stream', out);
  }

  /**
   * The Prometheus text exposition (format 0.0.4) of every slot, of the knowledge base when the node has one, of
   * the packet driver when the server has one, and of the mesh when the node runs one.
   */
  metrics(): string {
    return renderMetrics(this.#opts.host.info().slots, this.#opts.knowledge?.status() ?? null) + (this.#opts.driver?.metrics() ?? '') +
      (this.#opts.mesh?.metrics() ?? '');
  }

  #sendJson(res: ServerResponse, status: number, body: unknown): void {
    this.#send(res, status, 'application/json; charset=utf-8', Buffer.from(JSON.stringify(body) + '\n', 'utf8'));
  }

  #send(res: ServerResponse, status: number, type: string, body: Uint8Array, headers: Record<string, string> = {}): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(status, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-store', ...headers });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  #sendError(res: ServerResponse, error: X0tError, status = httpStatusOf(error), headers: Record<string, string> = {}): void {
    const body = Buffer.from(JSON.stringify({ error: error.toJSON() }) + '\n', 'utf8');
    // A request body we stopped reading cannot be left in the socket for the next request.
    if (!res.req.complete) headers = { ...headers, connection: 'close' };
    this.#send(res, status, 'application/json; charset=utf-8', body, headers);
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new HttpFailure(400, new UsageError(`malformed URL segment ${JSON.stringify(s)}`));
  }
}

function allow(method: string, methods: readonly string[]): void {
  if (!methods.includes(method)) {
    throw new HttpFailure(405, new UsageError(`method ${method} is not allowed here (allowed: ${methods.join(', ')})`, {
      method, allowed: methods,
    }), { allow: methods.join(', ') });
  }
}

function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * Reads a request body of at most `limit` bytes. A larger body is read to its end and discarded (so that the
 * client, still sending, gets to read the refusal) up to DRAIN_LIMIT bytes past the limit; beyond that the
 * request is refused at once and the connection closed. Either way it rejects with `tooLarge()` (HTTP 413).
 */
function readBody(req: IncomingMessage, limit: number, tooLarge: () => X0tError): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit + DRAIN_LIMIT) return Promise.reject(new HttpFailure(413, tooLarge()));
  return new Promise((resolveBody, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      chunks = [];
      if (size > limit + DRAIN_LIMIT) {
        req.off('data', onData);
        req.pause();
        reject(new HttpFailure(413, tooLarge()));
      }
    };
    req.on('data', onData);
    req.once('end', () => {
      if (size <= limit) resolveBody(new Uint8Array(Buffer.concat(chunks, size)));
      else reject(new HttpFailure(413, tooLarge()));
    });
    req.once('error', (e) => reject(new IoError(`reading the request failed: ${e.message}`, {}, { cause: e })));
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, MAX_JSON_BODY, () => new UsageError(`a JSON request body is limited to ${MAX_JSON_BODY} bytes`));
  try {
    return JSON.parse(Buffer.from(body).toString('utf8'));
  } catch (e) {
    throw new HttpFailure(400, new UsageError(`the request body is not valid JSON: ${(e as Error).message}`));
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Prometheus text exposition format 0.0.4, written by hand.

interface Family {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly samples: (s: SlotInfo) => readonly { labels?: Record<string, string>; value: number | null }[];
}

const FAMILIES: readonly Family[] = [
  {
    name: 'x0t_slot_calls_total', type: 'counter', help: 'Calls routed through the slot since the node started.',
    samples: (s) => [{ value: s.calls }],
  },
  {
    name: 'x0t_slot_errors_total', type: 'counter', help: 'Slot calls that ended in an error since the node started.',
    samples: (s) => [{ value: s.errors }],
  },
  {
    name: 'x0t_slot_restarts_total', type: 'counter',
    help: 'Sandbox restarts (after a trap, timeout or memory fault) of the plugin versions the slot holds.',
    samples: (s) => [{ value: s.restarts }],
  },
  {
    // Seconds, the Prometheus base unit (promtool's lint refuses abbreviated units such as _ms).
    name: 'x0t_slot_latency_seconds', type: 'summary',
    help: 'Call latency in seconds over the slot\'s most recent calls (NaN before the first call).',
    samples: (s) => [
      { labels: { quantile: '0.5' }, value: s.latencyMs.p50 === null ? null : s.latencyMs.p50 / 1000 },
      { labels: { quantile: '0.99' }, value: s.latencyMs.p99 === null ? null : s.latencyMs.p99 / 1000 },
    ],
  },
  {
    name: 'x0t_slot_info', type: 'gauge', help: 'The plugin version serving the slot (always 1).',
    samples: (s) => [{
      labels: { plugin: s.plugin.name, version: s.plugin.version, sha256: s.plugin.sha256, isolation: s.plugin.isolation },
      value: 1,
    }],
  },
];

/** The knowledge-base families: unlabelled, one sample each; sizes are NaN until the knowledge base is open. */
const KB_FAMILIES: readonly { name: string; type: 'counter' | 'gauge'; help: string; value: (k: KnowledgeStatus) => number | null }[] = [
  { name: 'x0t_kb_documents', type: 'gauge', help: 'Documents in the node\'s knowledge base.', value: (k) => k.stats?.documents ?? null },
  { name: 'x0t_kb_chunks', type: 'gauge', help: 'Chunks in the node\'s knowledge base.', value: (k) => k.stats?.chunks ?? null },
  { name: 'x0t_kb_searches_total', type: 'counter', help: 'Knowledge-base searches answered since the node started.', value: (k) => k.searches },
];

export function renderMetrics(slots: readonly SlotInfo[], knowledge: KnowledgeStatus | null = null): string {
  const lines: string[] = [];
  for (const f of FAMILIES) {
    lines.push(...familyLines(f.name, f.type, f.help, slots.flatMap((s) =>
      f.samples(s).map((sample) => ({ labels: { slot: s.name, capability: s.capability, ...sample.labels }, value: sample.value })))));
  }
  if (knowledge) for (const f of KB_FAMILIES) lines.push(...familyLines(f.name, f.type, f.help, [{ value: f.value(knowledge) }]));
  return lines.join('\n') + '\n';
}
