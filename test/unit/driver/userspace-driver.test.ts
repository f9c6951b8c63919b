// The user-space packet driver: counters per peer from what the transport records, addresses normalised the way
// the kernel sees them, quarantine refusing and counting drops, new-peer and drop events under one rate limit per
// one-second window (the rest counted as suppressed), the status saying 'userspace' and why.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PEER_TABLE_CAPACITY, type DriverEvent } from '../../../host/driver/packet-driver.js';
import { DEFAULT_EVENTS_PER_SECOND, normalizeAddress, UserspaceDriver } from '../../../host/driver/userspace-driver.js';
import { UsageError } from '../../../host/errors/index.js';

/** A driver on a hand-turned clock, with every event it sends collected. */
function driver(eventsPerSecond?: number) {
  let now = 5_000_000_000n;
  const events: DriverEvent[] = [];
  const d = new UserspaceDriver({ reason: 'test: no BPF here', clock: () => now, ...(eventsPerSecond ? { eventsPerSecond } : {}) });
  d.onEvent((e) => events.push(e));
  return { d, events, advance: (ns: bigint) => (now += ns), now: () => now };
}

describe('normalizeAddress', () => {
  const cases: [string, string, 4 | 6][] = [
    ['10.0.0.2', '10.0.0.2', 4],
    ['255.255.255.255', '255.255.255.255', 4],
    ['FD00:0:0::0002', 'fd00::2', 6],
    ['fd00:0000:0000:0000:0000:0000:0000:0002', 'fd00::2', 6],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', 6],
    ['::1', '::1', 6],
    ['fe80::1%eth0', 'fe80::1', 6],
    ['::ffff:10.0.0.2', '10.0.0.2', 4],
    ['::FFFF:a00:2', '10.0.0.2', 4],
  ];
  for (const [text, address, family] of cases) {
    it(`${text} → ${address} (IPv${family})`, () => assert.deepEqual(normalizeAddress(text), { address, family }));
  }
  for (const bad of ['', '10.0.0', '10.0.0.256', '010.0.0.1', ' 10.0.0.1', 'fd00::2::1', 'host.example', '10.0.0.1/24', 'fd00::g']) {
    it(`refuses ${JSON.stringify(bad)} with UsageError naming the field`, () => {
      assert.throws(() => normalizeAddress(bad, 'peer'), (e: unknown) => e instanceof UsageError && e.details['path'] === 'peer');
    });
  }
});

