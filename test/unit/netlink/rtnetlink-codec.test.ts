// rtnetlink link and address messages: round trips through our encoder and decoder, hand-written byte arrays laid
// out from linux/rtnetlink.h (ifinfomsg, ifaddrmsg) and if_link.h / if_addr.h attribute numbers, and random or
// damaged bytes that may only raise CodecError.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeAddress } from '../../../host/driver/ip-address.js';
import { decodeMessages, NLM_F_DUMP, NLM_F_REQUEST } from '../../../host/driver/netlink/netlink-message.js';
import {
  decodeRouteMessage, encodeAddressMessage, encodeDumpRequest, encodeLinkMessage, OPERSTATES, RTM_GETADDR, RTM_GETLINK,
  type AddressMessage, type LinkMessage,
} from '../../../host/driver/netlink/rtnetlink-codec.js';
import { CodecError } from '../../../host/errors/index.js';
import { damaged, hex, onlyCodecError } from './codec-helpers.js';

const ifname = fc.string({ minLength: 1, maxLength: 15 }).filter((s) => !s.includes('\0'));
const link: fc.Arbitrary<LinkMessage> = fc.record({
  kind: fc.constantFrom('new-link' as const, 'del-link' as const),
  ifindex: fc.integer({ min: 1, max: 0x7fffffff }),
  flags: fc.integer({ min: 0, max: 0xffffffff }),
  name: fc.option(ifname),
  operstate: fc.option(fc.constantFrom(...OPERSTATES)),
  carrier: fc.option(fc.boolean()),
  mtu: fc.option(fc.integer({ min: 0, max: 0xffffffff })),
});
const address: fc.Arbitrary<AddressMessage> = fc.oneof(
  fc.record({
    kind: fc.constantFrom('new-address' as const, 'del-address' as const),
    ifindex: fc.integer({ min: 1, max: 0xffffffff }),
    family: fc.constant(4 as const),
    prefixLength: fc.integer({ min: 0, max: 32 }),
    address: fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => decodeAddress(4, b)),
  }),
  fc.record({
    kind: fc.constantFrom('new-address' as const, 'del-address' as const),
    ifindex: fc.integer({ min: 1, max: 0xffffffff }),
    family: fc.constant(6 as const),
    prefixLength: fc.integer({ min: 0, max: 128 }),
    address: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => decodeAddress(6, b)),
  }),
);

const one = (bytes: Uint8Array) => {
  const ms = decodeMessages(bytes);
  assert.equal(ms.length, 1);
  return decodeRouteMessage(ms[0]!);
};

