// Opens the node's trust mode from its manifest: identity.ca → the mesh CA in this process (its own SVID from its
// MeshCa, the identity server for joins and renewals); identity.join → an SVID obtained with the join token from
// the CA node's identity server (pinning the bundle by SHA-256), renewed over mTLS; otherwise pinned keys.
// SVID state (key, chain, bundle) lives in identity.stateDir when given, so a restart needs no new token.
import { join } from 'node:path';
import { meshSpecOf, type NodeSpec } from '../../core/manifest/index.js';
import { UsageError } from '../../errors/index.js';
import { remoteAuthority } from '../../spiffe/identity-client.js';
import { IdentityServer } from '../../spiffe/identity-server.js';
import { MeshCa } from '../../spiffe/mesh-ca.js';
import { localAuthority, NodeIdentity } from '../../spiffe/node-identity.js';
import type { MeshCrypto } from './mesh-crypto.js';
import type { LoadedKeys } from './mesh-keys.js';
import type { MeshTrust } from './mesh-trust.js';
import { openPinnedTrust } from './pinned-trust.js';
import { svidTrust } from './svid-trust.js';

export interface OpenTrustOptions {
  readonly spec: NodeSpec;
  readonly keys: LoadedKeys['keys'];
  readonly crypto: MeshCrypto;
}

export async function openMeshTrust(o: OpenTrustOptions): Promise<MeshTrust> {
  const { spec, keys, crypto } = o;
  const id = spec.identity;
  const stateDir = id.stateDir ?? null;
  if (id.ca !== undefined) {
    const caSpec = id.ca;
    const ca = await MeshCa.open(caSpec.dir, id.trustDomain, { signers: [crypto.signer] });
    // The CA node's own SVID: issued in process, kept beside the CA unless the node has a state folder.
    const identity = await NodeIdentity.open({
      keys, signer: crypto.signer, authority: localAuthority(ca), trustDomain: id.trustDomain, stateDir: stateDir ?? join(caSpec.dir, 'node'),
    });
    let server: IdentityServer;
    try {
      server = await IdentityServer.start({ ca, identity, host: caSpec.listen.host, port: caSpec.listen.port });
    } catch (e) {
      identity.close();
      throw e;
    }
    // One token at a time: the CA rewrites its token file for each, and two writes at once collide.
    let tokens: Promise<unknown> = Promise.resolve();
    return svidTrust({
      mode: 'ca',
      identity,
      keys,
      createJoinToken: (ttlMs) => {
        const next = tokens.catch(() => undefined).then(async () => {
          const t = await ca.createJoinToken(ttlMs);
          return { token: t.token, expiresAt: new Date(t.expiresAt).toISOString(), bundleSha256: ca.bundle().sha256(), server: server.url };
        });
        tokens = next;
        return next;
      },
      describe: () => ({ identityServer: server.url, outstandingJoinTokens: ca.outstandingJoinTokens() }),
      close: () => server.close(),
    });
  }
  if (id.join !== undefined) {
    const j = id.join;
    const identity = await NodeIdentity.open({
      keys,
      signer: crypto.signer,
      authority: remoteAuthority({ server: j.server, trustDomain: id.trustDomain, bundleSha256: j.bundleSha256, token: j.token }),
      trustDomain: id.trustDomain,
      stateDir,
    });
    return svidTrust({
      mode: 'join',
      identity,
      keys,
      createJoinToken: async () => {
        throw new UsageError(`join tokens are made by the mesh CA node (${j.server}); this node joined it`, { path: 'identity.ca' });
      },
      describe: () => ({ identityServer: j.server }),
      close: async () => undefined,
    });
  }
  return openPinnedTrust(spec, meshSpecOf(spec), keys);
}
