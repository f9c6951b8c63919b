// The generic netlink framing: messages and attributes round-trip, hand-written bytes decode as the UAPI lays
// them out, and random or damaged bytes only ever raise CodecError.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  align4, decodeAttributes, decodeError, decodeMessages, encodeAttributes, encodeError, encodeMessage, NLA_F_NESTED, NLMSG_DONE, NLMSG_ERROR,
  readString, readU16, readU32, readU64, readU8, type NetlinkMessage,
} from '../../../host/driver/netlink/netlink-message.js';
import { CodecError } from '../../../host/errors/index.js';
import { damaged, hex, onlyCodecError } from './codec-helpers.js';

const message = fc.record({
  type: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.integer({ min: 0, max: 0xffff }),
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  pid: fc.integer({ min: 0, max: 0xffffffff }),
  payload: fc.uint8Array({ maxLength: 64 }),
});
const attribute = fc.record({ type: fc.integer({ min: 0, max: 0x3fff }), value: fc.uint8Array({ maxLength: 40 }), nested: fc.boolean() });

describe('netlink messages', () => {
  it('round-trip, several to a datagram', () => {
    fc.assert(fc.property(fc.array(message, { minLength: 1, maxLength: 5 }), (ms) => {
      const parts = ms.map(encodeMessage);
      const buf = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
      let off = 0;
      for (const p of parts) { buf.set(p, off); off += p.byteLength; }
      const back = decodeMessages(buf);
      assert.deepEqual(back.map((m) => ({ ...m, payload: [...m.payload] })), ms.map((m) => ({ ...m, payload: [...m.payload] })));
    }));
  });

  it('decode the header as linux/netlink.h lays it out (little-endian), last message unpadded', () => {
    // len=21 | type=0x0010 | flags=REQUEST|ACK | seq=0x01020304 | pid=7 | 5 payload bytes; then an NLMSG_DONE
    const bytes = hex('15000000 | 1000 | 0500 | 04030201 | 07000000 | 6162636465 000000 | 14000000 0300 0200 01000000 00000000 00000000');
    const [a, b] = decodeMessages(bytes);
    assert.deepEqual({ ...a!, payload: [...a!.payload] }, { type: 0x10, flags: 5, seq: 0x01020304, pid: 7, payload: [0x61, 0x62, 0x63, 0x64, 0x65] });
    assert.equal(b!.type, NLMSG_DONE);
    assert.equal(b!.flags, 2);
    assert.equal(decodeMessages(bytes.subarray(0, 21)).length, 1);
  });

  it('refuse lengths that do not fit', () => {
    assert.throws(() => decodeMessages(hex('0f000000 0000 0000 00000000 00000000')), CodecError); // len 15 < header
    assert.throws(() => decodeMessages(hex('20000000 0000 0000 00000000 00000000')), CodecError); // len 32 > 16 bytes
    assert.throws(() => decodeMessages(hex('10000000 0000 0000 00000000 00000000 0000')), CodecError); // 2 stray bytes
    assert.throws(() => encodeMessage({ type: 0x10000, flags: 0, seq: 0, pid: 0, payload: new Uint8Array() }), CodecError);
  });

  it('random bytes and damaged messages raise CodecError only', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 128 }), (b) => onlyCodecError(() => decodeMessages(b))));
    fc.assert(fc.property(message, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), (m, cut, at, v) => {
      for (const b of damaged(encodeMessage(m), cut, at, v)) onlyCodecError(() => decodeMessages(b));
    }));
  });
});

describe('netlink attributes', () => {
  it('round-trip with the nested flag kept apart from the type', () => {
    fc.assert(fc.property(fc.array(attribute, { maxLength: 8 }), (as) => {
      const back = decodeAttributes(encodeAttributes(as));
      assert.deepEqual(back.map((a) => ({ type: a.type, value: [...a.value], nested: a.nested })), as.map((a) => ({ type: a.type, value: [...a.value], nested: a.nested })));
    }));
  });

  it('decode hand-written TLVs: padding, the nested bit, scalar widths', () => {
    // u8 7 (len 5, 3 pad) | nested (0x8000|2) holding u16 0x0102 (type 1) | "hi\0" string (type 3) | u64 (type 4)
    const bytes = hex('0500 0100 07 000000 | 0c00 0280 | 0600 0100 0201 0000 | 0700 0300 686900 00 | 0c00 0400 0807060504030201');
    const [a, n, s, q] = decodeAttributes(bytes);
    assert.equal(readU8('a', a!), 7);
    assert.equal(n!.type, 2);
    assert.equal(n!.nested, true);
    assert.equal(readU16('inner', decodeAttributes(n!.value)[0]!), 0x0102);
    assert.equal(readString('s', s!), 'hi');
    assert.equal(readU64('q', q!), 0x0102030405060708n);
    assert.equal(align4(5), 8);
    assert.equal(NLA_F_NESTED, 0x8000);
  });

  it('check scalar sizes and string terminators', () => {
    const [a] = decodeAttributes(hex('0600 0100 0102 0000'));
    assert.throws(() => readU32('x', a!), CodecError);
    assert.throws(() => readU8('x', a!), CodecError);
    assert.throws(() => readString('x', a!), CodecError); // no NUL
    assert.throws(() => decodeAttributes(hex('0300 0100')), CodecError); // nla_len < 4
    assert.throws(() => decodeAttributes(hex('0900 0100 0000')), CodecError); // longer than the buffer
  });

  it('random bytes raise CodecError only', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), (b) => onlyCodecError(() => {
      for (const a of decodeAttributes(b)) {
        for (const r of [readU8, readU16, readU32, readU64, readString]) onlyCodecError(() => r('x', a));
        if (a.nested) decodeAttributes(a.value);
      }
    })));
  });
});

describe('NLMSG_ERROR', () => {
  it('round-trips errno and the request it answers', () => {
    fc.assert(fc.property(message, fc.integer({ min: 0, max: 4095 }), (req: NetlinkMessage, errno) => {
      const [m] = decodeMessages(encodeError(errno, req));
      assert.equal(m!.type, NLMSG_ERROR);
      assert.deepEqual(decodeError(m!), { errno, requestType: req.type, requestSeq: req.seq });
    }));
  });

  it('decodes a hand-written ENOENT answer to a CTRL_CMD_GETFAMILY', () => {
    // header (len 36, type 2, flags 0x100 CAPPED, seq 9, pid 0) | error -2 | echoed request header (len 32, type 0x10, seq 9)
    const bytes = hex('24000000 0200 0001 09000000 00000000 | feffffff | 20000000 1000 0100 09000000 39300000');
    const [m] = decodeMessages(bytes);
    assert.deepEqual(decodeError(m!), { errno: 2, requestType: 0x10, requestSeq: 9 });
  });
});
