// Builds the XDP object bpf/x0t_xdp.o from bpf/x0t_xdp.c and pins it in bpf/x0t_xdp.json.
//
//   node dist/sdk/tools/build-bpf.js            build bpf/x0t_xdp.o and write the pin
//   node dist/sdk/tools/build-bpf.js --check    build into a temporary folder; exit 6 (X0T_BUILD_FAILED) if the
//                                               result differs from the committed object or its pin
//
// Reproducibility: clang runs with the repository root as its working directory, a relative source path and
// -fdebug-prefix-map, only UAPI headers (linux-libc-dev, libbpf-dev) and no vmlinux.h, so nothing depends on the
// checkout location or the running kernel. DWARF is then removed with `llvm-strip -g`; .BTF and .BTF.ext (which
// the loader needs for map definitions and line info) stay. The same clang gives the same bytes; the pin records
// the compiler so a mismatch says why. `$X0T_BPF_CLANG` / `$X0T_BPF_STRIP` override the tools (default `clang` and
// the llvm-strip of that clang's LLVM installation).
//
// The pin (bpf/x0t_xdp.json) is what the host checks before loading: { sha256, size, programs, maps, compiler }.
// Program and map names are read from the object's ELF symbol table, so the pin also documents the contract.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BuildFailedError } from '../abi/errors.js';

export const BPF_SOURCE = 'bpf/x0t_xdp.c';
export const BPF_OBJECT = 'bpf/x0t_xdp.o';
export const BPF_PIN = 'bpf/x0t_xdp.json';

export interface BpfPin {
  readonly object: string;
  readonly sha256: string;
  readonly size: number;
  /** XDP programs (functions in the `xdp` section), sorted. */
  readonly programs: readonly string[];
  /** Maps (symbols in `.maps`), sorted. */
  readonly maps: readonly string[];
  /** First line of `clang --version`: a different compiler may give different bytes. */
  readonly compiler: string;
}

function repositoryRoot(): string {
  // dist/sdk/tools/build-bpf.js → repository root three levels up.
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

function run(cmd: string, args: readonly string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; code?: string };
    if (err.code === 'ENOENT') throw new BuildFailedError(`${cmd} not found (install clang and llvm: Debian clang-14, llvm-14)`, { tool: cmd });
    throw new BuildFailedError(`${cmd} failed: ${(err.stderr ?? String(e)).trim()}`, { tool: cmd });
  }
}

/** The multiarch include folder holding asm/types.h (linux-libc-dev), e.g. /usr/include/x86_64-linux-gnu. */
function asmIncludeDir(clang: string, root: string): string {
  const candidates: string[] = [];
  try {
    const triple = run(clang, ['-print-multiarch'], root).trim(); // Debian's clang 14 knows it; clang 19 does not
    if (triple !== '') candidates.push(`/usr/include/${triple}`);
  } catch {
    // fall through to the folders that exist
  }
  const archDirs = existsSync('/usr/include') ? readdirSync('/usr/include').filter((d) => /-linux-gnu/.test(d)).sort() : [];
  candidates.push(...archDirs.map((d) => `/usr/include/${d}`), '/usr/include');
  const dir = candidates.find((d) => existsSync(join(d, 'asm', 'types.h')));
  if (dir === undefined) throw new BuildFailedError('asm/types.h not found: install linux-libc-dev', { tool: 'linux-libc-dev' });
  return dir;
}

/** The llvm-strip of clang's own LLVM (/usr/lib/llvm-14/bin), so a newer default llvm-strip cannot change the bytes. */
function stripBesideClang(clang: string): string {
  const dirs = clang.includes('/') ? [dirname(clang)] : (process.env['PATH'] ?? '').split(':').filter((d) => d !== '');
  for (const d of dirs) {
    const p = join(d, clang.includes('/') ? basename(clang) : clang);
    if (!existsSync(p)) continue;
    const beside = join(dirname(realpathSync(p)), 'llvm-strip');
    return existsSync(beside) ? beside : 'llvm-strip';
  }
  return 'llvm-strip';
}

/** Compiles the source to `out` (absolute path), strips DWARF. The output path never lands in the object. */
function compile(root: string, out: string, clang: string, strip: string): void {
  // libbpf-dev provides bpf/bpf_helpers.h; fail with a useful message rather than a compiler error.
  if (!existsSync('/usr/include/bpf/bpf_helpers.h')) throw new BuildFailedError('bpf/bpf_helpers.h not found: install libbpf-dev', { tool: 'libbpf-dev' });
  run(clang, [
    '-O2', '-g', '-target', 'bpf',
    '-Wall', '-Werror',
    `-fdebug-prefix-map=${root}=.`,
    '-fno-ident',
    '-I', asmIncludeDir(clang, root),
    '-c', BPF_SOURCE, '-o', out,
  ], root);
  run(strip, ['-g', out], root);
}

// Minimal ELF64 little-endian reader: section headers and the symbol table, enough to list programs and maps.
interface Section { readonly name: string; readonly type: number; readonly offset: number; readonly size: number; readonly link: number; readonly entsize: number }

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString('latin1', at, end < 0 ? buf.length : end);
}

