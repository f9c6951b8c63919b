// The joining node's side of the identity server: fetch the bundle and check it against the pinned CA certificate
// SHA-256 (SPIRE-style bootstrap: the bundle is fetched without TLS verification, then trusted only if the pin
// matches), redeem a join token over server-authenticated TLS, renew over mTLS with the current SVID.
import { request as httpsRequest } from 'node:https';
import { fromBase64 } from '../crypto/base64.js';
import { errorFromWire, IdentityError } from '../errors/index.js';
import { identityError } from './identity-error.js';
import { mtlsClientOptions } from './mtls.js';
import type { SvidAuthority } from './node-identity.js';
import type { Svid } from './svid.js';
import { svidRequestToJson, type SvidRequest } from './svid-request.js';
import { TrustBundle } from './trust-bundle.js';

const MAX_RESPONSE = 256 * 1024;

export interface IdentityClientOptions {
  /** https://host:port of the CA node's identity server. */
  readonly server: string;
  readonly trustDomain: string;
  /** SHA-256 (hex) of a CA certificate the bundle must contain (`x0t mesh token create` prints it). */
  readonly bundleSha256: string;
  readonly timeoutMs?: number;
}

interface Issued { chain: Uint8Array[]; bundle: TrustBundle }

export class IdentityClient {
  readonly #o: IdentityClientOptions;
  #bundle: TrustBundle | null = null;

  constructor(o: IdentityClientOptions) {
    if (!/^[0-9a-fA-F]{64}$/.test(o.bundleSha256)) throw identityError('bundle', 'the pinned bundle SHA-256 must be 64 hex characters');
    this.#o = o;
  }

  async #call(method: 'GET' | 'POST', path: string, body: unknown, tls: object): Promise<Record<string, unknown>> {
    const url = new URL(path, this.#o.server);
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((ok, fail) => {
      const req = httpsRequest(url, {
        method, ...tls, timeout: this.#o.timeoutMs ?? 10_000,
        headers: text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_RESPONSE) req.destroy(identityError('unavailable', 'the identity server answer is too large'));
          else chunks.push(c);
        });
        res.on('end', () => {
          let json: Record<string, unknown>;
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          } catch {
            fail(identityError('unavailable', `the identity server answered ${res.statusCode} without JSON`));
            return;
          }
          if (res.statusCode === 200) ok(json);
          else {
            const err = json['error'] as { code?: unknown; message?: unknown; details?: unknown } | undefined;
            fail(typeof err?.code === 'string' && err.code === 'X0T_IDENTITY'
              ? errorFromWire({ code: err.code, message: String(err.message), details: (err.details ?? {}) as Record<string, unknown> })
              : identityError('unavailable', `the identity server answered ${res.statusCode}: ${String(err?.message ?? '')}`, { status: res.statusCode }));
          }
        });
        res.on('error', fail);
      });
      req.on('timeout', () => req.destroy(identityError('unavailable', `no answer from ${url.origin} in time`)));
      req.on('error', (e) => fail(e instanceof IdentityError ? e : identityError('unavailable', `cannot reach ${url.origin}: ${e.message}`, {}, e)));
      req.end(text);
    });
  }

  #readBundle(pem: unknown): TrustBundle {
    if (typeof pem !== 'string') throw identityError('malformed', 'the answer carries no bundle');
    const bundle = TrustBundle.fromPem(this.#o.trustDomain, pem);
    if (!bundle.matchesPin(this.#o.bundleSha256)) {
      throw identityError('bundle', `the trust bundle from ${this.#o.server} does not contain the pinned CA ${this.#o.bundleSha256}`);
    }
    return bundle;
  }

  /** The mesh's trust bundle: the first time fetched unverified and checked against the pin, later over verified TLS. */
  async bundle(): Promise<TrustBundle> {
    const tls = this.#bundle === null ? { rejectUnauthorized: false } : mtlsClientOptions(null, this.#bundle);
    const j = await this.#call('GET', '/v1/bundle', undefined, tls);
    this.#bundle = this.#readBundle(j['bundle']);
    return this.#bundle;
  }

  #issued(j: Record<string, unknown>): Issued {
    const chain = Array.isArray(j['chain']) ? j['chain'].map((c) => fromBase64(c)) : [];
    if (chain.length === 0 || chain.some((c) => c === null)) throw identityError('malformed', 'the answer carries no certificate chain');
    this.#bundle = this.#readBundle(j['bundle']);
    return { chain: chain as Uint8Array[], bundle: this.#bundle };
  }

  async attest(token: string, request: SvidRequest): Promise<Issued> {
    const bundle = this.#bundle ?? (await this.bundle());
    return this.#issued(await this.#call('POST', '/v1/attest', { token, request: svidRequestToJson(request) }, mtlsClientOptions(null, bundle)));
  }

  async renew(current: Svid, request: SvidRequest): Promise<Issued> {
    const bundle = this.#bundle ?? (await this.bundle());
    return this.#issued(await this.#call('POST', '/v1/renew', { request: svidRequestToJson(request) }, mtlsClientOptions(current, bundle)));
  }
}

/** SvidAuthority for a node that joins with a token and renews over mTLS. */
export function remoteAuthority(o: IdentityClientOptions & { readonly token: string | null }): SvidAuthority {
  const client = new IdentityClient(o);
  return {
    bundle: () => client.bundle(),
    obtain: async (request) => {
      if (o.token === null) throw identityError('token', 'this node holds no valid SVID and has no join token');
      return (await client.attest(o.token, request)).chain;
    },
    renew: async (current, request) => (await client.renew(current, request)).chain,
  };
}
