// The pure parts of the node's link state: joining the watcher's links and addresses (each link with its own, the
// driver's interface marked), what a failed batman-adv probe says, link events as JSON (the bigint time as text),
// and how the CLI words link events and the links table.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InterfaceAddress, LinkEvent, LinkState } from '../../../host/driver/netlink/index.js';
import { DriverError, InternalError, UnsupportedError } from '../../../host/errors/index.js';
import { batmanStatusOf, linkEventJson, linkViews } from '../../../host/node/node-link-state.js';
import { describeBatman, describeLinkEvent, describeLinkWatch, linksTable, linkStateText } from '../../../host/cli/driver-links.js';

const link = (ifindex: number, name: string, adminUp: boolean, carrier: boolean): LinkState => ({
  ifindex, name, adminUp, carrier, running: adminUp && carrier, operstate: adminUp && carrier ? 'up' : 'down', up: adminUp && carrier,
});
const LO = link(1, 'lo', true, true);
const VETH = link(7, 'vx1n0b', true, false);
const IFB = link(9, 'ifb0', false, true);
const ADDRS: InterfaceAddress[] = [
  { ifindex: 1, family: 4, address: '127.0.0.1', prefixLength: 8 },
  { ifindex: 1, family: 6, address: '::1', prefixLength: 128 },
  { ifindex: 7, family: 4, address: '10.114.0.2', prefixLength: 24 },
  { ifindex: 7, family: 6, address: 'fd00:114::2', prefixLength: 64 },
  { ifindex: 12, family: 4, address: '10.9.9.9', prefixLength: 32 }, // a link the table no longer has
];

describe('linkViews', () => {
  it('gives each link its own addresses, in order, and marks the driver\'s interface', () => {
    assert.deepEqual(linkViews([LO, VETH, IFB], ADDRS, 7), [
      { ...LO, driverInterface: false, addresses: [{ family: 4, address: '127.0.0.1', prefixLength: 8 }, { family: 6, address: '::1', prefixLength: 128 }] },
      { ...VETH, driverInterface: true, addresses: [{ family: 4, address: '10.114.0.2', prefixLength: 24 }, { family: 6, address: 'fd00:114::2', prefixLength: 64 }] },
      { ...IFB, driverInterface: false, addresses: [] },
    ]);
  });

  it('marks no interface when the driver has none (user space)', () => {
    assert.equal(linkViews([LO, VETH], ADDRS, null).some((l) => l.driverInterface), false);
    assert.deepEqual(linkViews([], ADDRS, 7), []);
  });
});

describe('batmanStatusOf', () => {
  it('states an absent batman-adv by its message, any other failure with its code', () => {
    assert.deepEqual(batmanStatusOf(new UnsupportedError('batman-adv is not available in this kernel', { call: 'CTRL_CMD_GETFAMILY', errno: 2 })),
      { available: false, reason: 'batman-adv is not available in this kernel' });
    assert.deepEqual(batmanStatusOf(new DriverError('netlink: no answer to CTRL_CMD_GETFAMILY within 1000 ms', { call: 'CTRL_CMD_GETFAMILY', errno: 110 })),
      { available: false, reason: 'X0T_DRIVER: netlink: no answer to CTRL_CMD_GETFAMILY within 1000 ms' });
    const odd = batmanStatusOf(new Error('boom'));
    assert.equal(odd.available, false);
    assert.match(odd.available ? '' : odd.reason, new RegExp(`^${new InternalError('x').code}: .*boom`));
  });
});

describe('linkEventJson', () => {
  it('keeps every field and writes the monotonic time as decimal text (JSON has no bigint)', () => {
    const down: LinkEvent = { kind: 'link-down', link: VETH, reason: 'carrier', atNs: 12345678901234567890n };
    const j = linkEventJson(down);
    assert.deepEqual(j, { kind: 'link-down', link: VETH, reason: 'carrier', atNs: '12345678901234567890' });
    assert.equal(BigInt(JSON.parse(JSON.stringify(j)).atNs as string), down.atNs);
    const addr: LinkEvent = { kind: 'address-added', address: ADDRS[2]!, atNs: 5n };
    assert.deepEqual(linkEventJson(addr), { kind: 'address-added', address: ADDRS[2], atNs: '5' });
  });
});

describe('the CLI\'s words for link state', () => {
  it('one line per event, with why a link went down and the driver\'s interface marked', () => {
    const at = 1n;
    const cases: [LinkEvent, string, boolean, string][] = [
      [{ kind: 'link-down', link: VETH, reason: 'carrier', atNs: at }, 'vx1n0b', true, 'link vx1n0b: down (carrier lost) (the packet driver\'s interface)'],
      [{ kind: 'link-down', link: IFB, reason: 'admin', atNs: at }, 'ifb0', false, 'link ifb0: down (set down)'],
      [{ kind: 'link-up', link: LO, atNs: at }, 'lo', false, 'link lo: up'],
      [{ kind: 'link-added', link: LO, atNs: at }, 'lo', false, 'link lo: added, up'],
      [{ kind: 'link-added', link: IFB, atNs: at }, 'ifb0', false, 'link ifb0: added, down'],
      [{ kind: 'link-removed', link: VETH, atNs: at }, 'vx1n0b', true, 'link vx1n0b: removed (the packet driver\'s interface)'],
      [{ kind: 'address-added', address: ADDRS[3]!, atNs: at }, 'vx1n0b', false, 'link vx1n0b: address fd00:114::2/64 added'],
      [{ kind: 'address-removed', address: ADDRS[0]!, atNs: at }, 'lo', false, 'link lo: address 127.0.0.1/8 removed'],
    ];
    for (const [e, name, drv, text] of cases) assert.equal(describeLinkEvent(e, name, drv), text);
  });

  it('says whether links are watched and whether batman-adv is there, with the reason when not', () => {
    assert.equal(describeLinkWatch(true, null), 'links: watched through rtnetlink (up/down, carrier and address events)');
    assert.equal(describeLinkWatch(false, 'link events are unavailable: netlink: sockets of protocol 0 are not available here (errno 97)'),
      'links: not watched, the node has no link events: link events are unavailable: netlink: sockets of protocol 0 are not available here (errno 97)');
    assert.equal(describeBatman({ available: true }), 'batman-adv: available');
    assert.equal(describeBatman({ available: false, reason: 'batman-adv is not available in this kernel' }),
      'batman-adv: not available: batman-adv is not available in this kernel');
  });

  it('the links table: name (driver marked), state with the cause of a down, carrier, addresses', () => {
    assert.equal(linkStateText(LO), 'up');
    assert.equal(linkStateText(VETH), 'down (no carrier)');
    assert.equal(linkStateText(IFB), 'down (set down)');
    const rows = linksTable(linkViews([LO, VETH, IFB], ADDRS, 7)).split('\n');
    assert.deepEqual(rows.map((r) => r.split(/ {2,}/)), [
      ['INTERFACE', 'STATE', 'CARRIER', 'ADDRESSES'],
      ['lo', 'up', 'yes', '127.0.0.1/8, ::1/128'],
      ['vx1n0b (driver)', 'down (no carrier)', 'no', '10.114.0.2/24, fd00:114::2/64'],
      ['ifb0', 'down (set down)', 'yes', '-'],
    ]);
  });
});
