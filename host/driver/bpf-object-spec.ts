// The inert half of a BPF object (cilium/ebpf's habit of keeping a parsed spec apart from the live object): the
// bytes of bpf/x0t_xdp.o read once, their SHA-256 checked against the pin the build writes next to the object
// (bpf/x0t_xdp.json, `sha256`), frozen. Loading (bpf-object.ts) uses these very bytes, so what was checked is what
// the kernel gets. Nothing here touches the kernel.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HashMismatchError, IoError } from '../errors/index.js';

export interface BpfObjectSpec {
  readonly path: string;
  readonly bytes: Uint8Array;
  /** Lower-case hex SHA-256 of `bytes`. */
  readonly sha256: string;
  /** Where the expected hash came from: the pin file's path, or 'option' when the caller gave the hash. */
  readonly verifiedAgainst: string;
  /** Program and map names the pin lists (empty when the hash was given directly). */
  readonly programs: readonly string[];
  readonly maps: readonly string[];
}

/** The shipped object: <repository>/bpf/x0t_xdp.o (this file compiles to dist/host/driver/). */
export function defaultBpfObjectPath(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bpf', 'x0t_xdp.o');
}

/** The pin file of an object: the same name with .json instead of .o (bpf/x0t_xdp.o → bpf/x0t_xdp.json). */
export function pinPathOf(objectPath: string): string {
  return join(dirname(objectPath), `${basename(objectPath).replace(/\.o$/, '')}.json`);
}

interface PinFile {
  readonly sha256: string;
  readonly programs?: readonly string[];
  readonly maps?: readonly string[];
}

function readPin(path: string): PinFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new IoError(`the BPF object's pin ${path} cannot be read: ${(e as Error).message}`, { path }, { cause: e });
  }
  let pin: unknown;
  try {
    pin = JSON.parse(text);
  } catch (e) {
    throw new IoError(`the BPF object's pin ${path} is not JSON`, { path }, { cause: e });
  }
  const p = pin as Partial<PinFile>;
  if (typeof p.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(p.sha256)) throw new IoError(`the BPF object's pin ${path} has no sha256`, { path });
  return { sha256: p.sha256, programs: Array.isArray(p.programs) ? p.programs : [], maps: Array.isArray(p.maps) ? p.maps : [] };
}

/**
 * Reads and verifies a BPF object. `expectedSha256` replaces the pin file (for objects built elsewhere, e.g. by a
 * test). Throws IoError when the object or its pin cannot be read, HashMismatchError when the bytes differ.
 */
export function loadBpfObjectSpec(opts: { readonly path?: string; readonly expectedSha256?: string } = {}): BpfObjectSpec {
  const path = resolve(opts.path ?? defaultBpfObjectPath());
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new IoError(`the BPF object ${path} cannot be read: ${(e as Error).message}`, { path }, { cause: e });
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const pinPath = pinPathOf(path);
  const pin: PinFile = opts.expectedSha256 !== undefined ? { sha256: opts.expectedSha256.toLowerCase() } : readPin(pinPath);
  if (pin.sha256 !== sha256) {
    throw new HashMismatchError(`the BPF object ${path} has SHA-256 ${sha256}, its pin says ${pin.sha256}`, { path, expected: pin.sha256, actual: sha256 });
  }
  return Object.freeze({
    path,
    bytes,
    sha256,
    verifiedAgainst: opts.expectedSha256 !== undefined ? 'option' : pinPath,
    programs: Object.freeze([...(pin.programs ?? [])]),
    maps: Object.freeze([...(pin.maps ?? [])]),
  });
}
