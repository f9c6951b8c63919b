// The sealed-plaintext codec (inner types routing | forward | keepalive) and the echo payload: fixed vectors
// computed by hand from the layout, round trips, and a total decoder under fast-check (only CodecError, never a read
// past the end).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeEcho, encodeEcho } from '../../../host/mesh/inner/echo-codec.js';
import { decodeInner, encodeInner, FORWARD_HEADER_BYTES, type InnerMessage } from '../../../host/mesh/inner/inner-codec.js';
import { CodecError } from '../../../host/errors/index.js';

const A = '00112233445566778899aabbccddeeff';
const B = 'ffeeddccbbaa99887766554433221100';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function reasonOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof CodecError, `expected CodecError, got ${String(e)}`);
    return String(e.details['reason']);
  }
  assert.fail('did not throw');
}

describe('inner codec: fixed vectors', () => {
  it('keepalive is one byte 03', () => {
    assert.equal(hex(encodeInner({ type: 'keepalive' })), '03');
    assert.deepEqual(decodeInner(Uint8Array.of(3)), { type: 'keepalive' });
  });

  it('routing is 01 then the routing bytes', () => {
    const bytes = Uint8Array.of(9, 8, 7);
    assert.equal(hex(encodeInner({ type: 'routing', bytes })), '01090807');
    assert.deepEqual(decodeInner(Uint8Array.of(1, 9, 8, 7)), { type: 'routing', bytes });
  });

  it('forward: 02 | src | dst | ttl | flow LE | payload', () => {
    const m: InnerMessage = { type: 'forward', forward: { src: A, dst: B, ttl: 16, flow: 0x01020304, payload: Uint8Array.of(0xaa, 0xbb) } };
    const wire = encodeInner(m);
    assert.equal(hex(wire), `02${A}${B}10` + '04030201' + 'aabb');
    assert.equal(FORWARD_HEADER_BYTES, 38);
    assert.deepEqual(decodeInner(wire), m);
  });

  it('echo: op | seq LE | padding', () => {
    assert.equal(hex(encodeEcho({ op: 'request', seq: 258, padding: Uint8Array.of(7) })), '010201000007');
    assert.deepEqual(decodeEcho(Uint8Array.of(2, 1, 0, 0, 0)), { op: 'reply', seq: 1, padding: new Uint8Array(0) });
  });
});

describe('inner codec: refusals name the reason', () => {
  it('empty, unknown type, short forward, keepalive with a body, routing without one', () => {
    assert.equal(reasonOf(() => decodeInner(new Uint8Array(0))), 'length');
    assert.equal(reasonOf(() => decodeInner(Uint8Array.of(4))), 'kind');
    assert.equal(reasonOf(() => decodeInner(Uint8Array.of(0))), 'kind');
    assert.equal(reasonOf(() => decodeInner(new Uint8Array(37).fill(2, 0, 1))), 'length');
    assert.equal(reasonOf(() => decodeInner(Uint8Array.of(3, 0))), 'length');
    assert.equal(reasonOf(() => decodeInner(Uint8Array.of(1))), 'length');
  });

  it('encoder refuses bad addresses, ttl and flow', () => {
    const f = { src: A, dst: B, ttl: 1, flow: 1, payload: new Uint8Array(0) };
    assert.equal(reasonOf(() => encodeInner({ type: 'forward', forward: { ...f, src: 'AA' } })), 'address');
    assert.equal(reasonOf(() => encodeInner({ type: 'forward', forward: { ...f, dst: A.toUpperCase() } })), 'address');
    assert.equal(reasonOf(() => encodeInner({ type: 'forward', forward: { ...f, ttl: 256 } })), 'ttl');
    assert.equal(reasonOf(() => encodeInner({ type: 'forward', forward: { ...f, flow: -1 } })), 'flow');
    assert.equal(reasonOf(() => decodeEcho(Uint8Array.of(3, 0, 0, 0, 0))), 'kind');
  });
});

const addressArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex'));
const innerArb: fc.Arbitrary<InnerMessage> = fc.oneof(
  fc.constant({ type: 'keepalive' } as const),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => ({ type: 'routing', bytes }) as const),
  fc.record({
    src: addressArb, dst: addressArb, ttl: fc.integer({ min: 0, max: 255 }), flow: fc.nat({ max: 0xffff_ffff }),
    payload: fc.uint8Array({ maxLength: 300 }),
  }).map((forward) => ({ type: "forward", forward: { ...forward } }) as const),
);

describe('inner codec: properties', () => {
  it('decode(encode(m)) = m', () => {
    fc.assert(fc.property(innerArb, (m) => assert.deepEqual(decodeInner(encodeInner(m)), m)), { numRuns: 500 });
  });

  it('the decoder is total: any bytes decode or throw CodecError; a decoded message re-encodes to the same bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat({ max: 8 }), (bytes, shift) => {
      // A view into a larger buffer at an offset: the decoder must respect byteOffset/byteLength.
      const backing = new Uint8Array(bytes.length + shift + 8).fill(0xee);
      backing.set(bytes, shift);
      const view = backing.subarray(shift, shift + bytes.length);
      let m: InnerMessage;
      try {
        m = decodeInner(view);
      } catch (e) {
        assert.ok(e instanceof CodecError, String(e));
        return;
      }
      assert.deepEqual(encodeInner(m), bytes);
    }), { numRuns: 3000 });
  });

  it('mutated valid frames still only decode or throw CodecError; echo decoder likewise', () => {
    fc.assert(fc.property(innerArb, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat({ max: 60 }), (m, at, value, cut) => {
      const wire = encodeInner(m);
      wire[at % wire.length] = value;
      for (const b of [wire, wire.subarray(0, Math.max(0, wire.length - cut))]) {
        try {
          decodeInner(b);
        } catch (e) {
          assert.ok(e instanceof CodecError, String(e));
        }
        try {
          decodeEcho(b);
        } catch (e) {
          assert.ok(e instanceof CodecError, String(e));
        }
      }
    }), { numRuns: 2000 });
  });
});
