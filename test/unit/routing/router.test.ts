// Router behaviours not covered by the transcripts: config normalisation and its errors, the silent-detection bound
// (the formula against the router's own clock, for several RTTs and miss counts), RERR when a route is lost,
// the XDP counter stall probe, and determinism of the effects for equal inputs.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { probeTimeoutMs, Router, silentDetectionBoundMs } from '../../../host/core/routing/router.js';
import { gatewayClassOf, kbpsOfGatewayClass, routingConfig, type NodeAddress, type RoutingEffect } from '../../../host/core/routing/types.js';
import { RoutingError } from '../../../host/errors/index.js';

const A = 'a'.repeat(32), B = 'b'.repeat(32), C = 'c'.repeat(32), D = 'd'.repeat(32);

/**
 * Runs `r` with one neighbour B that answers probes after `rttMs` until `failAt` and then goes silent; ticks every
 * millisecond; returns when B is first seen down (or -1).
 */
function detectionTime(r: Router, rttMs: number, failAt: number, until: number): number {
  const pending: { at: number; seq: number; ts: number }[] = [];
  const handle = (fx: RoutingEffect[], t: number): void => {
    for (const e of fx) {
      if (e.type === 'send' && e.to === B && e.message.type === 'probe' && t < failAt) pending.push({ at: t + rttMs, seq: e.message.seq, ts: e.message.timestamp });
    }
  };
  handle(r.step(0, { type: 'neighbour-up', neighbour: B }), 0);
  for (let t = 0; t <= until; t++) {
    while (pending.length > 0 && pending[0]!.at <= t) {
      const p = pending.shift()!;
      if (p.at < failAt) handle(r.step(t, { type: 'message', from: B, message: { type: 'probe-reply', seq: p.seq, timestamp: p.ts } }), t);
    }
    handle(r.tick(t), t);
    if (r.neighbours()[0]!.up === false) return t;
  }
  return -1;
}

describe('routing config', () => {
  test('defaults are complete and frozen; partial options override them', () => {
    const c = routingConfig({ helloIntervalMs: 250, gateway: { bandwidthKbps: 5000 } });
    assert.equal(c.helloIntervalMs, 250);
    assert.deepEqual(c.gateway, { bandwidthKbps: 5000 });
    assert.equal(c.deadAfterMisses, 3);
    assert.ok(Object.isFrozen(c));
  });

  test('bad values are RoutingError naming the field', () => {
    const field = (f: () => unknown): unknown => {
      try { f(); } catch (e) { assert.ok(e instanceof RoutingError); return e.details['field']; }
      return null;
    };
    assert.equal(field(() => routingConfig({ helloIntervalMs: 0 })), 'helloIntervalMs');
    assert.equal(field(() => routingConfig({ deadAfterMisses: 1.5 })), 'deadAfterMisses');
    assert.equal(field(() => routingConfig({ gateway: { bandwidthKbps: -1 } })), 'gateway.bandwidthKbps');
    assert.equal(field(() => routingConfig({ probeTimeoutFloorMs: 500, probeTimeoutMaxMs: 400 })), 'probeTimeoutFloorMs');
    assert.equal(field(() => routingConfig({ nonsense: 1 } as never)), 'nonsense');
    assert.equal(field(() => new Router('not-an-address')), 'self');
  });

  test('gateway classes are a log scale that round-trips within a class', () => {
    assert.equal(gatewayClassOf(64), 1);
    assert.equal(gatewayClassOf(128), 9);
    for (const kbps of [64, 1000, 10_000, 1_000_000]) {
      const back = kbpsOfGatewayClass(gatewayClassOf(kbps));
      assert.ok(Math.abs(Math.log2(back / kbps)) <= 1 / 16 + 1e-9, `${kbps} -> ${back}`);
    }
  });
});

describe('silent failure detection', () => {
  for (const [rtt, misses] of [[4, 3], [60, 3], [4, 2], [20, 5]] as const) {
    test(`rtt ${rtt} ms, dead after ${misses} misses: detected within H + N·T, wherever the failure falls`, () => {
      const hello = 1000;
      const config = routingConfig({ helloIntervalMs: hello, deadAfterMisses: misses });
      const bound = silentDetectionBoundMs(config, rtt);
      let worst = 0, best = Infinity;
      // Failure times across one hello period, including just after a reply (the worst case).
      for (let k = 0; k < 20; k++) {
        const failAt = 5 * hello + rtt + 1 + k * 50;
        const downAt = detectionTime(new Router(A, config), rtt, failAt, failAt + 3 * hello);
        assert.ok(downAt > failAt, `declared dead at ${downAt}, before the failure at ${failAt}`);
        worst = Math.max(worst, downAt - failAt);
        best = Math.min(best, downAt - failAt);
      }
      assert.ok(worst <= bound, `worst ${worst} ms > bound ${bound} ms`);
      // The exact worst case is H − rtt + N·T (the next probe leaves one hello after the previous one was sent).
      assert.ok(worst >= bound - rtt - 60, `worst ${worst} ms: the scan should come close to the bound ${bound} ms`);
      assert.ok(best >= (misses - 1) * probeTimeoutMs(config, rtt), `best ${best} ms`);
    });
  }
});

