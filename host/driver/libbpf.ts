// libbpf.so.1 through koffi: the only native calls the driver makes. Only the functions the driver uses are bound,
// with signatures checked against /usr/include/bpf/{libbpf,bpf}.h of libbpf 1.1.2. Every call that fails is turned
// into a typed error here, so callers never look at raw return codes: a kernel feature or permission that is
// missing is UnsupportedError (details.reason), any other failure is DriverError (details.call, details.errno),
// both carrying the tail of libbpf's own log (the verifier's complaint, for instance) in details.log.
//
// libbpf 1.x returns -errno from int-returning calls and NULL with errno set from pointer-returning ones.
//
// Two choices against the obvious calls: bpf_object__open_mem, not __open_file, so the kernel gets exactly the bytes
// whose SHA-256 was checked (no window for the file to change); bpf_link_create with explicit XDP mode flags, not
// bpf_program__attach_xdp (flags 0: the kernel picks the mode silently), so native vs generic is our decision and
// shows in the status. Links are pinned and fetched with bpf_obj_pin / bpf_obj_get and detached with
// bpf_link_detach, which work on the raw descriptors the driver keeps.
import { constants } from 'node:os';
import koffi, { type LibraryHandle } from 'koffi';
import { DriverError, UnsupportedError } from '../errors/index.js';

/** An opaque native pointer as koffi hands it out (bpf_object *, bpf_program *, bpf_map *, ring_buffer *). */
export type NativePointer = object;

/** XDP attach flags (linux/if_link.h). */
export const XDP_FLAGS_SKB_MODE = 1 << 1;
export const XDP_FLAGS_DRV_MODE = 1 << 2;
/** enum bpf_attach_type: BPF_XDP. */
export const BPF_XDP = 37;
/** bpf_map_update_elem flags. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
/** XDP_ATTACHED_* as bpf_xdp_query reports the attach mode. */
export const XDP_ATTACHED_NONE = 0;
export const XDP_ATTACHED_DRV = 1;
export const XDP_ATTACHED_SKB = 2;

/** What bpf_xdp_query reports for an interface (program ids are 0 when nothing is attached that way). */
export interface XdpQuery {
  readonly progId: number;
  readonly drvProgId: number;
  readonly skbProgId: number;
  readonly attachMode: number;
}

