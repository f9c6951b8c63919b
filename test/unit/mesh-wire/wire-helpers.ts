// Shared by the mesh wire tests: hex literals for fixed vectors, the "only CodecError" check, and fast-check
// arbitraries for every wire structure (canonical text forms, so decode(encode(x)) must equal x exactly).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CodecError } from '../../../host/errors/index.js';
import type { UdpEndpoint } from '../../../host/mesh/transport/udp-endpoint.js';
import type { Beacon } from '../../../host/mesh/wire/beacon.js';
import type { Fragment } from '../../../host/mesh/wire/fragment.js';
import type { Datagram, Frame } from '../../../host/mesh/wire/frame.js';
import { formatIp, type IpAddress } from '../../../host/mesh/wire/ip-address.js';

/** Bytes from a hex string; whitespace and `|` separators (marking fields) are ignored. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/[\s|]/g, '');
  assert.equal(clean.length % 2, 0, 'odd hex length');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Runs a decoder; it may succeed or throw, but nothing except CodecError may escape. */
export function onlyCodecError(decode: () => unknown): void {
  try {
    decode();
  } catch (e) {
    assert.ok(e instanceof CodecError, `expected CodecError, got ${String(e)}`);
    assert.equal(typeof e.details['kind'], 'string');
    assert.equal(typeof e.details['reason'], 'string');
  }
}

/** Asserts `f` throws a CodecError with this reason. */
export function throwsCodec(f: () => unknown, reason: string): void {
  assert.throws(f, (e: unknown) => e instanceof CodecError && e.details['reason'] === reason);
}

const zoneName = fc.stringMatching(/^[a-z][a-z0-9._-]{0,14}$/);

export const ipAddress: fc.Arbitrary<IpAddress> = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((bytes) => ({ family: 4 as const, bytes })),
  fc.tuple(
    fc.oneof(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      // Sparse addresses, so zero runs (the `::` rules) are exercised.
      fc.array(fc.constantFrom(0, 0, 0, 1, 0xff, 0xfe), { minLength: 16, maxLength: 16 }).map((a) => Uint8Array.from(a)),
    ),
    fc.option(fc.oneof(fc.integer({ min: 0, max: 0xffffffff }).map((index) => ({ index })), zoneName.map((name) => ({ name }))), { nil: undefined }),
  ).map(([bytes, scope]) => (scope ? { family: 6 as const, bytes, scope } : { family: 6 as const, bytes })),
);

export const endpoint: fc.Arbitrary<UdpEndpoint> = fc.record({
  address: ipAddress.map(formatIp),
  port: fc.integer({ min: 0, max: 0xffff }),
}, { noNullPrototype: true });

export const fingerprint = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('hex'));

/** Strings of at most 255 UTF-8 bytes, including multi-byte characters. */
export const trustDomain = fc.string({ unit: 'grapheme', maxLength: 60 }).filter((s) => new TextEncoder().encode(s).byteLength <= 255);

export const beacon: fc.Arbitrary<Beacon> = fc.record({
  fingerprint,
  bootId: fc.integer({ min: 0, max: 0xffffffff }),
  suites: fc.integer({ min: 0, max: 0xffff }),
  trustDomain,
  endpoints: fc.array(endpoint, { maxLength: 6 }),
}, { noNullPrototype: true });

export const fragment: fc.Arbitrary<Fragment> = fc
  .record({ msgId: fc.integer({ min: 0, max: 0xffffffff }), count: fc.integer({ min: 1, max: 0xffff }), chunk: fc.uint8Array({ minLength: 1, maxLength: 80 }) }, { noNullPrototype: true })
  .chain((f) => fc.integer({ min: 0, max: f.count - 1 }).map((index) => ({ ...f, index })));

export const frame: fc.Arbitrary<Frame> = fc.oneof(
  beacon.map((b) => ({ kind: 'beacon' as const, beacon: b })),
  fc.record({
    kind: fc.constantFrom('identity-request' as const, 'identity' as const, 'handshake-init' as const, 'handshake-resp' as const),
    body: fc.uint8Array({ maxLength: 200 }),
  }, { noNullPrototype: true }),
  fc.record({
    kind: fc.constant('sealed' as const),
    receiver: fc.integer({ min: 0, max: 0xffffffff }),
    counter: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    ciphertext: fc.uint8Array({ maxLength: 200 }),
  }, { noNullPrototype: true }),
);

export const datagram: fc.Arbitrary<Datagram> = fc.oneof(frame, fragment.map((f) => ({ kind: 'fragment' as const, fragment: f })));