describe('router', () => {
  test('losing the only route sends route-lost and a RERR for it', () => {
    const r = new Router(A);
    r.step(0, { type: 'neighbour-up', neighbour: B });
    r.step(1, { type: 'message', from: B, message: { type: 'ogm', originator: D, seq: 5, ttl: 10, tq: 200, hops: 1, prevSender: C, gatewayClass: 0 } });
    assert.deepEqual(r.nextHops(D), [B]);
    const fx = r.step(2, { type: 'neighbour-down', neighbour: B, reason: 'session' });
    assert.ok(fx.some((e) => e.type === 'route-lost' && e.dest === D));
    const rerr = fx.find((e) => e.type === 'send' && e.message.type === 'rerr');
    assert.ok(rerr !== undefined && rerr.type === 'send' && rerr.message.type === 'rerr');
    assert.deepEqual([...rerr.message.unreachable].sort(), [B, D].sort());
    assert.deepEqual(r.nextHops(D), []);
  });

  test('a RERR from the primary revokes that path and fails over to the backup', () => {
    const r = new Router(A);
    r.step(0, { type: 'neighbour-up', neighbour: B });
    r.step(0, { type: 'neighbour-up', neighbour: C });
    r.step(1, { type: 'message', from: B, message: { type: 'ogm', originator: D, seq: 5, ttl: 10, tq: 250, hops: 1, prevSender: D, gatewayClass: 0 } });
    r.step(2, { type: 'message', from: C, message: { type: 'ogm', originator: D, seq: 5, ttl: 10, tq: 200, hops: 1, prevSender: D, gatewayClass: 0 } });
    assert.deepEqual(r.nextHops(D), [B, C]);
    const fx = r.step(3, { type: 'message', from: B, message: { type: 'rerr', unreachable: [D] } });
    assert.deepEqual(r.nextHops(D), [C]);
    assert.ok(fx.some((e) => e.type === 'route-changed' && e.dest === D));
    // The same (old) copy from B again is not taken back.
    r.step(4, { type: 'message', from: B, message: { type: 'ogm', originator: D, seq: 4, ttl: 10, tq: 250, hops: 1, prevSender: D, gatewayClass: 0 } });
    assert.deepEqual(r.nextHops(D), [C]);
  });

  test('an OGM naming this node as prevSender is an echo of its own path and never a route', () => {
    const r = new Router(A);
    r.step(0, { type: 'neighbour-up', neighbour: B });
    r.step(1, { type: 'message', from: B, message: { type: 'ogm', originator: D, seq: 5, ttl: 10, tq: 250, hops: 1, prevSender: A, gatewayClass: 0 } });
    assert.deepEqual(r.nextHops(D), []);
  });

  test('XDP counters that show traffic out and nothing back trigger an early probe', () => {
    const r = new Router(A);
    r.step(0, { type: 'neighbour-up', neighbour: B });
    r.step(2, { type: 'message', from: B, message: { type: 'probe-reply', seq: 1, timestamp: 0 } });
    assert.deepEqual(r.step(100, { type: 'link-counters', neighbour: B, rxPackets: 10, txPackets: 10 }), []);
    assert.deepEqual(r.step(200, { type: 'link-counters', neighbour: B, rxPackets: 12, txPackets: 15 }), []);
    const fx = r.step(300, { type: 'link-counters', neighbour: B, rxPackets: 12, txPackets: 20 });
    assert.equal(fx.length, 1);
    assert.ok(fx[0]!.type === 'send' && fx[0]!.message.type === 'probe');
    assert.equal(r.neighbours()[0]!.rxPackets, 12);
  });

  test('messages from a neighbour never announced are ignored', () => {
    const r = new Router(A);
    assert.deepEqual(r.step(0, { type: 'message', from: B, message: { type: 'probe', seq: 1, timestamp: 0 } }), []);
  });

  test('equal inputs give equal effects (no hidden randomness or clock)', () => {
    const run = (): string => {
      const r = new Router(A, { initialSeq: 77 });
      const out: RoutingEffect[] = [];
      out.push(...r.step(0, { type: 'neighbour-up', neighbour: B }), ...r.tick(0), ...r.step(5, { type: 'need-route', dest: D }), ...r.tick(3000));
      return JSON.stringify(out);
    };
    assert.equal(run(), run());
  });
});
