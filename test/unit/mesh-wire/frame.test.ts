// The outer frame codec: every kind round-trips, fixed byte vectors pin the wire format (a change to them is a
// wire-version change, on purpose), and arbitrary or damaged bytes only ever raise CodecError.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeDatagram, decodeFrame, encodeDatagram, encodeFrame, WIRE_MAGIC, WIRE_VERSION, type Datagram } from '../../../host/mesh/wire/frame.js';
import { datagram, frame, hex, onlyCodecError, throwsCodec, toHex } from './wire-helpers.js';

// One frame of each kind and its exact bytes (little-endian fields; `|` separates fields for the reader).
const VECTORS: readonly { readonly name: string; readonly value: Datagram; readonly bytes: string }[] = [
  {
    name: 'beacon',
    value: {
      kind: 'beacon',
      beacon: {
        fingerprint: '00112233445566778899aabbccddeeff', bootId: 0x01020304, suites: 3, trustDomain: 'x0t',
        endpoints: [{ address: '127.0.0.1', port: 7000 }, { address: 'fe80::1%eth0', port: 7001 }],
      },
    },
    bytes: '58 01 01 00 | 00112233445566778899aabbccddeeff | 04030201 | 0300 | 03 783074 | 02 '
      + '| 04 7f000001 581b | 06 fe800000000000000000000000000001 591b 02 04 65746830',
  },
  {
    name: 'fragment',
    value: { kind: 'fragment', fragment: { msgId: 0xdeadbeef, index: 1, count: 3, chunk: hex('aabbcc') } },
    bytes: '58 01 02 00 | efbeadde | 0100 | 0300 | aabbcc',
  },
  { name: 'identity-request', value: { kind: 'identity-request', body: hex('0102') }, bytes: '58 01 03 00 | 0102' },
  { name: 'identity', value: { kind: 'identity', body: new Uint8Array() }, bytes: '58 01 04 00' },
  { name: 'handshake-init', value: { kind: 'handshake-init', body: hex('ff') }, bytes: '58 01 05 00 | ff' },
  { name: 'handshake-resp', value: { kind: 'handshake-resp', body: hex('0001') }, bytes: '58 01 06 00 | 0001' },
  {
    name: 'sealed',
    value: { kind: 'sealed', receiver: 0x11223344, counter: 0x0102030405060708n, ciphertext: hex('cafe') },
    bytes: '58 01 07 00 | 44332211 | 0807060504030201 | cafe',
  },
];

describe('mesh outer frame', () => {
  it('fixed byte vectors: one frame of each kind encodes to exactly these bytes and decodes back', () => {
    assert.equal(WIRE_MAGIC, 0x58);
    assert.equal(WIRE_VERSION, 1);
    assert.equal(new Set(VECTORS.map((v) => v.value.kind)).size, 7);
    for (const v of VECTORS) {
      assert.equal(toHex(encodeDatagram(v.value)), toHex(hex(v.bytes)), v.name);
      assert.deepEqual(decodeDatagram(hex(v.bytes)), v.value, v.name);
    }
  });

  it('frames round-trip through encodeFrame/decodeFrame', () => {
    fc.assert(fc.property(frame, (f) => {
      assert.deepEqual(decodeFrame(encodeFrame(f)), f);
    }), { numRuns: 500 });
  });

  it('datagrams (frames and fragments) round-trip, also from a node Buffer at an offset', () => {
    fc.assert(fc.property(datagram, (d) => {
      const bytes = encodeDatagram(d);
      const inBuffer = Buffer.concat([Buffer.from([9, 9, 9]), bytes]).subarray(3);
      assert.deepEqual(decodeDatagram(inBuffer), d);
    }), { numRuns: 500 });
  });

  it('decoded byte fields are copies, not views of the datagram', () => {
    const bytes = encodeFrame({ kind: 'identity', body: hex('010203') });
    const f = decodeFrame(bytes);
    bytes.fill(0);
    assert.deepEqual(f, { kind: 'identity', body: hex('010203') });
  });

  it('refuses bad magic, version, kind, flags, truncation and trailing bytes with their reasons', () => {
    throwsCodec(() => decodeDatagram(hex('59 01 03 00')), 'magic');
    throwsCodec(() => decodeDatagram(hex('58 02 03 00')), 'version');
    throwsCodec(() => decodeDatagram(hex('58 01 00 00')), 'kind');
    throwsCodec(() => decodeDatagram(hex('58 01 08 00')), 'kind');
    throwsCodec(() => decodeDatagram(hex('58 01 03 01')), 'flags');
    throwsCodec(() => decodeDatagram(hex('58 01 03')), 'truncated');
    throwsCodec(() => decodeDatagram(new Uint8Array()), 'truncated');
    throwsCodec(() => decodeDatagram(hex('58 01 07 00 | 44332211 | 08070605')), 'truncated');
    throwsCodec(() => decodeDatagram(hex('58 01 02 00 | efbeadde | 0300 | 0300 | aa')), 'range'); // index ≥ count
    throwsCodec(() => decodeDatagram(hex('58 01 02 00 | efbeadde | 0000 | 0000 | aa')), 'range'); // count 0
    throwsCodec(() => decodeDatagram(hex('58 01 02 00 | efbeadde | 0000 | 0100')), 'range'); // empty chunk
    const beacon = hex(VECTORS[0]!.bytes);
    throwsCodec(() => decodeDatagram(Uint8Array.from([...beacon, 0])), 'trailing');
  });

  it('decodeFrame refuses a fragment: reassembly must come first', () => {
    throwsCodec(() => decodeFrame(hex(VECTORS[1]!.bytes)), 'kind');
  });

  it('encoders refuse values that do not fit their fields', () => {
    throwsCodec(() => encodeFrame({ kind: 'sealed', receiver: 2 ** 32, counter: 0n, ciphertext: new Uint8Array() }), 'range');
    throwsCodec(() => encodeFrame({ kind: 'sealed', receiver: 0, counter: 1n << 64n, ciphertext: new Uint8Array() }), 'range');
    throwsCodec(() => encodeFrame({ kind: 'sealed', receiver: -1, counter: 0n, ciphertext: new Uint8Array() }), 'range');
    throwsCodec(() => encodeDatagram({ kind: 'fragment', fragment: { msgId: 1, index: 2, count: 2, chunk: hex('00') } }), 'range');
    throwsCodec(() => encodeFrame({ kind: 'nope' } as never), 'kind');
  });

  it('fuzz: arbitrary bytes only ever raise CodecError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyCodecError(() => decodeDatagram(b))), { numRuns: 3000 });
    // Bytes behind a valid header reach every body decoder.
    fc.assert(fc.property(fc.integer({ min: 1, max: 7 }), fc.uint8Array({ maxLength: 200 }), (kind, body) => {
      onlyCodecError(() => decodeDatagram(Uint8Array.from([0x58, 1, kind, 0, ...body])));
    }), { numRuns: 3000 });
  });

  it('fuzz: truncated, corrupted and extended valid datagrams only ever raise CodecError', () => {
    fc.assert(fc.property(datagram, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 8 }), (d, cut, at, value, extra) => {
      const bytes = encodeDatagram(d);
      const flipped = bytes.slice();
      flipped[at % flipped.byteLength] = value;
      for (const b of [bytes.slice(0, cut % (bytes.byteLength + 1)), flipped, Uint8Array.from([...bytes, ...extra])]) {
        onlyCodecError(() => decodeDatagram(b));
        onlyCodecError(() => decodeFrame(b));
      }
    }), { numRuns: 2000 });
  });
});
