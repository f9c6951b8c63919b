// The SPIFFE Workload API (X.509 part) on a unix socket, so standard SPIFFE clients (go-spiffe's workloadapi, SPIRE
// tooling) can fetch this node's SVID and bundle:
//   SpiffeWorkloadAPI.FetchX509SVID     server stream: the current SVID (chain DER concatenated, PKCS#8 key DER, the
//                                       trust bundle DER concatenated), a new message after every rotation;
//   SpiffeWorkloadAPI.FetchX509Bundles  server stream: {trust domain id → bundle DER}, again after every rotation.
// Requests must carry the metadata `workload.spiffe.io: true` (Workload API spec §4); others get InvalidArgument.
// Caller attestation is by file permission only: the socket is 0600, so only the node's user can fetch (a SPIRE
// agent would attest each caller's PID instead and could hand different SVIDs to different workloads).
import { chmod, rm } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { NodeIdentity } from './node-identity.js';
import { identityError } from './identity-error.js';
import { trustDomainId } from './spiffe-id.js';

// The messages and service of the Workload API spec (workload.proto has no package), as a protobuf.js descriptor.
const WORKLOAD_PROTO = {
  nested: {
    X509SVIDRequest: { fields: {} },
    X509SVIDResponse: {
      fields: {
        svids: { rule: 'repeated', type: 'X509SVID', id: 1 },
        crl: { rule: 'repeated', type: 'bytes', id: 2 },
        federated_bundles: { keyType: 'string', type: 'bytes', id: 3 },
      },
    },
    X509SVID: {
      fields: {
        spiffe_id: { type: 'string', id: 1 },
        x509_svid: { type: 'bytes', id: 2 },
        x509_svid_key: { type: 'bytes', id: 3 },
        bundle: { type: 'bytes', id: 4 },
        hint: { type: 'string', id: 5 },
      },
    },
    X509BundlesRequest: { fields: {} },
    X509BundlesResponse: {
      fields: {
        crl: { rule: 'repeated', type: 'bytes', id: 1 },
        bundles: { keyType: 'string', type: 'bytes', id: 2 },
      },
    },
    SpiffeWorkloadAPI: {
      methods: {
        FetchX509SVID: { requestType: 'X509SVIDRequest', responseType: 'X509SVIDResponse', responseStream: true },
        FetchX509Bundles: { requestType: 'X509BundlesRequest', responseType: 'X509BundlesResponse', responseStream: true },
      },
    },
  },
};

export const WORKLOAD_HEADER = 'workload.spiffe.io';

/** The SpiffeWorkloadAPI service (X.509 methods) for grpc-js servers and clients. */
export function workloadServiceDefinition(): grpc.ServiceDefinition {
  const pkg = protoLoader.fromJSON(WORKLOAD_PROTO as unknown as Parameters<typeof protoLoader.fromJSON>[0], { keepCase: true, defaults: true });
  return pkg['SpiffeWorkloadAPI'] as unknown as grpc.ServiceDefinition;
}

const concat = (parts: readonly Uint8Array[]): Buffer => Buffer.concat(parts.map((p) => Buffer.from(p)));

type Stream = grpc.ServerWritableStream<unknown, unknown>;

export class WorkloadApiServer {
  readonly #server: grpc.Server;
  readonly #unsubscribe: () => void;
  /** `unix:///…` address SPIFFE clients take (SPIFFE_ENDPOINT_SOCKET). */
  readonly address: string;

  private constructor(server: grpc.Server, address: string, unsubscribe: () => void) {
    this.#server = server;
    this.address = address;
    this.#unsubscribe = unsubscribe;
  }

  /** Serves `identity` on a new unix socket at `socketPath` (an existing file there is replaced). */
  static async start(identity: NodeIdentity, socketPath: string): Promise<WorkloadApiServer> {
    const server = new grpc.Server();
    /** Open streams, each with the function that sends it the current state. */
    const streams = new Map<Stream, () => void>();
    const svidMessage = () => {
      const s = identity.current();
      return {
        svids: [{
          spiffe_id: s.spiffeId,
          x509_svid: concat(s.chain),
          x509_svid_key: pkcs8Der(s.privateKeyPem),
          bundle: concat(identity.bundle().certificates),
          hint: '',
        }],
        crl: [],
        federated_bundles: {},
      };
    };
    const bundlesMessage = () => ({ crl: [], bundles: { [trustDomainId(identity.trustDomain)]: concat(identity.bundle().certificates) } });
    const stream = (message: () => unknown) => (call: Stream) => {
      if (call.metadata.get(WORKLOAD_HEADER)[0] !== 'true') {
        call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: `security header missing from request (${WORKLOAD_HEADER}: true)` });
        return;
      }
      const send = (): void => {
        call.write(message());
      };
      streams.set(call, send);
      call.on('cancelled', () => streams.delete(call));
      call.on('close', () => streams.delete(call));
      send();
    };
    server.addService(workloadServiceDefinition(), { FetchX509SVID: stream(svidMessage), FetchX509Bundles: stream(bundlesMessage) });
    await rm(socketPath, { force: true });
    const address = `unix://${socketPath}`;
    await new Promise<void>((ok, fail) => server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (e) => (e ? fail(e) : ok())));
    await chmod(socketPath, 0o600);
    const onRotated = (): void => {
      for (const send of streams.values()) send();
    };
    identity.on('rotated', onRotated);
    return new WorkloadApiServer(server, address, () => identity.off('rotated', onRotated));
  }

  async close(): Promise<void> {
    this.#unsubscribe();
    this.#server.forceShutdown(); // the streams never end by themselves; cancel them
  }
}

function pkcs8Der(pem: string): Buffer {
  const b64 = /-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/.exec(pem)?.[1];
  if (b64 === undefined) throw identityError('malformed', 'the SVID key is not PKCS#8 PEM');
  return Buffer.from(b64.replace(/\s+/g, ''), 'base64');
}
