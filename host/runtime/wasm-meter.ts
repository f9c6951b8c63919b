// Makes a module interruptible when it runs on the host's own thread ("in-thread isolation"), where V8 cannot
// stop a plugin that loops forever. The module is rewritten so that it charges "metering points" to a countdown
// global; when the countdown runs out it is refilled and an imported host function (`x0t:meter` `check`) is
// called. That function compares the wall clock with the call's deadline and throws a JS exception, which unwinds
// through the wasm frames; the host then discards the instance.
//
// Where the points are charged, and why there:
//   * every `loop` header counts an iteration in a local of its function and charges LOOP_BATCH points to the
//     global every LOOP_BATCH iterations, so the global is read and written once per 32 iterations, not at each;
//   * the entry of every function that contains a call charges one point, so recursion without loops is caught;
//     a function that calls nothing (a distance kernel, a small helper) cannot recurse, and its loops meter it, so
//     its entry is left alone.
// Measured (test/unit/wasm-meter/overhead.test.ts prints it): a bare loop costs ~0.65 ns more per iteration either
// way, but a loop that calls a small function costs 25 % more instead of 65 % with a global charge at every
// entry and iteration, and the hnsw plugin's metered search lost 2–7 % instead of 7–8 %.
// An activation can end with up to LOOP_BATCH - 1 iterations not yet charged. Every activation is started by a
// call, though, and a call runs in a function that charges its entry, between two of its metering points; so the
// work between two checks stays bounded: about interval × LOOP_BATCH iterations, times the calls one loop body
// makes.
//
// Every backward branch in wasm targets a `loop` label and every recursion (including tail calls) enters a
// function, so no execution can run unboundedly without passing a metering point.
//
// The rewrite:
//   * adds the import `x0t:meter` `check` of type [] -> [] (reusing an identical type if the module has one);
//     since imported functions come first in the function index space, every reference to a defined function
//     (call, return_call, ref.func, exports, start, element segments, constant expressions) shifts by one;
//   * appends one mutable i32 global (the countdown), after all existing globals, so no global index moves;
//   * appends one i32 local (the iteration count) to every function with a loop, so no local index moves (a
//     function already at V8's local limit charges the global at each iteration instead);
//   * inserts the entry sequence after the locals of every body that calls, and the loop sequence after the
//     blocktype of every `loop`;
//   * rewrites the `name` custom section (function and local names follow their functions; label names, which
//     the inserted blocks would misnumber, are dropped; the whole section is dropped when it cannot be
//     parsed); other custom sections are kept verbatim (DWARF code offsets in `.debug_*` sections will no
//     longer match the rewritten code).
//
// The decoder covers WebAssembly 2.0 (MVP, sign extension, non-trapping conversions, multi-value, bulk memory,
// reference types, fixed-width and relaxed SIMD), tail calls, threads/atomics, and the multi-memory/memory64
// immediates. Anything it does not know (an unknown opcode, a GC type, an unknown section) makes it throw
// ModuleInvalidError rather than produce a module it cannot vouch for. Exception handling is refused on
// purpose: a `catch_all` would let a plugin swallow the interrupt and keep running.
import { ModuleInvalidError } from '../errors/index.js';

/** Module and field name of the host function the metered module imports; its type is [] -> []. */
export const METER_IMPORT_MODULE = 'x0t:meter';
export const METER_IMPORT_NAME = 'check';
/** Metering points (function entries + loop iterations) between two calls of the check function. */
export const DEFAULT_METER_INTERVAL = 10_000;
/** Loop iterations a function counts in its own local before it charges them, together, to the countdown. */
export const LOOP_BATCH = 32;

export interface MeterOptions {
  /** Metering points between calls of `x0t:meter.check`; an integer in [1, 2^31-1]. Default 10 000. */
  readonly interval?: number;
}

// ---------------------------------------------------------------------------------------------------------
// Byte reading and writing

const MAGIC_AND_VERSION = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00] as const;

function invalid(message: string): never {
  throw new ModuleInvalidError(`cannot meter module: ${message}`);
}

class Reader {
  pos: number;
  constructor(readonly bytes: Uint8Array, start: number, readonly end: number) {
    this.pos = start;
  }

  atEnd(): boolean {
    return this.pos >= this.end;
  }

