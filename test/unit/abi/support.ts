// Shared helpers of the ABI tests: repository paths, the fast path called directly on a raw
// instance, and a memory-maximum rewrite (the host does the same before compiling a plugin).

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file runs from dist/test/unit/abi/). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

export function readRepoFile(rel: string): Buffer {
  return readFileSync(path.join(ROOT, rel));
}

export interface FastPathExports {
  readonly memory: WebAssembly.Memory;
  x0t_abi_version(): number;
  x0t_input(len: number): number;
  x0t_output_ptr(): number;
  x0t_output_len(): number;
  readonly [name: string]: unknown;
}

/** Instantiates a module with every import a function that throws (the fast path needs none). */
export function instantiateBare(bytes: Uint8Array): FastPathExports {
  const mod = new WebAssembly.Module(new Uint8Array(bytes));
  const imports: Record<string, Record<string, () => never>> = {};
  for (const i of WebAssembly.Module.imports(mod)) {
    (imports[i.module] ??= {})[i.name] = () => {
      throw new Error(`unexpected host call ${i.module}.${i.name}`);
    };
  }
  return new WebAssembly.Instance(mod, imports).exports as unknown as FastPathExports;
}

export interface FastPathResult {
  readonly status: number;
  readonly output: Uint8Array;
}

/** One fast-path call: x0t_input, copy, x0t_call_<fn>, read x0t_output_ptr/len. */
export function callFastPath(e: FastPathExports, fn: string, input: Uint8Array): FastPathResult {
  const ptr = e.x0t_input(input.length);
  if (ptr === 0) throw new Error('x0t_input returned 0');
  new Uint8Array(e.memory.buffer, ptr, input.length).set(input);
  const call = e[`x0t_call_${fn}`];
  if (typeof call !== 'function') throw new Error(`no export x0t_call_${fn}`);
  const status = (call as (len: number) => number)(input.length);
  const outPtr = e.x0t_output_ptr() >>> 0;
  const outLen = e.x0t_output_len() >>> 0;
  if (outPtr + outLen > e.memory.buffer.byteLength) throw new Error('output range outside memory');
  return { status, output: new Uint8Array(e.memory.buffer, outPtr, outLen).slice() };
}

function readLeb(b: Uint8Array, at: number): [value: number, next: number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    const byte = b[at++];
    if (byte === undefined) throw new Error('truncated LEB128');
    v += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return [v, at];
  }
}

function leb(v: number): number[] {
  const out: number[] = [];
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    out.push(byte);
  } while (v > 0);
  return out;
}

/** A copy of `wasm` whose (single, defined) memory has maximum `pages`. */
export function withMemoryMax(wasm: Uint8Array, pages: number): Uint8Array {
  const out: number[] = Array.from(wasm.subarray(0, 8));
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at]!;
    const [size, body] = readLeb(wasm, at + 1);
    const end = body + size;
    if (id === 5) {
      const [count, p] = readLeb(wasm, body);
      if (count !== 1) throw new Error('expected one memory');
      const flags = wasm[p]!;
      const [min] = readLeb(wasm, p + 1);
      const section = [...leb(1), 0x01, ...leb(min), ...leb(pages)];
      if ((flags & ~1) !== 0) throw new Error('unexpected memory flags');
      out.push(5, ...leb(section.length), ...section);
    } else {
      out.push(...wasm.subarray(at, end));
    }
    at = end;
  }
  return Uint8Array.from(out);
}
