// The secure-aggregation wire format: every kind round-trips through encode/decode (fast-check arbitraries of each
// message), the frame layout starts with the versioned magic, and random or mutated bytes never make the decoder
// fail with anything but CodecError.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodeSecAggMessage, encodeSecAggMessage, expectSecAggKind, SECAGG_MAGIC, SECAGG_WIRE_VERSION, type SecAggMessage,
} from '../../../host/crypto/secagg/index.js';
import { CodecError } from '../../../host/errors/index.js';

const RUNS = { numRuns: 400 };
const u32 = fc.nat({ max: 0xffffffff });
const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const key = bytes(32, 32);
const roundId = bytes(1, 64);

const entry = fc.record({ from: u32, encryptionKey: key, maskingKey: key, signature: bytes(0, 200) });
const messageArb: fc.Arbitrary<SecAggMessage> = fc.oneof(
  fc.record({ kind: fc.constant('advertise-keys' as const), roundId, from: u32, encryptionKey: key, maskingKey: key, signature: bytes(0, 3400) }),
  fc.record({ kind: fc.constant('key-roster' as const), roundId, entries: fc.array(entry, { maxLength: 8 }) }),
  fc.record({ kind: fc.constant('share-keys' as const), roundId, from: u32, ciphertexts: fc.array(fc.record({ to: u32, sealed: bytes(0, 120) }), { maxLength: 8 }) }),
  fc.record({ kind: fc.constant('share-delivery' as const), roundId, to: u32, ciphertexts: fc.array(fc.record({ from: u32, sealed: bytes(0, 120) }), { maxLength: 8 }) }),
  fc.record({ kind: fc.constant('masked-input' as const), roundId, from: u32, masked: fc.array(u32, { maxLength: 64 }).map((a) => Uint32Array.from(a)) }),
  fc.record({ kind: fc.constant('unmask-request' as const), roundId, survivors: fc.array(u32, { maxLength: 16 }) }),
  fc.record({
    kind: fc.constant('unmask-shares' as const), roundId, from: u32,
    shares: fc.array(fc.record({ of: u32, type: fc.constantFrom('self-mask' as const, 'masking-key' as const), share: bytes(32, 32) }), { maxLength: 8 }),
  }),
);

/** Runs the decoder; returns the message, or null for a CodecError; rethrows anything else (a test failure). */
function decodeOrCodecError(frame: Uint8Array): SecAggMessage | null {
  try {
    return decodeSecAggMessage(frame);
  } catch (e) {
    if (e instanceof CodecError) return null;
    throw e;
  }
}

describe('secagg codec', () => {
  test('every message round-trips and re-encodes to the same bytes', () => {
    fc.assert(fc.property(messageArb, (m) => {
      const frame = encodeSecAggMessage(m);
      assert.deepEqual([...frame.subarray(0, 5)], [...SECAGG_MAGIC, SECAGG_WIRE_VERSION]);
      const back = decodeSecAggMessage(frame);
      assert.deepEqual(back, structuredClone(m)); // fast-check builds null-prototype records
      assert.deepEqual(encodeSecAggMessage(back), frame);
    }), RUNS);
  });

  test('a masked input is written as little-endian u32 words', () => {
    const frame = encodeSecAggMessage({ kind: 'masked-input', roundId: Uint8Array.of(9), from: 0x01020304, masked: Uint32Array.of(0xa1b2c3d4, 5) });
    // magic(4) version(1) kind(1) ridLen(1) rid(1) from(4) dim(4) words(8)
    assert.deepEqual([...frame.subarray(6)], [1, 9, 4, 3, 2, 1, 2, 0, 0, 0, 0xd4, 0xc3, 0xb2, 0xa1, 5, 0, 0, 0]);
    assert.equal(frame[5], 5);
  });

  test('random bytes never fail with anything but CodecError', () => {
    fc.assert(fc.property(bytes(0, 300), (b) => { decodeOrCodecError(b); }), { numRuns: 3000 });
    // Random bodies behind a valid header reach the per-kind parsers.
    fc.assert(fc.property(fc.integer({ min: 0, max: 9 }), bytes(0, 300), (kind, body) => {
      decodeOrCodecError(Uint8Array.from([...SECAGG_MAGIC, SECAGG_WIRE_VERSION, kind, ...body]));
    }), { numRuns: 3000 });
  });

  test('truncated, extended or bit-flipped valid frames decode or fail with CodecError only', () => {
    fc.assert(fc.property(messageArb, fc.nat(), fc.nat({ max: 7 }), (m, at, bit) => {
      const frame = encodeSecAggMessage(m);
      const cut = at % frame.length;
      assert.equal(decodeOrCodecError(frame.subarray(0, cut)), null, 'a strict prefix never decodes');
      assert.equal(decodeOrCodecError(Uint8Array.from([...frame, 0])), null, 'trailing bytes are refused');
      const flipped = frame.slice();
      flipped[cut] = flipped[cut]! ^ (1 << bit);
      decodeOrCodecError(flipped);
    }), RUNS);
  });

  test('a count larger than the frame can hold is refused before allocating', () => {
    const frame = Uint8Array.from([...SECAGG_MAGIC, SECAGG_WIRE_VERSION, 6, 1, 7, 0xff, 0xff, 1, 2, 3, 4]);
    assert.throws(() => decodeSecAggMessage(frame), CodecError);
    const masked = Uint8Array.from([...SECAGG_MAGIC, SECAGG_WIRE_VERSION, 5, 1, 7, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
    assert.throws(() => decodeSecAggMessage(masked), CodecError);
  });

  test('encoder refuses fields that do not fit their fixed lengths', () => {
    assert.throws(() => encodeSecAggMessage({ kind: 'advertise-keys', roundId: Uint8Array.of(1), from: 1, encryptionKey: new Uint8Array(31), maskingKey: new Uint8Array(32), signature: new Uint8Array(0) }), CodecError);
    assert.throws(() => encodeSecAggMessage({ kind: 'unmask-request', roundId: new Uint8Array(256), survivors: [] }), CodecError);
  });

  test('expectSecAggKind narrows or refuses with CodecError', () => {
    const m: SecAggMessage = { kind: 'unmask-request', roundId: Uint8Array.of(1), survivors: [1, 2] };
    assert.deepEqual(expectSecAggKind(m, 'unmask-request').survivors, [1, 2]);
    assert.throws(() => expectSecAggKind(m, 'key-roster'), CodecError);
  });
});
