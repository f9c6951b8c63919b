// A netlink socket through libc (koffi): socket/bind/getsockname/setsockopt/sendto/recv/poll/close, and an eventfd
// another thread can signal to wake a blocked poll. The only native file of the netlink client; everything it reads
// or writes is raw bytes for the pure codecs. errno becomes DriverError {call, errno}; a kernel or sandbox without
// AF_NETLINK (or without the permission for it) is UnsupportedError.
import koffi from 'koffi';
import { DriverError, UnsupportedError } from '../../errors/index.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const MSG_DONTWAIT = 0x40;
const POLLIN = 0x1;
const EFD_CLOEXEC = 0o2000000;
const EINTR = 4;
const EAGAIN = 11;
const ENOBUFS = 105;
/** errno values meaning "this kernel/sandbox cannot do netlink", not "the call failed". */
const UNSUPPORTED_ERRNOS = new Set([1 /* EPERM */, 13 /* EACCES */, 93 /* EPROTONOSUPPORT */, 97 /* EAFNOSUPPORT */]);
/** Large enough for any netlink datagram the kernel builds (dump skbs are at most 32 KiB). */
const RECV_BUFFER = 64 * 1024;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  getsockname(fd: number, addr: Uint8Array, len: Uint32Array): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrlen: number): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  poll(fds: Uint8Array, nfds: number, timeout: number): number;
  pollAsync(fds: Uint8Array, nfds: number, timeout: number, cb: (err: unknown, r: number) => void): void;
  close(fd: number): number;
  eventfd(initval: number, flags: number): number;
  write(fd: number, buf: Uint8Array, len: number): number;
}

let libc: Libc | null = null;

function loadLibc(): Libc {
  if (libc !== null) return libc;
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load('libc.so.6');
  } catch (e) {
    throw new UnsupportedError('netlink: libc.so.6 cannot be loaded', { library: 'libc.so.6' }, { cause: e });
  }
  const poll = lib.func('int poll(_Inout_ uint8_t *fds, unsigned long nfds, int timeout)');
  libc = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    bind: lib.func('int bind(int fd, const uint8_t *addr, uint32_t len)'),
    getsockname: lib.func('int getsockname(int fd, _Inout_ uint8_t *addr, _Inout_ uint32_t *len)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const uint8_t *value, uint32_t len)'),
    sendto: lib.func('intptr_t sendto(int fd, const uint8_t *buf, size_t len, int flags, const uint8_t *addr, uint32_t addrlen)'),
    recv: lib.func('intptr_t recv(int fd, _Out_ uint8_t *buf, size_t len, int flags)'),
    poll,
    pollAsync: (fds, nfds, timeout, cb) => poll.async(fds, nfds, timeout, cb),
    close: lib.func('int close(int fd)'),
    eventfd: lib.func('int eventfd(unsigned int initval, int flags)'),
    write: lib.func('intptr_t write(int fd, const uint8_t *buf, size_t len)'),
  };
  return libc;
}

function fail(call: string): never {
  const errno = koffi.errno();
  throw new DriverError(`netlink: ${call} failed (errno ${errno})`, { call, errno });
}

/** struct sockaddr_nl { sa_family_t nl_family; unsigned short nl_pad; __u32 nl_pid; __u32 nl_groups; } */
function sockaddrNl(pid: number, groups: number): Uint8Array {
  const b = new Uint8Array(12);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, AF_NETLINK, true);
  dv.setUint32(4, pid, true);
  dv.setUint32(8, groups >>> 0, true);
  return b;
}

/** What a wait ended with: the netlink socket has data, the wake eventfd was signalled, or the timeout passed. */
export type WaitResult = 'readable' | 'woken' | 'timeout';

/** One datagram, or `overrun` when the kernel dropped messages because the receive buffer was full (ENOBUFS). */
export type ReceiveResult = { readonly kind: 'data'; readonly bytes: Uint8Array } | { readonly kind: 'overrun' } | { readonly kind: 'empty' };

function pollFds(fds: readonly number[]): Uint8Array {
  // struct pollfd { int fd; short events; short revents; }
  const b = new Uint8Array(8 * fds.length);
  const dv = new DataView(b.buffer);
  fds.forEach((fd, i) => {
    dv.setInt32(8 * i, fd, true);
    dv.setInt16(8 * i + 4, POLLIN, true);
  });
  return b;
}

function revents(b: Uint8Array, i: number): number {
  return new DataView(b.buffer, b.byteOffset).getInt16(8 * i + 6, true);
}

export class NetlinkSocket {
  readonly #libc: Libc;
  #fd: number;
  /** The port id the kernel assigned at bind (the `pid` of our messages and of replies to us). */
  readonly portId: number;
  readonly #buffer = new Uint8Array(RECV_BUFFER);

  private constructor(l: Libc, fd: number, portId: number) {
    this.#libc = l;
    this.#fd = fd;
    this.portId = portId;
  }

