// Properties every aggregation rule shares — FedAvg, median, Krum, trimmed mean, geometric median, Bulyan,
// centered clipping — so one kit serves them all; rule-specific expectations live in each plugin's own tests.
// Rounds that must succeed have at least KIT_CLIENTS clients, so a robust rule configured for up to 5 Byzantine
// clients (Bulyan needs n ≥ 4f + 3) passes the kit when a slot self-tests it.
import { decodeF32Vector, encodeAggregateRequest, type AggregateRequest } from '../generated/contract.js';
import { expectFailure, seededRandom, type ConformanceCase, type PluginCall } from './kit-types.js';

function request(clients: number, dim: number, seed: number): AggregateRequest {
  const rnd = seededRandom(seed);
  const weights = Float32Array.from({ length: clients }, () => 1 + Math.floor(rnd() * 10));
  const updates = Float32Array.from({ length: clients * dim }, () => rnd() * 2 - 1);
  return { clients, dim, weights, updates };
}

async function aggregate(call: PluginCall, req: AggregateRequest): Promise<Float32Array> {
  const out = decodeF32Vector(await call('aggregate', encodeAggregateRequest(req)));
  if (out.len !== req.dim) throw new Error(`aggregate of dim ${req.dim} returned ${out.len} values`);
  return out.values;
}

const KIT_CLIENTS = 23;

/** A fixed permutation of 0..n-1 (a seeded shuffle). */
function permutation(n: number, seed: number): number[] {
  const rnd = seededRandom(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [p[i], p[j]] = [p[j]!, p[i]!];
  }
  return p;
}

export const aggregatorKit: readonly ConformanceCase[] = [
  {
    name: 'identical updates aggregate to that update',
    run: async (call) => {
      const base = request(1, 37, 3);
      const clients = KIT_CLIENTS;
      const updates = new Float32Array(clients * base.dim);
      for (let c = 0; c < clients; c++) updates.set(base.updates, c * base.dim);
      const out = await aggregate(call, { clients, dim: base.dim, weights: new Float32Array(clients).fill(2), updates });
      for (let i = 0; i < base.dim; i++) {
        if (Math.abs(out[i]! - base.updates[i]!) > 1e-5) throw new Error(`coordinate ${i}: ${out[i]} ≠ ${base.updates[i]}`);
      }
    },
  },
  {
    name: 'result lies within the coordinate-wise range of the updates',
    run: async (call) => {
      const req = request(KIT_CLIENTS + 2, 257, 4);
      const out = await aggregate(call, req);
      for (let i = 0; i < req.dim; i++) {
        let lo = Infinity;
        let hi = -Infinity;
        for (let c = 0; c < req.clients; c++) {
          const x = req.updates[c * req.dim + i]!;
          lo = Math.min(lo, x);
          hi = Math.max(hi, x);
        }
        if (!(out[i]! >= lo - 1e-5 && out[i]! <= hi + 1e-5)) throw new Error(`coordinate ${i}: ${out[i]} outside [${lo}, ${hi}]`);
      }
    },
  },
  {
    name: 'order of clients does not matter',
    run: async (call) => {
      const req = request(KIT_CLIENTS + 1, 129, 5);
      const perm = permutation(req.clients, 8);
      const weights = Float32Array.from(perm, (p) => req.weights[p]!);
      const updates = new Float32Array(req.updates.length);
      perm.forEach((p, c) => updates.set(req.updates.subarray(p * req.dim, (p + 1) * req.dim), c * req.dim));
      const a = await aggregate(call, req);
      const b = await aggregate(call, { ...req, weights, updates });
      for (let i = 0; i < req.dim; i++) {
        if (Math.abs(a[i]! - b[i]!) > 1e-4) throw new Error(`coordinate ${i} changed with client order: ${a[i]} vs ${b[i]}`);
      }
    },
  },
  {
    name: 'malformed or empty rounds are refused without trapping',
    run: async (call) => {
      await expectFailure(call('aggregate', Uint8Array.of(0, 1, 2, 3, 4)), ['X0T_PLUGIN_ERROR'], 'a 5-byte frame');
      const frame = encodeAggregateRequest(request(3, 8, 6));
      await expectFailure(call('aggregate', frame.subarray(0, frame.length - 8)), ['X0T_PLUGIN_ERROR'], 'a truncated frame');
      const empty = encodeAggregateRequest({ clients: 0, dim: 4, weights: new Float32Array(0), updates: new Float32Array(0) });
      await expectFailure(call('aggregate', empty), ['X0T_PLUGIN_ERROR'], 'a round with no clients');
      await aggregate(call, request(KIT_CLIENTS, 8, 7)); // and it still answers
    },
  },
];