  expectEnd(what: string): void {
    if (this.pos !== this.end) invalid(`${what} has ${this.end - this.pos} unexpected trailing bytes`);
  }

  u8(): number {
    if (this.pos >= this.end) invalid(`unexpected end of data at offset ${this.pos}`);
    return this.bytes[this.pos++]!;
  }

  skip(n: number): void {
    if (n > this.end - this.pos) invalid(`unexpected end of data at offset ${this.pos}`);
    this.pos += n;
  }

  /** Unsigned LEB128, at most 32 bits. */
  u32(): number {
    let result = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      if (i === 4 && b > 0x0f) invalid(`u32 LEB128 out of range at offset ${this.pos - 1}`);
      result += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return result;
    }
    return invalid(`u32 LEB128 longer than 5 bytes at offset ${this.pos}`);
  }

  /** Skips a LEB128 (signed or unsigned) of at most `maxBytes` bytes. */
  skipLeb(maxBytes: number): void {
    for (let i = 0; i < maxBytes; i++) {
      if ((this.u8() & 0x80) === 0) return;
    }
    invalid(`LEB128 longer than ${maxBytes} bytes at offset ${this.pos}`);
  }

  /** Signed LEB128 of at most 33 bits (block types); returned as a JS number. */
  s33(): number {
    let result = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.u8();
      result += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) {
        if (b & 0x40) result -= 2 ** (7 * (i + 1));
        return result;
      }
    }
    return invalid(`s33 LEB128 longer than 5 bytes at offset ${this.pos}`);
  }

  /** A length-prefixed name; returns its byte range. */
  name(): [start: number, end: number] {
    const len = this.u32();
    const start = this.pos;
    this.skip(len);
    return [start, this.pos];
  }

  valType(): number {
    const t = this.u8();
    if (!VALTYPES.has(t)) invalid(`unsupported value type 0x${hex(t)} at offset ${this.pos - 1}`);
    return t;
  }

  refType(): number {
    const t = this.u8();
    if (t !== FUNCREF && t !== EXTERNREF) invalid(`unsupported reference type 0x${hex(t)} at offset ${this.pos - 1}`);
    return t;
  }

  blockType(): void {
    const b = this.bytes[this.pos];
    if (b !== undefined && (b === 0x40 || VALTYPES.has(b))) {
      this.pos++;
      return;
    }
    const at = this.pos;
    if (this.s33() < 0) invalid(`unsupported block type at offset ${at}`);
  }

  limits(): void {
    const flags = this.u8();
    if (flags > 0x07) invalid(`unsupported limits flags 0x${hex(flags)} at offset ${this.pos - 1}`);
    this.skipLeb(10); // min (u32, or u64 for memory64)
    if (flags & 0x01) this.skipLeb(10); // max
  }

  memarg(): void {
    const align = this.u32();
    if (align & 0x40) this.u32(); // multi-memory: memory index follows
    this.skipLeb(10); // offset (u32, or u64 for memory64)
  }
}

class Writer {
  private buf = new Uint8Array(1024);
  length = 0;

  private reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  bytes(src: Uint8Array | readonly number[]): void {
    this.reserve(src.length);
    this.buf.set(src, this.length);
    this.length += src.length;
  }

  u32(value: number): void {
    let v = value;
    this.reserve(5);
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v !== 0) b |= 0x80;
      this.buf[this.length++] = b;
    } while (v !== 0);
  }

  s32(value: number): void {
    let v = value | 0;
    this.reserve(5);
    for (;;) {
      const b = v & 0x7f;
      v >>= 7;
      const done = (v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0);
      this.buf[this.length++] = done ? b : b | 0x80;
      if (done) return;
    }
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }

  reset(): void {
    this.length = 0;
  }

  finish(): Uint8Array<ArrayBuffer> {
    return this.buf.slice(0, this.length);
  }
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

function encodeU32(value: number): number[] {
  const w = new Writer();
  w.u32(value);
  return [...w.view()];
}

function encodeName(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [...encodeU32(b.length), ...b];
}

// ---------------------------------------------------------------------------------------------------------
// Binary-format constants