describe('UserspaceDriver', () => {
  it('reports mode userspace with the reason it was given, and nothing kernel-side', () => {
    const { d } = driver();
    assert.deepEqual(d.status(), {
      mode: 'userspace', interface: null, ifindex: null, programId: null, pinDir: null, reason: 'test: no BPF here',
      eventsDelivered: 0, eventsSuppressed: 0, objectSha256: null, peerTableFull: 0,
    });
  });

  it('counts packets and bytes per peer, any text form of an address counting as one peer, sorted IPv4 first', () => {
    const { d } = driver();
    for (let i = 0; i < 7; i++) assert.equal(d.record('10.0.0.9', 100 + i), true);
    assert.equal(d.record('fd00::2', 1200), true);
    assert.equal(d.record('FD00:0::02', 80), true);
    assert.equal(d.record('::ffff:10.0.0.9', 3), true);
    assert.equal(d.record('10.0.0.10', 0), true);
    assert.deepEqual(d.peers(), [
      { address: '10.0.0.9', family: 4, packets: 8, bytes: 7 * 100 + 21 + 3, quarantined: false },
      { address: '10.0.0.10', family: 4, packets: 1, bytes: 0, quarantined: false },
      { address: 'fd00::2', family: 6, packets: 2, bytes: 1280, quarantined: false },
    ]);
  });

  it('holds at most PEER_TABLE_CAPACITY peers per family, as the kernel does: more new sources pass uncounted', () => {
    const { d, events } = driver(1_000_000);
    for (let i = 0; i < PEER_TABLE_CAPACITY; i++) d.record(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 100);
    assert.equal(d.record('192.0.2.1', 100), true, 'a new source over capacity still passes');
    assert.equal(d.record('192.0.2.2', 100), true);
    d.record('10.0.0.0', 50); // a known peer keeps counting
    d.record('fd00::1', 60); // the other family has its own capacity
    const peers = d.peers();
    assert.equal(peers.length, PEER_TABLE_CAPACITY + 1);
    assert.equal(peers.find((p) => p.address === '10.0.0.0')!.packets, 2);
    assert.ok(!peers.some((p) => p.address.startsWith('192.0.2.')));
    assert.equal(d.status().peerTableFull, 2);
    assert.equal(events.filter((e) => e.kind === 'new-peer').length, PEER_TABLE_CAPACITY + 1);
  });

  it('quarantine: refused packets count as drops of the entry, not as peer traffic; release restores', () => {
    const { d } = driver();
    d.record('10.0.0.2', 50);
    d.quarantineAdd('10.0.0.2');
    d.quarantineAdd('10.0.0.2'); // idempotent: the drops are kept
    assert.equal(d.isQuarantined('10.0.0.2'), true);
    assert.equal(d.isQuarantined('::ffff:10.0.0.2'), true);
    assert.equal(d.isQuarantined('10.0.0.3'), false);
    for (let i = 0; i < 5; i++) assert.equal(d.record('10.0.0.2', 50), false);
    d.quarantineAdd('fd00::7');
    assert.equal(d.record('fd00:0::7', 10), false);
    assert.deepEqual(d.quarantineList(), [
      { address: '10.0.0.2', family: 4, drops: 5 },
      { address: 'fd00::7', family: 6, drops: 1 },
    ]);
    assert.deepEqual(d.peers(), [{ address: '10.0.0.2', family: 4, packets: 1, bytes: 50, quarantined: true }]);
    assert.equal(d.quarantineDelete('10.0.0.2'), true);
    assert.equal(d.quarantineDelete('10.0.0.2'), false);
    assert.equal(d.record('10.0.0.2', 50), true);
    assert.deepEqual(d.peers(), [{ address: '10.0.0.2', family: 4, packets: 2, bytes: 100, quarantined: false }]);
    assert.deepEqual(d.quarantineList(), [{ address: 'fd00::7', family: 6, drops: 1 }]);
  });

  it('sends new-peer on the first accepted packet of an address and drop for each refused one', () => {
    const { d, events, now } = driver();
    d.record('10.0.0.2', 1);
    d.record('10.0.0.2', 1);
    d.quarantineAdd('fd00::3');
    d.record('fd00::3', 1);
    d.record('fd00::3', 1);
    assert.deepEqual(events, [
      { kind: 'new-peer', address: '10.0.0.2', family: 4, ifindex: 0, atNs: now() },
      { kind: 'drop', address: 'fd00::3', family: 6, ifindex: 0, atNs: now() },
      { kind: 'drop', address: 'fd00::3', family: 6, ifindex: 0, atNs: now() },
    ]);
    // A quarantined address that never got through is not a peer; released, its first packet makes it one.
    d.quarantineDelete('fd00::3');
    d.record('fd00::3', 1);
    assert.equal(events.at(-1)?.kind, 'new-peer');
    assert.equal(d.status().eventsDelivered, 4);
  });

  it('rate-limits events per one-second window and counts the rest as suppressed', () => {
    const { d, events, advance } = driver(3);
    d.quarantineAdd('10.9.9.9');
    for (let i = 0; i < 10; i++) d.record('10.9.9.9', 1);
    assert.equal(events.length, 3);
    assert.deepEqual(d.status().eventsSuppressed, 7);
    advance(999_999_999n); // still the same window
    d.record('10.0.0.1', 1);
    assert.equal(events.length, 3);
    advance(1n); // a new window
    d.record('10.0.0.2', 1);
    d.record('10.9.9.9', 1);
    assert.deepEqual(events.slice(3).map((e) => [e.kind, e.address]), [['new-peer', '10.0.0.2'], ['drop', '10.9.9.9']]);
    assert.equal(d.status().eventsDelivered, 5);
    assert.equal(d.status().eventsSuppressed, 8);
    // Suppressed events do not change the counters: every refused packet is a drop, every accepted one counted.
    assert.deepEqual(d.quarantineList(), [{ address: '10.9.9.9', family: 4, drops: 11 }]);
    assert.equal(d.peers().length, 2);
    assert.equal(DEFAULT_EVENTS_PER_SECOND, 1000);
  });

  it('unsubscribe and close stop the events; the lists stay readable; close is safe twice', async () => {
    const { d, events } = driver();
    const more: DriverEvent[] = [];
    const off = d.onEvent((e) => more.push(e));
    d.record('10.0.0.1', 1);
    off();
    d.record('10.0.0.2', 1);
    assert.equal(more.length, 1);
    assert.equal(events.length, 2);
    await d.close();
    await d.close();
    d.record('10.0.0.3', 1);
    assert.equal(events.length, 2);
    assert.equal(d.onEvent(() => assert.fail('no events after close'))(), undefined);
    assert.equal(d.peers().length, 3);
  });

  it('refuses a bad address, a bad byte count and a bad rate with UsageError', () => {
    const { d } = driver();
    for (const f of [() => d.record('nope', 1), () => d.quarantineAdd('1.2.3'), () => d.quarantineDelete(''), () => d.isQuarantined('x')]) {
      assert.throws(f, (e: unknown) => e instanceof UsageError && e.details['path'] === 'address');
    }
    for (const bytes of [-1, 1.5, NaN, Infinity]) {
      assert.throws(() => d.record('10.0.0.1', bytes), (e: unknown) => e instanceof UsageError && e.details['path'] === 'bytes');
    }
    for (const eventsPerSecond of [0, -1, 2.5]) {
      assert.throws(() => new UserspaceDriver({ reason: 'r', eventsPerSecond }), UsageError);
    }
    assert.deepEqual(d.peers(), []);
  });
});