describe('rtnetlink codec', () => {
  it('link messages round-trip', () => {
    fc.assert(fc.property(link, fc.nat(), (m, seq) => assert.deepEqual(one(encodeLinkMessage(m, { seq })), { ...m })));
  });

  it('address messages round-trip', () => {
    fc.assert(fc.property(address, (m) => assert.deepEqual(one(encodeAddressMessage(m)), { ...m })));
  });

  it('decodes a hand-written RTM_NEWLINK', () => {
    const bytes = hex(`
      44000000 1000 0000 00000000 00000000
      00 00 0100 02000000 41000100 ffffffff
      0900 0300 65746830 00 000000
      0800 0400 dc050000
      0500 1000 06 000000
      0500 2100 01 000000`); // eth0, ifindex 2, UP|RUNNING|LOWER_UP, mtu 1500, operstate up, carrier 1
    assert.deepEqual(one(bytes), { kind: 'new-link', ifindex: 2, flags: 0x10041, name: 'eth0', operstate: 'up', carrier: true, mtu: 1500 });
  });

  it('decodes a hand-written RTM_DELLINK with a nested attribute it does not read', () => {
    const bytes = hex(`
      30000000 1100 0000 00000000 00000000
      00 00 0100 05000000 02100000 00000000
      0700 0300 763000 00
      0800 1280 0400 0100`); // "v0", ifindex 5, flags BROADCAST|MULTICAST; IFLA_LINKINFO (nested) ignored
    assert.deepEqual(one(bytes), { kind: 'del-link', ifindex: 5, flags: 0x1002, name: 'v0', operstate: null, carrier: null, mtu: null });
  });

  it('decodes hand-written RTM_NEWADDR / RTM_DELADDR (IPv6; IPv4 point-to-point prefers IFA_LOCAL)', () => {
    const v6 = hex(`
      34000000 1400 0000 00000000 00000000
      0a 40 80 00 03000000
      1400 0100 fd000064000000000000000000000001
      0800 0800 80000000`); // fd00:64::1/64 on ifindex 3, IFA_FLAGS permanent
    assert.deepEqual(one(v6), { kind: 'new-address', ifindex: 3, family: 6, prefixLength: 64, address: 'fd00:64::1' });
    const p2p = hex(`
      28000000 1500 0000 00000000 00000000
      02 20 80 00 07000000
      0800 0100 0a000002
      0800 0200 0a000001`); // peer 10.0.0.2 in IFA_ADDRESS, own 10.0.0.1 in IFA_LOCAL, /32, ifindex 7
    assert.deepEqual(one(p2p), { kind: 'del-address', ifindex: 7, family: 4, prefixLength: 32, address: '10.0.0.1' });
  });

  it('refuses inconsistent address messages and skips untracked families', () => {
    const truncated = hex('1f000000 1400 0000 00000000 00000000 | 02 18 00 00 01000000 | 0800 0100 0a0000'); // attr claims 8 of 7 bytes
    assert.throws(() => one(truncated), CodecError);
    const noAddress = hex('18000000 1400 0000 00000000 00000000 | 02 18 00 00 01000000');
    assert.throws(() => one(noAddress), CodecError);
    const v4With16 = hex('2c000000 1400 0000 00000000 00000000 | 02 18 00 00 01000000 | 1400 0100 00000000000000000000000000000000');
    assert.throws(() => one(v4With16), CodecError);
    const prefixTooLong = hex('20000000 1400 0000 00000000 00000000 | 02 21 00 00 01000000 | 0800 0100 0a000001');
    assert.throws(() => one(prefixTooLong), CodecError);
    const afPacket = hex('18000000 1400 0000 00000000 00000000 | 11 00 00 00 01000000');
    assert.equal(one(afPacket), null);
    const route = hex('1c000000 1800 0000 00000000 00000000 | 0a 00 00 00 00 00 00 00 00000000'); // RTM_NEWROUTE
    assert.equal(one(route), null);
  });

  it('encodes dump requests with the family header zeroed', () => {
    assert.deepEqual(encodeDumpRequest(RTM_GETLINK, 3), hex('20000000 1200 0103 03000000 00000000 | 00000000 00000000 00000000 00000000'));
    assert.deepEqual(encodeDumpRequest(RTM_GETADDR, 4), hex('18000000 1600 0103 04000000 00000000 | 00000000 00000000'));
    assert.equal(NLM_F_REQUEST | NLM_F_DUMP, 0x301);
  });

  it('random and damaged bytes raise CodecError only', () => {
    const types = [16, 17, 20, 21];
    fc.assert(fc.property(fc.constantFrom(...types), fc.uint8Array({ maxLength: 80 }), (type, body) => {
      const b = new Uint8Array(16 + body.byteLength);
      new DataView(b.buffer).setUint32(0, b.byteLength, true);
      new DataView(b.buffer).setUint16(4, type, true);
      b.set(body, 16);
      onlyCodecError(() => decodeMessages(b).forEach(decodeRouteMessage));
    }));
    fc.assert(fc.property(fc.oneof(link.map((m) => encodeLinkMessage(m)), address.map((m) => encodeAddressMessage(m))), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), (bytes, cut, at, v) => {
      for (const b of damaged(bytes, cut, at, v)) onlyCodecError(() => decodeMessages(b).forEach(decodeRouteMessage));
    }));
  });
});