const FUNCREF = 0x70;
const EXTERNREF = 0x6f;
/** i32 i64 f32 f64 v128 funcref externref */
const VALTYPES: ReadonlySet<number> = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, FUNCREF, EXTERNREF]);

const SEC_CUSTOM = 0;
const SEC_TYPE = 1;
const SEC_IMPORT = 2;
const SEC_FUNCTION = 3;
const SEC_TABLE = 4;
const SEC_GLOBAL = 6;
const SEC_EXPORT = 7;
const SEC_START = 8;
const SEC_ELEMENT = 9;
const SEC_CODE = 10;

/** Required order of the non-custom sections (id → rank). 13 is the tag section (exception handling). */
const SECTION_RANK: ReadonlyMap<number, number> = new Map([
  [1, 1], [2, 2], [3, 3], [4, 4], [5, 5], [13, 6], [6, 7], [7, 8], [8, 9], [9, 10], [12, 11], [10, 12], [11, 13],
]);

/** SIMD (0xFD) sub-opcodes without immediates: 2.0 fixed-width SIMD plus relaxed SIMD (0x100-0x113). */
const SIMD_PLAIN: ReadonlySet<number> = (() => {
  const s = new Set<number>();
  const add = (from: number, to: number) => { for (let i = from; i <= to; i++) s.add(i); };
  add(0x0e, 0x14); // swizzle, splats
  add(0x23, 0x53); // comparisons, bitwise, any_true
  add(0x5e, 0xff); // arithmetic, conversions (gaps removed below)
  for (const gap of [0x9a, 0xa2, 0xa5, 0xa6, 0xaf, 0xb0, 0xb2, 0xb3, 0xb4, 0xbb, 0xc2, 0xc5, 0xc6, 0xcf, 0xd0,
    0xd2, 0xd3, 0xd4, 0xe2, 0xee]) s.delete(gap);
  add(0x100, 0x113); // relaxed SIMD
  return s;
})();

// ---------------------------------------------------------------------------------------------------------
// Instruction walking

interface Rewrite {
  /** Function index in the input → function index in the output. */
  mapFunc(index: number): number;
}

/** What copyExpr saw in the expression it copied. */
interface ExprShape {
  /** Some instruction calls a function (call, call_indirect and their tail-call forms). */
  calls: boolean;
  /** Some `loop` instruction. */
  loops: boolean;
}

/**
 * Copies one expression (up to and including its final `end`) from `r` to `w`, shifting function indices and
 * inserting `loopProbe` after each loop header when it is given (function bodies; not constant expressions).
 */
function copyExpr(r: Reader, w: Writer, rw: Rewrite, loopProbe?: Uint8Array): ExprShape {
  const bytes = r.bytes;
  const shape: ExprShape = { calls: false, loops: false };
  let depth = 0;
  for (;;) {
    const start = r.pos;
    const op = r.u8();
    switch (op) {
      case 0x00: case 0x01: case 0x05: case 0x0f: case 0x1a: case 0x1b: case 0xd1:
        break; // unreachable nop else return drop select ref.is_null
      case 0x02: case 0x04: // block if
        r.blockType();
        depth++;
        break;
      case 0x03: // loop
        r.blockType();
        depth++;
        w.bytes(bytes.subarray(start, r.pos));
        if (loopProbe !== undefined) w.bytes(loopProbe);
        shape.loops = true;
        continue;
      case 0x0b: // end
        if (depth === 0) {
          w.byte(0x0b);
          return shape;
        }
        depth--;
        break;
      case 0x0c: case 0x0d: // br br_if
        r.u32();
        break;
      case 0x0e: { // br_table
        const n = r.u32();
        for (let i = 0; i <= n; i++) r.u32();
        break;
      }
      case 0x10: case 0x12: case 0xd2: { // call return_call ref.func
        const f = r.u32();
        w.byte(op);
        w.u32(rw.mapFunc(f));
        if (op !== 0xd2) shape.calls = true;
        continue;
      }
      case 0x11: case 0x13: // call_indirect return_call_indirect: typeidx tableidx
        r.u32();
        r.u32();
        shape.calls = true;
        break;
      case 0x08: // throw tagidx (harmless: only catching is refused)
        r.u32();
        break;
      case 0x06: case 0x07: case 0x09: case 0x0a: case 0x18: case 0x19: case 0x1f:
        return invalid(`exception handling (opcode 0x${hex(op)} at offset ${start}) is not supported: ` +
          'a plugin could catch the interrupt');
      case 0x1c: { // select t*
        const n = r.u32();
        for (let i = 0; i < n; i++) r.valType();
        break;
      }
      case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26:
        r.u32(); // local.get/set/tee global.get/set table.get/set
        break;
      case 0x3f: case 0x40: // memory.size memory.grow: memory index (0x00 before multi-memory)
        r.u32();
        break;
      case 0x41: r.skipLeb(5); break; // i32.const
      case 0x42: r.skipLeb(10); break; // i64.const
      case 0x43: r.skip(4); break; // f32.const
      case 0x44: r.skip(8); break; // f64.const
      case 0xd0: r.refType(); break; // ref.null t
      case 0xfc: prefixFC(r, start); break;
      case 0xfd: prefixFD(r, start); break;
      case 0xfe: prefixFE(r, start); break;
      default:
        if (op >= 0x28 && op <= 0x3e) r.memarg(); // loads and stores
        else if (op < 0x45 || op > 0xc4) invalid(`unknown opcode 0x${hex(op)} at offset ${start}`);
        // 0x45-0xC4: numeric and sign-extension operators, no immediates
        break;
    }
    w.bytes(bytes.subarray(start, r.pos));
  }
}

