// Where the driver pins what must outlive a crash: a PRIVATE bpffs (its own mount, not /sys/fs/bpf shared with every
// other BPF user) at /run/x0tta6bl4/bpf by default, mounted once (an existing bpffs mount there is reused), with
// one directory per interface holding the link, the program and the maps:
//
//   <pinRoot>/<ifname>@<netns inode>/{link, prog, and every map of the contract: MAP_NAMES in bpf-contract.ts}
//
// The network namespace's inode is part of the name because interface names are per namespace while a bpffs mount
// is per mount namespace: two nodes in two namespaces may both drive an `eth0`.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statfsSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UnsupportedError } from '../errors/index.js';
import { MAP_NAMES } from './bpf-contract.js';

export const DEFAULT_PIN_ROOT = '/run/x0tta6bl4/bpf';
/** statfs f_type of a bpffs (linux/magic.h BPF_FS_MAGIC). */
export const BPF_FS_MAGIC = 0xcafe4a11;
export const PIN_LINK = 'link';
export const PIN_PROG = 'prog';
/** Every name the driver pins in an interface directory. */
export const PIN_NAMES: readonly string[] = [PIN_LINK, PIN_PROG, ...MAP_NAMES];

/** The inode of this process's network namespace (stable for the namespace's lifetime). */
export function netnsInode(): number {
  return statSync('/proc/self/ns/net').ino;
}

/**
 * The per-interface pin directory. bpffs refuses names containing `.` (EPERM) while interface names may hold one
 * (VLAN devices: eth0.100), so `%` and `.` are percent-encoded; `/` cannot occur (the kernel refuses it in names).
 */
export function interfacePinDir(pinRoot: string, ifname: string, netns: number): string {
  return join(pinRoot, `${ifname.replace(/%/g, '%25').replace(/\./g, '%2e')}@${netns}`);
}

export function isBpffs(path: string): boolean {
  try {
    return statfsSync(path).type === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Makes `pinRoot` a bpffs: creates the directory if absent and mounts a fresh bpffs there unless one is mounted
 * already. Returns true when this call mounted it. UnsupportedError (reason 'no-bpffs') when it cannot.
 */
export function ensureBpffs(pinRoot: string): boolean {
  if (isBpffs(pinRoot)) return false;
  try {
    makeDirs(pinRoot);
    execFileSync('mount', ['-t', 'bpf', '-o', 'mode=700', 'x0tta6bl4-bpf', pinRoot], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? '').trim();
    throw new UnsupportedError(`cannot mount a bpffs at ${pinRoot}: ${stderr || (e as Error).message}`, { reason: 'no-bpffs', path: pinRoot }, { cause: e });
  }
  if (!isBpffs(pinRoot)) throw new UnsupportedError(`${pinRoot} is not a bpffs after mounting one`, { reason: 'no-bpffs', path: pinRoot });
  return true;
}

/**
 * `mkdir -p`, one level at a time: Node 20's recursive mkdirSync never returns for a path under /proc (it retries
 * the EEXIST/ENOENT it gets there forever), and a manifest's pinRoot is operator input.
 */
function makeDirs(path: string): void {
  const missing: string[] = [];
  for (let p = resolve(path); !existsSync(p); p = dirname(p)) {
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing.reverse()) mkdirSync(p, { mode: 0o700 });
}

/** What an interface directory holds, when it exists (names of pinned objects). */
export function listPins(dir: string): string[] | null {
  if (!existsSync(dir)) return null;
  return readdirSync(dir).sort();
}

/** Unpins everything in an interface directory and removes it; returns what was removed. */
export function removePinDir(dir: string): string[] {
  const names = listPins(dir);
  if (names === null) return [];
  for (const n of names) unlinkSync(join(dir, n));
  rmdirSync(dir);
  return names;
}
