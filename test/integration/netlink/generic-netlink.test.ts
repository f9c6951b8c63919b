// Generic netlink on the real kernel: socket errors, a dump, an acknowledged request and a kernel errno through the
// controller family, and the batman-adv client. This kernel has no batman-adv (no module loading), so the batman-adv
// test proves the family lookup really runs (the same CTRL_CMD_GETFAMILY resolves the controller's own family) and
// that "batadv" is refused with UnsupportedError from that lookup, then skips with that reason. On a kernel with
// batman-adv it creates a mesh interface in a namespace and reads, changes and dumps it.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { GenericNetlink, openBatadv, type MeshInfo } from '../../../host/driver/netlink/index.js';
import { CTRL_ATTR_FAMILY_NAME, CTRL_CMD_GETFAMILY, decodeFamily, decodeGeneric, encodeGeneric, GENL_ID_CTRL } from '../../../host/driver/netlink/genetlink-codec.js';
import { cString, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST } from '../../../host/driver/netlink/netlink-message.js';
import { DriverError, UnsupportedError } from '../../../host/errors/index.js';
import { NetlinkSocket } from '../../../host/driver/netlink/netlink-socket.js';
import { NetnsLab, netnsUnavailable } from '../../support/netns.js';

describe('generic netlink requests on the real kernel', () => {
  it('collects a dump (the shape of the batman-adv table requests) and an acknowledged request', async () => {
    const nl = GenericNetlink.open();
    try {
      let seq = nl.nextSeq();
      const dump = encodeGeneric({ family: GENL_ID_CTRL, flags: NLM_F_REQUEST | NLM_F_DUMP, seq, cmd: CTRL_CMD_GETFAMILY, version: 1, attributes: [] });
      const families = (await nl.request('CTRL_CMD_GETFAMILY', dump, seq, 'dump')).map((m) => decodeFamily(decodeGeneric(m)));
      assert.ok(families.length > 1, JSON.stringify(families));
      assert.ok(families.some((f) => f.name === 'nlctrl' && f.id === GENL_ID_CTRL));
      seq = nl.nextSeq();
      const withAck = encodeGeneric({
        family: GENL_ID_CTRL, flags: NLM_F_REQUEST | NLM_F_ACK, seq, cmd: CTRL_CMD_GETFAMILY, version: 1,
        attributes: [{ type: CTRL_ATTR_FAMILY_NAME, value: cString('nlctrl') }],
      });
      const replies = await nl.request('CTRL_CMD_GETFAMILY', withAck, seq, 'ack');
      assert.deepEqual(replies.map((m) => decodeFamily(decodeGeneric(m)).name), ['nlctrl']);
      // A command the controller does not have: the kernel's errno comes back as DriverError {call, errno}.
      seq = nl.nextSeq();
      const unknown = encodeGeneric({ family: GENL_ID_CTRL, flags: NLM_F_REQUEST | NLM_F_ACK, seq, cmd: 250, version: 1, attributes: [] });
      await assert.rejects(nl.request('CTRL_CMD_250', unknown, seq, 'ack'), (e: unknown) => {
        assert.ok(e instanceof DriverError);
        assert.equal(e.details['call'], 'CTRL_CMD_250');
        assert.equal(e.details['errno'], 95); // EOPNOTSUPP
        return true;
      });
    } finally {
      nl.close();
    }
  });
});

describe('netlink sockets', () => {
  it('turn a protocol the kernel does not have into UnsupportedError {call, errno}', () => {
    assert.throws(() => NetlinkSocket.open(31), (e: unknown) => {
      assert.ok(e instanceof UnsupportedError);
      assert.deepEqual(e.details, { call: 'socket', errno: 93, protocol: 31 }); // EPROTONOSUPPORT
      return true;
    });
  });

  it('refuse use after close with DriverError', () => {
    const s = NetlinkSocket.open(16);
    assert.ok(s.portId > 0);
    s.close();
    s.close();
    assert.throws(() => s.send(new Uint8Array(16)), DriverError);
  });
});

describe('batman-adv generic netlink client', () => {
  const lab = new NetnsLab('nlbat');
  after(async () => {
    await lab.close();
  });

  it('reads, changes and dumps a mesh interface where the kernel has batman-adv', async (t) => {
    const nl = GenericNetlink.open();
    try {
      // The lookup works: the generic netlink controller finds itself (its id is fixed at 0x10).
      const ctrl = await nl.resolveFamily('nlctrl');
      assert.equal(ctrl.id, 0x10);
      assert.equal(ctrl.name, 'nlctrl');
    } finally {
      nl.close();
    }
    let unsupported: UnsupportedError | null = null;
    const client = await openBatadv().catch((e: unknown) => {
      if (e instanceof UnsupportedError) {
        unsupported = e;
        return null;
      }
      throw e;
    });
    if (client === null) {
      const e = unsupported as UnsupportedError | null;
      assert.ok(e !== null);
      assert.equal(e.message, 'batman-adv is not available in this kernel');
      assert.deepEqual(e.details, { call: 'CTRL_CMD_GETFAMILY', errno: 2, family: 'batadv' });
      t.skip(`${e.message} (CTRL_CMD_GETFAMILY "batadv" → ENOENT)`);
      return;
    }
    client.close();

    const why = await netnsUnavailable();
    if (why !== null) {
      t.skip(why);
      return;
    }
    await lab.addNamespace('a');
    await lab.addNamespace('b');
    const veth = await lab.link('a', 'b', 104);
    await lab.exec('a', ['ip', 'link', 'add', 'bat0', 'type', 'batadv']);
    await lab.exec('a', ['ip', 'link', 'set', veth.a.dev, 'master', 'bat0']);
    await lab.exec('a', ['ip', 'link', 'set', 'bat0', 'up']);
    const out = await lab.exec('a', [process.execPath, 'dist/test/support/netlink-batadv-child.js', 'bat0']);
    const r = JSON.parse(out.trim().split('\n').pop()!) as {
      t: string; ifindex: number; before: MeshInfo; after: MeshInfo; originators: unknown; neighbours: unknown; gateways: unknown;
    };
    assert.equal(r.t, 'result', out);
    assert.equal(r.before.meshIfname, 'bat0');
    assert.equal(r.before.meshIfindex, r.ifindex);
    assert.equal(r.after.settings.origInterval, 2500);
    assert.equal(r.after.settings.gwMode, 'server');
    assert.equal(r.after.settings.hopPenalty, 20);
    assert.ok(Array.isArray(r.originators) && Array.isArray(r.neighbours) && Array.isArray(r.gateways));
  });
});