function prefixFC(r: Reader, start: number): void {
  const sub = r.u32();
  switch (sub) {
    case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7: return; // trunc_sat
    case 8: r.u32(); r.u32(); return; // memory.init dataidx memidx
    case 9: r.u32(); return; // data.drop
    case 10: r.u32(); r.u32(); return; // memory.copy
    case 11: r.u32(); return; // memory.fill
    case 12: r.u32(); r.u32(); return; // table.init elemidx tableidx
    case 13: r.u32(); return; // elem.drop
    case 14: r.u32(); r.u32(); return; // table.copy
    case 15: case 16: case 17: r.u32(); return; // table.grow table.size table.fill
    default: invalid(`unknown opcode 0xfc ${sub} at offset ${start}`);
  }
}

function prefixFD(r: Reader, start: number): void {
  const sub = r.u32();
  if (sub <= 0x0b || sub === 0x5c || sub === 0x5d) r.memarg(); // v128 loads/stores, load32/64_zero
  else if (sub === 0x0c || sub === 0x0d) r.skip(16); // v128.const, i8x16.shuffle
  else if (sub >= 0x15 && sub <= 0x22) r.skip(1); // extract/replace lane
  else if (sub >= 0x54 && sub <= 0x5b) { r.memarg(); r.skip(1); } // load/store lane
  else if (!SIMD_PLAIN.has(sub)) invalid(`unknown opcode 0xfd ${sub} at offset ${start}`);
}

function prefixFE(r: Reader, start: number): void {
  const sub = r.u32();
  if (sub === 0x03) { // atomic.fence
    if (r.u8() !== 0) invalid(`bad atomic.fence immediate at offset ${start}`);
  } else if (sub <= 0x02 || (sub >= 0x10 && sub <= 0x4e)) r.memarg();
  else invalid(`unknown opcode 0xfe ${sub} at offset ${start}`);
}

// ---------------------------------------------------------------------------------------------------------
// Sections

interface Section {
  readonly id: number;
  readonly start: number;
  readonly end: number;
}

interface ModuleFacts {
  typeCount: number;
  /** Index of an existing [] -> [] type, or -1. */
  emptyType: number;
  funcImports: number;
  globalImports: number;
  definedFuncs: number;
  definedGlobals: number;
  /** Parameter count of every type. */
  typeParams: number[];
  /** Type index of every defined function. */
  funcTypes: number[];
}

function splitSections(bytes: Uint8Array): Section[] {
  if (bytes.length < 8 || MAGIC_AND_VERSION.some((b, i) => bytes[i] !== b)) {
    invalid('not a WebAssembly 1.0 binary module (bad magic or version)');
  }
  const r = new Reader(bytes, 8, bytes.length);
  const sections: Section[] = [];
  let lastRank = 0;
  while (!r.atEnd()) {
    const id = r.u8();
    const size = r.u32();
    const start = r.pos;
    r.skip(size);
    if (id === SEC_CUSTOM) {
      new Reader(bytes, start, r.pos).name(); // the name must fit the section
    } else {
      const rank = SECTION_RANK.get(id);
      if (rank === undefined) invalid(`unknown section id ${id}`);
      if (rank <= lastRank) invalid(`section ${id} is duplicated or out of order`);
      lastRank = rank;
    }
    sections.push({ id, start, end: r.pos });
  }
  return sections;
}

