// The link watcher's pure state machine: which rtnetlink messages become which events, deduplication of the
// kernel's repeated NEWLINK/NEWADDR, the down reason, and removals found by a re-dump after lost messages.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LinkTable, type LinkEvent } from '../../../host/driver/netlink/link-table.js';
import { IFF_LOWER_UP, IFF_RUNNING, IFF_UP, type AddressMessage, type LinkMessage } from '../../../host/driver/netlink/rtnetlink-codec.js';

const UP = IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
const newLink = (ifindex: number, flags: number, extra: Partial<LinkMessage> = {}): LinkMessage =>
  ({ kind: 'new-link', ifindex, flags, name: `v${ifindex}`, operstate: null, carrier: null, mtu: null, ...extra });
const addr = (kind: AddressMessage['kind'], ifindex: number, address: string, family: 4 | 6 = 4, prefixLength = 24): AddressMessage =>
  ({ kind, ifindex, family, address, prefixLength });
const kinds = (es: readonly LinkEvent[]) => es.map((e) => (e.kind === 'link-down' ? `${e.kind}:${e.reason}` : e.kind));

describe('LinkTable', () => {
  it('adds a link once and reports up/down transitions only', () => {
    const t = new LinkTable();
    assert.deepEqual(kinds(t.apply(newLink(2, UP), 1n)), ['link-added']);
    assert.deepEqual(kinds(t.apply(newLink(2, UP, { mtu: 1400 }), 2n)), []); // a repeat
    assert.deepEqual(kinds(t.apply(newLink(2, IFF_UP), 3n)), ['link-down:carrier']);
    assert.deepEqual(kinds(t.apply(newLink(2, IFF_UP, { operstate: 'lowerlayerdown' }), 4n)), []);
    assert.deepEqual(kinds(t.apply(newLink(2, 0), 5n)), []); // already down: setting it down adds no event
    assert.deepEqual(kinds(t.apply(newLink(2, UP), 6n)), ['link-up']);
    const [down] = t.apply(newLink(2, 0), 7n);
    assert.deepEqual(down, {
      kind: 'link-down', reason: 'admin', atNs: 7n,
      link: { ifindex: 2, name: 'v2', adminUp: false, carrier: false, running: false, operstate: 'lowerlayerdown', up: false }, // operstate: the last one reported
    });
  });

  it('takes IFLA_CARRIER over the flags and keeps the last known name and operstate', () => {
    const t = new LinkTable();
    t.apply(newLink(3, IFF_UP, { carrier: true, operstate: 'up' }), 1n);
    assert.equal(t.link(3)!.up, true);
    const [e] = t.apply(newLink(3, IFF_UP | IFF_LOWER_UP, { carrier: false, name: null, operstate: null }), 2n);
    assert.equal(e!.kind, 'link-down');
    assert.equal(t.link(3)!.name, 'v3');
    assert.equal(t.link(3)!.operstate, 'up');
  });

  it('deduplicates addresses and withdraws them with their link', () => {
    const t = new LinkTable();
    t.apply(newLink(4, UP), 1n);
    assert.deepEqual(kinds(t.apply(addr('new-address', 4, '10.0.0.1'), 2n)), ['address-added']);
    assert.deepEqual(kinds(t.apply(addr('new-address', 4, '10.0.0.1'), 3n)), []);
    assert.deepEqual(kinds(t.apply(addr('new-address', 4, 'fd00::1', 6, 64), 4n)), ['address-added']);
    assert.deepEqual(kinds(t.apply(addr('del-address', 4, '10.0.0.1'), 5n)), ['address-removed']);
    assert.deepEqual(kinds(t.apply(addr('del-address', 4, '10.0.0.1'), 6n)), []);
    assert.deepEqual(kinds(t.apply({ ...newLink(4, 0), kind: 'del-link' }, 7n)), ['address-removed', 'link-removed']);
    assert.deepEqual(kinds(t.apply({ ...newLink(4, 0), kind: 'del-link' }, 8n)), []);
    assert.deepEqual(t.links(), []);
    assert.deepEqual(t.addresses(), []);
  });

  it('a complete re-dump removes what it no longer lists; an interrupted one removes nothing', () => {
    const t = new LinkTable();
    for (const i of [1, 2, 3]) t.apply(newLink(i, UP), 1n);
    t.apply(addr('new-address', 2, '10.0.0.2'), 1n);
    t.beginSnapshot('links');
    t.apply(newLink(1, UP), 2n);
    t.apply(newLink(3, UP), 2n);
    assert.deepEqual(kinds(t.endSnapshot('links', false, 3n)), []);
    t.beginSnapshot('links');
    t.apply(newLink(1, UP), 4n);
    t.apply(newLink(3, 0), 4n);
    assert.deepEqual(kinds(t.endSnapshot('links', true, 5n)), ['address-removed', 'link-removed']);
    assert.deepEqual(t.links().map((l) => [l.ifindex, l.up]), [[1, true], [3, false]]);
  });

  it('whatever the message order, the table ends as the last message per link says, and events alternate', () => {
    const msg = fc.record({ ifindex: fc.integer({ min: 1, max: 3 }), flags: fc.constantFrom(0, IFF_UP, UP), del: fc.boolean() });
    fc.assert(fc.property(fc.array(msg, { maxLength: 40 }), (ms) => {
      const t = new LinkTable();
      const events: LinkEvent[] = [];
      const last = new Map<number, { flags: number; del: boolean }>();
      ms.forEach((m, i) => {
        events.push(...t.apply(m.del ? { ...newLink(m.ifindex, 0), kind: 'del-link' } : newLink(m.ifindex, m.flags), BigInt(i)));
        last.set(m.ifindex, m);
      });
      for (const [i, m] of last) {
        if (m.del) assert.equal(t.link(i), undefined);
        else assert.equal(t.link(i)!.up, (m.flags & UP) === UP);
      }
      for (const i of [1, 2, 3]) {
        // per link: up and down strictly alternate between an add and a removal
        let up: boolean | null = null;
        for (const e of events.filter((x) => 'link' in x && x.link.ifindex === i)) {
          if (e.kind === 'link-added') { assert.equal(up, null); up = e.link.up; }
          else if (e.kind === 'link-removed') { assert.notEqual(up, null); up = null; }
          else if (e.kind === 'link-up') { assert.equal(up, false); up = true; }
          else if (e.kind === 'link-down') { assert.equal(up, true); up = false; }
        }
      }
    }));
  });
});
