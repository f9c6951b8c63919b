// The 32-byte event record (struct x0t_event) as the ring-buffer worker transfers batches of them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeEventRecords, encodeEventRecord, EVENT_KIND_DROP, EVENT_KIND_NEW_PEER, EVENT_RECORD_BYTES } from '../../../host/driver/bpf-contract.js';
import { decodeAddress, encodeAddress } from '../../../host/driver/ip-address.js';

function batch(records: Uint8Array[]): ArrayBuffer {
  const out = new Uint8Array(records.length * EVENT_RECORD_BYTES);
  records.forEach((r, i) => out.set(r, i * EVENT_RECORD_BYTES));
  return out.buffer;
}

describe('event records', () => {
  it('decodes the layout byte by byte (kind, family, ifindex LE, ts_ns LE, address)', () => {
    const r = new Uint8Array(32);
    r[0] = 2; // drop
    r[1] = 4;
    r.set([7, 1, 0, 0], 4); // ifindex 263
    r.set([1, 2, 3, 4, 5, 6, 7, 8], 8); // ts 0x0807060504030201
    r.set([10, 90, 0, 1], 16);
    const { events, skipped } = decodeEventRecords(r.buffer);
    assert.equal(skipped, 0);
    assert.deepEqual(events, [{ kind: 'drop', family: 4, address: '10.90.0.1', ifindex: 263, atNs: 0x0807060504030201n }]);
  });

  it('round-trips any batch of valid records and skips unknown kinds or families', () => {
    const record = fc.record({
      kind: fc.constantFrom(EVENT_KIND_NEW_PEER, EVENT_KIND_DROP, 0, 3, 255),
      family: fc.constantFrom(4, 6, 0, 5),
      ifindex: fc.nat({ max: 0xffffffff }),
      ts: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      addr: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    });
    fc.assert(fc.property(fc.array(record, { maxLength: 40 }), (rs) => {
      // An IPv4 event fills addr[0..4) and zeroes the rest, as the program does.
      const norm = rs.map((r) => ({ ...r, addr: r.family === 4 ? new Uint8Array([...r.addr.subarray(0, 4), ...new Uint8Array(12)]) : r.addr }));
      const { events, skipped } = decodeEventRecords(batch(norm.map((r) => encodeEventRecord(r.kind, r.family, r.ifindex, r.ts, r.addr))));
      const valid = norm.filter((r) => (r.kind === 1 || r.kind === 2) && (r.family === 4 || r.family === 6));
      assert.equal(skipped, norm.length - valid.length);
      assert.equal(events.length, valid.length);
      events.forEach((e, i) => {
        const r = valid[i]!;
        assert.equal(e.kind, r.kind === 1 ? 'new-peer' : 'drop');
        assert.equal(e.family, r.family);
        assert.equal(e.ifindex, r.ifindex);
        assert.equal(e.atNs, r.ts);
        assert.deepEqual(encodeAddress(e.address).bytes, r.addr.subarray(0, r.family === 4 ? 4 : 16));
        assert.equal(e.address, decodeAddress(e.family, r.addr));
      });
    }));
  });

  it('ignores a trailing partial record', () => {
    const full = encodeEventRecord(1, 6, 3, 5n, encodeAddress('fd00::1').bytes);
    const buf = new Uint8Array(EVENT_RECORD_BYTES + 10);
    buf.set(full);
    assert.equal(decodeEventRecords(buf.buffer).events.length, 1);
  });
});