function gatherFacts(bytes: Uint8Array, sections: readonly Section[]): ModuleFacts {
  const facts: ModuleFacts = {
    typeCount: 0, emptyType: -1, funcImports: 0, globalImports: 0, definedFuncs: 0, definedGlobals: 0, typeParams: [], funcTypes: [],
  };
  for (const s of sections) {
    const r = new Reader(bytes, s.start, s.end);
    switch (s.id) {
      case SEC_TYPE: {
        facts.typeCount = r.u32();
        for (let i = 0; i < facts.typeCount; i++) {
          const form = r.u8();
          if (form !== 0x60) invalid(`type ${i} is not a function type (form 0x${hex(form)})`);
          const params = r.u32();
          for (let j = 0; j < params; j++) r.valType();
          facts.typeParams.push(params);
          const results = r.u32();
          for (let j = 0; j < results; j++) r.valType();
          if (params === 0 && results === 0 && facts.emptyType < 0) facts.emptyType = i;
        }
        r.expectEnd('type section');
        break;
      }
      case SEC_IMPORT: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          r.name();
          r.name();
          const kind = r.u8();
          switch (kind) {
            case 0: r.u32(); facts.funcImports++; break;
            case 1: r.refType(); r.limits(); break;
            case 2: r.limits(); break;
            case 3: r.valType(); readMutability(r); facts.globalImports++; break;
            case 4: r.u8(); r.u32(); break; // tag: attribute, typeidx
            default: invalid(`import ${i} has unknown kind ${kind}`);
          }
        }
        r.expectEnd('import section');
        break;
      }
      case SEC_FUNCTION: {
        facts.definedFuncs = r.u32();
        for (let i = 0; i < facts.definedFuncs; i++) {
          const type = r.u32();
          if (type >= facts.typeCount) invalid(`function ${i} has type ${type} of ${facts.typeCount}`);
          facts.funcTypes.push(type);
        }
        r.expectEnd('function section');
        break;
      }
      case SEC_GLOBAL:
        facts.definedGlobals = r.u32(); // entries are parsed when the section is rewritten
        break;
    }
  }
  return facts;
}

function readMutability(r: Reader): void {
  const m = r.u8();
  if (m > 1) invalid(`bad global mutability ${m} at offset ${r.pos - 1}`);
}

/** Rewrites a section whose content is `count` followed by entries, appending `extra` (already encoded). */
function appendEntry(bytes: Uint8Array, s: Section, extra: readonly number[]): Uint8Array {
  const r = new Reader(bytes, s.start, s.end);
  const n = r.u32();
  const w = new Writer();
  w.u32(n + 1);
  w.bytes(bytes.subarray(r.pos, s.end));
  w.bytes(extra);
  return w.view();
}

function rewriteTables(bytes: Uint8Array, s: Section, rw: Rewrite): Uint8Array {
  const r = new Reader(bytes, s.start, s.end);
  const w = new Writer();
  const n = r.u32();
  w.u32(n);
  for (let i = 0; i < n; i++) {
    const start = r.pos;
    if (bytes[r.pos] === 0x40) { // table with an initialiser expression
      r.u8();
      if (r.u8() !== 0x00) invalid(`table ${i}: bad initialiser prefix`);
      r.refType();
      r.limits();
      w.bytes(bytes.subarray(start, r.pos));
      copyExpr(r, w, rw);
    } else {
      r.refType();
      r.limits();
      w.bytes(bytes.subarray(start, r.pos));
    }
  }
  r.expectEnd('table section');
  return w.view();
}

