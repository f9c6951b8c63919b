// The Byzantine attacks and the numbers they rest on: Φ⁻¹ against tabulated quantiles, ALIE's z for the
// experiment's n and f, and the vectors ALIE and IPM send, computed by hand on a tiny round.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { alieZ, colludingUpdate, honestMoments, parseAttack, signFlipped } from '../../../host/fl/byzantine-attacks.js';
import { normalQuantile } from '../../../host/fl/normal-quantile.js';
import { UsageError } from '../../../host/errors/index.js';

describe('normalQuantile', () => {
  test('matches tabulated quantiles of the standard normal', () => {
    // Standard table values (e.g. NIST/SEMATECH e-Handbook, Table 1.3.6.7.1), to 9 digits.
    const table: [number, number][] = [
      [0.5, 0], [0.6, 0.253347103], [0.68, 0.467698799], [0.84134474606, 1.0], [0.975, 1.959963985],
      [0.995, 2.575829304], [0.999, 3.090232306], [0.01, -2.326347874], [0.001, -3.090232306], [1e-6, -4.753424309],
    ];
    for (const [p, z] of table) assert.ok(Math.abs(normalQuantile(p) - z) < 2e-8, `Φ⁻¹(${p}) = ${normalQuantile(p)}, table ${z}`);
  });
  test('is odd about 1/2 and monotone; the ends are infinite and outside is NaN', () => {
    for (let p = 0.001; p < 0.5; p += 0.0137) assert.ok(Math.abs(normalQuantile(p) + normalQuantile(1 - p)) < 1e-8);
    let prev = -Infinity;
    for (let p = 1e-9; p < 1; p += 0.00731) {
      const z = normalQuantile(p);
      assert.ok(z > prev);
      prev = z;
    }
    assert.equal(normalQuantile(0), -Infinity);
    assert.equal(normalQuantile(1), Infinity);
    assert.ok(Number.isNaN(normalQuantile(1.5)));
  });
});

describe('attacks', () => {
  test("ALIE's z for 25 clients, 5 Byzantine: s = 8, Φ⁻¹(12/20)", () => {
    assert.ok(Math.abs(alieZ(25, 5) - 0.253347103) < 1e-8);
    // 50 clients, 10 Byzantine: s = 16, Φ⁻¹(24/40).
    assert.ok(Math.abs(alieZ(50, 10) - normalQuantile(0.6)) < 1e-12);
  });
  test('ALIE sends μ − zσ and IPM −εμ per coordinate', () => {
    const honest = [Float32Array.of(1, 0, 4), Float32Array.of(3, 0, -4)];
    const { mean, std } = honestMoments(honest);
    assert.deepEqual([...mean], [2, 0, 0]);
    assert.deepEqual([...std], [1, 0, 4]);
    const z = alieZ(25, 5);
    const alie = colludingUpdate('alie', honest, { clients: 25, byzantine: 5 });
    assert.deepEqual([...alie], [Math.fround(2 - z), 0, Math.fround(-4 * z)]);
    const ipm = colludingUpdate('ipm', honest, { clients: 25, byzantine: 5 });
    assert.deepEqual([...ipm], [Math.fround(-0.2), -0, -0]);
    const ipm5 = colludingUpdate('ipm', honest, { clients: 25, byzantine: 5, epsilon: 0.5 });
    assert.equal(ipm5[0], -1);
  });
  test('signflip negates; unknown names and empty rounds are usage errors', () => {
    assert.deepEqual([...signFlipped(Float32Array.of(1, -2.5, 0))], [-1, 2.5, -0]);
    assert.throws(() => parseAttack('lie'), UsageError);
    assert.equal(parseAttack('ipm'), 'ipm');
    assert.throws(() => colludingUpdate('alie', [], { clients: 3, byzantine: 1 }), UsageError);
  });
});
