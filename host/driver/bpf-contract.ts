// The contract with bpf/x0t_xdp.c, as the user-space side reads it: map and program names, value layouts and the
// 32-byte event record. bpf/README.md is the reference; a change there is a change here.
import type { DriverEvent, PeerFamily } from './packet-driver.js';
import { decodeAddress } from './ip-address.js';

export const MAP_PEERS_V4 = 'peers_v4';
export const MAP_PEERS_V6 = 'peers_v6';
export const MAP_QUARANTINE_V4 = 'quarantine_v4';
export const MAP_QUARANTINE_V6 = 'quarantine_v6';
export const MAP_EVENTS = 'events';
export const MAP_CONFIG = 'config';
export const MAP_STATS = 'stats';
export const MAP_QUARANTINE_FILTER = 'quarantine_filter';
export const MAP_PEER_CACHE = 'peer_cache';
export const MAP_NAMES = [
  MAP_PEERS_V4, MAP_PEERS_V6, MAP_QUARANTINE_V4, MAP_QUARANTINE_V6, MAP_EVENTS, MAP_CONFIG, MAP_STATS, MAP_QUARANTINE_FILTER, MAP_PEER_CACHE,
] as const;
export type MapName = (typeof MAP_NAMES)[number];

/** The product program and the benchmark's variants (all `SEC("xdp")`, sharing the maps). */
export const PROGRAM_NAMES = ['x0t_xdp', 'x0t_xdp_empty', 'x0t_xdp_count', 'x0t_xdp_count_quarantine'] as const;
export type ProgramName = (typeof PROGRAM_NAMES)[number];
export const PRODUCT_PROGRAM: ProgramName = 'x0t_xdp';
/** Every program of ours starts so (the kernel keeps 15 characters of a name): how a leftover attachment is recognised. */
export const PROGRAM_PREFIX = 'x0t_';

/** struct x0t_peer_stats { __u64 packets; __u64 bytes; } */
export const PEER_STATS_BYTES = 16;
/** struct x0t_quarantine { __u64 drops; } */
export const QUARANTINE_BYTES = 8;
/** struct x0t_config { __u32 events_per_sec; __u32 reserved; } */
export const CONFIG_BYTES = 8;
/** struct x0t_stats { events_sent, events_suppressed, ringbuf_full, window_start_ns, window_count, peers_full } (u64 each) */
export const STATS_BYTES = 48;
export const STATS_FIELDS = 6;
export const STATS_EVENTS_SENT = 0;
export const STATS_EVENTS_SUPPRESSED = 1;
export const STATS_RINGBUF_FULL = 2;
/** Packets from a new source that found the peer table full (passed, not counted). */
export const STATS_PEERS_FULL = 5;
/** The quarantine pre-filter: one bit per bucket of source addresses (quarantine-filter.ts). */
export const QUARANTINE_FILTER_BYTES = 8192;

/**
 * peer_cache: a per-CPU direct-mapped cache in front of peers_v4/v6 (BPF_MAP_TYPE_PERCPU_ARRAY, PEER_CACHE_SLOTS
 * entries). struct x0t_peer_slot { u8 family @0 (0 = empty, 4, 6); u8 reserved[7]; u8 addr[16] @8 (IPv4 in
 * addr[0..4), rest zero); u64 packets @24; u64 bytes @32 }. A peer's totals = its peers_v4/v6 value + every slot
 * holding its address, summed over CPUs (a known peer claims an empty slot on each CPU; counts never move between
 * the hash and a slot, and an occupied slot is never evicted). Deleting a peer from peers_v4/v6 would have to clear
 * its slots too (read the slot, zero the CPU copies holding its address, write it back; bpf/README.md); nothing
 * deletes peers today.
 */
export const PEER_CACHE_SLOTS = 4096;
export const PEER_SLOT_BYTES = 40;
export const PEER_SLOT_FAMILY = 0;
export const PEER_SLOT_ADDR = 8;
export const PEER_SLOT_PACKETS = 24;
export const PEER_SLOT_BYTES_FIELD = 32;
const PEER_CACHE_MUL = 0x85ebca6b;
const PEER_CACHE_SHIFT = 20; // 32 - log2(PEER_CACHE_SLOTS)