/** The calls, with the failure handling done: each returns its result or throws a typed error. */
export interface Libbpf {
  /** Opens an object from bytes already read (and hashed); the buffer must stay alive until the object is closed. */
  objectOpenMem(bytes: Uint8Array, name: string): NativePointer;
  objectLoad(obj: NativePointer): void;
  objectClose(obj: NativePointer): void;
  findProgramByName(obj: NativePointer, name: string): NativePointer | null;
  programFd(prog: NativePointer): number;
  findMapByName(obj: NativePointer, name: string): NativePointer | null;
  mapFd(map: NativePointer): number;
  /** The key and value sizes the object declares for a map (bytes; for per-CPU maps, one CPU's value). */
  mapSizes(map: NativePointer): { readonly keySize: number; readonly valueSize: number };
  /** Creates an XDP bpf_link on `ifindex` with explicit mode flags (XDP_FLAGS_DRV_MODE or XDP_FLAGS_SKB_MODE). */
  linkCreateXdp(progFd: number, ifindex: number, flags: number): number;
  /** Forcibly detaches a link (whoever else holds it): the program leaves the interface at once. */
  linkDetach(linkFd: number): void;
  xdpQuery(ifindex: number): XdpQuery;
  /** Removes a netlink-attached (non-link) XDP program in the given mode. */
  xdpDetach(ifindex: number, flags: number): void;
  objPin(fd: number, path: string): void;
  objGet(path: string): number;
  progGetFdById(id: number): number;
  /** The program's name as the kernel knows it (bpf_prog_info.name, at most 15 characters). */
  progName(progFd: number): string;
  /** Reads one element; false when the key is absent. */
  mapLookup(fd: number, key: Uint8Array, value: Uint8Array): boolean;
  /** The key after `key` (the first key when null); false at the end. */
  mapNextKey(fd: number, key: Uint8Array | null, next: Uint8Array): boolean;
  /**
   * Reads up to `count` entries in one bpf(2) call (BPF_MAP_LOOKUP_BATCH), from the start (`inBatch` null) or from the
   * token a previous call left in `outBatch`. Returns how many entries were read and whether the map is exhausted.
   */
  mapLookupBatch(fd: number, inBatch: Uint8Array | null, outBatch: Uint8Array, keys: Uint8Array, values: Uint8Array, count: number):
    { readonly count: number; readonly done: boolean };
  /** Writes one element; false when `flags` is BPF_NOEXIST and the key exists. */
  mapUpdate(fd: number, key: Uint8Array, value: Uint8Array, flags: number): boolean;
  /** Deletes one element; false when the key was absent. */
  mapDelete(fd: number, key: Uint8Array): boolean;
  numPossibleCpus(): number;
  /** Creates a ring_buffer manager on a RINGBUF map; `callback` is a registered koffi callback (RingBufferSample). */
  ringBufferNew(mapFd: number, callback: unknown): NativePointer;
  /** Waits up to `timeoutMs` for records and consumes them; returns how many were consumed (EINTR counts as 0). */
  ringBufferPoll(rb: NativePointer, timeoutMs: number): number;
  ringBufferFree(rb: NativePointer): void;
  /** Closes a descriptor the kernel gave us (libc close: Node's fs would warn about fds it did not open). */
  close(fd: number): void;
  /** The interface's index in this network namespace (libc if_nametoindex); throws DriverError ENODEV if absent. */
  ifNameToIndex(name: string): number;
}

/** int (*ring_buffer_sample_fn)(void *ctx, void *data, size_t size) */
export const RingBufferSample = koffi.proto('int x0t_ring_buffer_sample(void *ctx, void *data, size_t size)');
/** int (*libbpf_print_fn_t)(enum libbpf_print_level level, const char *fmt, va_list ap); va_list decays to a pointer. */
const PrintFn = koffi.proto('int x0t_libbpf_print(int level, const char *fmt, void *ap)');

/** struct bpf_object_open_opts, only the fields the driver sets (sz, object_name); the rest stays zero. */
const ObjectOpenOpts = koffi.struct('x0t_bpf_object_open_opts', { sz: 'size_t', object_name: 'const char *', rest: koffi.array('uint8_t', 64) });

const LOG_LINES = 40;
/** enum libbpf_print_level: LIBBPF_WARN 0, LIBBPF_INFO 1, LIBBPF_DEBUG 2. */
const LIBBPF_INFO = 1;
/** The last lines libbpf printed in this thread (warnings, verifier output). */
const logTail: string[] = [];

/** The tail of libbpf's log, newest last; errors thrown here carry it too. */
export function libbpfLog(): readonly string[] {
  return logTail;
}

/** The kernel's internal ENOTSUPP, which some BPF paths leak to user space (not in os.constants). */
const ENOTSUPP = 524;
const errnoName = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v, k]));

/** A failed call as a typed error: permission or missing-feature errnos are Unsupported, the rest DriverError. */
export function callError(call: string, errno: number, what?: string): DriverError | UnsupportedError {
  const name = errnoName.get(errno) ?? (errno === ENOTSUPP ? 'ENOTSUPP' : `errno ${errno}`);
  const log = logTail.slice(-12);
  const message = `${call}${what ? ` (${what})` : ''} failed: ${name}`;
  if (errno === constants.errno.EPERM || errno === constants.errno.EACCES) {
    return new UnsupportedError(`${message}: BPF needs root or CAP_BPF + CAP_NET_ADMIN`, { reason: 'permission', call, errno, errnoName: name, log });
  }
  if (errno === constants.errno.EOPNOTSUPP || errno === ENOTSUPP) {
    return new UnsupportedError(`${message}: not supported by this kernel or device`, { reason: 'not-supported', call, errno, errnoName: name, log });
  }
  if (errno === constants.errno.ENOSYS) {
    return new UnsupportedError(`${message}: the kernel has no bpf() system call`, { reason: 'no-bpf', call, errno, errnoName: name, log });
  }
  return new DriverError(message, { call, errno, errnoName: name, log });
}

