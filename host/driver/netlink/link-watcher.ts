// Link and address events from the kernel (rtnetlink), for fast failure detection: a worker thread blocks on the
// netlink socket and posts what it reads; the main thread keeps the LinkTable and hands the events it yields to
// listeners. No timers and no polling on the main thread; close() wakes the worker through an eventfd at once.
import { Worker } from 'node:worker_threads';
import { errorFromWire, InternalError, type X0tError } from '../../errors/index.js';
import { LinkTable, type InterfaceAddress, type LinkEvent, type LinkState } from './link-table.js';
import type { LinkWatcherWorkerData, WorkerToMain } from './link-watcher-protocol.js';
import { WakeFd } from './netlink-socket.js';

export interface LinkWatcherStats {
  /** Times the kernel dropped messages for a full receive buffer (each followed by a re-dump). */
  readonly overruns: number;
  /** Datagrams or messages that did not decode and were skipped. */
  readonly decodeErrors: number;
  /** Events handed to listeners. */
  readonly eventsDelivered: number;
}

export interface LinkWatcher {
  /** Every interface the kernel has, sorted by ifindex. */
  links(): LinkState[];
  link(ifindex: number): LinkState | undefined;
  /** Every IPv4/IPv6 address, sorted by ifindex, family, address. */
  addresses(): InterfaceAddress[];
  /** Subscribes to link/address events; returns the unsubscribe function. */
  on(listener: (event: LinkEvent) => void): () => void;
  /** Subscribes to a failure that stopped the watcher (the socket failed); returns the unsubscribe function. */
  onError(listener: (error: X0tError) => void): () => void;
  stats(): LinkWatcherStats;
  /** Stops the worker and closes the socket; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Opens the watcher; resolves once the initial dump is in, so links() is the current state. Rejects with
 * UnsupportedError where netlink is unavailable, DriverError when a kernel call fails.
 */
export interface LinkWatcherOptions {
  /**
   * The socket's receive buffer (SO_RCVBUF; the kernel doubles it and caps it at net.core.rmem_max). Default 1 MiB.
   * When a burst of changes overflows it, the kernel drops messages and the watcher re-dumps to catch up.
   */
  readonly receiveBufferBytes?: number;
}

export async function openLinkWatcher(opts: LinkWatcherOptions = {}): Promise<LinkWatcher> {
  const wake = WakeFd.open();
  const table = new LinkTable();
  const listeners = new Set<(e: LinkEvent) => void>();
  const errorListeners = new Set<(e: X0tError) => void>();
  let overruns = 0;
  let decodeErrors = 0;
  let eventsDelivered = 0;
  let closing: Promise<void> | null = null;

  const data: LinkWatcherWorkerData = { wakeFd: wake.fd, receiveBufferBytes: opts.receiveBufferBytes ?? 1 << 20 };
  const worker = new Worker(new URL('./link-watcher-worker.js', import.meta.url), { workerData: data });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  const deliver = (events: readonly LinkEvent[]) => {
    for (const e of events) {
      eventsDelivered++;
      for (const l of [...listeners]) l(e);
    }
  };

  await new Promise<void>((resolve, reject) => {
    let ready = false;
    let failed = false;
    const fail = (err: X0tError) => {
      failed = true;
      if (!ready) {
        ready = true;
        reject(err);
        return;
      }
      for (const l of [...errorListeners]) l(err);
    };
    worker.on('message', (m: WorkerToMain) => {
      switch (m.t) {
        case 'snapshot-begin': table.beginSnapshot(m.what); return;
        case 'messages': for (const msg of m.messages) deliver(table.apply(msg, m.atNs)); return;
        case 'snapshot-end': deliver(table.endSnapshot(m.what, m.complete, m.atNs)); return;
        case 'ready': ready = true; resolve(); return;
        case 'overrun': overruns++; return;
        case 'decode-error': decodeErrors++; return;
        case 'fatal': fail(errorFromWire(m.error)); return;
      }
    });
    worker.on('error', (e) => fail(new InternalError(`link watcher worker crashed: ${e.message}`, {}, { cause: e })));
    worker.once('exit', (code) => {
      // After a 'fatal' message the worker exits by itself; any other exit not asked for by close() is a failure too.
      if (closing === null && !failed) fail(new InternalError(`link watcher worker exited unexpectedly (code ${code})`, { code }));
    });
  }).catch(async (e: unknown) => {
    wake.signal();
    await exited;
    wake.close();
    throw e;
  });

  return {
    links: () => table.links(),
    link: (ifindex) => table.link(ifindex),
    addresses: () => table.addresses(),
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onError(listener) {
      errorListeners.add(listener);
      return () => errorListeners.delete(listener);
    },
    stats: () => ({ overruns, decodeErrors, eventsDelivered }),
    close() {
      closing ??= (async () => {
        listeners.clear();
        wake.signal();
        await exited;
        wake.close();
      })();
      return closing;
    },
  };
}
