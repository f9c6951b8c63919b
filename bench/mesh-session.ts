// Session benchmarks (H5 wires them into `npm run bench -- mesh`; `node dist/bench/mesh-session.js [seconds]` runs
// them alone):
// - benchHandshakes: complete handshakes per second, initiator and responder in this one process, real crypto —
//   msg1 built, decoded, opened, the initiator's pinned credentials verified, its signature verified, msg2 built and
//   finished, exactly the handshake.ts calls the SessionManager makes. Hybrid = X-Wing + composite Ed25519/ML-DSA-65
//   through the shipped plugins (PqcSuite; worker isolation as a node runs them unless `isolation` says otherwise);
//   classic = X25519-KEM + Ed25519.
// - benchSessionThroughput: sealed traffic between two SessionManagers over two UdpTransports on 127.0.0.1 vs plain
//   UDP (sendRaw of the same payload size) through the same sockets, MB/s of payload delivered at the receiver.
import { PqcSuite } from '../host/crypto/pqc-suite.js';
import { Ed25519Signer } from '../host/crypto/ed25519-signer.js';
import type { LocalIdentity } from '../host/crypto/peer-credentials.js';
import type { Kem, SignatureScheme } from '../host/crypto/primitives.js';
import { X25519Kem } from '../host/crypto/x25519-kem.js';
import { createInit, createResp, decodeInit, finishInit, openInit, verifyInit } from '../host/mesh/session/handshake.js';
import { pinnedIdentity, PinnedKeyVerifier, type PinnedKey } from '../host/mesh/session/pinned-key-verifier.js';
import { SessionManager } from '../host/mesh/session/session-manager.js';
import { SUITES, type SuiteName } from '../host/mesh/session/session-suite.js';
import { UdpTransport } from '../host/mesh/transport/udp-transport.js';
import type { PluginSpec } from '../host/core/plugin-spec.js';

const TRUST_DOMAIN = 'bench.mesh';

async function identity(kem: Kem, signer: SignatureScheme): Promise<LocalIdentity & { pinned: PinnedKey }> {
  const s = await signer.keygen();
  const k = await kem.keygen();
  const pinned: PinnedKey = { signingAlgorithm: signer.algorithm, signingPublicKey: s.publicKey, kemAlgorithm: kem.algorithm, kemPublicKey: k.publicKey };
  return { ...pinnedIdentity({ ...pinned, signingSecretKey: s.secretKey, kemSecretKey: k.secretKey }, TRUST_DOMAIN), pinned };
}

async function withPrimitives<T>(suite: SuiteName, isolation: PluginSpec['isolation'] | undefined, run: (kem: Kem, signer: SignatureScheme) => Promise<T>): Promise<T> {
  if (suite === 'classic') return run(new X25519Kem(), new Ed25519Signer());
  const pqc = await PqcSuite.open(isolation === undefined ? {} : { isolation });
  try {
    return await run(pqc.xwing, pqc.composite);
  } finally {
    await pqc.close();
  }
}

