// The link watcher's worker thread: owns the rtnetlink socket and blocks in poll(2) on it and on the wake eventfd,
// so the main thread never polls or busy-waits. It dumps links and addresses first (and again whenever the kernel
// reports lost messages), decodes every datagram and posts the messages in kernel order.
import { parentPort, workerData } from 'node:worker_threads';
import { asX0tError, CodecError, DriverError } from '../../errors/index.js';
import type { SnapshotKind } from './link-table.js';
import type { LinkWatcherWorkerData, WorkerToMain } from './link-watcher-protocol.js';
import { decodeError, decodeMessages, NLM_F_DUMP_INTR, NLMSG_DONE, NLMSG_ERROR, type NetlinkMessage } from './netlink-message.js';
import { NetlinkSocket } from './netlink-socket.js';
import {
  decodeRouteMessage, encodeDumpRequest, NETLINK_ROUTE, RTM_GETADDR, RTM_GETLINK, RTMGRP_IPV4_IFADDR, RTMGRP_IPV6_IFADDR, RTMGRP_LINK,
  type RouteMessage,
} from './rtnetlink-codec.js';

const port = parentPort;
if (port === null) throw new Error('link-watcher-worker must run in a worker thread');
const { wakeFd, receiveBufferBytes } = workerData as LinkWatcherWorkerData;
const post = (m: WorkerToMain) => port.postMessage(m);

const ENOBUFS = 105;
const EBUSY = 16;

/** The status word at the start of an NLMSG_DONE payload (0, or a negative errno when the dump failed). */
function doneStatus(m: NetlinkMessage): number {
  return m.payload.byteLength >= 4 ? new DataView(m.payload.buffer, m.payload.byteOffset, 4).getInt32(0, true) : 0;
}

function run(sock: NetlinkSocket): void {
  let seq = 0;
  const queue: SnapshotKind[] = ['links', 'addresses'];
  let current = null as { what: SnapshotKind; seq: number; complete: boolean } | null;
  /**
   * True after the kernel refused a dump with EBUSY: an earlier dump of ours (one whose start failed with ENOBUFS
   * while the buffer was full) is still running; no new dump may start until that one's NLMSG_DONE arrives.
   */
  let oldDumpRunning = false;
  let ready = false;

  const next = () => {
    if (current !== null || oldDumpRunning) return;
    const what = queue.shift();
    if (what === undefined) {
      if (!ready) post({ t: 'ready' });
      ready = true;
      return;
    }
    seq = (seq + 1) >>> 0 || 1;
    current = { what, seq, complete: true };
    post({ t: 'snapshot-begin', what });
    sock.send(encodeDumpRequest(what === 'links' ? RTM_GETLINK : RTM_GETADDR, seq));
  };
  /** Messages were lost: dump everything again once the current dump (whose view is now suspect) ends. */
  const resync = () => {
    for (const what of ['links', 'addresses'] as const) if (!queue.includes(what)) queue.push(what);
    if (current !== null) current.complete = false;
  };
  /** Ends the current dump; an incomplete one removes nothing (LinkTable.endSnapshot) and is done again. */
  const endCurrent = (atNs: bigint) => {
    if (current === null) return;
    if (!current.complete && !queue.includes(current.what)) queue.unshift(current.what);
    post({ t: 'snapshot-end', what: current.what, complete: current.complete, atNs });
    current = null;
  };

  next();
  for (;;) {
    if (sock.wait(-1, wakeFd) === 'woken') return;
    const r = sock.receive();
    if (r.kind === 'empty') continue;
    const atNs = process.hrtime.bigint();
    if (r.kind === 'overrun') {
      post({ t: 'overrun' });
      resync();
      next();
      continue;
    }
    let messages: NetlinkMessage[];
    try {
      messages = decodeMessages(r.bytes);
    } catch (e) {
      post({ t: 'decode-error', error: asX0tError(e).toJSON() });
      continue;
    }
    let batch: RouteMessage[] = [];
    const flush = () => {
      if (batch.length > 0) post({ t: 'messages', atNs, messages: batch });
      batch = [];
    };
    for (const m of messages) {
      if (m.type === NLMSG_DONE || m.type === NLMSG_ERROR) {
        if (m.pid !== sock.portId) continue;
        flush();
        if (current !== null && m.seq === current.seq) {
          const errno = m.type === NLMSG_DONE ? -doneStatus(m) : decodeError(m).errno;
          if ((m.flags & NLM_F_DUMP_INTR) !== 0 || errno !== 0) current.complete = false;
          if (errno === EBUSY) oldDumpRunning = true;
          else if (errno !== 0 && errno !== ENOBUFS) {
            throw new DriverError(`netlink: ${current.what} dump failed (errno ${errno})`, { call: current.what === 'links' ? 'RTM_GETLINK' : 'RTM_GETADDR', errno });
          }
          // ENOBUFS: the receive buffer was full when the dump began; what it would have listed is fetched again.
          if (errno === ENOBUFS) resync();
          endCurrent(atNs);
        } else if (m.type === NLMSG_DONE) {
          oldDumpRunning = false; // an earlier dump, whose start was reported as failed, has finished after all
        }
        next();
        continue;
      }
      if (current !== null && m.seq === current.seq && (m.flags & NLM_F_DUMP_INTR) !== 0) current.complete = false;
      try {
        const decoded = decodeRouteMessage(m);
        if (decoded !== null) batch.push(decoded);
      } catch (e) {
        if (!(e instanceof CodecError)) throw e;
        post({ t: 'decode-error', error: e.toJSON() });
      }
    }
    flush();
  }
}

let sock: NetlinkSocket | null = null;
try {
  sock = NetlinkSocket.open(NETLINK_ROUTE, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR, receiveBufferBytes);
  run(sock);
} catch (e) {
  post({ t: 'fatal', error: asX0tError(e).toJSON() });
} finally {
  sock?.close();
}
