// SessionManagers over H1's real UdpTransport on 127.0.0.1: the classic suite carries ordered traffic, and the
// hybrid handshake (msg1 ≈ 9 KB, msg2 ≈ 5.6 KB) crosses a 1280-byte MTU only thanks to the transport's fragmentation.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { PqcSuite } from '../../../host/crypto/pqc-suite.js';
import { SessionManager } from '../../../host/mesh/session/session-manager.js';
import type { SessionEvent } from '../../../host/mesh/session/session-types.js';
import { UdpTransport } from '../../../host/mesh/transport/udp-transport.js';
import { classicCrypto, makeIdentity, verifierFor, type Crypto } from '../../unit/mesh-session/session-net.js';

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface UdpNode {
  transport: UdpTransport;
  manager: SessionManager;
  fp: string;
  received: Uint8Array[];
  events: SessionEvent[];
}

async function udpPair(crypto: Crypto): Promise<[UdpNode, UdpNode]> {
  const ia = await makeIdentity(crypto);
  const ib = await makeIdentity(crypto);
  const v = verifierFor(ia, ib);
  const nodes: UdpNode[] = [];
  for (const id of [ia, ib]) {
    const node = { received: [], events: [], fp: id.credentials.fingerprint } as unknown as UdpNode;
    node.transport = await UdpTransport.open({
      listen: [{ address: '127.0.0.1', port: 0 }],
      onFrame: (frame, from) => { void node.manager.handleFrame(frame, from); },
    });
    node.manager = new SessionManager({
      suite: crypto.suite, kem: crypto.kem, signer: crypto.signer, identity: () => id, verifier: v,
      send: (to, frame) => node.transport.send(to, frame),
      deliver: (_peer, plaintext) => node.received.push(plaintext.slice()),
      onEvent: (e) => node.events.push(e),
    });
    nodes.push(node);
  }
  return nodes as [UdpNode, UdpNode];
}

async function closeAll(nodes: UdpNode[]): Promise<void> {
  for (const n of nodes) {
    n.manager.close();
    await n.transport.close();
  }
}

let pqc: PqcSuite;
before(async () => {
  pqc = await PqcSuite.open({ isolation: 'in-thread' });
});
after(async () => {
  await pqc?.close();
});

describe('sessions over UDP on loopback', () => {
  test('classic: handshake and 500 sealed packets each way', async () => {
    const [a, b] = await udpPair(classicCrypto());
    try {
      a.manager.connect(b.transport.endpoints[0]!, b.fp);
      await until(() => a.manager.hasSession(b.fp) && b.manager.hasSession(a.fp), 5000, 'the session');
      for (let i = 0; i < 500; i++) {
        assert.ok(a.manager.send(b.fp, Uint8Array.of(i & 0xff, i >> 8)));
        assert.ok(b.manager.send(a.fp, Uint8Array.of(i & 0xff, i >> 8)));
        // Paced: both sockets live in this one process, and a burst larger than the receive buffer is lost.
        if (i % 10 === 9) await new Promise((r) => setTimeout(r, 1));
      }
      await until(() => a.received.length === 500 && b.received.length === 500, 5000, 'all packets');
      const seqs = b.received.map((p) => p[0]! | (p[1]! << 8)).sort((x, y) => x - y);
      assert.deepEqual(seqs, [...Array(500).keys()]);
      assert.deepEqual(a.events.filter((e) => e.type === 'rejected'), []);
    } finally {
      await closeAll([a, b]);
    }
  });

  test('hybrid: the multi-KB handshake is fragmented by the transport and completes', async () => {
    const [a, b] = await udpPair({ suite: 'hybrid', kem: pqc.xwing, signer: pqc.composite });
    try {
      a.manager.connect(b.transport.endpoints[0]!, b.fp);
      await until(() => a.manager.hasSession(b.fp) && b.manager.hasSession(a.fp), 15000, 'the hybrid session');
      assert.ok(b.transport.stats().fragmentsIn >= 8, `msg1 arrived in ${b.transport.stats().fragmentsIn} fragments`);
      assert.ok(a.manager.send(b.fp, new TextEncoder().encode('over udp')));
      await until(() => b.received.length === 1, 5000, 'the packet');
      assert.equal(new TextDecoder().decode(b.received[0]!), 'over udp');
    } finally {
      await closeAll([a, b]);
    }
  });
});
