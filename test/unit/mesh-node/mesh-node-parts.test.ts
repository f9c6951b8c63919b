// The small parts of the node's mesh glue: which interface a neighbour is behind (for rtnetlink link-down), the
// `POST /mesh/ping` request check, the ping tracker, the tick scheduler's cadence, and the x0t_mesh_* metrics page.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../../host/errors/index.js';
import { MeshCounters, renderMeshMetrics } from '../../../host/node/mesh/mesh-counters.js';
import { interfaceOfNeighbour } from '../../../host/node/mesh/neighbour-interface.js';
import { parsePingRequest, PingTracker } from '../../../host/node/mesh/ping-tracker.js';
import { MAX_DELAY_MS, MIN_DELAY_MS, TickScheduler } from '../../../host/node/mesh/tick-scheduler.js';
import type { LinkView } from '../../../host/node/node-link-state.js';
import { demoTopology } from '../../../host/cli/node-demo-mesh.js';
import { parseExposition } from '../../integration/admin/prometheus.js';

function link(ifindex: number, name: string, addresses: [4 | 6, string, number][]): LinkView {
  return {
    ifindex, name, adminUp: true, carrier: true, running: true, operstate: 'up', up: true, driverInterface: false,
    addresses: addresses.map(([family, address, prefixLength]) => ({ family, address, prefixLength })),
  } as LinkView;
}

const LINKS = [
  link(1, 'lo', [[4, '127.0.0.1', 8], [6, '::1', 128]]),
  link(2, 'veth-a', [[4, '10.0.1.1', 24], [6, 'fe80::1', 64]]),
  link(3, 'veth-b', [[4, '10.0.2.1', 24]]),
];

describe('interfaceOfNeighbour', () => {
  it('the zone of a link-local peer names the interface (by name or index)', () => {
    assert.equal(interfaceOfNeighbour({ address: 'fe80::2%veth-a', port: 1 }, null, LINKS), 'veth-a');
    assert.equal(interfaceOfNeighbour({ address: 'fe80::2%3', port: 1 }, null, LINKS), 'veth-b');
  });

  it('the local address a socket is bound to names its interface', () => {
    assert.equal(interfaceOfNeighbour({ address: '192.0.2.7', port: 1 }, { address: '10.0.2.1', port: 9 }, LINKS), 'veth-b');
    assert.equal(interfaceOfNeighbour({ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 9 }, LINKS), 'lo');
  });

  it('a wildcard socket: the interface whose subnet holds the peer; none when no subnet does', () => {
    assert.equal(interfaceOfNeighbour({ address: '10.0.1.9', port: 1 }, { address: '0.0.0.0', port: 9 }, LINKS), 'veth-a');
    assert.equal(interfaceOfNeighbour({ address: '10.0.2.200', port: 1 }, null, LINKS), 'veth-b');
    assert.equal(interfaceOfNeighbour({ address: '192.0.2.1', port: 1 }, { address: '0.0.0.0', port: 9 }, LINKS), null);
    assert.equal(interfaceOfNeighbour({ address: '10.0.1.9', port: 1 }, null, []), null);
  });
});

describe('POST /mesh/ping requests', () => {
  const to = 'ab'.repeat(16);
  it('fills defaults', () => {
    assert.deepEqual(parsePingRequest({ to }), { to, count: 4, intervalMs: 1000, timeoutMs: 1000, size: 0 });
  });
  it('refuses a bad destination, counts out of range and pings over 15 minutes, naming the field', () => {
    const field = (body: unknown): string => {
      try {
        parsePingRequest(body);
      } catch (e) {
        assert.ok(e instanceof UsageError);
        return String(e.details['path']);
      }
      assert.fail('accepted');
    };
    assert.equal(field({ to: 'AB'.repeat(16) }), 'to');
    assert.equal(field({}), 'to');
    assert.equal(field({ to, count: 0 }), 'count');
    assert.equal(field({ to, intervalMs: 1.5 }), 'intervalMs');
    assert.equal(field({ to, timeoutMs: '1' }), 'timeoutMs');
    assert.equal(field({ to, size: 9000 }), 'size');
    assert.equal(field({ to, count: 100_000, intervalMs: 60_000 }), 'count');
  });
});