let loaded: Libbpf | null = null;
let loadFailure: UnsupportedError | null = null;

/**
 * The bindings, loaded once per thread (koffi works in worker threads; each thread loads its own handle of the
 * same library). Throws UnsupportedError (reason 'no-libbpf') when libbpf.so.1 is not installed.
 */
export function openLibbpf(opts: { readonly captureLog?: boolean } = {}): Libbpf {
  if (loaded) return loaded;
  if (loadFailure) throw loadFailure;
  let lib: LibraryHandle;
  try {
    lib = koffi.load('libbpf.so.1');
  } catch (e) {
    loadFailure = new UnsupportedError(`libbpf.so.1 cannot be loaded (install libbpf1): ${(e as Error).message}`, { reason: 'no-libbpf' }, { cause: e });
    throw loadFailure;
  }
  loaded = bind(lib, opts.captureLog ?? true);
  return loaded;
}

function bind(lib: LibraryHandle, captureLog: boolean): Libbpf {
  const f = {
    open_mem: lib.func('bpf_object__open_mem', 'void *', ['const void *', 'size_t', koffi.pointer(ObjectOpenOpts)]),
    load: lib.func('int bpf_object__load(void *obj)'),
    close: lib.func('void bpf_object__close(void *obj)'),
    find_prog: lib.func('void *bpf_object__find_program_by_name(void *obj, const char *name)'),
    prog_fd: lib.func('int bpf_program__fd(void *prog)'),
    find_map: lib.func('void *bpf_object__find_map_by_name(void *obj, const char *name)'),
    map_fd: lib.func('int bpf_map__fd(void *map)'),
    map_key_size: lib.func('uint32_t bpf_map__key_size(void *map)'),
    map_value_size: lib.func('uint32_t bpf_map__value_size(void *map)'),
    link_create: lib.func('int bpf_link_create(int prog_fd, int target_fd, int attach_type, const void *opts)'),
    link_detach: lib.func('int bpf_link_detach(int link_fd)'),
    xdp_query: lib.func('int bpf_xdp_query(int ifindex, int flags, void *opts)'),
    xdp_detach: lib.func('int bpf_xdp_detach(int ifindex, uint32_t flags, const void *opts)'),
    obj_pin: lib.func('int bpf_obj_pin(int fd, const char *path)'),
    obj_get: lib.func('int bpf_obj_get(const char *path)'),
    prog_by_id: lib.func('int bpf_prog_get_fd_by_id(uint32_t id)'),
    obj_info: lib.func('int bpf_obj_get_info_by_fd(int fd, void *info, _Inout_ uint32_t *len)'),
    lookup: lib.func('int bpf_map_lookup_elem(int fd, const void *key, void *value)'),
    next_key: lib.func('int bpf_map_get_next_key(int fd, const void *key, void *next_key)'),
    lookup_batch: lib.func('int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, _Inout_ uint32_t *count, const void *opts)'),
    update: lib.func('int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)'),
    delete: lib.func('int bpf_map_delete_elem(int fd, const void *key)'),
    ncpus: lib.func('int libbpf_num_possible_cpus(void)'),
    rb_new: lib.func('void *ring_buffer__new(int map_fd, x0t_ring_buffer_sample *cb, void *ctx, const void *opts)'),
    rb_poll: lib.func('int ring_buffer__poll(void *rb, int timeout_ms)'),
    rb_free: lib.func('void ring_buffer__free(void *rb)'),
    set_print: lib.func('void *libbpf_set_print(x0t_libbpf_print *fn)'),
  };

  const libc = koffi.load('libc.so.6');
  const if_nametoindex = libc.func('unsigned int if_nametoindex(const char *name)');
  const close = libc.func('int close(int fd)');
  if (captureLog) {
    // libbpf formats with printf conventions and a va_list; vsnprintf from libc does the formatting.
    const vsnprintf = libc.func('int vsnprintf(uint8_t *buf, size_t n, const char *fmt, void *ap)');
    const buf = Buffer.alloc(2048);
    const printer = koffi.register((level: number, fmt: string, ap: unknown) => {
      if (level > LIBBPF_INFO) return 0; // debug lines (every relocation) would push the useful ones out
      const n = vsnprintf(buf, buf.length, fmt, ap) as number;
      const text = buf.subarray(0, Math.max(0, Math.min(n, buf.length - 1))).toString('utf8');
      for (const line of text.split('\n')) if (line.trim() !== '') logTail.push(line.trimEnd());
      if (logTail.length > LOG_LINES) logTail.splice(0, logTail.length - LOG_LINES);
      return 0;
    }, koffi.pointer(PrintFn));
    // The callback stays registered for the process lifetime: libbpf keeps the pointer globally.
    f.set_print(printer);
  }

  /** -errno from an int call, or the thread's errno after a NULL pointer. */
  const fail = (call: string, rc: number, what?: string): never => {
    throw callError(call, rc < 0 ? -rc : koffi.errno(), what);
  };
  const ENOENT = constants.errno.ENOENT;
  const EEXIST = constants.errno.EEXIST;

  return {
    objectOpenMem(bytes, name) {
      // struct bpf_object_open_opts: 80 bytes in 1.1.2 (sizeof checked); libbpf copies the name.
      const opts = { sz: 80, object_name: name, rest: new Uint8Array(64) };
      const obj = f.open_mem(bytes, bytes.length, opts) as NativePointer | null;
      if (!obj) throw callError('bpf_object__open_mem', koffi.errno(), name);
      return obj;
    },
    objectLoad(obj) {
      const rc = f.load(obj) as number;
      if (rc < 0) fail('bpf_object__load', rc);
    },
    objectClose(obj) {
      f.close(obj);
    },
    findProgramByName(obj, name) {
      return (f.find_prog(obj, name) as NativePointer | null) ?? null;
    },
    programFd(prog) {
      const fd = f.prog_fd(prog) as number;
      if (fd < 0) fail('bpf_program__fd', fd);
      return fd;
    },
    findMapByName(obj, name) {
      return (f.find_map(obj, name) as NativePointer | null) ?? null;
    },
    mapFd(map) {
      const fd = f.map_fd(map) as number;
      if (fd < 0) fail('bpf_map__fd', fd);
      return fd;
    },
    mapSizes(map) {
      return { keySize: f.map_key_size(map) as number, valueSize: f.map_value_size(map) as number };
    },
    linkCreateXdp(progFd, ifindex, flags) {
      // struct bpf_link_create_opts (libbpf 1.1.2, sizeof checked): size_t sz @0; __u32 flags @8; 64 bytes in all.
      const opts = Buffer.alloc(64);
      opts.writeBigUInt64LE(64n, 0);
      opts.writeUInt32LE(flags, 8);
      const fd = f.link_create(progFd, ifindex, BPF_XDP, opts) as number;
      if (fd < 0) fail('bpf_link_create', fd, `xdp ifindex ${ifindex} flags ${flags}`);
      return fd;
    },
    linkDetach(linkFd) {
      const rc = f.link_detach(linkFd) as number;
      if (rc < 0) fail('bpf_link_detach', rc);
    },
    xdpQuery(ifindex) {
      // struct bpf_xdp_query_opts: size_t sz @0; __u32 prog_id @8, drv @12, hw @16, skb @20; __u8 attach_mode @24.
      const opts = Buffer.alloc(32);
      opts.writeBigUInt64LE(32n, 0);
      const rc = f.xdp_query(ifindex, 0, opts) as number;
      if (rc < 0) fail('bpf_xdp_query', rc, `ifindex ${ifindex}`);
      return { progId: opts.readUInt32LE(8), drvProgId: opts.readUInt32LE(12), skbProgId: opts.readUInt32LE(20), attachMode: opts.readUInt8(24) };
    },
    xdpDetach(ifindex, flags) {
      const rc = f.xdp_detach(ifindex, flags, null) as number;
      if (rc < 0) fail('bpf_xdp_detach', rc, `ifindex ${ifindex}`);
    },
    objPin(fd, path) {
      const rc = f.obj_pin(fd, path) as number;
      if (rc < 0) fail('bpf_obj_pin', rc, path);
    },
    objGet(path) {
      const fd = f.obj_get(path) as number;
      if (fd < 0) fail('bpf_obj_get', fd, path);
      return fd;
    },
    progGetFdById(id) {
      const fd = f.prog_by_id(id) as number;
      if (fd < 0) fail('bpf_prog_get_fd_by_id', fd, `id ${id}`);
      return fd;
    },
    progName(progFd) {
      // struct bpf_prog_info: char name[16] at offset 64 (after type, id, tag, lengths, pointers, load_time,
      // created_by_uid, nr_map_ids, map_ids). Only the first 80 bytes are asked for; the kernel fills what fits.
      const info = Buffer.alloc(80);
      const len = [info.length];
      const rc = f.obj_info(progFd, info, len) as number;
      if (rc < 0) fail('bpf_obj_get_info_by_fd', rc);
      const name = info.subarray(64, 80);
      const end = name.indexOf(0);
      return name.subarray(0, end < 0 ? 16 : end).toString('latin1');
    },
    mapLookup(fd, key, value) {
      const rc = f.lookup(fd, key, value) as number;
      if (rc === -ENOENT) return false;
      if (rc < 0) fail('bpf_map_lookup_elem', rc);
      return true;
    },
    mapLookupBatch(fd, inBatch, outBatch, keys, values, count) {
      const n = [count];
      const rc = f.lookup_batch(fd, inBatch, outBatch, keys, values, n, null) as number;
      // ENOENT: the walk reached the end; `n` still says how many entries this call filled in.
      if (rc < 0 && rc !== -ENOENT) fail('bpf_map_lookup_batch', rc);
      return { count: n[0]!, done: rc === -ENOENT };
    },
    mapNextKey(fd, key, next) {
      const rc = f.next_key(fd, key, next) as number;
      if (rc === -ENOENT) return false;
      if (rc < 0) fail('bpf_map_get_next_key', rc);
      return true;
    },
    mapUpdate(fd, key, value, flags) {
      const rc = f.update(fd, key, value, flags) as number;
      if (rc === -EEXIST && flags === BPF_NOEXIST) return false;
      if (rc < 0) fail('bpf_map_update_elem', rc);
      return true;
    },
    mapDelete(fd, key) {
      const rc = f.delete(fd, key) as number;
      if (rc === -ENOENT) return false;
      if (rc < 0) fail('bpf_map_delete_elem', rc);
      return true;
    },
    numPossibleCpus() {
      const n = f.ncpus() as number;
      if (n < 0) fail('libbpf_num_possible_cpus', n);
      return n;
    },
    ringBufferNew(mapFd, callback) {
      const rb = f.rb_new(mapFd, callback, null, null) as NativePointer | null;
      if (!rb) throw callError('ring_buffer__new', koffi.errno());
      return rb;
    },
    ringBufferPoll(rb, timeoutMs) {
      const n = f.rb_poll(rb, timeoutMs) as number;
      if (n === -constants.errno.EINTR) return 0;
      if (n < 0) fail('ring_buffer__poll', n);
      return n;
    },
    ringBufferFree(rb) {
      f.rb_free(rb);
    },
    close(fd) {
      close(fd);
    },
    ifNameToIndex(name) {
      const index = if_nametoindex(name) as number;
      if (index === 0) throw callError('if_nametoindex', koffi.errno() || constants.errno.ENODEV, name);
      return index;
    },
  };
}
