// Reader for the safetensors format (8-byte little-endian header length, a JSON header naming every tensor's
// dtype, shape and byte range, then the raw little-endian data). The graph builder only needs float32 weights,
// so `f32` refuses every other dtype by name instead of reinterpreting bytes.

import { ModelUnavailableError } from '../errors/index.js';

export interface SafetensorInfo {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  /** Byte range inside the data section (after the header). */
  readonly begin: number;
  readonly end: number;
}

const DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
  F8_E4M3: 1, F8_E5M2: 1,
};

/** Header sizes above this are not a safetensors file (the format's own limit is 100 MB). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export class Safetensors {
  readonly tensors: ReadonlyMap<string, SafetensorInfo>;
  readonly metadata: Readonly<Record<string, string>>;
  private readonly data: Uint8Array;

  private constructor(tensors: Map<string, SafetensorInfo>, metadata: Record<string, string>, data: Uint8Array,
    private readonly source: string) {
    this.tensors = tensors;
    this.metadata = metadata;
    this.data = data;
  }

  /** Parses and validates the header; `source` names the file in error messages. */
  static parse(bytes: Uint8Array, source = 'safetensors'): Safetensors {
    const fail = (reason: string): never => {
      throw new ModelUnavailableError(`${source} is not a valid safetensors file: ${reason}`, { file: source, reason });
    };
    if (bytes.length < 8) fail('shorter than its 8-byte header length');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerLen = Number(view.getBigUint64(0, true));
    if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > bytes.length) fail(`header length ${headerLen} exceeds the file`);
    let header: unknown;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLen)));
    } catch (e) {
      fail(`header is not UTF-8 JSON (${(e as Error).message})`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');
    const data = bytes.subarray(8 + headerLen);
    const tensors = new Map<string, SafetensorInfo>();
    let metadata: Record<string, string> = {};
    for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') {
        metadata = (raw ?? {}) as Record<string, string>;
        continue;
      }
      const t = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      if (typeof t.dtype !== 'string' || !Array.isArray(t.shape) || !Array.isArray(t.data_offsets)
        || t.data_offsets.length !== 2) fail(`tensor ${name} has a malformed entry`);
      const dtype = t.dtype as string;
      const shape = (t.shape as unknown[]).map((d) => (Number.isSafeInteger(d) && (d as number) >= 0 ? d as number : fail(`tensor ${name} has a bad shape`)));
      const [begin, end] = t.data_offsets as number[] as [number, number];
      if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin || end > data.length) {
        fail(`tensor ${name} has data offsets [${begin}, ${end}] outside the ${data.length}-byte data section`);
      }
      const width = DTYPE_BYTES[dtype];
      if (width === undefined) fail(`tensor ${name} has unknown dtype ${dtype}`);
      const elements = shape.reduce((a, b) => a * b, 1);
      if (elements * width! !== end - begin) fail(`tensor ${name}: ${elements} × ${dtype} does not fill ${end - begin} bytes`);
      tensors.set(name, { name, dtype, shape, begin, end });
    }
    return new Safetensors(tensors, metadata, data, source);
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** The named float32 tensor (a copy, aligned). Throws for a missing tensor or any dtype other than F32. */
  f32(name: string): { data: Float32Array; shape: readonly number[] } {
    const info = this.tensors.get(name);
    if (info === undefined) {
      throw new ModelUnavailableError(`${this.source} has no tensor ${name}`, { file: this.source, tensor: name });
    }
    if (info.dtype !== 'F32') {
      throw new ModelUnavailableError(
        `${this.source}: tensor ${name} is ${info.dtype}; only F32 weights are supported`,
        { file: this.source, tensor: name, dtype: info.dtype });
    }
    const n = (info.end - info.begin) / 4;
    const out = new Float32Array(n);
    // Copy through bytes: the data section's offset need not be 4-byte aligned. safetensors is little-endian,
    // as is every platform Node runs on here.
    new Uint8Array(out.buffer).set(this.data.subarray(info.begin, info.end));
    return { data: out, shape: info.shape };
  }
}
