// An onnxruntime-web inference session in a worker thread (onnx-worker.ts). A forward pass of a transformer
// takes tens to hundreds of milliseconds; running it on the main thread would stall the node's event loop.
// Requests are queued in the worker and answered in order; the worker is unref'd while idle so an open session
// does not keep the process alive. Every failure becomes ModelRuntimeError.

import { Worker } from 'node:worker_threads';
import { ModelRuntimeError } from '../errors/index.js';

export interface OnnxFeed {
  readonly name: string;
  readonly type: 'int32' | 'float32';
  readonly dims: readonly number[];
  readonly data: Int32Array | Float32Array;
}

export interface OnnxOutput {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface OnnxSessionOptions {
  /** onnxruntime-web wasm threads (1 = no extra threads). Default 1. */
  readonly numThreads?: number;
}

/** Boot data of the worker: exactly one of modelPath / modelBytes. */
export interface OnnxWorkerBoot {
  readonly modelPath?: string;
  readonly modelBytes?: Uint8Array;
  readonly numThreads: number;
}

export interface OnnxWorkerRequest {
  readonly id: number;
  readonly feeds: readonly OnnxFeed[];
  readonly output: string;
}

export type OnnxWorkerReply =
  | { type: 'ready'; inputNames: readonly string[]; outputNames: readonly string[] }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; data: Float32Array; dims: number[] }
  | { type: 'error'; id: number; message: string };

interface Pending {
  resolve(o: OnnxOutput): void;
  reject(e: Error): void;
}

export class OnnxSession {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: Error | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
    private readonly label: string,
  ) {
    worker.on('message', (m: OnnxWorkerReply) => this.onReply(m));
    worker.on('error', (e) => this.fail(new ModelRuntimeError(`onnxruntime worker for ${label} crashed: ${e.message}`, { model: label }, { cause: e })));
    worker.on('exit', (code) => this.fail(new ModelRuntimeError(`onnxruntime worker for ${label} exited (code ${code})`, { model: label })));
    worker.unref();
  }

  /** Loads a model (a file path, or the ONNX bytes) into a new worker; `label` names it in errors. */
  static async create(model: string | Uint8Array, options: OnnxSessionOptions = {}, label = typeof model === 'string' ? model : 'model'): Promise<OnnxSession> {
    const numThreads = options.numThreads ?? 1;
    if (!Number.isSafeInteger(numThreads) || numThreads < 1 || numThreads > 64) {
      throw new RangeError(`numThreads ${numThreads} is not in 1..64`);
    }
    const boot: OnnxWorkerBoot = typeof model === 'string' ? { modelPath: model, numThreads } : { modelBytes: model, numThreads };
    const worker = new Worker(new URL('./onnx-worker.js', import.meta.url), { workerData: boot });
    const ready = await new Promise<{ inputNames: readonly string[]; outputNames: readonly string[] }>((resolve, reject) => {
      const onMessage = (m: OnnxWorkerReply): void => {
        cleanup();
        if (m.type === 'ready') resolve(m);
        else reject(new ModelRuntimeError(`onnxruntime-web could not load ${label}: ${m.type === 'failed' ? m.message : m.type}`, { model: label }));
      };
      const onError = (e: Error): void => {
        cleanup();
        reject(new ModelRuntimeError(`onnxruntime worker for ${label} failed to start: ${e.message}`, { model: label }, { cause: e }));
      };
      const onExit = (code: number): void => {
        cleanup();
        reject(new ModelRuntimeError(`onnxruntime worker for ${label} exited during load (code ${code})`, { model: label }));
      };
      const cleanup = (): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    }).catch(async (e: unknown) => {
      await worker.terminate();
      throw e;
    });
    return new OnnxSession(worker, ready.inputNames, ready.outputNames, label);
  }

  /** Runs the graph on `feeds` and returns the float32 output `output`. Feed buffers are copied, not taken. */
  run(feeds: readonly OnnxFeed[], output: string): Promise<OnnxOutput> {
    if (this.dead !== null) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<OnnxOutput>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ id, feeds, output } satisfies OnnxWorkerRequest);
    });
  }

  async close(): Promise<void> {
    if (this.dead === null) this.fail(new ModelRuntimeError(`onnxruntime session for ${this.label} is closed`, { model: this.label }));
    await this.worker.terminate();
  }

  private onReply(m: OnnxWorkerReply): void {
    if (m.type !== 'result' && m.type !== 'error') return;
    const p = this.pending.get(m.id);
    if (p === undefined) return;
    this.pending.delete(m.id);
    if (this.pending.size === 0) this.worker.unref();
    if (m.type === 'result') p.resolve({ data: m.data, dims: m.dims });
    else p.reject(new ModelRuntimeError(`onnxruntime-web failed to run ${this.label}: ${m.message}`, { model: this.label }));
  }

  private fail(e: Error): void {
    if (this.dead !== null) return;
    this.dead = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