function elfSections(buf: Buffer): Section[] {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) {
    throw new BuildFailedError('bpf object is not a little-endian ELF64 file', { file: BPF_OBJECT });
  }
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const shstrndx = buf.readUInt16LE(0x3e);
  const raw = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    raw.push({
      nameOff: buf.readUInt32LE(o), type: buf.readUInt32LE(o + 4),
      offset: Number(buf.readBigUInt64LE(o + 0x18)), size: Number(buf.readBigUInt64LE(o + 0x20)),
      link: buf.readUInt32LE(o + 0x28), entsize: Number(buf.readBigUInt64LE(o + 0x38)),
    });
  }
  const strtab = raw[shstrndx];
  if (strtab === undefined) throw new BuildFailedError('bpf object has no section name table', { file: BPF_OBJECT });
  return raw.map((s) => ({ name: cString(buf, strtab.offset + s.nameOff), type: s.type, offset: s.offset, size: s.size, link: s.link, entsize: s.entsize }));
}

/** Global symbols by the name of the section they are defined in. */
function symbolsBySection(buf: Buffer): Map<string, string[]> {
  const SHT_SYMTAB = 2;
  const STB_GLOBAL = 1;
  const sections = elfSections(buf);
  const symtab = sections.find((s) => s.type === SHT_SYMTAB);
  const names = symtab === undefined ? undefined : sections[symtab.link];
  const out = new Map<string, string[]>();
  if (symtab === undefined || names === undefined) return out;
  for (let o = symtab.offset; o + 24 <= symtab.offset + symtab.size; o += symtab.entsize || 24) {
    const info = buf[o + 4]!;
    const shndx = buf.readUInt16LE(o + 6);
    if (info >> 4 !== STB_GLOBAL) continue;
    const section = sections[shndx];
    if (section === undefined) continue;
    const list = out.get(section.name) ?? [];
    list.push(cString(buf, names.offset + buf.readUInt32LE(o)));
    out.set(section.name, list);
  }
  return out;
}

export function pinFor(object: Buffer, compiler: string): BpfPin {
  const symbols = symbolsBySection(object);
  return {
    object: BPF_OBJECT,
    sha256: createHash('sha256').update(object).digest('hex'),
    size: object.length,
    programs: [...(symbols.get('xdp') ?? [])].sort(),
    maps: [...(symbols.get('.maps') ?? [])].sort(),
    compiler,
  };
}

function pinText(pin: BpfPin): string {
  return `${JSON.stringify(pin, null, 2)}\n`;
}

export interface BpfBuildResult { readonly pin: BpfPin; readonly differences: readonly string[] }

/** Builds the object; in check mode compares with the committed object and pin instead of writing them. */
export function buildBpf(opts: { readonly root: string; readonly check: boolean }): BpfBuildResult {
  const { root, check } = opts;
  const clang = process.env['X0T_BPF_CLANG'] ?? 'clang';
  const strip = process.env['X0T_BPF_STRIP'] ?? stripBesideClang(clang);
  const compiler = (run(clang, ['--version'], root).split('\n')[0] ?? '').trim();
  const tmp = mkdtempSync(join(tmpdir(), 'x0t-bpf-'));
  try {
    const out = join(tmp, 'x0t_xdp.o');
    compile(root, out, clang, strip);
    const object = readFileSync(out);
    const pin = pinFor(object, compiler);
    if (!check) {
      writeFileSync(join(root, BPF_OBJECT), object);
      writeFileSync(join(root, BPF_PIN), pinText(pin));
      return { pin, differences: [] };
    }
    const differences: string[] = [];
    const objPath = join(root, BPF_OBJECT);
    const pinPath = join(root, BPF_PIN);
    let committedPin: string | undefined;
    if (!existsSync(pinPath)) differences.push(`${BPF_PIN} is missing`);
    else {
      committedPin = readFileSync(pinPath, 'utf8');
      let was: Partial<BpfPin> = {};
      try { was = JSON.parse(committedPin) as Partial<BpfPin>; } catch { /* reported below as a plain difference */ }
      if (was.compiler !== undefined && was.compiler !== compiler) differences.push(`${BPF_PIN} was made with "${was.compiler}", this build uses "${compiler}" (a different compiler gives different bytes)`);
    }
    if (!existsSync(objPath)) differences.push(`${BPF_OBJECT} is missing`);
    else if (!readFileSync(objPath).equals(object)) differences.push(`${BPF_OBJECT} differs from a fresh build (sha256 ${pin.sha256})`);
    if (committedPin !== undefined && committedPin !== pinText(pin)) differences.push(`${BPF_PIN} differs from a fresh build`);
    return { pin, differences };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function main(argv: readonly string[]): number {
  const check = argv.includes('--check');
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(`build-bpf: unknown option ${unknown[0]}\nusage: build-bpf [--check]\n`);
    return 2;
  }
  try {
    const { pin, differences } = buildBpf({ root: repositoryRoot(), check });
    if (differences.length > 0) {
      for (const d of differences) process.stderr.write(`build-bpf: ${d}\n`);
      process.stderr.write('build-bpf: run `npm run build:bpf` and commit bpf/x0t_xdp.o and bpf/x0t_xdp.json\n');
      return new BuildFailedError('bpf object not reproducible').exitCode;
    }
    process.stdout.write(`build-bpf: ${check ? 'ok, identical' : 'wrote'} ${pin.object} ${pin.size} bytes sha256 ${pin.sha256}\n`);
    process.stdout.write(`build-bpf: programs ${pin.programs.join(', ')}; maps ${pin.maps.join(', ')}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`build-bpf: ${(e as Error).message}\n`);
    return e instanceof BuildFailedError ? e.exitCode : 1;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
