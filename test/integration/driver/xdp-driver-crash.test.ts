// A crashed driver and its replacement (subnets 92 and 93): the child holding the driver is SIGKILLed after attach;
// its pinned link keeps the program on the interface (quarantine fails closed); a new child on the same interface
// finds the stale pins, takes over their quarantine (enforced before the old program is detached), detaches and
// replaces them (its status says what it replaced) and counts from then on; after
// its close nothing of either is attached, pinned or loaded. Also: an x0t program attached by someone else through
// netlink (`ip link set … xdp obj`) is removed on open, a foreign one makes open fail with DriverError.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DriverChild } from '../../support/driver-child-client.js';
import { programLoaded, sendUdp, udpFrameBytes, useDriverTriangle, xdpAttached } from '../../support/driver-lab.js';
import { netnsUnavailable, sh, type NetnsLab } from '../../support/netns.js';

const skip = (await netnsUnavailable()) ?? (existsSync('bpf/x0t_xdp.o') ? null : 'bpf/x0t_xdp.o is not built');

/** The id of the XDP program attached to an interface (ip -j link show), or null. */
async function attachedProgramId(lab: NetnsLab, ns: string, dev: string): Promise<number | null> {
  const [link] = JSON.parse(await lab.exec(ns, ['ip', '-j', 'link', 'show', 'dev', dev])) as { xdp?: { prog?: { id: number } } }[];
  return link!.xdp?.prog?.id ?? null;
}