describe('PingTracker', () => {
  it('resolves a reply with its RTT, a missing one with null after the timeout, and ignores foreign replies', async () => {
    const t = new PingTracker();
    const flow = t.newFlow();
    assert.notEqual(t.newFlow(), flow);
    const a = t.expect(flow, 0, 1000);
    const b = t.expect(flow, 1, 30);
    assert.equal(t.reply(flow + 1, 0), false);
    assert.equal(t.reply(flow, 0), true);
    assert.equal(t.reply(flow, 0), false);
    const rtt = await a;
    assert.ok(rtt !== null && rtt >= 0);
    assert.equal(await b, null);
    const c = t.expect(flow, 2, 10_000);
    t.close();
    assert.equal(await c, null);
  });
});

describe('TickScheduler', () => {
  it('runs at the deadline the run returns, clamped to 20–50 ms, and poke() runs at once', async () => {
    const times: number[] = [];
    let next = (now: number) => now + 1000; // far deadline → MAX_DELAY_MS
    const s = new TickScheduler({ run: (now) => (times.push(now), next(now)), onError: (e) => assert.fail(String(e)) });
    s.start();
    await new Promise((r) => setTimeout(r, 240));
    s.stop();
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    assert.ok(times.length >= 3 && times.length <= 6, `${times.length} runs in 240 ms`);
    for (const g of gaps) assert.ok(g >= MAX_DELAY_MS - 2, `gap ${g}`);
    times.length = 0;
    next = (now) => now; // due at once → MIN_DELAY_MS, never a busy loop
    const fast = new TickScheduler({ run: (now) => (times.push(now), next(now)), onError: () => undefined });
    fast.start();
    await new Promise((r) => setTimeout(r, 200));
    fast.stop();
    assert.ok(times.length <= 200 / MIN_DELAY_MS + 1, `${times.length} runs in 200 ms`);
    const before = times.length;
    fast.poke(); // stopped: nothing
    await new Promise((r) => setImmediate(r));
    assert.equal(times.length, before);
  });
});

describe('x0t_mesh_* metrics', () => {
  it('renders valid exposition text with labelled reasons', () => {
    const c = new MeshCounters();
    c.drop('no-route');
    c.drop('no-route');
    c.drop('ttl');
    c.rejects.set('replayed', 3);
    c.neighbourDown('carrier');
    c.controlBytesSent = 1234;
    const families = parseExposition(renderMeshMetrics(c, { neighboursUp: 2, neighboursDown: 1, routes: 4, sessions: 2 }));
    const value = (name: string, labels: Record<string, string> = {}) =>
      families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    assert.equal(value('x0t_mesh_neighbours', { state: 'up' }), 2);
    assert.equal(value('x0t_mesh_routes'), 4);
    assert.equal(value('x0t_mesh_data_dropped_total', { reason: 'no-route' }), 2);
    assert.equal(value('x0t_mesh_data_dropped_total', { reason: 'ttl' }), 1);
    assert.equal(value('x0t_mesh_session_rejects_total', { reason: 'replayed' }), 3);
    assert.equal(value('x0t_mesh_neighbour_down_total', { reason: 'carrier' }), 1);
    assert.equal(value('x0t_mesh_control_bytes_total', { direction: 'sent' }), 1234);
  });
});

describe('the demo mesh topology', () => {
  it('a ring with a chord: every node has at least two neighbours, so every pair has two disjoint paths', () => {
    for (const n of [3, 4, 5, 8]) {
      const edges = demoTopology(n);
      for (let i = 0; i < n; i++) assert.ok(edges.filter(([a, b]) => a === i || b === i).length >= 2, `n=${n} node ${i}`);
    }
    assert.deepEqual(demoTopology(5), [[0, 1], [1, 2], [2, 3], [3, 4], [4, 0], [1, 3]]);
  });
});
