// The kernel's batman-adv originator table (one row per originator and next hop) shaped as routes: batman-adv's own
// pick first, then the best alternative by TQ (or throughput), at most two next hops, one route per originator.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Originator } from '../../../host/driver/netlink/index.js';
import { batmanRoutes } from '../../../host/node/mesh/batman-tables.js';

const row = (originator: string, neighbour: string, tq: number | null, best: boolean, lastSeenMs = 100, throughput: number | null = null): Originator =>
  ({ originator, neighbour, hardIfindex: 3, lastSeenMs, tq, throughput, best });

test('one route per originator, sorted; the best row first, then alternatives by quality; at most two next hops', () => {
  const routes = batmanRoutes([
    row('02:00:00:00:00:0b', '02:00:00:00:00:02', 180, false),
    row('02:00:00:00:00:0b', '02:00:00:00:00:03', 150, true),
    row('02:00:00:00:00:0b', '02:00:00:00:00:04', 200, false),
    row('02:00:00:00:00:0a', '02:00:00:00:00:0a', 255, true, 20),
  ]);
  assert.deepEqual(routes, [
    { dest: '02:00:00:00:00:0a', nextHops: ['02:00:00:00:00:0a'], tq: 255, throughput: null, lastSeenMs: 20 },
    { dest: '02:00:00:00:00:0b', nextHops: ['02:00:00:00:00:03', '02:00:00:00:00:04'], tq: 150, throughput: null, lastSeenMs: 100 },
  ]);
});

test('B.A.T.M.A.N. V rows rank by throughput; equal quality by the most recently heard', () => {
  const routes = batmanRoutes([
    row('02:00:00:00:00:0c', '02:00:00:00:00:05', null, false, 900, 100),
    row('02:00:00:00:00:0c', '02:00:00:00:00:06', null, false, 300, 100),
    row('02:00:00:00:00:0c', '02:00:00:00:00:07', null, false, 10, 50),
  ]);
  assert.deepEqual(routes[0]!.nextHops, ['02:00:00:00:00:06', '02:00:00:00:00:05']);
  assert.equal(routes[0]!.throughput, 100);
  assert.deepEqual(batmanRoutes([]), []);
});
