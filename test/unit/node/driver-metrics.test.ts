// The packet driver's and the link state's /metrics families: each declared once with HELP and TYPE, counters ending
// in _total, label values escaped, every sample the snapshot implies and nothing else; checked line by line and by
// the strict exposition reader the admin tests use (and by promtool, where installed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { renderDriverMetrics, renderLinkMetrics, type DriverSnapshot, type LinkSnapshot } from '../../../host/node/driver-metrics.js';
import { parseExposition } from '../../integration/admin/prometheus.js';

const STATUS = {
  mode: 'xdp-generic', interface: 'veth"0\\x', ifindex: 7, programId: 42, pinDir: '/sys/fs/bpf/x0t', reason: 'native XDP unsupported',
  eventsDelivered: 9, eventsSuppressed: 4, objectSha256: 'ab'.repeat(32), peerTableFull: 3,
} as const;

const SNAPSHOT: DriverSnapshot = {
  status: STATUS,
  peers: [
    { address: '10.0.0.2', family: 4, packets: 10, bytes: 840, quarantined: false },
    { address: 'fd00::2', family: 6, packets: 3, bytes: 312, quarantined: true },
  ],
  quarantine: [{ address: 'fd00::2', family: 6, drops: 17 }],
  eventsByKind: { 'new-peer': 2, drop: 7 },
};

describe('renderDriverMetrics', () => {
  it('writes every family with its samples, label values escaped', () => {
    const text = renderDriverMetrics(SNAPSHOT);
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.deepEqual(samples, [
      'x0t_driver_info{mode="xdp-generic",interface="veth\\"0\\\\x"} 1',
      'x0t_driver_peer_packets_total{peer="10.0.0.2",family="4"} 10',
      'x0t_driver_peer_packets_total{peer="fd00::2",family="6"} 3',
      'x0t_driver_peer_bytes_total{peer="10.0.0.2",family="4"} 840',
      'x0t_driver_peer_bytes_total{peer="fd00::2",family="6"} 312',
      'x0t_driver_quarantined_peers 1',
      'x0t_driver_quarantine_drops_total{peer="fd00::2"} 17',
      'x0t_driver_events_total{kind="new-peer"} 2',
      'x0t_driver_events_total{kind="drop"} 7',
      'x0t_driver_events_suppressed_total 4',
      'x0t_driver_peer_table_full_total 3',
    ]);
    const families = parseExposition(text);
    assert.deepEqual([...families.keys()], [
      'x0t_driver_info', 'x0t_driver_peer_packets_total', 'x0t_driver_peer_bytes_total', 'x0t_driver_quarantined_peers',
      'x0t_driver_quarantine_drops_total', 'x0t_driver_events_total', 'x0t_driver_events_suppressed_total',
      'x0t_driver_peer_table_full_total',
    ]);
    for (const f of families.values()) {
      assert.ok(f.help.length > 0, f.name);
      assert.equal(f.type, f.name.endsWith('_total') ? 'counter' : 'gauge', f.name);
    }
    assert.equal(families.get('x0t_driver_info')!.samples[0]!.labels['interface'], 'veth"0\\x');
  });

  it('declares the families with no samples when nothing was seen, and the user-space driver has an empty interface', () => {
    const text = renderDriverMetrics({
      status: { ...STATUS, mode: 'userspace', interface: null, ifindex: null, programId: null, pinDir: null, objectSha256: null, eventsSuppressed: 0 },
      peers: [], quarantine: [], eventsByKind: { 'new-peer': 0, drop: 0 },
    });
    const families = parseExposition(text);
    assert.deepEqual(families.get('x0t_driver_info')!.samples, [{ name: 'x0t_driver_info', labels: { mode: 'userspace', interface: '' }, value: 1 }]);
    assert.equal(families.get('x0t_driver_peer_packets_total')!.samples.length, 0);
    assert.equal(families.get('x0t_driver_quarantine_drops_total')!.samples.length, 0);
    assert.equal(families.get('x0t_driver_quarantined_peers')!.samples[0]!.value, 0);
    assert.equal(families.get('x0t_driver_events_suppressed_total')!.samples[0]!.value, 0);
  });
});

const LINKS: LinkSnapshot = {
  watching: true,
  links: [
    { name: 'lo', up: true, carrier: true },
    { name: 'eth"0\\', up: false, carrier: false },
    { name: 'ifb0', up: false, carrier: true },
  ],
  eventsByKind: { 'link-up': 3, 'link-down': 4, 'link-added': 1, 'link-removed': 0, 'address-added': 2, 'address-removed': 5 },
  batmanAvailable: false,
};

describe('renderLinkMetrics', () => {
  it('writes link up and carrier per interface, events per kind, watcher and batman-adv availability', () => {
    const text = renderLinkMetrics(LINKS);
    const samples = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    assert.deepEqual(samples, [
      'x0t_link_watch_available 1',
      'x0t_link_up{interface="lo"} 1',
      'x0t_link_up{interface="eth\\"0\\\\"} 0',
      'x0t_link_up{interface="ifb0"} 0',
      'x0t_link_carrier{interface="lo"} 1',
      'x0t_link_carrier{interface="eth\\"0\\\\"} 0',
      'x0t_link_carrier{interface="ifb0"} 1',
      'x0t_link_events_total{kind="link-up"} 3',
      'x0t_link_events_total{kind="link-down"} 4',
      'x0t_link_events_total{kind="link-added"} 1',
      'x0t_link_events_total{kind="link-removed"} 0',
      'x0t_link_events_total{kind="address-added"} 2',
      'x0t_link_events_total{kind="address-removed"} 5',
      'x0t_batman_available 0',
    ]);
    const families = parseExposition(text);
    assert.deepEqual([...families.keys()], ['x0t_link_watch_available', 'x0t_link_up', 'x0t_link_carrier', 'x0t_link_events_total', 'x0t_batman_available']);
    for (const f of families.values()) {
      assert.ok(f.help.length > 0, f.name);
      assert.equal(f.type, f.name.endsWith('_total') ? 'counter' : 'gauge', f.name);
    }
    assert.equal(families.get('x0t_link_up')!.samples[1]!.labels['interface'], 'eth"0\\');
  });

  it('without a watcher: available 0, the per-interface families declared but empty, the event counters still there', () => {
    const text = renderLinkMetrics({ ...LINKS, watching: false, links: [], batmanAvailable: true });
    const families = parseExposition(text);
    assert.equal(families.get('x0t_link_watch_available')!.samples[0]!.value, 0);
    assert.equal(families.get('x0t_link_up')!.samples.length, 0);
    assert.equal(families.get('x0t_link_carrier')!.samples.length, 0);
    assert.equal(families.get('x0t_link_events_total')!.samples.length, 6);
    assert.equal(families.get('x0t_batman_available')!.samples[0]!.value, 1);
  });

  it('promtool accepts the driver and link families together', (t) => {
    if (spawnSync('promtool', ['--version']).error) return t.skip('promtool is not installed');
    const page = renderDriverMetrics(SNAPSHOT) + renderLinkMetrics(LINKS);
    const r = spawnSync('promtool', ['check', 'metrics'], { input: page, encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool check metrics:\n${r.stdout}${r.stderr}`);
  });
});