export async function benchHandshakes(o: { suite: SuiteName; seconds: number; isolation?: PluginSpec['isolation'] }): Promise<{ perSecond: number; ms: number; handshakes: number }> {
  return withPrimitives(o.suite, o.isolation, async (kem, signer) => {
    const p = { suite: SUITES[o.suite], kem, signer };
    const ia = await identity(kem, signer);
    const ib = await identity(kem, signer);
    const verifier = new PinnedKeyVerifier([ia.pinned, ib.pinned], TRUST_DOMAIN);
    const bootId = new Uint8Array(8);
    let n = 0;
    let ts = BigInt(Date.now()) * 1_000_000n;
    const one = async (): Promise<void> => {
      const init = await createInit(p, { local: ia, remote: ib.credentials, senderIndex: n, timestamp: ts++, bootId });
      const opened = await openInit(p, ib, decodeInit(init.body, p.suite));
      const creds = await verifier.verify(opened.head.chain, Date.now());
      if (!(await verifyInit(p, opened, creds))) throw new Error('bench: msg1 signature did not verify');
      const resp = await createResp(p, { opened, initiator: creds, local: ib, senderIndex: n + 1, bootId });
      const done = await finishInit(p, init.state, resp.body);
      if (Buffer.compare(done.keys.sendKey, resp.keys.recvKey) !== 0) throw new Error('bench: keys differ');
    };
    await one(); // warm-up
    const start = performance.now();
    const end = start + o.seconds * 1000;
    while (performance.now() < end) {
      await one();
      n++;
    }
    const elapsed = performance.now() - start;
    return { perSecond: (n * 1000) / elapsed, ms: elapsed / n, handshakes: n };
  });
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function benchSessionThroughput(o: { seconds: number; payload: number; mtu?: number; burst?: number }): Promise<{ sessionMbps: number; udpMbps: number; sessionLoss: number; udpLoss: number }> {
  const kem = new X25519Kem();
  const signer = new Ed25519Signer();
  const ia = await identity(kem, signer);
  const ib = await identity(kem, signer);
  const verifier = new PinnedKeyVerifier([ia.pinned, ib.pinned], TRUST_DOMAIN);
  let rxPayload = 0;
  let rxRaw = 0;
  const managers: SessionManager[] = [];
  const transports: UdpTransport[] = [];
  for (const id of [ia, ib]) {
    const i = transports.length;
    const t = await UdpTransport.open({
      listen: [{ address: '127.0.0.1', port: 0 }],
      ...(o.mtu === undefined ? {} : { mtu: o.mtu }),
      onFrame: (frame, from) => { void managers[i]!.handleFrame(frame, from); },
      onDatagram: (_from, bytes) => { if (i === 1) rxRaw += bytes; },
    });
    transports.push(t);
    managers.push(new SessionManager({
      suite: 'classic', kem, signer, identity: () => id, verifier,
      send: (to, frame) => t.send(to, frame),
      deliver: (_peer, plaintext) => { rxPayload += plaintext.length; },
    }));
  }
  const [a, b] = managers as [SessionManager, SessionManager];
  const [ta, tb] = transports as [UdpTransport, UdpTransport];
  try {
    a.connect(tb.endpoints[0]!, ib.credentials.fingerprint);
    const deadline = Date.now() + 5000;
    while (!(a.hasSession(ib.credentials.fingerprint) && b.hasSession(ia.credentials.fingerprint))) {
      if (Date.now() > deadline) throw new Error('bench: no session within 5 s');
      await new Promise((r) => setTimeout(r, 2));
    }
    const payload = new Uint8Array(o.payload).fill(0xa5);
    // Bursts small enough for the receive buffer (both ends share this process's event loop).
    const burst = o.burst ?? 16;
    const run = async (send: () => void, received: () => number): Promise<{ mbps: number; loss: number }> => {
      const before = received();
      let sent = 0;
      const start = performance.now();
      const end = start + o.seconds * 1000;
      while (performance.now() < end) {
        for (let i = 0; i < burst; i++) send();
        sent += burst;
        await tick();
      }
      await new Promise((r) => setTimeout(r, 50));
      const elapsed = (performance.now() - start) / 1000;
      const got = received() - before;
      return { mbps: got / 1e6 / elapsed, loss: 1 - got / (sent * o.payload) };
    };
    const sealed = await run(() => { a.send(ib.credentials.fingerprint, payload); }, () => rxPayload);
    const plain = await run(() => ta.sendRaw(tb.endpoints[0]!, payload), () => rxRaw);
    return { sessionMbps: sealed.mbps, udpMbps: plain.mbps, sessionLoss: sealed.loss, udpLoss: plain.loss };
  } finally {
    for (const m of managers) m.close();
    for (const t of transports) await t.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const seconds = Number(process.argv[2] ?? 3);
  const f = (x: number): string => x.toFixed(1);
  const hybrid = await benchHandshakes({ suite: 'hybrid', seconds });
  const hybridInThread = await benchHandshakes({ suite: 'hybrid', seconds, isolation: 'in-thread' });
  const classic = await benchHandshakes({ suite: 'classic', seconds });
  process.stdout.write(`handshakes/s  hybrid (plugins in workers) ${f(hybrid.perSecond)} (${hybrid.ms.toFixed(2)} ms)  `
    + `hybrid (in-thread) ${f(hybridInThread.perSecond)} (${hybridInThread.ms.toFixed(2)} ms)  classic ${f(classic.perSecond)} (${classic.ms.toFixed(2)} ms)\n`);
  for (const payload of [64, 1024, 1200]) {
    const t = await benchSessionThroughput({ seconds, payload });
    process.stdout.write(`payload ${payload} B: sealed ${f(t.sessionMbps)} MB/s (loss ${(t.sessionLoss * 100).toFixed(1)} %)  plain UDP ${f(t.udpMbps)} MB/s (loss ${(t.udpLoss * 100).toFixed(1)} %)\n`);
  }
}
