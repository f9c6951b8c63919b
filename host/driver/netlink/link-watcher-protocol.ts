// Messages from the link watcher's worker thread (which owns the blocking netlink socket) to the main thread.
import type { WireError } from '../../errors/index.js';
import type { SnapshotKind } from './link-table.js';
import type { RouteMessage } from './rtnetlink-codec.js';

export interface LinkWatcherWorkerData {
  /** The eventfd the main thread signals to stop the worker. */
  readonly wakeFd: number;
  /** SO_RCVBUF for the netlink socket. */
  readonly receiveBufferBytes: number;
}

export type WorkerToMain =
  /** A dump of `what` starts; the messages it lists follow in `messages` batches. */
  | { readonly t: 'snapshot-begin'; readonly what: SnapshotKind }
  /** Decoded link/address messages of one datagram, in kernel order, read at CLOCK_MONOTONIC `atNs`. */
  | { readonly t: 'messages'; readonly atNs: bigint; readonly messages: readonly RouteMessage[] }
  /** The dump ended; `complete` is false when messages were lost or the kernel flagged it as interrupted. */
  | { readonly t: 'snapshot-end'; readonly what: SnapshotKind; readonly complete: boolean; readonly atNs: bigint }
  /** The initial dumps are done: the main thread's table is the kernel's state. */
  | { readonly t: 'ready' }
  /** The receive buffer overflowed and messages were lost; a re-dump follows. */
  | { readonly t: 'overrun' }
  /** A datagram did not decode and was skipped. */
  | { readonly t: 'decode-error'; readonly error: WireError }
  /** The worker cannot go on (socket failure); it exits after this. */
  | { readonly t: 'fatal'; readonly error: WireError };
