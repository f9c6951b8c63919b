// MAC address text: round trips, known strings and refusals (CodecError). IP address text is the driver's
// host/driver/ip-address.ts, tested in test/unit/driver/ip-address.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { formatMac, parseMac } from '../../../host/driver/netlink/mac-address.js';
import { CodecError } from '../../../host/errors/index.js';

describe('MAC address text', () => {
  it('round-trips any six bytes; lower-case hex pairs', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (b) => assert.deepEqual(parseMac(formatMac(b)), b)));
    assert.equal(formatMac(Uint8Array.of(2, 0, 0xab, 0, 0, 0x1f)), '02:00:ab:00:00:1f');
    assert.deepEqual([...parseMac('02:00:AB:00:00:1F')], [2, 0, 0xab, 0, 0, 0x1f]);
  });

  it('refuses malformed text and wrong lengths with CodecError', () => {
    for (const s of ['02:00:00:00:00', '02-00-00-00-00-01', '2:0:0:0:0:1', '02:00:00:00:00:0g']) assert.throws(() => parseMac(s), CodecError, s);
    assert.throws(() => formatMac(new Uint8Array(5)), CodecError);
  });
});
