// IP address text <-> bytes and UDP endpoints: canonical formatting (cross-checked against the WHATWG URL
// serializer, which also follows RFC 5952 compression), parsing of the usual forms, zones, and refusals.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CodecError } from '../../../host/errors/index.js';
import { endpointFamily, endpointKey, formatUdpEndpoint, normalizeEndpoint, parseUdpEndpoint, sameEndpoint } from '../../../host/mesh/transport/udp-endpoint.js';
import { formatIp, isLinkLocalV6, isUnspecified, parseIp } from '../../../host/mesh/wire/ip-address.js';
import { endpoint, ipAddress } from './wire-helpers.js';

describe('ip addresses', () => {
  it('round-trip: parse(format(a)) gives the same bytes and zone, and format is a fixed point', () => {
    fc.assert(fc.property(ipAddress, (a) => {
      const text = formatIp(a);
      const back = parseIp(text);
      assert.deepEqual(back, a);
      assert.equal(formatIp(back), text);
    }), { numRuns: 2000 });
  });

  it('IPv6 text matches the URL standard serializer (RFC 5952 compression) for non-mapped addresses', () => {
    fc.assert(fc.property(ipAddress.filter((a) => a.family === 6 && !a.scope), (a) => {
      const text = formatIp(a);
      if (text.startsWith('::ffff:') && text.includes('.')) return; // URL prints mapped addresses in hex
      assert.equal(`[${text}]`, new URL(`http://[${text}]/`).hostname);
    }), { numRuns: 2000 });
  });

  it('parses the usual forms and prints them canonically', () => {
    const cases: [string, string][] = [
      ['127.0.0.1', '127.0.0.1'],
      ['::1', '::1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['fe80::0001%eth0', 'fe80::1%eth0'],
      ['fe80::1%3', 'fe80::1%3'],
      ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
      ['::', '::'],
      ['1::', '1::'],
    ];
    for (const [input, canonical] of cases) assert.equal(formatIp(parseIp(input)), canonical, input);
    assert.equal(parseIp('10.1.2.3').family, 4);
    assert.deepEqual(parseIp('fe80::1%7').scope, { index: 7 });
    assert.deepEqual(parseIp('fe80::1%wlan0').scope, { name: 'wlan0' });
    assert.ok(isLinkLocalV6(parseIp('fe80::1')) && !isLinkLocalV6(parseIp('fd00::1')));
    assert.ok(isUnspecified(parseIp('0.0.0.0')) && isUnspecified(parseIp('::')) && !isUnspecified(parseIp('::1')));
  });

  it('refuses malformed text with CodecError', () => {
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.1.1.1', 'a.b.c.d', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3',
      '::12345', 'fe80::1%', 'g::1', '1:2:3:4:5:6:7::8', 'localhost', '::1%a b']) {
      assert.throws(() => parseIp(bad), CodecError, bad);
    }
    fc.assert(fc.property(fc.string({ maxLength: 40 }), (s) => {
      try { parseIp(s); } catch (e) { assert.ok(e instanceof CodecError); }
    }), { numRuns: 3000 });
  });
});

describe('udp endpoints', () => {
  it('format/parse round-trip; key and equality are by canonical text', () => {
    fc.assert(fc.property(endpoint, (e) => {
      assert.deepEqual(parseUdpEndpoint(formatUdpEndpoint(e)), e);
      assert.equal(endpointKey(e), formatUdpEndpoint(e));
    }), { numRuns: 1000 });
    assert.deepEqual(parseUdpEndpoint('127.0.0.1:7000'), { address: '127.0.0.1', port: 7000 });
    assert.deepEqual(parseUdpEndpoint('[fe80::1%eth0]:7001'), { address: 'fe80::1%eth0', port: 7001 });
    assert.equal(formatUdpEndpoint({ address: '::1', port: 5 }), '[::1]:5');
    assert.ok(sameEndpoint({ address: '0:0:0:0:0:0:0:1', port: 9 }, { address: '::1', port: 9 }));
    assert.ok(!sameEndpoint({ address: '::1', port: 9 }, { address: '::1', port: 10 }));
    assert.ok(!sameEndpoint({ address: 'fe80::1%eth0', port: 9 }, { address: 'fe80::1%eth1', port: 9 }));
    assert.equal(endpointFamily({ address: '::1', port: 1 }), 6);
    assert.equal(endpointFamily({ address: '10.0.0.1', port: 1 }), 4);
  });

  it('refuses malformed endpoints', () => {
    for (const bad of ['127.0.0.1', '127.0.0.1:', '::1:5', '[::1]', '[::1]:70000', 'host:80', '[1.2.3.4]:5x']) {
      assert.throws(() => parseUdpEndpoint(bad), CodecError, bad);
    }
    assert.throws(() => normalizeEndpoint({ address: '::1', port: -1 }), CodecError);
    assert.throws(() => normalizeEndpoint({ address: '::1', port: 1.5 }), CodecError);
  });
});
