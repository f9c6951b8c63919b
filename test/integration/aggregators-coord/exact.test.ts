// Hand-computed small rounds for median, trimmed-mean, geomed and cclip, each through a worker Slot.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Slot } from '../../../host/runtime/slot.js';
import { aggregate, maxAbsDiff, openSlot, round } from './helpers.js';

function close(actual: Float32Array, expected: readonly number[], tol = 1e-6): void {
  assert.ok(maxAbsDiff(actual, expected) <= tol, `got [${Array.from(actual).join(', ')}], expected [${expected.join(', ')}]`);
}

describe('robust aggregators: hand-computed rounds', () => {
  const slots = new Map<string, Slot>();
  const open = async (key: string, name: string, config?: Record<string, string>) => slots.set(key, await openSlot(name, config));
  before(async () => {
    await open('median', 'median');
    await open('tm', 'trimmed-mean');
    await open('tm.2', 'trimmed-mean', { beta: '0.2' });
    await open('gm0', 'geomed', { iters: '0', eps: '1e-6' });
    await open('gm1', 'geomed', { iters: '1', eps: '1e-6' });
    await open('gm2', 'geomed', { iters: '2', eps: '1e-6' });
    await open('gm8', 'geomed');
    await open('cc1', 'cclip', { tau: '5', iters: '1' });
    await open('cc2', 'cclip', { tau: '5', iters: '2' });
    await open('cc0', 'cclip', { tau: '5', iters: '0' });
    await open('cc1d', 'cclip', { tau: '1', iters: '2' });
  });
  after(async () => {
    for (const s of slots.values()) await s.close();
  });
  const slot = (k: string) => slots.get(k)!;

  test('median: even and odd client counts, weights ignored', async () => {
    // columns of 4 clients: {1,2,3,100} → (2+3)/2 = 2.5; {10,20,30,-5} → (10+20)/2 = 15; {-1,-2,-3,0} → (-2-1)/2 = -1.5
    const four = [[1, 10, -1], [2, 20, -2], [3, 30, -3], [100, -5, 0]];
    close(await aggregate(slot('median'), round(four)), [2.5, 15, -1.5]);
    // the same with a heavy weight on the outlier: the median does not look at weights
    close(await aggregate(slot('median'), round(four, [1, 1, 1, 1000])), [2.5, 15, -1.5]);
    // a fifth client [4, 0, 7]: {1,2,3,4,100} → 3; {-5,0,10,20,30} → 10; {-3,-2,-1,0,7} → -1
    close(await aggregate(slot('median'), round([...four, [4, 0, 7]])), [3, 10, -1]);
    // one client: itself
    close(await aggregate(slot('median'), round([[0.5, -7]])), [0.5, -7]);
  });

  test('trimmed-mean: k = floor(beta·n) dropped from each end', async () => {
    // 5 clients, columns {1,2,3,10,100} and {0,0,6,3,-50}
    const rows = [[1, 0], [2, 0], [3, 6], [10, 3], [100, -50]];
    // beta 0.2: k = floor(1) = 1 → {2,3,10} → 5; {0,0,3} → 1
    close(await aggregate(slot('tm.2'), round(rows)), [5, 1]);
    // default beta 0.1: k = floor(0.5) = 0 → plain means 116/5 = 23.2 and -41/5 = -8.2
    close(await aggregate(slot('tm'), round(rows)), [23.2, -8.2], 1e-5);
    // weights ignored
    close(await aggregate(slot('tm.2'), round(rows, [1, 1, 1, 1, 99])), [5, 1]);
  });

  test('geomed: Weiszfeld steps on 0, 0, 10', async () => {
    // dim 1, equal weights, points 0, 0, 10. z0 = 10/3. With z in (0, 10): β = 1/z, 1/z, 1/(10−z), so
    // z' = (10/(10−z)) / (2/z + 1/(10−z)) = 10z / (20 − z): z1 = (100/3)/(50/3) = 2, z2 = 20/18 = 10/9.
    const r = round([[0], [0], [10]]);
    close(await aggregate(slot('gm0'), r), [10 / 3]);
    close(await aggregate(slot('gm1'), r), [2]);
    close(await aggregate(slot('gm2'), r), [10 / 9]);
    // 8 steps of the recurrence (the true geometric median is 0, the 1-D median)
    let z = 10 / 3;
    for (let t = 0; t < 8; t++) z = (10 * z) / (20 - z);
    close(await aggregate(slot('gm8'), r), [z], 1e-6);
    assert.ok(z < 0.02);
    // weights: z0 is the weighted mean; [0,0] weight 3 and [4,0] weight 1 → z0 = [1, 0];
    // β = 3/1, 1/3 → z1 = (4/3)/(10/3) = 0.4
    close(await aggregate(slot('gm0'), round([[0, 0], [4, 0]], [3, 1])), [1, 0]);
    close(await aggregate(slot('gm1'), round([[0, 0], [4, 0]], [3, 1])), [0.4, 0]);
  });

  test('cclip: clipping around the median', async () => {
    // three clients at [0,0], one at [30,40]; median v0 = [0,0]; τ = 5.
    // step 1: d4 = [30,40], ‖d4‖ = 50 → clipped to [3,4]; equal weights → v1 = [3,4]/4 = [0.75, 1].
    // step 2: d = [-0.75,-1] (‖‖ = 1.25 < 5, kept) three times → [-2.25,-3]; d4 = [29.25,39], ‖‖ = 48.75 → [3,4];
    //         v2 = v1 + ([-2.25,-3] + [3,4])/4 = [0.75,1] + [0.1875,0.25] = [0.9375, 1.25]
    const r = round([[0, 0], [0, 0], [0, 0], [30, 40]]);
    close(await aggregate(slot('cc0'), r), [0, 0]);
    close(await aggregate(slot('cc1'), r), [0.75, 1]);
    close(await aggregate(slot('cc2'), r), [0.9375, 1.25]);
    // weights 1,1,1,3 → α4 = 1/2: v1 = [3,4]/2 = [1.5, 2]
    close(await aggregate(slot('cc1'), round([[0, 0], [0, 0], [0, 0], [30, 40]], [1, 1, 1, 3])), [1.5, 2]);
    // dim 1, τ = 1: points 0, 0, 1, 100 → v0 = 0.5; d = -.5, -.5, .5, 99.5 → clipped -.5, -.5, .5, 1 → v1 = 0.5 + 0.5/4 = 0.625;
    // d = -.625, -.625, .375, 99.375 → -.625, -.625, .375, 1 → v2 = 0.625 + 0.125/4 = 0.65625
    close(await aggregate(slot('cc1d'), round([[0], [0], [1], [100]])), [0.65625]);
  });
});
