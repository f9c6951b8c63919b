// The ring-buffer reader's thread. It opens the pinned `events` map itself (bpf_obj_get gives it a descriptor of its
// own, independent of the main thread's), then blocks in ring_buffer__poll (epoll inside libbpf, 100 ms timeout so
// a stop request is seen within 100 ms) — no busy waiting, and the main thread's event loop is never blocked. Each
// poll's records are copied into one ArrayBuffer of 32-byte records and transferred (not copied, not JSON) to the
// main thread. Stop: the main thread sets stopFlag[0] = 1; the worker frees the ring buffer, closes its descriptor
// and answers 'stopped'.
import { parentPort, workerData } from 'node:worker_threads';
import koffi from 'koffi';
import { asX0tError } from '../errors/index.js';
import { EVENT_RECORD_BYTES } from './bpf-contract.js';
import { openLibbpf, RingBufferSample } from './libbpf.js';

export interface RingBufferWorkerData {
  /** Path of the pinned BPF_MAP_TYPE_RINGBUF map. */
  readonly eventsPin: string;
  /** Int32Array over it: [0] stop request (main → worker). */
  readonly stopFlag: SharedArrayBuffer;
  readonly pollTimeoutMs: number;
}

export type RingBufferWorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'batch'; readonly records: ArrayBuffer; readonly count: number }
  | { readonly type: 'error'; readonly error: { code: string; message: string; details: Record<string, unknown> } }
  | { readonly type: 'stopped' };

const BATCH_RECORDS = 256;

function main(): void {
  const port = parentPort!;
  const data = workerData as RingBufferWorkerData;
  const stop = new Int32Array(data.stopFlag);
  let fd = -1;
  let rb: object | null = null;
  let callback: unknown = null;
  const lib = (() => {
    try {
      // libbpf's print hook is process-wide and already points at the main thread's logger: leave it alone.
      return openLibbpf({ captureLog: false });
    } catch (e) {
      port.postMessage({ type: 'error', error: asX0tError(e).toJSON() });
      return null;
    }
  })();
  try {
    if (!lib) return;
    let batch = new Uint8Array(BATCH_RECORDS * EVENT_RECORD_BYTES);
    let count = 0;
    const flush = (): void => {
      if (count === 0) return;
      const records = batch.buffer.slice(0, count * EVENT_RECORD_BYTES);
      port.postMessage({ type: 'batch', records, count }, [records]);
      batch = new Uint8Array(BATCH_RECORDS * EVENT_RECORD_BYTES);
      count = 0;
    };
    callback = koffi.register((_ctx: unknown, sample: unknown, size: number | bigint) => {
      if (Number(size) !== EVENT_RECORD_BYTES) return 0; // not our record layout: skip it
      batch.set(new Uint8Array(koffi.view(sample, EVENT_RECORD_BYTES)), count * EVENT_RECORD_BYTES);
      count++;
      if (count === BATCH_RECORDS) flush();
      return 0;
    }, koffi.pointer(RingBufferSample));
    fd = lib.objGet(data.eventsPin);
    rb = lib.ringBufferNew(fd, callback);
    port.postMessage({ type: 'ready' });
    while (Atomics.load(stop, 0) === 0) {
      lib.ringBufferPoll(rb, data.pollTimeoutMs);
      flush();
    }
  } catch (e) {
    port.postMessage({ type: 'error', error: asX0tError(e).toJSON() });
  } finally {
    if (rb && lib) lib.ringBufferFree(rb);
    if (fd >= 0 && lib) lib.close(fd);
    if (callback !== null) koffi.unregister(callback as bigint);
    port.postMessage({ type: 'stopped' });
  }
}

main();
