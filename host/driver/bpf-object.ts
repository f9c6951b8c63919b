// The live half of a BPF object: loaded into the kernel from a verified spec, holding program and map file
// descriptors until close(). Map access goes through BpfMap, which knows its key and value sizes.
import { DriverError } from '../errors/index.js';
import type { BpfObjectSpec } from './bpf-object-spec.js';
import { MAP_NAMES, MAP_SIZES, type MapName } from './bpf-contract.js';
import { BPF_ANY, BPF_NOEXIST, type Libbpf, type NativePointer } from './libbpf.js';

/** One map of a loaded (or pinned) object, by its file descriptor. */
export class BpfMap {
  constructor(
    readonly lib: Libbpf,
    readonly name: string,
    readonly fd: number,
    readonly keySize: number,
    /** The value buffer size a lookup needs (for per-CPU maps: stride × possible CPUs). */
    readonly valueBytes: number,
  ) {}

  lookup(key: Uint8Array): Uint8Array | null {
    const value = new Uint8Array(this.valueBytes);
    return this.lib.mapLookup(this.fd, key, value) ? value : null;
  }

  /** Inserts only when absent; false when the key was already there (its value untouched). */
  insert(key: Uint8Array, value: Uint8Array): boolean {
    return this.lib.mapUpdate(this.fd, key, value, BPF_NOEXIST);
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.lib.mapUpdate(this.fd, key, value, BPF_ANY);
  }

  delete(key: Uint8Array): boolean {
    return this.lib.mapDelete(this.fd, key);
  }

  /** Every key, walked with bpf_map_get_next_key (a snapshot as good as the kernel gives while the map changes). */
  keys(): Uint8Array[] {
    const out: Uint8Array[] = [];
    let prev: Uint8Array | null = null;
    for (;;) {
      const next = new Uint8Array(this.keySize);
      if (!this.lib.mapNextKey(this.fd, prev, next)) return out;
      out.push(next);
      prev = next;
    }
  }
}

export class LoadedBpfObject {
  #obj: NativePointer | null;
  /** Kept referenced: libbpf may read the ELF image until the object is closed. */
  readonly #bytes: Uint8Array;

  private constructor(
    readonly lib: Libbpf,
    readonly spec: BpfObjectSpec,
    obj: NativePointer,
  ) {
    this.#obj = obj;
    this.#bytes = spec.bytes;
    void this.#bytes;
  }

  /** Opens the spec's bytes and loads every program and map into the kernel (the verifier runs here). */
  static load(lib: Libbpf, spec: BpfObjectSpec): LoadedBpfObject {
    const obj = lib.objectOpenMem(spec.bytes, 'x0t_xdp');
    try {
      lib.objectLoad(obj);
    } catch (e) {
      lib.objectClose(obj);
      throw e;
    }
    return new LoadedBpfObject(lib, spec, obj);
  }

  #live(): NativePointer {
    if (!this.#obj) throw new DriverError('the BPF object is closed', { call: 'bpf_object', errno: 0 });
    return this.#obj;
  }

  programFd(name: string): number {
    const prog = this.lib.findProgramByName(this.#live(), name);
    if (!prog) throw new DriverError(`the BPF object ${this.spec.path} has no program ${name}`, { call: 'bpf_object__find_program_by_name', errno: 0, program: name });
    return this.lib.programFd(prog);
  }

  mapFd(name: MapName): number {
    const map = this.lib.findMapByName(this.#live(), name);
    if (!map) throw new DriverError(`the BPF object ${this.spec.path} has no map ${name}`, { call: 'bpf_object__find_map_by_name', errno: 0, map: name });
    // A layout that differs from the contract would make every lookup read or write the wrong number of bytes.
    const want = name === 'events' ? null : MAP_SIZES[name];
    const got = this.lib.mapSizes(map);
    if (want && (got.keySize !== want.key || got.valueSize !== want.value)) {
      throw new DriverError(`the BPF object ${this.spec.path} declares map ${name} with key ${got.keySize} B / value ${got.valueSize} B; ` +
        `this host expects ${want.key} B / ${want.value} B (object and host are from different versions)`, {
        call: 'bpf_map__value_size', errno: 0, map: name, keySize: got.keySize, valueSize: got.valueSize,
      });
    }
    return this.lib.mapFd(map);
  }

  /** Every contract map's fd, checking they are all there. */
  mapFds(): Map<MapName, number> {
    return new Map(MAP_NAMES.map((n) => [n, this.mapFd(n)]));
  }

  /** Frees the object: its program and map fds close (pins and links keep what they reference alive). */
  close(): void {
    if (this.#obj) this.lib.objectClose(this.#obj);
    this.#obj = null;
  }
}
