// The routing wire format: every message kind round-trips (fast-check arbitraries), the layout is the documented
// little-endian one, sizes match routingMessageSize, and random or mutated bytes never make the decoder fail with
// anything but CodecError {kind: 'routing'}; an unknown version is reason 'version'.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeRoutingMessage, encodeRoutingMessage, ROUTING_WIRE_VERSION, routingMessageSize } from '../../../host/core/routing/routing-codec.js';
import type { RoutingMessage } from '../../../host/core/routing/types.js';
import { CodecError } from '../../../host/errors/index.js';

const RUNS = { numRuns: 500 };
const u32 = fc.nat({ max: 0xffffffff });
const u8 = fc.nat({ max: 255 });
const address = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex'));

const messageArb: fc.Arbitrary<RoutingMessage> = fc.oneof(
  fc.record({ type: fc.constant('ogm' as const), originator: address, seq: u32, ttl: u8, tq: u8, hops: u8, prevSender: address, gatewayClass: u8 }),
  fc.record({ type: fc.constant('probe' as const), seq: u32, timestamp: u32 }),
  fc.record({ type: fc.constant('probe-reply' as const), seq: u32, timestamp: u32 }),
  fc.record({ type: fc.constant('rreq' as const), requestId: u32, originator: address, dest: address, hops: u8, ttl: u8 }),
  fc.record({ type: fc.constant('rrep' as const), requestId: u32, originator: address, dest: address, hops: u8 }),
  fc.record({ type: fc.constant('rerr' as const), unreachable: fc.array(address, { minLength: 1, maxLength: 20 }) }),
);

function decodeOrCodecError(b: Uint8Array): RoutingMessage | CodecError {
  try {
    return decodeRoutingMessage(b);
  } catch (e) {
    if (e instanceof CodecError) return e;
    throw e;
  }
}

describe('routing codec', () => {
  test('every message round-trips, re-encodes to the same bytes and has the size routingMessageSize says', () => {
    fc.assert(fc.property(messageArb, (m) => {
      const bytes = encodeRoutingMessage(m);
      assert.equal(bytes.length, routingMessageSize(m));
      assert.equal(bytes[0], ROUTING_WIRE_VERSION);
      const back = decodeRoutingMessage(bytes);
      assert.deepEqual(back, structuredClone(m));
      assert.deepEqual(encodeRoutingMessage(back), bytes);
    }), RUNS);
  });

  test('an OGM is laid out as documented (little-endian seq, 42 bytes)', () => {
    const m: RoutingMessage = { type: 'ogm', originator: '01'.repeat(16), seq: 0x04030201, ttl: 9, tq: 200, hops: 3, prevSender: 'ff'.repeat(16), gatewayClass: 41 };
    const b = encodeRoutingMessage(m);
    assert.equal(b.length, 42);
    assert.deepEqual([...b.subarray(0, 2)], [1, 1]);
    assert.deepEqual([...b.subarray(2, 18)], new Array(16).fill(1));
    assert.deepEqual([...b.subarray(18, 26)], [1, 2, 3, 4, 9, 200, 3, 41]);
    assert.deepEqual([...b.subarray(26)], new Array(16).fill(0xff));
  });

  test('a probe is 10 bytes: version, type 2, seq and timestamp little-endian', () => {
    assert.deepEqual([...encodeRoutingMessage({ type: 'probe', seq: 258, timestamp: 0x01000000 })], [1, 2, 2, 1, 0, 0, 0, 0, 0, 1]);
  });

  test('random bytes decode or fail with CodecError, never anything else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (b) => { decodeOrCodecError(b); }), { numRuns: 3000 });
  });

  test('mutated, truncated and extended valid messages decode or fail with CodecError', () => {
    fc.assert(fc.property(messageArb, fc.nat(), u8, fc.nat({ max: 3 }), (m, pos, value, how) => {
      const b = encodeRoutingMessage(m);
      let x: Uint8Array;
      if (how === 0) { x = b.slice(); x[pos % b.length] = value; }
      else if (how === 1) x = b.slice(0, pos % b.length);
      else if (how === 2) x = Uint8Array.from([...b, value]);
      else x = b.subarray(1);
      const r = decodeOrCodecError(x);
      if (r instanceof CodecError) assert.equal(r.details['kind'], 'routing');
    }), RUNS);
  });

  test('an unknown version is reason "version"; an unknown type, a bad length and an empty rerr are refused', () => {
    const probe = encodeRoutingMessage({ type: 'probe', seq: 1, timestamp: 2 });
    const reason = (b: Uint8Array): unknown => (decodeOrCodecError(b) as CodecError).details['reason'];
    assert.equal(reason(Uint8Array.from([2, ...probe.subarray(1)])), 'version');
    assert.equal(reason(Uint8Array.from([1, 99, ...probe.subarray(2)])), 'type');
    assert.equal(reason(probe.subarray(0, 9)), 'length');
    assert.equal(reason(Uint8Array.of(1, 6, 0)), 'count');
    assert.equal(reason(new Uint8Array(0)), 'length');
  });

  test('the encoder refuses values that do not fit their field', () => {
    assert.throws(() => encodeRoutingMessage({ type: 'probe', seq: 2 ** 32, timestamp: 0 }), CodecError);
    assert.throws(() => encodeRoutingMessage({ type: 'rerr', unreachable: [] }), CodecError);
    assert.throws(() => encodeRoutingMessage({ type: 'rreq', requestId: 1, originator: 'xyz', dest: '00'.repeat(16), hops: 0, ttl: 1 }), CodecError);
    assert.throws(() => encodeRoutingMessage({ type: 'ogm', originator: '00'.repeat(16), seq: 0, ttl: 256, tq: 0, hops: 0, prevSender: '00'.repeat(16), gatewayClass: 0 }), CodecError);
  });
});
