// Worker-thread entry of OnnxSession: owns one onnxruntime-web session (wasm backend) so inference never blocks
// the node's event loop. Protocol (postMessage): the boot data carries the model (a path or bytes) and options;
// the worker answers `ready` (with the graph's input and output names) or `failed`, then serves `run` requests
// one at a time, answering `result` (the requested output, transferred) or `error`.

import { readFile } from 'node:fs/promises';
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-web';
import type { OnnxWorkerBoot, OnnxWorkerReply, OnnxWorkerRequest } from './onnx-session.js';

const port = parentPort!;
const boot = workerData as OnnxWorkerBoot;

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function start(): Promise<ort.InferenceSession> {
  ort.env.wasm.numThreads = boot.numThreads;
  ort.env.logLevel = 'error';
  const bytes = boot.modelPath !== undefined ? new Uint8Array(await readFile(boot.modelPath)) : boot.modelBytes!;
  return ort.InferenceSession.create(bytes, {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
}

try {
  const session = await start();
  port.postMessage({ type: 'ready', inputNames: session.inputNames, outputNames: session.outputNames } satisfies OnnxWorkerReply);
  // One run at a time: onnxruntime-web sessions are not re-entrant.
  let queue = Promise.resolve();
  port.on('message', (req: OnnxWorkerRequest) => {
    queue = queue.then(async () => {
      try {
        const feeds: Record<string, ort.Tensor> = {};
        for (const f of req.feeds) feeds[f.name] = new ort.Tensor(f.type, f.data, f.dims);
        const out = await session.run(feeds, [req.output]);
        const t = out[req.output];
        if (t === undefined || t.type !== 'float32') throw new Error(`output ${req.output} is missing or not float32`);
        const data = t.data as Float32Array;
        // Copy out of onnxruntime's buffer before transferring it to the host.
        const copy = new Float32Array(data);
        port.postMessage({ type: 'result', id: req.id, data: copy, dims: [...t.dims] } satisfies OnnxWorkerReply, [copy.buffer]);
        for (const v of Object.values(out)) v.dispose();
      } catch (e) {
        port.postMessage({ type: 'error', id: req.id, message: describe(e) } satisfies OnnxWorkerReply);
      }
    });
  });
} catch (e) {
  port.postMessage({ type: 'failed', message: describe(e) } satisfies OnnxWorkerReply);
}
