// `x0t plugin new` must give a plugin that builds and passes its capability's kit with no edits, for every
// capability of the contract: AssemblyScript templates (index.ts) and C templates (PQClean behind sdk/c, whose
// plugin.json carries the build). Runs in a scratch root (links to the SDK and node_modules) so the repository is
// not touched.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../../host/errors/index.js';
import { loadPlugin } from '../../../host/runtime/instantiate.js';
import { loadPluginSpec } from '../../../host/runtime/load-manifest.js';
import { runConformance } from '../../../sdk/abi/conformance/index.js';
import { CAPABILITY_NAMES } from '../../../sdk/abi/generated/contract.js';
import { build } from '../../../sdk/tools/build-plugins.js';
import { scaffoldPlugin } from '../../../sdk/tools/scaffold.js';
import { ROOT } from '../../support/fixtures.js';

test('every capability scaffolds a plugin that builds and passes its conformance kit', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'x0t-scaffold-'));
  try {
    for (const entry of ['node_modules', 'sdk', 'asconfig.json']) symlinkSync(join(ROOT, entry), join(root, entry));
    mkdirSync(join(root, 'manifests'));
    symlinkSync(join(ROOT, 'manifests', 'schema'), join(root, 'manifests', 'schema'));
    for (const capability of CAPABILITY_NAMES) {
      const name = `my-${capability}`;
      const result = await scaffoldPlugin(capability, name, 'plugins', root);
      const template = readdirSync(join(ROOT, 'sdk', 'templates', capability)).sort();
      assert.deepEqual(result.files.map((f) => basename(f)).sort(), [...new Set([...template, 'plugin.json'])].sort());
      const json = JSON.parse(readFileSync(join(root, 'plugins', name, 'plugin.json'), 'utf8')) as { name: string; capability: string };
      assert.equal(json.name, name);
      assert.equal(json.capability, capability);
      for (const f of result.files) assert.doesNotMatch(readFileSync(f, 'utf8'), /__NAME__|__SDK__/, f);
      const report = await build({ root, only: [name], check: false, log: () => {} });
      assert.equal(report.built.length, 1);
      const inst = await loadPlugin(await loadPluginSpec(join(root, 'manifests', 'plugins', `${name}.json`)));
      try {
        const conformance = await runConformance(capability, (fn, input) => inst.call(fn, input));
        t.diagnostic(`${name}: ${conformance.cases.length} conformance cases passed`);
      } finally {
        await inst.close();
      }
    }
    await assert.rejects(scaffoldPlugin('aggregator', 'my-aggregator', 'plugins', root), UsageError);
    await assert.rejects(scaffoldPlugin('kem', 'my-kem', 'plugins', root), UsageError);
    await assert.rejects(scaffoldPlugin('teleporter', 'x', 'plugins', root), UsageError);
    await assert.rejects(scaffoldPlugin('aggregator', 'Bad Name', 'plugins', root), UsageError);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