describe('XDP driver after a crash (stale pins replaced, nothing left behind)', { skip: skip ?? false }, () => {
  const t = useDriverTriangle('drvcr', 92);

  it('a new driver replaces the state of a SIGKILLed one', async () => {
    const first = new DriverChild(t.lab, 'b', ['--interface', t.ab.b.dev, '--pin-root', t.bpffs.path]);
    const firstStatus = await first.ready;
    await first.quarantineAdd(t.ab.a.ipv4);
    first.kill('SIGKILL');
    await first.exited;

    // The pinned link outlived its process: still attached, still dropping the quarantined peer.
    assert.equal(await attachedProgramId(t.lab, 'b', t.ab.b.dev), firstStatus.programId);
    assert.equal(t.bpffs.leftovers().length, 1, 'the crashed driver left its pin directory');
    await sendUdp(t.lab, 'a', t.ab.b.ipv4, 5, 32);
    const key = t.ab.a.ipv4.split('.');
    const pinned = JSON.parse(await sh(['bpftool', '-j', 'map', 'lookup', 'pinned', join(firstStatus.pinDir!, 'quarantine_v4'), 'key', ...key])) as { formatted: { value: { drops: number } } };
    assert.equal(pinned.formatted.value.drops, 5, 'the orphaned program still drops the quarantined peer');

    const second = new DriverChild(t.lab, 'b', ['--interface', t.ab.b.dev, '--pin-root', t.bpffs.path]);
    const status = await second.ready;
    assert.ok(status.staleReplaced, 'the status says a stale state was replaced');
    assert.equal(status.staleReplaced.pinDir, firstStatus.pinDir);
    assert.ok(status.staleReplaced.pins.includes('link'));
    assert.ok(status.staleReplaced.pins.includes('peers_v4'));
    assert.equal(status.staleReplaced.linkProgramId, firstStatus.programId);
    assert.deepEqual(status.staleReplaced.detachedProgramIds, []);
    assert.notEqual(status.programId, firstStatus.programId);
    assert.equal(status.pinDir, firstStatus.pinDir, 'same interface, same pin directory');
    assert.equal(await attachedProgramId(t.lab, 'b', t.ab.b.dev), status.programId);
    assert.equal(await programLoaded(firstStatus.programId!), false, 'the stale program is gone');

    // The quarantine carries over, drop count and all, and is enforced by the new program; releasing it restores
    // counting in the new maps.
    assert.equal(status.staleReplaced.quarantineCarried, 1);
    assert.deepEqual(await second.quarantineList(), [{ address: t.ab.a.ipv4, family: 4, drops: 5 }]);
    await sendUdp(t.lab, 'a', t.ab.b.ipv4, 4, 32);
    assert.deepEqual(await second.quarantineList(), [{ address: t.ab.a.ipv4, family: 4, drops: 9 }]);
    assert.equal(await second.quarantineDelete(t.ab.a.ipv4), true);
    await sendUdp(t.lab, 'a', t.ab.b.ipv4, 12, 50);
    const peer = (await second.peers()).find((p) => p.address === t.ab.a.ipv4);
    assert.deepEqual(peer, { address: t.ab.a.ipv4, family: 4, packets: 12, bytes: 12 * udpFrameBytes(4, 50), quarantined: false });

    await second.close();
    assert.equal(await xdpAttached(t.lab, 'b', t.ab.b.dev), false);
    assert.deepEqual(t.bpffs.leftovers(), []);
    assert.equal(await programLoaded(status.programId!), false);
  });

  it('removes an x0t program attached through netlink and refuses a foreign one', async () => {
    // Ours, attached by iproute2 (libbpf inside `ip`), not through a link: found by name and detached.
    await t.lab.exec('b', ['ip', 'link', 'set', 'dev', t.ab.b.dev, 'xdpgeneric', 'obj', 'bpf/x0t_xdp.o', 'sec', 'xdp']);
    const leftover = await attachedProgramId(t.lab, 'b', t.ab.b.dev);
    assert.ok(leftover !== null);
    const child = new DriverChild(t.lab, 'b', ['--interface', t.ab.b.dev, '--pin-root', t.bpffs.path]);
    const status = await child.ready;
    assert.deepEqual(status.staleReplaced?.detachedProgramIds, [leftover]);
    assert.equal(status.staleReplaced?.quarantineCarried, 0);
    assert.equal(status.staleReplaced?.pinDir, null);
    assert.equal(status.mode, 'xdp-native');
    await child.close();
    assert.equal(await xdpAttached(t.lab, 'b', t.ab.b.dev), false);

    // Someone else's program: the driver does not remove it, open fails with DriverError EBUSY.
    const clang = (() => {
      try {
        execFileSync('clang', ['--version'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    })();
    if (!clang) return; // building the foreign program needs clang (present wherever bpf/ is built)
    const dir = mkdtempSync(join(tmpdir(), 'x0t-foreign-'));
    try {
      writeFileSync(join(dir, 'foreign.c'), '#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nSEC("xdp") int other_prog(struct xdp_md *c) { return XDP_PASS; }\nchar LICENSE[] SEC("license") = "GPL";\n');
      const triple = execFileSync('clang', ['-print-multiarch'], { encoding: 'utf8' }).trim();
      await sh(['clang', '-O2', '-target', 'bpf', ...(triple ? ['-I', `/usr/include/${triple}`] : []), '-c', join(dir, 'foreign.c'), '-o', join(dir, 'foreign.o')]);
      await t.lab.exec('b', ['ip', 'link', 'set', 'dev', t.ab.b.dev, 'xdpgeneric', 'obj', join(dir, 'foreign.o'), 'sec', 'xdp']);
      const foreignId = await attachedProgramId(t.lab, 'b', t.ab.b.dev);
      const refused = new DriverChild(t.lab, 'b', ['--interface', t.ab.b.dev, '--pin-root', t.bpffs.path]);
      await assert.rejects(refused.ready, (e: Error & { code?: string; details?: Record<string, unknown> }) => {
        assert.equal(e.code, 'X0T_DRIVER');
        assert.equal(e.details?.['programId'], foreignId);
        assert.equal(e.details?.['program'], 'other_prog');
        return true;
      });
      await refused.exited;
      assert.equal(await attachedProgramId(t.lab, 'b', t.ab.b.dev), foreignId, 'the foreign program is left alone');
      assert.deepEqual(t.bpffs.leftovers(), [], 'a refused open pins nothing');
    } finally {
      await t.lab.exec('b', ['ip', 'link', 'set', 'dev', t.ab.b.dev, 'xdpgeneric', 'off']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