function rewriteGlobals(bytes: Uint8Array, s: Section, rw: Rewrite, extra: readonly number[]): Uint8Array {
  const r = new Reader(bytes, s.start, s.end);
  const w = new Writer();
  const n = r.u32();
  w.u32(n + 1);
  for (let i = 0; i < n; i++) {
    const start = r.pos;
    r.valType();
    readMutability(r);
    w.bytes(bytes.subarray(start, r.pos));
    copyExpr(r, w, rw);
  }
  r.expectEnd('global section');
  w.bytes(extra);
  return w.view();
}

function rewriteExports(bytes: Uint8Array, s: Section, rw: Rewrite): Uint8Array {
  const r = new Reader(bytes, s.start, s.end);
  const w = new Writer();
  const n = r.u32();
  w.u32(n);
  for (let i = 0; i < n; i++) {
    const start = r.pos;
    r.name();
    const kind = r.u8();
    if (kind > 4) invalid(`export ${i} has unknown kind ${kind}`);
    w.bytes(bytes.subarray(start, r.pos));
    const index = r.u32();
    w.u32(kind === 0 ? rw.mapFunc(index) : index);
  }
  r.expectEnd('export section');
  return w.view();
}

function rewriteStart(bytes: Uint8Array, s: Section, rw: Rewrite): Uint8Array {
  const r = new Reader(bytes, s.start, s.end);
  const w = new Writer();
  w.u32(rw.mapFunc(r.u32()));
  r.expectEnd('start section');
  return w.view();
}

function rewriteElements(bytes: Uint8Array, s: Section, rw: Rewrite): Uint8Array {
  const r = new Reader(bytes, s.start, s.end);
  const w = new Writer();
  const n = r.u32();
  w.u32(n);
  for (let i = 0; i < n; i++) {
    const flags = r.u32();
    if (flags > 7) invalid(`element segment ${i} has unknown flags ${flags}`);
    w.u32(flags);
    const active = (flags & 0x01) === 0;
    const usesExprs = (flags & 0x04) !== 0;
    if (active && (flags & 0x02)) w.u32(r.u32()); // table index
    if (active) copyExpr(r, w, rw); // offset
    if (flags & 0x03) { // element kind (0x00 = funcref) or reference type
      const kindAt = r.pos;
      if (usesExprs) r.refType();
      else if (r.u8() !== 0x00) invalid(`element segment ${i} has unknown element kind`);
      w.bytes(bytes.subarray(kindAt, r.pos));
    }
    const count = r.u32();
    w.u32(count);
    for (let j = 0; j < count; j++) {
      if (usesExprs) copyExpr(r, w, rw);
      else w.u32(rw.mapFunc(r.u32()));
    }
  }
  r.expectEnd('element section');
  return w.view();
}

/** The metering sequences inserted into function bodies (see the top of the file). */
interface Probes {
  /** Charges one point to the countdown global: a function entry, or a loop header where no local is free. */
  readonly entry: Uint8Array;
  /** Counts a loop iteration in local `index`, charging LOOP_BATCH points to the global every LOOP_BATCH. */
  loop(index: number): Uint8Array;
}

/** V8 refuses functions with more locals (parameters included) than this. */
const MAX_LOCALS = 50_000;

function rewriteCode(bytes: Uint8Array, s: Section, rw: Rewrite, facts: ModuleFacts, probes: Probes): Uint8Array {
  const r = new Reader(bytes, s.start, s.end);
  const w = new Writer();
  const body = new Writer();
  const expr = new Writer();
  const n = r.u32();
  if (n !== facts.definedFuncs) invalid(`code section has ${n} bodies for ${facts.definedFuncs} functions`);
  w.u32(n);
  for (let i = 0; i < n; i++) {
    const size = r.u32();
    const bodyStart = r.pos;
    r.skip(size);
    const br = new Reader(bytes, bodyStart, r.pos);
    const groups = br.u32();
    const groupsStart = br.pos;
    let locals = facts.typeParams[facts.funcTypes[i]!]!;
    for (let j = 0; j < groups; j++) {
      locals += br.u32();
      br.valType();
    }
    const localsEnd = br.pos;
    // The loop counter is a new i32 local after all others, so no local index moves.
    const counterLocal = locals < MAX_LOCALS ? locals : -1;
    expr.reset();
    const shape = copyExpr(br, expr, rw, counterLocal >= 0 ? probes.loop(counterLocal) : probes.entry);
    br.expectEnd(`body of function ${i}`);
    body.reset();
    if (shape.loops && counterLocal >= 0) {
      body.u32(groups + 1);
      body.bytes(bytes.subarray(groupsStart, localsEnd));
      body.bytes([0x01, 0x7f]); // one i32
    } else {
      body.bytes(bytes.subarray(bodyStart, localsEnd));
    }
    // A function that calls nothing cannot recurse: its own loops meter it, so its entry needs no probe.
    if (shape.calls) body.bytes(probes.entry);
    body.bytes(expr.view());
    w.u32(body.length);
    w.bytes(body.view());
  }
  r.expectEnd('code section');
  return w.view();
}

