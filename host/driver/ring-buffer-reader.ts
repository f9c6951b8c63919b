// The main-thread side of the ring-buffer reader: starts the worker on a pinned `events` map, decodes the record
// batches it transfers into DriverEvents, and stops it. Events are handed to `onEvents` in kernel order.
import { Worker } from 'node:worker_threads';
import { DriverError, errorFromWire, type X0tError } from '../errors/index.js';
import { decodeEventRecords } from './bpf-contract.js';
import type { DriverEvent } from './packet-driver.js';
import type { RingBufferWorkerData, RingBufferWorkerMessage } from './ring-buffer-worker.js';

export interface RingBufferReaderOptions {
  readonly eventsPin: string;
  readonly onEvents: (events: DriverEvent[]) => void;
  /** Called once if the worker fails (it then stops); the driver records it in its status. */
  readonly onError: (error: X0tError) => void;
  readonly pollTimeoutMs?: number;
}

export class RingBufferReader {
  readonly #worker: Worker;
  readonly #stop: Int32Array;
  readonly #stopped: Promise<void>;
  #skipped = 0;

  private constructor(opts: RingBufferReaderOptions, ready: (ok: boolean) => void) {
    const stopFlag = new SharedArrayBuffer(4);
    this.#stop = new Int32Array(stopFlag);
    const workerData: RingBufferWorkerData = { eventsPin: opts.eventsPin, stopFlag, pollTimeoutMs: opts.pollTimeoutMs ?? 100 };
    this.#worker = new Worker(new URL('./ring-buffer-worker.js', import.meta.url), { workerData });
    this.#stopped = new Promise((resolve) => {
      this.#worker.on('message', (m: RingBufferWorkerMessage) => {
        if (m.type === 'ready') ready(true);
        else if (m.type === 'batch') {
          const { events, skipped } = decodeEventRecords(m.records);
          this.#skipped += skipped;
          if (events.length > 0) opts.onEvents(events);
        } else if (m.type === 'error') {
          ready(false);
          opts.onError(errorFromWire(m.error));
        }
      });
      this.#worker.once('exit', () => {
        ready(false);
        resolve();
      });
    });
  }

  /**
   * Starts the worker and waits until its ring buffer is open. If it fails first, onError has been called with the
   * reason (or, should the thread die without one, a DriverError is thrown).
   */
  static async start(opts: RingBufferReaderOptions): Promise<RingBufferReader> {
    let reader!: RingBufferReader;
    let failed = false;
    const ok = await new Promise<boolean>((resolve) => {
      let settled = false;
      reader = new RingBufferReader({ ...opts, onError: (e) => { failed = true; opts.onError(e); } }, (ok) => {
        if (!settled) {
          settled = true;
          resolve(ok);
        }
      });
    });
    if (!ok && !failed) throw new DriverError('the ring-buffer worker ended before it was ready', { call: 'ring_buffer__new', errno: 0 });
    return reader;
  }

  /** Records of an unknown kind the reader skipped. */
  get skipped(): number {
    return this.#skipped;
  }

  /** Asks the worker to stop (seen within one poll timeout) and waits for its thread to end. */
  async stop(): Promise<void> {
    Atomics.store(this.#stop, 0, 1);
    await this.#stopped;
  }
}
