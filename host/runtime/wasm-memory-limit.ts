// Rewrites the maximum of a module's own (defined) memories so V8 itself refuses growth past the manifest's
// limit. This is the only limit that holds for a module that grows its own memory (an Extism `memory.maxPages`
// option does not reach it): a failed `memory.grow` returns -1 inside the plugin and its allocator traps.
import { ModuleInvalidError, PluginMemoryLimitError } from '../errors/index.js';

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const SECTION_MEMORY = 5;

function readU32Leb(bytes: Uint8Array, pos: number): [value: number, next: number] {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    const b = bytes[pos + i];
    if (b === undefined) throw new ModuleInvalidError('truncated LEB128 in module');
    result |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result >>> 0, pos + i + 1];
    shift += 7;
  }
  throw new ModuleInvalidError('LEB128 longer than 5 bytes in module');
}

function writeU32Leb(value: number, out: number[]): void {
  let v = value >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

export interface MemoryLimitResult {
  /** The module bytes to compile (the input itself when nothing needed to change). */
  readonly bytes: Uint8Array;
  /** Initial pages of each defined memory, for reporting. */
  readonly initialPages: readonly number[];
}

/**
 * Caps every defined memory's maximum at `maxPages`; refuses modules that need more than that to start. With
 * `shared`, the memories are also declared shared, so their buffer is a SharedArrayBuffer another thread can write
 * (staged input, staged-input.ts); the code is unchanged, and V8 enforces the same maximum.
 */
export function limitModuleMemory(bytes: Uint8Array, maxPages: number, shared = false): MemoryLimitResult {
  if (bytes.length < 8 || MAGIC.some((m, i) => bytes[i] !== m)) {
    throw new ModuleInvalidError('not a WebAssembly module (bad magic)');
  }
  let pos = 8;
  while (pos < bytes.length) {
    const id = bytes[pos]!;
    const [size, contentStart] = readU32Leb(bytes, pos + 1);
    const contentEnd = contentStart + size;
    if (contentEnd > bytes.length) throw new ModuleInvalidError('section runs past the end of the module');
    if (id === SECTION_MEMORY) {
      const { content, initialPages } = rewriteMemorySection(bytes.subarray(contentStart, contentEnd), maxPages, shared);
      const header: number[] = [SECTION_MEMORY];
      writeU32Leb(content.length, header);
      const out = new Uint8Array(pos + header.length + content.length + (bytes.length - contentEnd));
      out.set(bytes.subarray(0, pos), 0);
      out.set(header, pos);
      out.set(content, pos + header.length);
      out.set(bytes.subarray(contentEnd), pos + header.length + content.length);
      return { bytes: out, initialPages };
    }
    pos = contentEnd;
  }
  return { bytes, initialPages: [] };
}

function rewriteMemorySection(section: Uint8Array, maxPages: number, shared: boolean): { content: Uint8Array; initialPages: number[] } {
  const out: number[] = [];
  const initialPages: number[] = [];
  let [count, pos] = readU32Leb(section, 0);
  writeU32Leb(count, out);
  while (count-- > 0) {
    const flags = section[pos++];
    if (flags === undefined) throw new ModuleInvalidError('truncated memory section');
    if (flags & 0x04) throw new ModuleInvalidError('64-bit memories are not supported');
    const [min, afterMin] = readU32Leb(section, pos);
    pos = afterMin;
    let max = maxPages;
    if (flags & 0x01) {
      const [declaredMax, afterMax] = readU32Leb(section, pos);
      pos = afterMax;
      max = Math.min(declaredMax, maxPages);
    }
    if (min > maxPages) {
      throw new PluginMemoryLimitError(
        `module needs ${min} pages of memory at start, over its limit of ${maxPages} pages`,
        { initialPages: min, maxPages },
      );
    }
    initialPages.push(min);
    out.push((flags & 0x02) | (shared ? 0x02 : 0) | 0x01); // keep (or set) the shared bit, always declare a maximum
    writeU32Leb(min, out);
    writeU32Leb(max, out);
  }
  if (pos !== section.length) throw new ModuleInvalidError('trailing bytes in memory section');
  return { content: Uint8Array.from(out), initialPages };
}
