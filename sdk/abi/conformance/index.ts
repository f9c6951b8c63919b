// Conformance kits: what every plugin of a capability must do, whoever wrote it. A slot runs the kit as the
// self-test before switching a version in, and plugin authors run the same kit with `x0t plugin test`.
// Kits see a plugin only through `call`, so they run the same against any isolation or host.
import type { CapabilityName } from '../generated/contract.js';
import { SelfTestFailedError } from '../errors.js';
import { aggregatorKit } from './aggregator-kit.js';
import { embedderKit } from './embedder-kit.js';
import { kemKit } from './kem-kit.js';
import { selftestKit } from './selftest-kit.js';
import { signerKit } from './signer-kit.js';
import { trainerKit } from './trainer-kit.js';
import { vectorIndexKit } from './vector-index-kit.js';
import type { ConformanceCase, ConformanceReport, PluginCall } from './kit-types.js';

export type { ConformanceCase, ConformanceReport, PluginCall } from './kit-types.js';

export const KITS: Readonly<Record<CapabilityName, readonly ConformanceCase[]>> = {
  selftest: selftestKit,
  aggregator: aggregatorKit,
  kem: kemKit,
  signer: signerKit,
  trainer: trainerKit,
  'vector-index': vectorIndexKit,
  embedder: embedderKit,
};

/** Runs every case; resolves with the report, or rejects with SelfTestFailedError naming the first failed case. */
export async function runConformance(capability: CapabilityName, call: PluginCall): Promise<ConformanceReport> {
  const results: { name: string; ms: number }[] = [];
  for (const c of KITS[capability]) {
    const t0 = performance.now();
    try {
      await c.run(call);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new SelfTestFailedError(`${capability} conformance case "${c.name}" failed: ${why}`, {
        capability, case: c.name, passed: results.map((r) => r.name),
      });
    }
    results.push({ name: c.name, ms: performance.now() - t0 });
  }
  return { capability, cases: results };
}