/**
 * The slot (0 … 4095) of a source key (4 or 16 bytes, network order) as the program computes it: fold = the IPv4
 * key read as one little-endian u32, or the XOR of the IPv6 key's four (as for the quarantine filter);
 * slot = (fold × 0x85EBCA6B mod 2^32) >>> 20. Assumes a little-endian host, like quarantine-filter.ts.
 */
export function peerCacheSlot(key: Uint8Array): number {
  if (key.length !== 4 && key.length !== 16) throw new RangeError(`a source key is 4 or 16 bytes, not ${key.length}`);
  const view = new DataView(key.buffer, key.byteOffset, key.length);
  let fold = 0;
  for (let at = 0; at < key.length; at += 4) fold ^= view.getUint32(at, true);
  return Math.imul(fold, PEER_CACHE_MUL) >>> PEER_CACHE_SHIFT;
}

/** Key and value sizes (one CPU's value for per-CPU maps) the object must declare; checked at load. */
export const MAP_SIZES: Readonly<Record<Exclude<MapName, 'events'>, { readonly key: number; readonly value: number }>> = {
  peers_v4: { key: 4, value: PEER_STATS_BYTES },
  peers_v6: { key: 16, value: PEER_STATS_BYTES },
  quarantine_v4: { key: 4, value: QUARANTINE_BYTES },
  quarantine_v6: { key: 16, value: QUARANTINE_BYTES },
  config: { key: 4, value: CONFIG_BYTES },
  stats: { key: 4, value: STATS_BYTES },
  quarantine_filter: { key: 4, value: QUARANTINE_FILTER_BYTES },
  peer_cache: { key: 4, value: PEER_SLOT_BYTES },
};

/** struct x0t_event: kind u8 @0, family u8 @1, reserved u16 @2, ifindex u32 @4, ts_ns u64 @8, addr[16] @16. */
export const EVENT_RECORD_BYTES = 32;
export const EVENT_KIND_NEW_PEER = 1;
export const EVENT_KIND_DROP = 2;

/**
 * Decodes a batch of consecutive 32-byte event records (as the ring-buffer worker transfers them). Records of an
 * unknown kind or family are skipped and counted, so a newer program never breaks an older reader.
 */
export function decodeEventRecords(batch: ArrayBuffer): { events: DriverEvent[]; skipped: number } {
  const bytes = new Uint8Array(batch);
  const view = new DataView(batch);
  const events: DriverEvent[] = [];
  let skipped = 0;
  for (let at = 0; at + EVENT_RECORD_BYTES <= bytes.length; at += EVENT_RECORD_BYTES) {
    const kindCode = bytes[at]!;
    const familyCode = bytes[at + 1]!;
    if ((kindCode !== EVENT_KIND_NEW_PEER && kindCode !== EVENT_KIND_DROP) || (familyCode !== 4 && familyCode !== 6)) {
      skipped++;
      continue;
    }
    const family = familyCode as PeerFamily;
    const address = decodeAddress(family, bytes.subarray(at + 16, at + 32));
    const ifindex = view.getUint32(at + 4, true);
    const atNs = view.getBigUint64(at + 8, true);
    events.push({ kind: kindCode === EVENT_KIND_NEW_PEER ? 'new-peer' : 'drop', address, family, ifindex, atNs });
  }
  return { events, skipped };
}

/** Encodes one event record (the inverse of decodeEventRecords; used by tests and tools that replay events). */
export function encodeEventRecord(kind: number, family: number, ifindex: number, tsNs: bigint, addr: Uint8Array): Uint8Array {
  const out = new Uint8Array(EVENT_RECORD_BYTES);
  const view = new DataView(out.buffer);
  out[0] = kind;
  out[1] = family;
  view.setUint32(4, ifindex, true);
  view.setBigUint64(8, tsNs, true);
  out.set(addr.subarray(0, 16), 16);
  return out;
}
