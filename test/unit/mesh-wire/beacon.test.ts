// The beacon body codec: round trip, field limits, the suites bitset, and only-CodecError on damaged input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeBeacon, encodeBeacon, suiteNames, suitesBits, type Beacon } from '../../../host/mesh/wire/beacon.js';
import { beacon, hex, onlyCodecError, throwsCodec } from './wire-helpers.js';

const base: Beacon = { fingerprint: 'ab'.repeat(16), bootId: 7, suites: suitesBits(['hybrid']), trustDomain: 'mesh.example', endpoints: [] };

describe('mesh beacon', () => {
  it('round-trips', () => {
    fc.assert(fc.property(beacon, (b) => assert.deepEqual(decodeBeacon(encodeBeacon(b)), b)), { numRuns: 1000 });
  });

  it('suites are a bitset; unknown bits from newer peers survive', () => {
    assert.equal(suitesBits(['hybrid', 'classic']), 3);
    assert.deepEqual(suiteNames(3), ['hybrid', 'classic']);
    assert.deepEqual(suiteNames(0x8002), ['classic']);
    assert.equal(decodeBeacon(encodeBeacon({ ...base, suites: 0x8002 })).suites, 0x8002);
  });

  it('trust domain: up to 255 bytes of UTF-8, well-formed only', () => {
    const max = 'é'.repeat(127) + 'x'; // 255 bytes
    assert.equal(decodeBeacon(encodeBeacon({ ...base, trustDomain: max })).trustDomain, max);
    throwsCodec(() => encodeBeacon({ ...base, trustDomain: max + 'x' }), 'range');
    throwsCodec(() => encodeBeacon({ ...base, trustDomain: '\ud800' }), 'utf8');
    // fingerprint | bootId | suites | td length 1 + byte 0xff (not UTF-8) | 0 endpoints
    throwsCodec(() => decodeBeacon(hex(`${'00'.repeat(16)} 00000000 0000 01 ff 00`)), 'utf8');
  });

  it('refuses bad fingerprints, families, zones and counts', () => {
    throwsCodec(() => encodeBeacon({ ...base, fingerprint: 'AB'.repeat(16) }), 'range');
    throwsCodec(() => encodeBeacon({ ...base, fingerprint: 'ab' }), 'range');
    throwsCodec(() => encodeBeacon({ ...base, endpoints: [{ address: 'nope', port: 1 }] }), 'range');
    throwsCodec(() => encodeBeacon({ ...base, endpoints: new Array(256).fill({ address: '::1', port: 1 }) }), 'range');
    const head = `${'00'.repeat(16)} 00000000 0000 00 01`;
    throwsCodec(() => decodeBeacon(hex(`${head} 05 01020304 0100`)), 'family');
    throwsCodec(() => decodeBeacon(hex(`${head} 06 ${'00'.repeat(16)} 0100 03`)), 'range'); // zone kind 3
    throwsCodec(() => decodeBeacon(hex(`${head} 06 ${'00'.repeat(16)} 0100 02 01 31`)), 'range'); // all-digit zone name
    throwsCodec(() => decodeBeacon(hex(`${head} 06 ${'00'.repeat(16)} 0100 02 00`)), 'range'); // empty zone name
    throwsCodec(() => decodeBeacon(hex(`${head} 04 01020304`)), 'truncated');
    assert.deepEqual(decodeBeacon(hex(`${head} 06 ${'00'.repeat(15)}01 0100 01 03000000`)).endpoints, [{ address: '::1%3', port: 1 }]);
  });

  it('fuzz: arbitrary and damaged beacon bodies only raise CodecError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => onlyCodecError(() => decodeBeacon(b))), { numRuns: 3000 });
    fc.assert(fc.property(beacon, fc.nat(), fc.integer({ min: 0, max: 255 }), (b, at, v) => {
      const bytes = encodeBeacon(b);
      const flipped = bytes.slice();
      flipped[at % bytes.byteLength] = v;
      onlyCodecError(() => decodeBeacon(flipped));
      onlyCodecError(() => decodeBeacon(bytes.subarray(0, at % (bytes.byteLength + 1))));
    }), { numRuns: 2000 });
  });
});
