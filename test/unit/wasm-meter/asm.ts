// A tiny WebAssembly binary assembler for the meter tests: modules are described section by section and
// function bodies are written as raw opcode bytes (with the LEB helpers below for immediates).

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export const FUNCREF = 0x70;
export const EXTERNREF = 0x6f;

export function u32(value: number): number[] {
  const out: number[] = [];
  let v = value;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

export function s64(value: bigint): number[] {
  const out: number[] = [];
  let v = value;
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

export function s32(value: number): number[] {
  return s64(BigInt(value | 0));
}

export function f32(value: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, value, true);
  return [...b];
}

export function f64(value: number): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setFloat64(0, value, true);
  return [...b];
}

export function str(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [...u32(b.length), ...b];
}

export function vec(items: readonly (readonly number[])[]): number[] {
  return [...u32(items.length), ...items.flat()];
}

export function section(id: number, content: readonly number[]): number[] {
  return [id, ...u32(content.length), ...content];
}

/** SIMD instruction: 0xFD prefix with a LEB sub-opcode. */
export function simd(sub: number, ...imm: number[]): number[] {
  return [0xfd, ...u32(sub), ...imm];
}

/** 0xFC-prefixed instruction. */
export function fc(sub: number, ...imm: number[]): number[] {
  return [0xfc, ...u32(sub), ...imm];
}

export interface FuncDef {
  readonly type: number;
  readonly locals?: readonly (readonly [count: number, type: number])[];
  /** Instructions, without the final `end`. */
  readonly code: readonly number[];
  /** Exported under this name when set. */
  readonly export?: string;
  /** Recorded in the `name` section when set. */
  readonly name?: string;
}

export type ImportDesc =
  | { readonly kind: 'func'; readonly type: number }
  | { readonly kind: 'global'; readonly type: number; readonly mutable?: boolean }
  | { readonly kind: 'table'; readonly min: number }
  | { readonly kind: 'memory'; readonly min: number };

export interface ModuleDef {
  readonly types?: readonly (readonly [params: readonly number[], results: readonly number[]])[];
  readonly imports?: readonly (readonly [module: string, name: string, desc: ImportDesc])[];
  readonly funcs?: readonly FuncDef[];
  /** funcref tables, by minimum size. */
  readonly tables?: readonly number[];
  /** memories, by minimum pages. */
  readonly memories?: readonly number[];
  /** Raw global entries: valtype, mutability, init expr with its `end`. */
  readonly globals?: readonly (readonly number[])[];
  /** Extra raw export entries (functions with `export` are added automatically). */
  readonly exports?: readonly (readonly number[])[];
  readonly start?: number;
  /** Raw element segments. */
  readonly elems?: readonly (readonly number[])[];
  readonly dataCount?: number;
  /** Raw data segments. */
  readonly data?: readonly (readonly number[])[];
  readonly customs?: readonly (readonly [name: string, payload: readonly number[]])[];
  /** Emit a `name` section from the functions' `name` fields. */
  readonly names?: boolean;
}

function countFuncImports(def: ModuleDef): number {
  return (def.imports ?? []).filter(([, , d]) => d.kind === 'func').length;
}

export function assemble(def: ModuleDef): Uint8Array<ArrayBuffer> {
  const out: number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const funcs = def.funcs ?? [];
  const base = countFuncImports(def);
  if (def.types) out.push(...section(1, vec(def.types.map(([p, r]) => [0x60, ...vec(p.map((t) => [t])), ...vec(r.map((t) => [t]))]))));
  if (def.imports) {
    out.push(...section(2, vec(def.imports.map(([m, n, d]) => {
      const head = [...str(m), ...str(n)];
      switch (d.kind) {
        case 'func': return [...head, 0x00, ...u32(d.type)];
        case 'table': return [...head, 0x01, FUNCREF, 0x00, ...u32(d.min)];
        case 'memory': return [...head, 0x02, 0x00, ...u32(d.min)];
        case 'global': return [...head, 0x03, d.type, d.mutable ? 1 : 0];
      }
    }))));
  }
  if (funcs.length) out.push(...section(3, vec(funcs.map((f) => u32(f.type)))));
  if (def.tables) out.push(...section(4, vec(def.tables.map((min) => [FUNCREF, 0x00, ...u32(min)]))));
  if (def.memories) out.push(...section(5, vec(def.memories.map((min) => [0x00, ...u32(min)]))));
  if (def.globals) out.push(...section(6, vec(def.globals)));
  const exports: number[][] = funcs.flatMap((f, i) => (f.export ? [[...str(f.export), 0x00, ...u32(base + i)]] : []));
  exports.push(...(def.exports ?? []).map((e) => [...e]));
  if (exports.length) out.push(...section(7, vec(exports)));
  if (def.start !== undefined) out.push(...section(8, u32(def.start)));
  if (def.elems) out.push(...section(9, vec(def.elems)));
  if (def.dataCount !== undefined) out.push(...section(12, u32(def.dataCount)));
  if (funcs.length) {
    out.push(...section(10, vec(funcs.map((f) => {
      const b = [...vec((f.locals ?? []).map(([n, t]) => [...u32(n), t])), ...f.code, 0x0b];
      return [...u32(b.length), ...b];
    }))));
  }
  if (def.data) out.push(...section(11, vec(def.data)));
  if (def.names) {
    const named = funcs.flatMap((f, i) => (f.name ? [[...u32(base + i), ...str(f.name)]] : []));
    const sub = vec(named);
    out.push(...section(0, [...str('name'), 0x01, ...u32(sub.length), ...sub]));
  }
  for (const [name, payload] of def.customs ?? []) out.push(...section(0, [...str(name), ...payload]));
  return Uint8Array.from(out);
}

/** Content ranges of a module's sections, for inspecting an output. */
export function sections(bytes: Uint8Array): { id: number; content: Uint8Array }[] {
  const result: { id: number; content: Uint8Array }[] = [];
  let pos = 8;
  const leb = (): number => {
    let r = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[pos++]!;
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) return r;
    }
  };
  while (pos < bytes.length) {
    const id = bytes[pos++]!;
    const size = leb();
    result.push({ id, content: bytes.subarray(pos, pos + size) });
    pos += size;
  }
  return result;
}

/** The entry count at the head of a vector-shaped section, or undefined when absent. */
export function sectionCount(bytes: Uint8Array, id: number): number | undefined {
  const s = sections(bytes).find((x) => x.id === id);
  if (!s) return undefined;
  let r = 0;
  for (let i = 0, shift = 0; ; i++, shift += 7) {
    const b = s.content[i]!;
    r += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return r;
  }
}
