// Pin directory names: one per interface and network namespace, valid in a bpffs (which refuses `.` in names),
// distinct for distinct interface names.
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ensureBpffs, interfacePinDir, PIN_NAMES } from '../../../host/driver/pin-layout.js';
import { UnsupportedError } from '../../../host/errors/index.js';
import { pinPathOf } from '../../../host/driver/bpf-object-spec.js';

/** Interface names the kernel accepts: 1-15 bytes, no '/', ':' or whitespace. */
const ifname = fc.string({ unit: fc.constantFrom(...'abcdeth0123.%-_@'.split('')), minLength: 1, maxLength: 15 });

describe('pin layout', () => {
  it('names are bpffs-valid (no dot) and injective over interface names', () => {
    fc.assert(fc.property(ifname, ifname, fc.nat(), (a, b, ns) => {
      const da = basename(interfacePinDir('/run/x', a, ns));
      assert.ok(!da.includes('.'), da);
      assert.ok(!da.includes('/'));
      if (a !== b) assert.notEqual(da, basename(interfacePinDir('/run/x', b, ns)));
    }));
    assert.equal(interfacePinDir('/run/x0tta6bl4/bpf', 'eth0.100', 4026531840), '/run/x0tta6bl4/bpf/eth0%2e100@4026531840');
    assert.notEqual(interfacePinDir('/p', 'eth0', 1), interfacePinDir('/p', 'eth0', 2), 'another namespace, another directory');
  });

  it('pins the link, the program and every contract map; bpffs-valid names', () => {
    assert.deepEqual([...PIN_NAMES].sort(), ['config', 'events', 'link', 'peer_cache', 'peers_v4', 'peers_v6', 'prog', 'quarantine_filter', 'quarantine_v4', 'quarantine_v6', 'stats']);
    for (const n of PIN_NAMES) assert.ok(!n.includes('.'));
  });

  it('a pinRoot that cannot be created is UnsupportedError at once (under /proc Node\'s recursive mkdir never returns)', () => {
    for (const root of ['/proc/x0t-no-bpffs/pins', '/dev/null/x0t-pins']) {
      assert.throws(() => ensureBpffs(root), (e: unknown) => e instanceof UnsupportedError && e.details['reason'] === 'no-bpffs', root);
    }
  });

  it('the object pin sits next to the object', () => {
    assert.equal(pinPathOf('/repo/bpf/x0t_xdp.o'), '/repo/bpf/x0t_xdp.json');
  });
});
