// The UDP transport on real loopback sockets (no root): frames of 10 B, 1,400 B and 60 KiB cross IPv4 and IPv6
// with mtu 1280 (the larger ones fragmented) and arrive byte-equal; a message missing one fragment (sent by hand
// through sendRaw) is never delivered and is counted as a timeout; garbage is counted as a decode drop; send
// failures arrive as IoError{code, to} and never throw.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { CodecError, IoError, type X0tError } from '../../../host/errors/index.js';
import { sameEndpoint, type UdpEndpoint } from '../../../host/mesh/transport/udp-endpoint.js';
import { maxUdpPayload, UdpTransport } from '../../../host/mesh/transport/udp-transport.js';
import { encodeDatagram, encodeFrame, type Frame } from '../../../host/mesh/wire/frame.js';

interface Received { frame: Frame; from: UdpEndpoint; local: UdpEndpoint }

/** A transport that records what it receives, drops and fails to send. */
async function openRecording(listen: UdpEndpoint[], opts: { reassemblyTimeoutMs?: number } = {}) {
  const frames: Received[] = [];
  const drops: X0tError[] = [];
  const sendErrors: { to: UdpEndpoint; error: X0tError }[] = [];
  let datagrams = 0;
  const waiters: (() => void)[] = [];
  const t = await UdpTransport.open({
    listen,
    mtu: 1280,
    reassembly: opts.reassemblyTimeoutMs ? { timeoutMs: opts.reassemblyTimeoutMs } : {},
    onFrame: (frame, from, local) => { frames.push({ frame, from, local }); waiters.splice(0).forEach((w) => w()); },
    onDrop: (_from, error) => { drops.push(error); waiters.splice(0).forEach((w) => w()); },
    onSendError: (to, error) => { sendErrors.push({ to, error }); waiters.splice(0).forEach((w) => w()); },
    onDatagram: () => { datagrams++; },
  });
  /** Resolves when `cond` holds, re-checked on every event and every 20 ms (counters change silently); rejects after `ms`. */
  const until = (cond: () => boolean, ms = 3000): Promise<void> => new Promise((resolve, reject) => {
    const poll = setInterval(() => check(), 20);
    const deadline = setTimeout(() => { clearInterval(poll); reject(new Error('timed out waiting')); }, ms);
    let done = false;
    const check = (): void => {
      if (done) return;
      if (cond()) { done = true; clearTimeout(deadline); clearInterval(poll); resolve(); } else waiters.push(check);
    };
    check();
  });
  return { t, frames, drops, sendErrors, until, datagrams: () => datagrams };
}

async function ipv6Loopback(): Promise<string | null> {
  try {
    const t = await UdpTransport.open({ listen: [{ address: '::1', port: 0 }], onFrame: () => undefined });
    await t.close();
    return null;
  } catch (e) {
    return `no IPv6 loopback: ${(e as Error).message}`;
  }
}

const noV6 = await ipv6Loopback();

