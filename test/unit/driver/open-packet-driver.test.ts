// openPacketDriver without an interface: the user-space driver whose status says so, or, when the driver is
// required, UnsupportedError (exit 30) instead of a silent fallback. (The XDP paths run on the real kernel in
// test/integration/cli-driver/driver-xdp.test.ts.)
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_INTERFACE_REASON, openPacketDriver } from '../../../host/driver/open-packet-driver.js';
import { UserspaceDriver } from '../../../host/driver/userspace-driver.js';
import { UnsupportedError } from '../../../host/errors/index.js';

describe('openPacketDriver', () => {
  it('without an interface opens the user-space driver, with the reason in its status', async () => {
    for (const opts of [undefined, {}, { interface: null }]) {
      const d = await openPacketDriver(opts);
      assert.ok(d instanceof UserspaceDriver);
      assert.equal(d.status().mode, 'userspace');
      assert.equal(d.status().reason, NO_INTERFACE_REASON);
      await d.close();
    }
    assert.equal(NO_INTERFACE_REASON, 'no driver interface configured');
  });

  it('passes the event rate on to the user-space driver', async () => {
    const d = await openPacketDriver({ eventsPerSecond: 2 }) as UserspaceDriver;
    let n = 0;
    d.onEvent(() => n++);
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) d.record(a, 1);
    assert.equal(n, 2);
    assert.equal(d.status().eventsSuppressed, 1);
    await d.close();
  });

  it('refuses to fall back when the driver is required', async () => {
    await assert.rejects(openPacketDriver({ required: true }), (e: unknown) => e instanceof UnsupportedError && e.exitCode === 30);
  });
});
