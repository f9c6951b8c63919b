// Address ↔ map-key codecs: round trips over every 4- and 16-byte key, agreement with Node's own IPv6 serializer
// (WHATWG URL, which follows RFC 5952 outside ::ffff:0:0/96) and parser (net.isIP), and the rejections.
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compareAddressKeys, decodeAddress, encodeAddress, peerKey } from '../../../host/driver/ip-address.js';
import { UsageError } from '../../../host/errors/index.js';

const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n });
/** 16-byte keys biased towards zero groups, so `::` placement is exercised. */
const v6Key = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }).map((groups) => {
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
});

function isV4Mapped(b: Uint8Array): boolean {
  return b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}

describe('ip-address codecs', () => {
  it('IPv4: bytes → text → bytes is the identity, and the text is a dotted quad Node accepts', () => {
    fc.assert(fc.property(bytes(4), (b) => {
      const text = decodeAddress(4, b);
      assert.equal(isIP(text), 4);
      const key = encodeAddress(text);
      assert.equal(key.family, 4);
      assert.deepEqual(key.bytes, b);
    }), { numRuns: 2000 });
  });

  it('IPv6: bytes → text → bytes is the identity; the text is canonical (as Node\'s URL serializer writes it)', () => {
    fc.assert(fc.property(fc.oneof(v6Key, bytes(16)), (b) => {
      const text = decodeAddress(6, b);
      assert.equal(isIP(text), 6, text);
      const key = encodeAddress(text);
      assert.equal(key.family, 6);
      assert.deepEqual(key.bytes, b);
      if (!isV4Mapped(b)) assert.equal(text, new URL(`http://[${text}]/`).hostname.slice(1, -1));
    }), { numRuns: 3000 });
  });

  it('IPv6: any spelling Node accepts parses to the key of its canonical form', () => {
    fc.assert(fc.property(fc.ipV6(), (text) => {
      fc.pre(!text.includes('%'));
      const key = encodeAddress(text);
      assert.equal(key.family, 6);
      const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
      assert.deepEqual(encodeAddress(canonical).bytes, key.bytes, `${text} vs ${canonical}`);
    }), { numRuns: 2000 });
  });

  it('IPv4: any address fast-check generates encodes to its four octets', () => {
    fc.assert(fc.property(fc.ipV4(), (text) => {
      assert.deepEqual([...encodeAddress(text).bytes], text.split('.').map(Number));
    }));
  });

  it('known values: network byte order, RFC 5952 text', () => {
    assert.deepEqual([...encodeAddress('10.90.0.1').bytes], [10, 90, 0, 1]);
    assert.deepEqual([...encodeAddress('fd00:90::1').bytes], [0xfd, 0, 0, 0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert.equal(decodeAddress(6, encodeAddress('2001:0db8:0000:0000:0001:0000:0000:0001').bytes), '2001:db8::1:0:0:1');
    assert.equal(decodeAddress(6, encodeAddress('2001:db8:0:1:1:1:1:1').bytes), '2001:db8:0:1:1:1:1:1', 'one zero group stays');
    assert.equal(decodeAddress(6, encodeAddress('::').bytes), '::');
    assert.equal(decodeAddress(6, encodeAddress('::ffff:10.0.0.1').bytes), '::ffff:10.0.0.1');
    assert.equal(decodeAddress(6, encodeAddress('FE80::A').bytes), 'fe80::a');
  });

  it('rejects what is not an address with UsageError naming the path', () => {
    for (const bad of ['', '10.0.0', '10.0.0.256', '010.0.0.1', '1.2.3.4.5', 'fe80::1%eth0', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7::8', 'g::1', '12345::', '::1.2.3', 'localhost']) {
      assert.throws(() => encodeAddress(bad), (e) => e instanceof UsageError && e.details['path'] === 'address', bad);
    }
  });

  it('peerKey drops a zone and reads an IPv4-mapped address as IPv4, like the user-space driver', () => {
    assert.deepEqual(peerKey('fe80::1%eth0'), encodeAddress('fe80::1'));
    assert.deepEqual(peerKey('::ffff:10.0.0.2'), encodeAddress('10.0.0.2'));
    assert.deepEqual(peerKey('::ffff:a00:2'), encodeAddress('10.0.0.2'));
    assert.deepEqual(peerKey('fd00::2'), encodeAddress('fd00::2'));
    assert.throws(() => peerKey('%eth0'), UsageError);
    fc.assert(fc.property(fc.ipV4(), (v4) => assert.deepEqual(peerKey(`::ffff:${v4}`), encodeAddress(v4))));
  });

  it('orders IPv4 before IPv6, then numerically', () => {
    const keys = ['fd00::2', '10.0.0.10', '10.0.0.9', '::1', '9.255.255.255'].map(encodeAddress).sort(compareAddressKeys);
    assert.deepEqual(keys.map((k) => decodeAddress(k.family, k.bytes)), ['9.255.255.255', '10.0.0.9', '10.0.0.10', '::1', 'fd00::2']);
  });
});