describe('UDP transport on loopback', () => {
  let a: Awaited<ReturnType<typeof openRecording>>;
  let b: Awaited<ReturnType<typeof openRecording>>;
  const listen = (): UdpEndpoint[] => (noV6 ? [{ address: '127.0.0.1', port: 0 }] : [{ address: '127.0.0.1', port: 0 }, { address: '::1', port: 0 }]);

  before(async () => {
    a = await openRecording(listen());
    b = await openRecording(listen(), { reassemblyTimeoutMs: 400 });
  });
  after(async () => {
    await a.t.close();
    await b.t.close();
  });

  it('binds the requested endpoints with real ports', () => {
    assert.equal(a.t.endpoints.length, listen().length);
    for (const e of a.t.endpoints) assert.ok(e.port > 0);
    assert.equal(a.t.endpoints[0]!.address, '127.0.0.1');
  });

  for (const family of [4, 6] as const) {
    it(`IPv${family}: frames of 10 B, 1,400 B and 60 KiB arrive byte-equal, the large ones fragmented at mtu 1280`, { skip: family === 6 ? noV6 ?? false : false }, async () => {
      const to = b.t.endpoints.find((e) => (family === 4 ? !e.address.includes(':') : e.address.includes(':')))!;
      const max = maxUdpPayload(1280, family);
      assert.equal(max, family === 4 ? 1252 : 1232);
      for (const size of [10, 1400, 60 * 1024]) {
        const body = randomBytes(size);
        const sent: Frame = { kind: 'identity', body: new Uint8Array(body) };
        const before = { frames: b.frames.length, fragOut: a.t.stats().fragmentsOut, reassembled: b.t.stats().reassembled };
        a.t.send(to, sent);
        await b.until(() => b.frames.length > before.frames);
        const got = b.frames.at(-1)!;
        assert.deepEqual(got.frame, sent);
        assert.ok(sameEndpoint(got.local, to));
        assert.ok(a.t.endpoints.some((e) => sameEndpoint(e, got.from)), `from ${JSON.stringify(got.from)}`);
        const encoded = encodeFrame(sent).byteLength;
        const expectFragments: number = encoded <= max ? 0 : Math.ceil(encoded / (max - 12));
        assert.equal(a.t.stats().fragmentsOut - before.fragOut, expectFragments, `size ${size}`);
        assert.equal(b.t.stats().reassembled - before.reassembled, expectFragments > 0 ? 1 : 0);
      }
      assert.equal(b.drops.length, 0);
      assert.equal(a.sendErrors.length, 0);
    });
  }

  it('a sealed frame and a beacon cross too, and both directions work', async () => {
    const n = a.frames.length;
    const sealed: Frame = { kind: 'sealed', receiver: 42, counter: 2n ** 63n + 5n, ciphertext: new Uint8Array(randomBytes(3000)) };
    b.t.send(a.t.endpoints[0]!, sealed);
    const beacon: Frame = { kind: 'beacon', beacon: { fingerprint: 'cd'.repeat(16), bootId: 9, suites: 1, trustDomain: 'td', endpoints: [...b.t.endpoints] } };
    b.t.send(a.t.endpoints[0]!, beacon);
    await a.until(() => a.frames.length >= n + 2);
    const got = a.frames.slice(n).map((r) => r.frame);
    assert.deepEqual(got.find((f) => f.kind === 'sealed'), sealed);
    assert.deepEqual(got.find((f) => f.kind === 'beacon'), beacon);
  });

  it('lossy path: one fragment withheld (sendRaw) gives no delivery and a counted timeout', async () => {
    const to = b.t.endpoints[0]!;
    const bytes = encodeFrame({ kind: 'handshake-init', body: new Uint8Array(randomBytes(5000)) });
    const count = 5;
    const size = Math.ceil(bytes.byteLength / count);
    const framesBefore = b.frames.length;
    const timeoutsBefore = b.t.stats().drops.timeout;
    for (let index = 0; index < count; index++) {
      if (index === 2) continue; // the lost one
      const chunk = bytes.subarray(index * size, (index + 1) * size);
      a.t.sendRaw(to, encodeDatagram({ kind: 'fragment', fragment: { msgId: 0xabcdef, index, count, chunk } }));
    }
    await b.until(() => b.t.stats().fragmentsIn >= 4 && b.t.stats().reassemblyInFlight === 1);
    await b.until(() => b.t.stats().drops.timeout > timeoutsBefore, 2000);
    assert.equal(b.t.stats().drops.timeout, timeoutsBefore + 1);
    assert.equal(b.t.stats().reassemblyInFlight, 0);
    assert.equal(b.frames.length, framesBefore);
  });

  it('duplicated fragments are counted, delivered once', async () => {
    const to = b.t.endpoints[0]!;
    const body = new Uint8Array(randomBytes(2000));
    const bytes = encodeFrame({ kind: 'identity', body });
    const framesBefore = b.frames.length;
    const dupBefore = b.t.stats().drops.duplicate;
    const half = Math.ceil(bytes.byteLength / 2);
    const frags = [0, 1].map((index) => encodeDatagram({ kind: 'fragment', fragment: { msgId: 77, index, count: 2, chunk: bytes.subarray(index * half, (index + 1) * half) } }));
    for (const f of [frags[1]!, frags[1]!, frags[0]!, frags[0]!]) a.t.sendRaw(to, f);
    await b.until(() => b.t.stats().drops.duplicate >= dupBefore + 2);
    assert.equal(b.frames.length, framesBefore + 1);
    assert.deepEqual(b.frames.at(-1)!.frame, { kind: 'identity', body });
  });

  it('undecodable datagrams are dropped, counted and reported as CodecError', async () => {
    const before = b.t.stats().drops.decode;
    const n = b.drops.length;
    a.t.sendRaw(b.t.endpoints[0]!, Uint8Array.from([0x58, 9, 1, 0]));
    a.t.sendRaw(b.t.endpoints[0]!, new TextEncoder().encode('hello'));
    await b.until(() => b.drops.length >= n + 2);
    assert.equal(b.t.stats().drops.decode, before + 2);
    const reasons = b.drops.slice(n).map((e) => (assert.ok(e instanceof CodecError), e.details['reason']));
    assert.deepEqual(reasons.sort(), ['magic', 'version']);
  });

  it('send failures are IoError{code, to} through onSendError, never thrown', async () => {
    const n = a.sendErrors.length;
    const errorsBefore = a.t.stats().sendErrors;
    // A socket bound to 127.0.0.1 cannot reach an address off the loopback: the kernel refuses (EINVAL/ENETUNREACH).
    a.t.send({ address: '192.0.2.77', port: 9 }, { kind: 'identity', body: new Uint8Array(4) });
    a.t.send({ address: '127.0.0.1', port: 0 }, { kind: 'identity', body: new Uint8Array(4) }); // port 0: refused
    a.t.send(b.t.endpoints[0]!, { kind: 'identity', body: new Uint8Array(70 * 1024) }); // over the 64 KiB limit
    a.t.send(b.t.endpoints[0]!, { kind: 'sealed', receiver: -1, counter: 0n, ciphertext: new Uint8Array() }); // unencodable
    await a.until(() => a.sendErrors.length >= n + 4);
    const errs = a.sendErrors.slice(n);
    const offLoopback = errs.find((e) => e.to.address === '192.0.2.77')!.error;
    const port0 = errs.find((e) => e.to.port === 0)!.error;
    const tooBig = errs.find((e) => e.error.details['code'] === 'EMSGSIZE')!.error;
    for (const e of [offLoopback, port0, tooBig]) {
      assert.ok(e instanceof IoError, String(e));
      assert.equal(typeof e.details['code'], 'string');
      assert.equal(typeof e.details['to'], 'string');
    }
    assert.ok(['EINVAL', 'ENETUNREACH', 'EPERM'].includes(String(offLoopback.details['code'])), String(offLoopback.details['code']));
    assert.equal(offLoopback.details['to'], '192.0.2.77:9');
    assert.ok(errs.some((e) => e.error instanceof CodecError));
    assert.equal(a.t.stats().sendErrors, errorsBefore + 4);
  });

  it('picks the socket of the destination family, or `via`; a family without a socket is EAFNOSUPPORT', async () => {
    const v4only = await openRecording([{ address: '127.0.0.1', port: 0 }]);
    try {
      v4only.t.send({ address: '::1', port: 9 }, { kind: 'identity', body: new Uint8Array(1) });
      v4only.t.send(b.t.endpoints[0]!, { kind: 'identity', body: new Uint8Array(1) }, { address: '127.0.0.2', port: 1 });
      await v4only.until(() => v4only.sendErrors.length >= 2);
      assert.deepEqual(v4only.sendErrors.map((e) => e.error.details['code']), ['EAFNOSUPPORT', 'EADDRNOTAVAIL']);
      const n = b.frames.length;
      v4only.t.send(b.t.endpoints[0]!, { kind: 'identity', body: Uint8Array.from([5]) }, v4only.t.endpoints[0]);
      await b.until(() => b.frames.length > n);
      assert.ok(sameEndpoint(b.frames.at(-1)!.from, v4only.t.endpoints[0]!));
    } finally {
      await v4only.t.close();
    }
  });

  it('counts datagrams and bytes both ways; close() stops sending with an error, not a throw', async () => {
    const s = a.t.stats();
    assert.ok(s.datagramsOut > 0 && s.bytesOut > 0 && s.framesOut > 0);
    const r = b.t.stats();
    assert.ok(r.datagramsIn > 0 && r.bytesIn > 0 && r.framesIn === b.frames.length);
    assert.equal(r.datagramsIn, b.datagrams());
    const c = await openRecording([{ address: '127.0.0.1', port: 0 }]);
    await c.t.close();
    c.t.send(b.t.endpoints[0]!, { kind: 'identity', body: new Uint8Array(1) });
    assert.equal(c.sendErrors[0]?.error.details['code'], 'ECLOSED');
  });

  it('refuses a bad mtu and an address already in use at open', async () => {
    await assert.rejects(UdpTransport.open({ listen: [{ address: '127.0.0.1', port: 0 }], mtu: 40, onFrame: () => undefined }), IoError);
    await assert.rejects(UdpTransport.open({ listen: [a.t.endpoints[0]!], onFrame: () => undefined }), (e: unknown) => e instanceof IoError && e.details['code'] === 'EADDRINUSE');
  });

  it('with several sockets of one family: the on-link one for a destination, and replies leave where requests came in', async (t) => {
    const lan = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    if (!lan) { t.skip('no non-loopback IPv4 address'); return; }
    const x = await openRecording([{ address: '127.0.0.1', port: 0 }, { address: lan, port: 0 }]);
    const onLan = await openRecording([{ address: lan, port: 0 }]);
    const onLo = await openRecording([{ address: '127.0.0.1', port: 0 }]);
    try {
      x.t.send(onLan.t.endpoints[0]!, { kind: 'identity', body: Uint8Array.from([1]) });
      x.t.send(onLo.t.endpoints[0]!, { kind: 'identity', body: Uint8Array.from([2]) });
      await onLan.until(() => onLan.frames.length === 1);
      await onLo.until(() => onLo.frames.length === 1);
      assert.ok(sameEndpoint(onLan.frames[0]!.from, x.t.endpoints[1]!), JSON.stringify(onLan.frames[0]!.from));
      assert.ok(sameEndpoint(onLo.frames[0]!.from, x.t.endpoints[0]!), JSON.stringify(onLo.frames[0]!.from));
      // onLo reaches x on its LAN socket; x's reply to onLo then leaves from that socket too.
      onLo.t.send(x.t.endpoints[1]!, { kind: 'identity', body: Uint8Array.from([3]) });
      await x.until(() => x.frames.length === 1);
      assert.ok(sameEndpoint(x.frames[0]!.local, x.t.endpoints[1]!));
      x.t.send(onLo.t.endpoints[0]!, { kind: 'identity', body: Uint8Array.from([4]) });
      await onLo.until(() => onLo.frames.length === 2);
      assert.ok(sameEndpoint(onLo.frames[1]!.from, x.t.endpoints[1]!), JSON.stringify(onLo.frames[1]!.from));
      assert.equal(x.sendErrors.length, 0);
    } finally {
      for (const n of [x, onLan, onLo]) await n.t.close();
    }
  });
});

describe('a failing frame handler', () => {
  it('loses only that frame: it is reported through onDrop, counted, and later frames still arrive', async () => {
    const seen: number[] = [];
    const drops: X0tError[] = [];
    let calls = 0;
    const rx = await UdpTransport.open({
      listen: [{ address: '127.0.0.1', port: 0 }],
      onFrame: (frame) => {
        calls++;
        if (calls === 1) throw new Error('handler bug');
        if (frame.kind === 'identity') seen.push(frame.body[0]!);
      },
      onDrop: (_from, error) => { drops.push(error); },
    });
    const tx = await UdpTransport.open({ listen: [{ address: '127.0.0.1', port: 0 }], onFrame: () => undefined });
    try {
      for (let i = 0; i < 3; i++) {
        tx.send(rx.endpoints[0]!, { kind: 'identity', body: Uint8Array.of(i) });
        await new Promise((r) => setTimeout(r, 30));
      }
      const deadline = Date.now() + 3000;
      while (seen.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(seen, [1, 2]);
      assert.equal(rx.stats().handlerErrors, 1);
      assert.equal(drops.length, 1);
      assert.equal(drops[0]!.code, 'X0T_INTERNAL');
    } finally {
      await tx.close();
      await rx.close();
    }
  });
});
