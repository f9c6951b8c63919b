// The XDP packet driver: bpf/x0t_xdp.o loaded through libbpf and attached to one interface, per-peer counters and
// quarantine in its maps, events from its ring buffer.
//
// Attachment: a bpf_link, pinned, rather than a netlink (bpf_xdp_attach) attachment. Reasons:
//  - Ownership: while a link holds the interface, a netlink attach by anyone else fails with EBUSY instead of
//    silently replacing our program, and only the link's holder (or BPF_LINK_DETACH on it) removes it.
//  - A handle after a crash: the pinned link is found by path, so a restarted node detaches exactly its own
//    attachment — no guessing by program name on an interface that might carry someone else's program.
//  - A chosen lifetime: an unpinned link would vanish with the process (the program detaches on a crash), a netlink
//    attachment would stay with nothing pointing at it. Pinned, the program keeps counting and keeps dropping
//    quarantined peers while the node is down (quarantine fails closed), and the restart replaces it, taking over
//    the quarantine entries (so an operator's quarantine survives a crash).
// On open, a stale pin set for the same interface (a crashed earlier node) is detached and unpinned, and a leftover
// x0t_* program attached through netlink (e.g. by `ip link set … xdp obj`) is removed; a foreign program makes
// open fail (DriverError, EBUSY) rather than being removed. On close: stop the reader, detach, unpin, remove the
// directory — nothing is left behind.
import { mkdirSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { DriverError, isX0tError, UnsupportedError, UsageError, type X0tError } from '../errors/index.js';
import {
  CONFIG_BYTES,
  MAP_CONFIG,
  MAP_EVENTS,
  MAP_NAMES,
  MAP_QUARANTINE_FILTER,
  MAP_PEER_CACHE,
  MAP_PEERS_V4,
  MAP_PEERS_V6,
  MAP_QUARANTINE_V4,
  MAP_QUARANTINE_V6,
  MAP_STATS,
  PEER_CACHE_SLOTS,
  PEER_SLOT_ADDR,
  PEER_SLOT_BYTES,
  PEER_SLOT_BYTES_FIELD,
  PEER_SLOT_FAMILY,
  PEER_SLOT_PACKETS,
  PEER_STATS_BYTES,
  PRODUCT_PROGRAM,
  PROGRAM_NAMES,
  PROGRAM_PREFIX,
  QUARANTINE_BYTES,
  STATS_BYTES,
  QUARANTINE_FILTER_BYTES,
  STATS_EVENTS_SUPPRESSED,
  STATS_FIELDS,
  STATS_PEERS_FULL,
  STATS_RINGBUF_FULL,
  type MapName,
  type ProgramName,
} from './bpf-contract.js';
import { quarantineFilter, setFilterBit } from './quarantine-filter.js';
import { BpfMap, LoadedBpfObject } from './bpf-object.js';
import { loadBpfObjectSpec, type BpfObjectSpec } from './bpf-object-spec.js';
import { compareAddressKeys, decodeAddress, peerKey, type AddressKey } from './ip-address.js';
import { openLibbpf, XDP_ATTACHED_DRV, XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE, type Libbpf } from './libbpf.js';
import type { DriverEvent, DriverMode, DriverStatus, PacketDriver, PeerCounters, PeerFamily, QuarantineEntry } from './packet-driver.js';
import { perCpuBuffer, perCpuStride, sumPerCpuU64 } from './percpu.js';
import { DEFAULT_PIN_ROOT, ensureBpffs, interfacePinDir, listPins, netnsInode, PIN_LINK, PIN_PROG, removePinDir } from './pin-layout.js';
import { RingBufferReader } from './ring-buffer-reader.js';

/** 'auto' tries native XDP and falls back to generic (the reason goes into the status); the others insist. */
export type XdpAttachMode = 'auto' | 'native' | 'generic';

export interface XdpDriverOptions {
  /** The interface to attach to, in the calling process's network namespace. */
  readonly interface: string;
  readonly mode?: XdpAttachMode;
  /** The private bpffs; mounted here if it is not one already. Default /run/x0tta6bl4/bpf. */
  readonly pinRoot?: string;
  /** The BPF object; default the shipped bpf/x0t_xdp.o, verified against bpf/x0t_xdp.json. */
  readonly objectPath?: string;
  /** Verify against this SHA-256 instead of the pin file (an object built elsewhere). */
  readonly expectedSha256?: string;
  /** Which program of the object to attach (the variants exist for the benchmark). Default x0t_xdp. */
  readonly program?: ProgramName;
  /** Events per second per CPU the kernel sends before suppressing (config map); 0 or absent: its default 1000. */
  readonly eventsPerSecond?: number;
  /** The ring-buffer worker's poll timeout: how long close() may wait for it. Default 100 ms. */
  readonly pollTimeoutMs?: number;
}

/** What open found left over from an earlier driver on this interface, and removed. */
export interface StaleReplacement {
  /** The stale pin directory and the pins it held (empty when there was none). */
  readonly pinDir: string | null;
  readonly pins: readonly string[];
  /** The kernel id of the program the stale pinned link carried, when the link was still attached. */
  readonly linkProgramId: number | null;
  /** x0t programs found attached through netlink (not by a link of ours) and detached: their kernel ids. */
  readonly detachedProgramIds: readonly number[];
  /** Quarantined addresses taken over from the stale maps (with their drop counts) before the new program attached. */
  readonly quarantineCarried: number;
}

export interface XdpDriverStatus extends DriverStatus {
  readonly program: ProgramName;
  /** Null when open found nothing to replace. */
  readonly staleReplaced: StaleReplacement | null;
  /** The ring-buffer reader's failure (code and message), if it stopped on one; events then no longer arrive. */
  readonly eventReaderError: { readonly code: string; readonly message: string } | null;
}

export interface XdpPacketDriver extends PacketDriver {
  status(): XdpDriverStatus;
}

/**
 * Opens the XDP driver on an interface. Throws UnsupportedError (no libbpf, no permission, no bpffs, no bpf()),
 * IoError / HashMismatchError (object or pin unreadable or different), UsageError (bad option), DriverError
 * (interface absent — call if_nametoindex, errno ENODEV —, verifier refusal, a foreign XDP program attached, any
 * other failed kernel call; details.call and details.errno say which).
 */
export async function openXdpDriver(opts: XdpDriverOptions): Promise<XdpPacketDriver> {
  const mode = opts.mode ?? 'auto';
  if (mode !== 'auto' && mode !== 'native' && mode !== 'generic') throw new UsageError(`unknown XDP mode ${String(mode)}`, { path: 'mode' });
  const program = opts.program ?? PRODUCT_PROGRAM;
  if (!PROGRAM_NAMES.includes(program)) throw new UsageError(`unknown program ${String(program)}`, { path: 'program' });
  const eventsPerSecond = opts.eventsPerSecond ?? 0;
  if (!Number.isInteger(eventsPerSecond) || eventsPerSecond < 0 || eventsPerSecond > 0xffffffff) {
    throw new UsageError('eventsPerSecond must be an integer in [0, 2^32)', { path: 'eventsPerSecond' });
  }
  if (opts.objectPath === undefined && opts.expectedSha256 !== undefined) {
    throw new UsageError('expectedSha256 is for an object given by objectPath', { path: 'expectedSha256' });
  }

  const spec = loadBpfObjectSpec({ ...(opts.objectPath !== undefined ? { path: opts.objectPath } : {}), ...(opts.expectedSha256 !== undefined ? { expectedSha256: opts.expectedSha256 } : {}) });
  const lib = openLibbpf();
  const ifindex = lib.ifNameToIndex(opts.interface);
  // Loading first: without the permission for BPF this is where it shows (UnsupportedError, reason 'permission'),
  // before anything on the interface or in the bpffs is touched.
  const obj = LoadedBpfObject.load(lib, spec);
  const pinRoot = opts.pinRoot ?? DEFAULT_PIN_ROOT;
  const pinDir = interfacePinDir(pinRoot, opts.interface, netnsInode());
  let linkFd = -1;
  let pinsMine = false;
  try {
    ensureBpffs(pinRoot);
    const maps = obj.mapFds();
    // A crashed node's quarantine goes on: its entries are copied into the new maps (pre-filter first) before the
    // old program is detached, so a quarantined peer never gets through during the replacement.
    const carried = readStaleQuarantine(lib, pinDir);
    const filter = quarantineFilter(carried.map((c) => c.key));
    if (carried.length > 0) {
      lib.mapUpdate(maps.get(MAP_QUARANTINE_FILTER)!, new Uint8Array(4), filter, 0);
      for (const c of carried) lib.mapUpdate(maps.get(c.key.length === 4 ? MAP_QUARANTINE_V4 : MAP_QUARANTINE_V6)!, c.key, c.value, 0);
    }
    const replaced = replaceStale(lib, pinDir, ifindex, opts.interface);
    const staleReplaced = replaced === null ? null : { ...replaced, quarantineCarried: carried.length };
    if (eventsPerSecond !== 0) {
      const config = new Uint8Array(CONFIG_BYTES);
      new DataView(config.buffer).setUint32(0, eventsPerSecond, true);
      lib.mapUpdate(maps.get(MAP_CONFIG)!, new Uint8Array(4), config, 0);
    }
    const progFd = obj.programFd(program);
    const attached = attach(lib, progFd, ifindex, opts.interface, mode);
    linkFd = attached.linkFd;
    mkdirSync(pinDir, { mode: 0o700 });
    pinsMine = true;
    lib.objPin(linkFd, join(pinDir, PIN_LINK));
    lib.objPin(progFd, join(pinDir, PIN_PROG));
    for (const name of MAP_NAMES) lib.objPin(maps.get(name)!, join(pinDir, name));
    const q = lib.xdpQuery(ifindex);
    const driverMode: DriverMode = q.attachMode === XDP_ATTACHED_DRV ? 'xdp-native' : 'xdp-generic';
    const programId = driverMode === 'xdp-native' ? q.drvProgId : q.skbProgId;
    const driver = new XdpDriver({ lib, spec, obj, maps, linkFd, ifindex, ifname: opts.interface, pinDir, program, mode: driverMode, programId, reason: attached.reason, staleReplaced, filter });
    await driver.startReader(opts.pollTimeoutMs ?? 100);
    return driver;
  } catch (e) {
    if (linkFd >= 0) {
      try {
        lib.linkDetach(linkFd);
      } catch {
        /* already gone with the interface */
      }
      lib.close(linkFd);
    }
    if (pinsMine) {
      try {
        removePinDir(pinDir);
      } catch {
        /* best effort: the error that got us here matters more */
      }
    }
    obj.close();
    throw e;
  }
}

/** The entries (key and value) of the quarantine maps a crashed earlier driver pinned for this interface. */
function readStaleQuarantine(lib: Libbpf, pinDir: string): { key: Uint8Array; value: Uint8Array }[] {
  const pins = listPins(pinDir) ?? [];
  const out: { key: Uint8Array; value: Uint8Array }[] = [];
  for (const [name, keySize] of [[MAP_QUARANTINE_V4, 4], [MAP_QUARANTINE_V6, 16]] as const) {
    if (!pins.includes(name)) continue;
    const fd = lib.objGet(join(pinDir, name));
    try {
      const map = new BpfMap(lib, name, fd, keySize, QUARANTINE_BYTES);
      for (const key of map.keys()) {
        const value = map.lookup(key);
        if (value) out.push({ key, value });
      }
    } finally {
      lib.close(fd);
    }
  }
  return out;
}

/** Detaches and unpins what a crashed earlier driver left on this interface; refuses a foreign program. */
function replaceStale(lib: Libbpf, pinDir: string, ifindex: number, ifname: string): Omit<StaleReplacement, 'quarantineCarried'> | null {
  const pins = listPins(pinDir);
  let linkProgramId: number | null = null;
  if (pins !== null) {
    if (pins.includes(PIN_LINK)) {
      const before = lib.xdpQuery(ifindex);
      let fd = -1;
      try {
        fd = lib.objGet(join(pinDir, PIN_LINK));
        lib.linkDetach(fd);
        linkProgramId = before.progId !== 0 ? before.progId : null;
      } catch (e) {
        // A link whose interface went away is already detached (ENOLINK); anything else is a real failure.
        if (!(e instanceof DriverError && e.details['errno'] === constants.errno.ENOLINK)) throw e;
      } finally {
        if (fd >= 0) lib.close(fd);
      }
    }
    removePinDir(pinDir);
  }
  const detachedProgramIds: number[] = [];
  const q = lib.xdpQuery(ifindex);
  for (const [id, flags] of [[q.drvProgId, XDP_FLAGS_DRV_MODE], [q.skbProgId, XDP_FLAGS_SKB_MODE]] as const) {
    if (id === 0) continue;
    const fd = lib.progGetFdById(id);
    let name: string;
    try {
      name = lib.progName(fd);
    } finally {
      lib.close(fd);
    }
    if (!name.startsWith(PROGRAM_PREFIX)) {
      throw new DriverError(`${ifname} already has an XDP program that is not ours (${name}, id ${id}); detach it first`, {
        call: 'bpf_link_create',
        errno: constants.errno.EBUSY,
        programId: id,
        program: name,
      });
    }
    try {
      lib.xdpDetach(ifindex, flags);
    } catch (e) {
      if (e instanceof DriverError && e.details['errno'] === constants.errno.EBUSY) {
        throw new DriverError(`${ifname} carries ${name} (id ${id}) through a bpf_link held elsewhere: is another driver running on this interface?`, {
          call: 'bpf_xdp_detach',
          errno: constants.errno.EBUSY,
          programId: id,
          program: name,
        });
      }
      throw e;
    }
    detachedProgramIds.push(id);
  }
  if (pins === null && detachedProgramIds.length === 0) return null;
  return { pinDir: pins === null ? null : pinDir, pins: pins ?? [], linkProgramId, detachedProgramIds };
}

/** Creates the XDP link in the requested mode; in 'auto', a refused native attach falls back to generic. */
function attach(lib: Libbpf, progFd: number, ifindex: number, ifname: string, mode: XdpAttachMode): { linkFd: number; reason: string | null } {
  if (mode === 'generic') return { linkFd: lib.linkCreateXdp(progFd, ifindex, XDP_FLAGS_SKB_MODE), reason: 'generic XDP requested (mode: generic)' };
  try {
    return { linkFd: lib.linkCreateXdp(progFd, ifindex, XDP_FLAGS_DRV_MODE), reason: null };
  } catch (e) {
    // A device without native XDP refuses with EOPNOTSUPP (UnsupportedError) or EINVAL; either way 'auto' goes on
    // in generic mode. Missing permission is not the device's fault: that is thrown as it is.
    if (mode === 'native' || (e instanceof UnsupportedError && e.details['reason'] === 'permission')) throw e;
    const errno = isX0tError(e) ? String(e.details['errnoName'] ?? e.details['errno']) : 'unknown';
    const linkFd = lib.linkCreateXdp(progFd, ifindex, XDP_FLAGS_SKB_MODE);
    return { linkFd, reason: `native XDP refused on ${ifname} (${errno}); running generic XDP` };
  }
}

interface XdpDriverParts {
  readonly lib: Libbpf;
  readonly spec: BpfObjectSpec;
  readonly obj: LoadedBpfObject;
  readonly maps: Map<MapName, number>;
  readonly linkFd: number;
  readonly ifindex: number;
  readonly ifname: string;
  readonly pinDir: string;
  readonly program: ProgramName;
  readonly mode: DriverMode;
  readonly programId: number;
  readonly reason: string | null;
  readonly staleReplaced: StaleReplacement | null;
  /** The quarantine pre-filter as written before attaching (all clear unless a stale quarantine was carried). */
  readonly filter: Uint8Array;
}

/** A map key for an address: family and key bytes in hex. */
function cacheKey(family: PeerFamily, key: Uint8Array): string {
  return `${family}:${Buffer.from(key.buffer, key.byteOffset, key.length).toString('hex')}`;
}

class XdpDriver implements XdpPacketDriver {
  readonly #p: XdpDriverParts;
  readonly #ncpus: number;
  readonly #peers: Record<PeerFamily, BpfMap>;
  readonly #quarantine: Record<PeerFamily, BpfMap>;
  readonly #stats: BpfMap;
  /** peer_cache: per-CPU slots holding counts of known peers that are not in peers_v4/v6 (bpf-contract.ts). */
  readonly #peerCache: BpfMap;
  /** The quarantine pre-filter, and the bits this driver last wrote to it (the program starts with all clear). */
  readonly #filterMap: BpfMap;
  #filter: Uint8Array = new Uint8Array(QUARANTINE_FILTER_BYTES);
  readonly #listeners = new Set<(event: DriverEvent) => void>();
  #reader: RingBufferReader | null = null;
  #readerError: X0tError | null = null;
  #delivered = 0;
  /** The last suppressed and table-full counts read, kept for status() after close. */
  #suppressed = 0;
  #peerTableFull = 0;
  #closing: Promise<void> | null = null;

  constructor(parts: XdpDriverParts) {
    this.#p = parts;
    const lib = parts.lib;
    this.#ncpus = lib.numPossibleCpus();
    const fd = (n: MapName): number => parts.maps.get(n)!;
    const perCpuPeerBytes = perCpuBuffer(PEER_STATS_BYTES, this.#ncpus).length;
    this.#peers = { 4: new BpfMap(lib, MAP_PEERS_V4, fd(MAP_PEERS_V4), 4, perCpuPeerBytes), 6: new BpfMap(lib, MAP_PEERS_V6, fd(MAP_PEERS_V6), 16, perCpuPeerBytes) };
    this.#quarantine = {
      4: new BpfMap(lib, MAP_QUARANTINE_V4, fd(MAP_QUARANTINE_V4), 4, QUARANTINE_BYTES),
      6: new BpfMap(lib, MAP_QUARANTINE_V6, fd(MAP_QUARANTINE_V6), 16, QUARANTINE_BYTES),
    };
    this.#peerCache = new BpfMap(lib, MAP_PEER_CACHE, fd(MAP_PEER_CACHE), 4, perCpuBuffer(PEER_SLOT_BYTES, this.#ncpus).length);
    this.#stats = new BpfMap(lib, MAP_STATS, fd(MAP_STATS), 4, perCpuBuffer(STATS_BYTES, this.#ncpus).length);
    this.#filterMap = new BpfMap(lib, MAP_QUARANTINE_FILTER, fd(MAP_QUARANTINE_FILTER), 4, QUARANTINE_FILTER_BYTES);
    this.#filter = parts.filter;
  }

  async startReader(pollTimeoutMs: number): Promise<void> {
    this.#reader = await RingBufferReader.start({
      eventsPin: join(this.#p.pinDir, MAP_EVENTS),
      pollTimeoutMs,
      onEvents: (events) => this.#deliver(events),
      onError: (error) => {
        this.#readerError = error;
      },
    });
    if (this.#readerError) throw this.#readerError;
  }

  #deliver(events: DriverEvent[]): void {
    for (const event of events) {
      this.#delivered++;
      for (const listener of this.#listeners) {
        try {
          listener(event);
        } catch (e) {
          // One listener's bug must not starve the others; it still surfaces as an uncaught exception.
          queueMicrotask(() => {
            throw e;
          });
        }
      }
    }
  }

  #open(): void {
    if (this.#closing) throw new DriverError('the XDP driver is closed', { call: 'xdp-driver', errno: constants.errno.EBADF });
  }

  status(): XdpDriverStatus {
    if (!this.#closing) {
      const value = this.#stats.lookup(new Uint8Array(4));
      if (value) {
        const sums = sumPerCpuU64(value, STATS_BYTES, this.#ncpus, STATS_FIELDS);
        this.#suppressed = Number(sums[STATS_EVENTS_SUPPRESSED]! + sums[STATS_RINGBUF_FULL]!);
        this.#peerTableFull = Number(sums[STATS_PEERS_FULL]!);
      }
    }
    const p = this.#p;
    return {
      mode: p.mode,
      interface: p.ifname,
      ifindex: p.ifindex,
      programId: p.programId,
      pinDir: p.pinDir,
      reason: p.reason,
      eventsDelivered: this.#delivered,
      eventsSuppressed: this.#suppressed,
      objectSha256: p.spec.sha256,
      program: p.program,
      staleReplaced: p.staleReplaced,
      eventReaderError: this.#readerError ? { code: this.#readerError.code, message: this.#readerError.message } : null,
      peerTableFull: this.#peerTableFull,
    };
  }

  peers(): PeerCounters[] {
    this.#open();
    // Hash first, then the cache: counts never move between the two, so each is a lower bound of the true value
    // at the moment it is read and the sum is as good a snapshot as the kernel gives.
    const rows: { key: AddressKey; counters: PeerCounters }[] = [];
    for (const family of [4, 6] as const) {
      const map = this.#peers[family];
      for (const key of map.keys()) {
        const value = map.lookup(key);
        if (!value) continue; // deleted between the walk and the lookup
        const [packets, bytes] = sumPerCpuU64(value, PEER_STATS_BYTES, this.#ncpus, 2);
        const address = decodeAddress(family, key);
        const quarantined = this.#quarantine[family].lookup(key) !== null;
        rows.push({ key: { family, bytes: key }, counters: { address, family, packets: Number(packets), bytes: Number(bytes), quarantined } });
      }
    }
    const cached = this.#cacheTotals();
    const totals = rows.map(({ key, counters }) => {
      const extra = cached.get(cacheKey(key.family, key.bytes));
      return { key, counters: extra ? { ...counters, packets: Number(BigInt(counters.packets) + extra.packets), bytes: Number(BigInt(counters.bytes) + extra.bytes) } : counters };
    });
    return totals.sort((a, b) => compareAddressKeys(a.key, b.key)).map((r) => r.counters);
  }

  /**
   * The counts in peer_cache per address (family + key bytes), summed over slots and CPUs. The whole array is read
   * with BPF_MAP_LOOKUP_BATCH (a few calls of 1024 slots) rather than 4096 lookups, each a koffi call and a syscall.
   */
  #cacheTotals(): Map<string, { packets: bigint; bytes: bigint }> {
    const out = new Map<string, { packets: bigint; bytes: bigint }>();
    const stride = perCpuStride(PEER_SLOT_BYTES);
    const perSlot = stride * this.#ncpus;
    const chunk = 1024;
    const keys = new Uint8Array(4 * chunk);
    const values = new Uint8Array(perSlot * chunk);
    const token = [new Uint8Array(4), new Uint8Array(4)] as const;
    let inBatch: Uint8Array | null = null;
    for (let turn = 0, read = 0; read < PEER_CACHE_SLOTS; turn++) {
      const outBatch = token[turn % 2]!;
      const got = this.#p.lib.mapLookupBatch(this.#peerCache.fd, inBatch, outBatch, keys, values, chunk);
      for (let i = 0; i < got.count; i++) this.#addSlot(out, values.subarray(i * perSlot, (i + 1) * perSlot), stride);
      read += got.count;
      if (got.done || got.count === 0) break;
      inBatch = outBatch;
    }
    return out;
  }

  /** Adds one slot's per-CPU values (those holding an address) to the totals. */
  #addSlot(out: Map<string, { packets: bigint; bytes: bigint }>, value: Uint8Array, stride: number): void {
    const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
    for (let cpu = 0; cpu < this.#ncpus; cpu++) {
      const at = cpu * stride;
      const family = value[at + PEER_SLOT_FAMILY];
      if (family !== 4 && family !== 6) continue;
      const key = cacheKey(family, value.subarray(at + PEER_SLOT_ADDR, at + PEER_SLOT_ADDR + (family === 4 ? 4 : 16)));
      const sum = out.get(key) ?? { packets: 0n, bytes: 0n };
      sum.packets = BigInt.asUintN(64, sum.packets + view.getBigUint64(at + PEER_SLOT_PACKETS, true));
      sum.bytes = BigInt.asUintN(64, sum.bytes + view.getBigUint64(at + PEER_SLOT_BYTES_FIELD, true));
      out.set(key, sum);
    }
  }

  // The program consults quarantine_v4/v6 only for sources whose pre-filter bit is set. Ordering keeps enforcement
  // exact: a bit is set before its entry is inserted, and cleared only by a rebuild from the entries that remain
  // after a delete. A stale bit costs a lookup, never a missed drop. This driver is the maps' only writer.

  quarantineAdd(address: string): void {
    this.#open();
    const key = peerKey(address);
    const next = this.#filter.slice();
    setFilterBit(next, key.bytes);
    this.#writeFilter(next);
    this.#quarantine[key.family].insert(key.bytes, new Uint8Array(QUARANTINE_BYTES)); // present already: keep its drops
  }

  quarantineDelete(address: string): boolean {
    this.#open();
    const key = peerKey(address);
    const removed = this.#quarantine[key.family].delete(key.bytes);
    if (removed) this.#writeFilter(quarantineFilter([...this.#quarantine[4].keys(), ...this.#quarantine[6].keys()]));
    return removed;
  }

  #writeFilter(next: Uint8Array): void {
    this.#filterMap.put(new Uint8Array(4), next);
    this.#filter = next;
  }

  quarantineList(): QuarantineEntry[] {
    this.#open();
    const rows: { key: AddressKey; entry: QuarantineEntry }[] = [];
    for (const family of [4, 6] as const) {
      const map = this.#quarantine[family];
      for (const key of map.keys()) {
        const value = map.lookup(key);
        if (!value) continue;
        const drops = Number(new DataView(value.buffer, value.byteOffset, 8).getBigUint64(0, true));
        rows.push({ key: { family, bytes: key }, entry: { address: decodeAddress(family, key), family, drops } });
      }
    }
    return rows.sort((a, b) => compareAddressKeys(a.key, b.key)).map((r) => r.entry);
  }

  onEvent(listener: (event: DriverEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const p = this.#p;
    const failures: unknown[] = [];
    const step = (f: () => void): void => {
      try {
        f();
      } catch (e) {
        failures.push(e);
      }
    };
    if (this.#reader) await this.#reader.stop().catch((e: unknown) => failures.push(e));
    this.#listeners.clear();
    step(() => {
      try {
        p.lib.linkDetach(p.linkFd);
      } catch (e) {
        // The interface was deleted under us: the kernel already detached the link.
        if (!(e instanceof DriverError && e.details['errno'] === constants.errno.ENOLINK)) throw e;
      }
    });
    p.lib.close(p.linkFd);
    step(() => removePinDir(p.pinDir));
    step(() => p.obj.close());
    if (failures.length > 0) throw failures[0];
  }
}
