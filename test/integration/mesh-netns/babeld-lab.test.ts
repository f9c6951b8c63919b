// babeld on the five-node mesh lab (subnets 120–129), the reference the issue compares our routing against, as a
// sanity check of the lab and the measurement: at hello 1 s it routes S → R over the primary S–A–R, data flows again
// over the backup S–B–C–R after the S–A cable is pulled and after S–A fails silently, the primary comes back after
// restoring, and the teardown leaves no namespace or process behind.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { BabeldMesh } from '../../support/babeld.js';
import { MESH_NODES, MeshLab } from '../../support/mesh-lab.js';
import { netnsUnavailable, sh } from '../../support/netns.js';
import { babeldUnderTest, measureConvergence } from '../../../bench/mesh-converge.js';

const skip = await netnsUnavailable();

describe('babeld on the mesh lab (hello 1 s)', { skip: skip ?? false }, () => {
  let lab: MeshLab;
  let babeld: BabeldMesh;
  before(async () => {
    lab = await MeshLab.create('mbab', 120);
    babeld = await BabeldMesh.start(lab, { helloS: 1 });
  });
  after(async () => {
    await babeld?.stop();
    const namespaces = MESH_NODES.map((n) => lab.ns(n));
    await lab?.close();
    for (const ns of namespaces) assert.ok(!existsSync(`/run/netns/${ns}`), `namespace ${ns} is gone`);
    const left = (await sh(['ip', 'netns', 'list'])).split('\n').filter((l) => namespaces.some((ns) => l.startsWith(ns)));
    assert.deepEqual(left, []);
  });

  it('routes S → R over the primary, fails over to the backup on a cut and on a silent failure, and recovers', async () => {
    // babeld may first install the longer path (whichever announcement came first) and only switch once its smoothed
    // metrics (4 s half-life) favour the primary: up to ~40 s on this lab.
    await babeld.waitForRoute('s', lab.loopback('r'), lab.link('sa').a.dev, 60_000);
    const r = babeldUnderTest(lab, babeld);
    const carrier = await measureConvergence(lab, r, 'carrier', { capMs: 15_000, recoverTimeoutMs: 60_000 });
    assert.ok(carrier.repliesBefore > 50, `data flowed over the primary before the cut (${carrier.repliesBefore} replies)`);
    assert.notEqual(carrier.convergenceMs, null, 'data flows again after the cut');
    assert.equal(carrier.hopAfter, 'backup');
    const silent = await measureConvergence(lab, r, 'silent', { capMs: 15_000, awaitRecovery: false });
    assert.ok(silent.repliesBefore > 50);
    assert.notEqual(silent.convergenceMs, null, 'data flows again after the silent failure');
    assert.equal(silent.hopAfter, 'backup');
    // A silent failure is only noticed by missing hellos: babeld needs several hello intervals.
    assert.ok(silent.convergenceMs! > 1000, `babeld silent ${silent.convergenceMs} ms`);
    assert.ok(carrier.recoverMs !== null, 'the primary came back after restoring S–A');
    process.stderr.write(`babeld hello 1 s: carrier ${carrier.convergenceMs} ms, silent ${silent.convergenceMs} ms, primary back ${carrier.recoverMs} ms after restore\n`);
  });
});