  /** Opens and binds a netlink socket of `protocol` (NETLINK_ROUTE, NETLINK_GENERIC, …), joined to `groups`. */
  static open(protocol: number, groups = 0, receiveBuffer = 1 << 20): NetlinkSocket {
    const l = loadLibc();
    const fd = l.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) {
      const errno = koffi.errno();
      if (UNSUPPORTED_ERRNOS.has(errno)) throw new UnsupportedError(`netlink: sockets of protocol ${protocol} are not available here (errno ${errno})`, { call: 'socket', errno, protocol });
      throw new DriverError(`netlink: socket failed (errno ${errno})`, { call: 'socket', errno, protocol });
    }
    try {
      // A larger receive buffer makes ENOBUFS (lost events) unlikely under a burst of link changes.
      const size = new Uint8Array(4);
      new DataView(size.buffer).setInt32(0, receiveBuffer, true);
      if (l.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size, 4) < 0) fail('setsockopt');
      if (l.bind(fd, sockaddrNl(0, groups), 12) < 0) {
        const errno = koffi.errno();
        if (UNSUPPORTED_ERRNOS.has(errno)) throw new UnsupportedError(`netlink: cannot join multicast groups ${groups} (errno ${errno})`, { call: 'bind', errno, groups });
        fail('bind');
      }
      const addr = new Uint8Array(12);
      const len = Uint32Array.of(12);
      if (l.getsockname(fd, addr, len) < 0) fail('getsockname');
      return new NetlinkSocket(l, fd, new DataView(addr.buffer).getUint32(4, true));
    } catch (e) {
      l.close(fd);
      throw e;
    }
  }

  get fd(): number {
    return this.#fd;
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  #open(): number {
    if (this.#fd < 0) throw new DriverError('netlink: socket is closed', { call: 'closed', errno: 9 });
    return this.#fd;
  }

  /** Sends one request to the kernel (port 0). */
  send(bytes: Uint8Array): void {
    const fd = this.#open();
    for (;;) {
      const n = this.#libc.sendto(fd, bytes, bytes.byteLength, 0, sockaddrNl(0, 0), 12);
      if (n >= 0) return;
      if (koffi.errno() !== EINTR) fail('sendto');
    }
  }

  /** Blocks (in the calling thread) until the socket is readable, `wakeFd` is signalled, or `timeoutMs` passes (-1: never). */
  wait(timeoutMs: number, wakeFd: number | null = null): WaitResult {
    const fd = this.#open();
    const fds = pollFds(wakeFd === null ? [fd] : [fd, wakeFd]);
    for (;;) {
      const n = this.#libc.poll(fds, wakeFd === null ? 1 : 2, timeoutMs);
      if (n < 0) {
        if (koffi.errno() === EINTR) continue;
        fail('poll');
      }
      if (n === 0) return 'timeout';
      if (wakeFd !== null && revents(fds, 1) !== 0) return 'woken';
      return 'readable';
    }
  }

  /** Like wait, without blocking the calling thread: poll runs on koffi's worker pool. */
  waitAsync(timeoutMs: number): Promise<WaitResult> {
    const fd = this.#open();
    const fds = pollFds([fd]);
    return new Promise((resolve, reject) => {
      this.#libc.pollAsync(fds, 1, timeoutMs, (err, n) => {
        if (err !== null && err !== undefined) reject(new DriverError('netlink: poll failed', { call: 'poll', errno: -1 }, { cause: err }));
        else if (n < 0) reject(new DriverError('netlink: poll failed', { call: 'poll', errno: koffi.errno() }));
        else resolve(n === 0 ? 'timeout' : 'readable');
      });
    });
  }

  /** Reads one datagram without blocking; `empty` when there is none yet. */
  receive(): ReceiveResult {
    const fd = this.#open();
    for (;;) {
      const n = this.#libc.recv(fd, this.#buffer, this.#buffer.byteLength, MSG_DONTWAIT);
      if (n >= 0) return { kind: 'data', bytes: this.#buffer.slice(0, n) };
      const errno = koffi.errno();
      if (errno === EINTR) continue;
      if (errno === EAGAIN) return { kind: 'empty' };
      if (errno === ENOBUFS) return { kind: 'overrun' };
      fail('recv');
    }
  }

  close(): void {
    if (this.#fd < 0) return;
    this.#libc.close(this.#fd);
    this.#fd = -1;
  }
}

/** An eventfd: one thread blocks in NetlinkSocket.wait with it, another signals it to end the wait at once. */
export class WakeFd {
  readonly #libc: Libc;
  #fd: number;

  private constructor(l: Libc, fd: number) {
    this.#libc = l;
    this.#fd = fd;
  }

  static open(): WakeFd {
    const l = loadLibc();
    const fd = l.eventfd(0, EFD_CLOEXEC);
    if (fd < 0) fail('eventfd');
    return new WakeFd(l, fd);
  }

  get fd(): number {
    return this.#fd;
  }

  signal(): void {
    if (this.#fd < 0) return;
    const one = new Uint8Array(8);
    one[0] = 1;
    if (this.#libc.write(this.#fd, one, 8) < 0) fail('write');
  }

  close(): void {
    if (this.#fd < 0) return;
    this.#libc.close(this.#fd);
    this.#fd = -1;
  }
}