/**
 * Shifts the function indices in a `name` section (function and local names) and drops its label names.
 * Returns undefined when the section cannot be parsed; it is then dropped, names being optional.
 */
function rewriteNameSection(bytes: Uint8Array, s: Section, rw: Rewrite): Uint8Array | undefined {
  try {
    const r = new Reader(bytes, s.start, s.end);
    const w = new Writer();
    const nameStart = r.pos;
    r.name();
    w.bytes(bytes.subarray(nameStart, r.pos));
    const sub = new Writer();
    while (!r.atEnd()) {
      const id = r.u8();
      const size = r.u32();
      const start = r.pos;
      r.skip(size);
      const sr = new Reader(bytes, start, r.pos);
      sub.reset();
      // Label names (3) number the blocks of each body in order; the inserted `if`s would shift them.
      if (id === 3) continue;
      if (id === 1 || id === 2) { // function names; local names (keyed by function)
        const n = sr.u32();
        sub.u32(n);
        for (let i = 0; i < n; i++) {
          sub.u32(rw.mapFunc(sr.u32()));
          const from = sr.pos;
          if (id === 1) {
            sr.name();
          } else {
            const m = sr.u32();
            for (let j = 0; j < m; j++) { sr.u32(); sr.name(); }
          }
          sub.bytes(bytes.subarray(from, sr.pos));
        }
        sr.expectEnd('name subsection');
      } else {
        sub.bytes(bytes.subarray(start, r.pos));
      }
      w.byte(id);
      w.u32(sub.length);
      w.bytes(sub.view());
    }
    return w.view();
  } catch (e) {
    if (e instanceof ModuleInvalidError) return undefined;
    throw e;
  }
}

function customSectionName(bytes: Uint8Array, s: Section): string {
  const [start, end] = new Reader(bytes, s.start, s.end).name();
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(start, end));
}

// ---------------------------------------------------------------------------------------------------------
// Entry point

/**
 * Returns a copy of `bytes` instrumented so that a runaway plugin calls the imported `x0t:meter` `check`
 * function ([] -> []) every `interval` metering points (function entries and loop iterations). The host's
 * `check` throws when the call's deadline has passed. Throws ModuleInvalidError when the module cannot be
 * decoded or uses something the rewriter does not support (it never returns a module it could not rewrite).
 */
