// The CA node's identity endpoint (HTTPS on its own port, served with the CA node's own SVID):
//   GET  /v1/bundle   → {trustDomain, bundle: PEM}                      (a joiner checks it against its pin)
//   POST /v1/attest   {token, request} → {chain: [base64 DER], bundle}  (server-authenticated TLS; the join token
//                                                                        and the request's proofs authenticate the node)
//   POST /v1/renew    {request} → {chain, bundle}                       (mTLS: the client's current SVID is the
//                                                                        credential; its fingerprint must be the request's)
// Errors: {error: {code, message, details}} with 400 (malformed), 401 (no client SVID), 403 (refused), 404, 413, 500.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { toBase64 } from '../crypto/base64.js';
import { isX0tError } from '../errors/index.js';
import { identityError, refusalOf } from './identity-error.js';
import type { MeshCa } from './mesh-ca.js';
import { followRotation, mtlsServerOptions, peerCertificateDer } from './mtls.js';
import type { NodeIdentity } from './node-identity.js';
import { svidRequestFromJson } from './svid-request.js';

const MAX_BODY = 64 * 1024;

export interface IdentityServerOptions {
  readonly ca: MeshCa;
  /** The CA node's own identity: its SVID is the server certificate. */
  readonly identity: NodeIdentity;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
}

class HttpRefusal extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new HttpRefusal(413, `request body over ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw identityError('malformed', 'the request body is not JSON');
  }
}

function statusOf(e: unknown): number {
  if (e instanceof HttpRefusal) return e.status;
  const reason = refusalOf(e);
  if (reason === 'malformed') return 400;
  if (reason === 'unauthorized') return (e as { details: { status?: unknown } }).details.status === 401 ? 401 : 403;
  return reason === null ? 500 : 403;
}

export class IdentityServer {
  readonly #server: Server;
  readonly #unfollow: () => void;
  readonly host: string;
  readonly port: number;

  private constructor(server: Server, unfollow: () => void, host: string, port: number) {
    this.#server = server;
    this.#unfollow = unfollow;
    this.host = host;
    this.port = port;
  }

  get url(): string {
    return `https://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  static async start(o: IdentityServerOptions): Promise<IdentityServer> {
    const server = createServer(mtlsServerOptions(o.identity, () => o.ca.bundle(), { requireClientCert: false }), (req, res) => {
      void handle(o, req, res);
    });
    const unfollow = followRotation(server, o.identity, () => o.ca.bundle());
    const host = o.host ?? '127.0.0.1';
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(o.port ?? 0, host, () => {
        server.off('error', fail);
        ok();
      });
    });
    return new IdentityServer(server, unfollow, host, (server.address() as AddressInfo).port);
  }

  async close(): Promise<void> {
    this.#unfollow();
    this.#server.closeAllConnections();
    await new Promise<void>((ok) => this.#server.close(() => ok()));
  }
}

async function handle(o: IdentityServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const send = (status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const issued = (chain: readonly Uint8Array[]) => ({ chain: chain.map(toBase64), bundle: o.ca.bundle().toPem(), trustDomain: o.ca.trustDomain });
  try {
    const route = `${req.method ?? ''} ${(req.url ?? '').split('?')[0]}`;
    if (route === 'GET /v1/bundle') {
      send(200, { trustDomain: o.ca.trustDomain, bundle: o.ca.bundle().toPem() });
    } else if (route === 'POST /v1/attest') {
      const body = (await readJson(req)) as { token?: unknown; request?: unknown } | null;
      if (typeof body?.token !== 'string') throw identityError('malformed', 'the attest body needs a token string');
      send(200, issued(await o.ca.attest(body.token, svidRequestFromJson(body.request))));
    } else if (route === 'POST /v1/renew') {
      const leaf = peerCertificateDer(req.socket as TLSSocket);
      if (leaf === null) throw identityError('unauthorized', 'renewal needs mTLS with the current SVID', { status: 401 });
      const body = (await readJson(req)) as { request?: unknown } | null;
      // The CA re-verifies the presented certificate against its bundle and the fingerprint against the request.
      send(200, issued(await o.ca.renew([leaf], svidRequestFromJson(body?.request))));
    } else {
      throw new HttpRefusal(404, `no route ${route}`);
    }
  } catch (e) {
    const status = statusOf(e);
    const error = isX0tError(e) ? e.toJSON() : { code: 'X0T_HTTP', message: (e as Error).message, details: { status } };
    if (!res.headersSent) send(status, { error });
    else res.destroy();
  }
}
