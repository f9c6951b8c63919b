// Client selection: seeded, deterministic sampling without replacement from the currently joined clients.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { selectClients, selectionSize } from '../../../host/core/fl/client-selection.js';

const ids = (n: number): string[] => Array.from({ length: n }, (_, i) => `c${String(i).padStart(3, '0')}`);

test('selection size: counts are clamped, fractions round up and take at least one', () => {
  assert.equal(selectionSize({ kind: 'count', count: 5 }, 3), 3);
  assert.equal(selectionSize({ kind: 'count', count: 2 }, 10), 2);
  assert.equal(selectionSize({ kind: 'fraction', fraction: 0.1 }, 25), 3);
  assert.equal(selectionSize({ kind: 'fraction', fraction: 0.2 }, 25), 5);
  assert.equal(selectionSize({ kind: 'fraction', fraction: 0.01 }, 25), 1);
  assert.equal(selectionSize({ kind: 'fraction', fraction: 1 }, 25), 25);
  assert.equal(selectionSize({ kind: 'fraction', fraction: 0.5 }, 0), 0);
});

test('selection is a sorted subset without repeats, independent of join order, reproducible from the seed', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 1, max: 60 }), fc.nat(), fc.nat(), (n, k, seed, round) => {
    const pool = ids(n);
    const a = selectClients(pool, { kind: 'count', count: k }, seed, round);
    const b = selectClients([...pool].reverse(), { kind: 'count', count: k }, seed, round);
    assert.deepEqual(a, b);
    assert.equal(a.length, Math.min(n, k));
    assert.equal(new Set(a).size, a.length);
    assert.ok(a.every((id) => pool.includes(id)));
    assert.deepEqual(a, [...a].sort());
  }), { numRuns: 300 });
});

test('different rounds and seeds select different clients, and every client gets selected about equally often', () => {
  const pool = ids(25);
  const counts = new Map(pool.map((id) => [id, 0]));
  const seen = new Set<string>();
  for (let round = 1; round <= 2000; round++) {
    const s = selectClients(pool, { kind: 'count', count: 5 }, 42, round);
    seen.add(s.join(','));
    for (const id of s) counts.set(id, counts.get(id)! + 1);
  }
  assert.ok(seen.size > 1900, `only ${seen.size} distinct selections in 2000 rounds`);
  // 2000 rounds x 5 of 25: 400 each on average; a fair sampler stays well within +-25 %.
  for (const [id, c] of counts) assert.ok(c > 300 && c < 500, `${id} selected ${c} times`);
  assert.notDeepEqual(selectClients(pool, { kind: 'count', count: 5 }, 1, 7), selectClients(pool, { kind: 'count', count: 5 }, 2, 7));
});