export function meterModule(bytes: Uint8Array, opts: MeterOptions = {}): Uint8Array<ArrayBuffer> {
  const interval = opts.interval ?? DEFAULT_METER_INTERVAL;
  if (!Number.isInteger(interval) || interval < 1 || interval > 0x7fffffff) {
    throw new RangeError(`meter interval must be an integer in [1, 2^31-1], got ${interval}`);
  }
  if (!(bytes instanceof Uint8Array)) invalid('module bytes must be a Uint8Array');

  const sections = splitSections(bytes);
  const facts = gatherFacts(bytes, sections);

  const totalFuncs = facts.funcImports + facts.definedFuncs;
  const checkFunc = facts.funcImports; // the new import comes after all existing function imports
  const checkType = facts.emptyType >= 0 ? facts.emptyType : facts.typeCount;
  const counter = facts.globalImports + facts.definedGlobals; // appended after every existing global

  // charge(points): $c -= points; if ($c < 1) { $c += interval; call $check }
  const charge = (w: Writer, points: number): void => {
    w.byte(0x23); w.u32(counter); // global.get $c
    w.byte(0x41); w.s32(points); w.byte(0x6b); // i32.const points; i32.sub
    w.byte(0x24); w.u32(counter); // global.set $c
    w.byte(0x23); w.u32(counter); // global.get $c
    w.bytes([0x41, 0x01, 0x48, 0x04, 0x40]); // i32.const 1; i32.lt_s; if
    w.byte(0x23); w.u32(counter); // global.get $c
    w.byte(0x41); w.s32(interval); w.byte(0x6a); // i32.const interval; i32.add
    w.byte(0x24); w.u32(counter); // global.set $c
    w.byte(0x10); w.u32(checkFunc); // call $check
    w.byte(0x0b); // end
  };
  const entry = new Writer();
  charge(entry, 1);
  const loop = new Writer();
  const probes: Probes = {
    entry: entry.finish(),
    // $i += 1; if (($i & (LOOP_BATCH - 1)) == 0) charge(LOOP_BATCH)
    loop(index: number): Uint8Array {
      loop.reset();
      loop.byte(0x20); loop.u32(index); // local.get $i
      loop.bytes([0x41, 0x01, 0x6a]); // i32.const 1; i32.add
      loop.byte(0x22); loop.u32(index); // local.tee $i
      loop.byte(0x41); loop.s32(LOOP_BATCH - 1); // i32.const LOOP_BATCH - 1
      loop.bytes([0x71, 0x45, 0x04, 0x40]); // i32.and; i32.eqz; if
      charge(loop, LOOP_BATCH);
      loop.byte(0x0b); // end
      return loop.finish();
    },
  };

  const rw: Rewrite = {
    mapFunc(index: number): number {
      if (index >= totalFuncs) invalid(`function index ${index} out of range (${totalFuncs} functions)`);
      return index < checkFunc ? index : index + 1;
    },
  };

  const newType = [0x60, 0x00, 0x00];
  const newImport = [...encodeName(METER_IMPORT_MODULE), ...encodeName(METER_IMPORT_NAME), 0x00, ...encodeU32(checkType)];
  const initExpr = new Writer();
  initExpr.byte(0x41); initExpr.s32(interval); initExpr.byte(0x0b);
  const newGlobal = [0x7f, 0x01, ...initExpr.view()]; // mut i32 (i32.const interval)

  const out: { id: number; content: Uint8Array }[] = [];
  for (const s of sections) {
    let content: Uint8Array | undefined;
    switch (s.id) {
      case SEC_CUSTOM:
        content = customSectionName(bytes, s) === 'name' ? rewriteNameSection(bytes, s, rw) : bytes.subarray(s.start, s.end);
        break;
      case SEC_TYPE: content = facts.emptyType >= 0 ? bytes.subarray(s.start, s.end) : appendEntry(bytes, s, newType); break;
      case SEC_IMPORT: content = appendEntry(bytes, s, newImport); break;
      case SEC_TABLE: content = rewriteTables(bytes, s, rw); break;
      case SEC_GLOBAL: content = rewriteGlobals(bytes, s, rw, newGlobal); break;
      case SEC_EXPORT: content = rewriteExports(bytes, s, rw); break;
      case SEC_START: content = rewriteStart(bytes, s, rw); break;
      case SEC_ELEMENT: content = rewriteElements(bytes, s, rw); break;
      case SEC_CODE: content = rewriteCode(bytes, s, rw, facts, probes); break;
      default: content = bytes.subarray(s.start, s.end); break;
    }
    if (content !== undefined) out.push({ id: s.id, content });
  }
  if (facts.definedFuncs > 0 && !sections.some((s) => s.id === SEC_CODE)) invalid('function section without code section');

  const insert = (id: number, entries: readonly number[]): void => {
    if (out.some((s) => s.id === id)) return;
    const rank = SECTION_RANK.get(id)!;
    const content = Uint8Array.from([...encodeU32(1), ...entries]);
    const at = out.findIndex((s) => s.id !== SEC_CUSTOM && SECTION_RANK.get(s.id)! > rank);
    out.splice(at < 0 ? out.length : at, 0, { id, content });
  };
  insert(SEC_TYPE, newType);
  insert(SEC_IMPORT, newImport);
  insert(SEC_GLOBAL, newGlobal);

  const w = new Writer();
  w.bytes(MAGIC_AND_VERSION);
  for (const s of out) {
    w.byte(s.id);
    w.u32(s.content.length);
    w.bytes(s.content);
  }
  return w.finish();
}
