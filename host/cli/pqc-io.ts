// Shared by the `x0t pqc …` commands: how byte-valued inputs are read (hex on the command line, or a file), how
// results are printed (`name: hex` lines, bare hex, JSON, or files in --out-dir), and opening the PQC plugins.
import { InvalidArgumentError, type Command } from 'commander';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { openKemPlugin, openSignerPlugin, type KemPlugin, type SignerPlugin } from '../crypto/pqc-suite.js';
import { IoError } from '../errors/index.js';
import { printJson, printLine, readStdin } from './output.js';

const HEX = /^[0-9a-fA-F]*$/;

/** Whether `s` is hex under the CLI's rule: only hex digits, even length ('' is the empty byte string). */
export function isHex(s: string): boolean {
  return HEX.test(s) && s.length % 2 === 0;
}

export function fromHex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** The rule, as printed at the end of every `x0t pqc` command's --help. */
export const INPUT_RULE = `
Byte inputs (--pk, --sk, --ct, --msg, --sig):
  HEX       a value of only hex digits, of even length, is the bytes it spells ('' is empty);
  FILE      anything else is a file path ('-' reads stdin). A file (or stdin) whose whole content is
            even-length hex, leading and trailing spaces, tabs and newlines aside, is decoded as hex;
            any other content is used byte for byte;
  raw:FILE  the file's bytes as they are, never hex-decoded (a message that happens to look like hex;
            raw:- for stdin).
  Name a file that looks like hex with a path, e.g. ./cafe.
Options --seed, --randomness and --context take hex only.
Output: one 'name: hex' line per value, or only the hex when there is a single value; --json prints one
object with every value as a hex string; --out-dir DIR writes each value to DIR/<name> as raw bytes
(sk and ss with mode 0600; existing files only with --force) and prints the paths instead.
Exit codes: 0 ok (verify: valid), 1 invalid signature, 2 usage, 4 I/O, 7 wrong-length or rejected key/input.`;

function decodeContent(content: Uint8Array): Uint8Array {
  const text = Buffer.from(content).toString('latin1').replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  return text.length > 0 && isHex(text) ? fromHex(text) : content;
}

async function readBytes(path: string, what: string): Promise<Uint8Array> {
  if (path === '-') return readStdin();
  try {
    return new Uint8Array(await readFile(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? null;
    throw new IoError(`cannot read ${what} from file ${path}: ${code ?? (e as Error).message}` +
      (HEX.test(path) ? ' (odd-length hex is taken as a file path)' : ''), { path, what, code }, { cause: e });
  }
}

/** Reads a byte-valued input under INPUT_RULE; `what` names the option in errors (e.g. '--pk'). */
export async function readByteInput(value: string, what: string): Promise<Uint8Array> {
  if (isHex(value)) return fromHex(value);
  if (value.startsWith('raw:')) return readBytes(value.slice(4), what);
  return decodeContent(await readBytes(value, what));
}

/** A commander parser for hex-only options; a bad value is a usage error (exit 2). */
export function hexOption(what: string): (value: string) => Uint8Array {
  return (value: string) => {
    if (!isHex(value)) throw new InvalidArgumentError(`${what} must be hex (an even number of 0-9a-f digits)`);
    return fromHex(value);
  };
}

export interface OutputOptions {
  json?: boolean;
  outDir?: string;
  force?: boolean;
}

/** Adds --out-dir and --force to a command that outputs key material. */
export function withOutDir(cmd: Command): Command {
  return cmd
    .option('--out-dir <dir>', 'write each value to <dir>/<name> as raw bytes instead of printing it')
    .option('--force', 'with --out-dir: overwrite existing files');
}

/** Names whose values are secret: written with mode 0600. */
const SECRET = new Set(['sk', 'ss']);

/**
 * Prints the named values: a single one as bare hex, several as `name: hex` lines; --json as one object of hex
 * strings (plus `algorithm`); with --out-dir, writes raw files and prints `name: path` lines (or {files}).
 */
export async function emit(algorithm: string, values: Readonly<Record<string, Uint8Array>>, opts: OutputOptions): Promise<void> {
  const names = Object.keys(values);
  if (opts.outDir !== undefined) {
    const dir = resolve(opts.outDir);
    const files: Record<string, string> = {};
    try {
      await mkdir(dir, { recursive: true });
      for (const name of names) {
        const file = join(dir, name);
        await writeFile(file, values[name]!, { mode: SECRET.has(name) ? 0o600 : 0o644, flag: opts.force === true ? 'w' : 'wx' });
        files[name] = file;
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? null;
      const path = (e as NodeJS.ErrnoException).path ?? dir;
      throw new IoError(`cannot write ${path}: ${code ?? (e as Error).message}${code === 'EEXIST' ? ' (use --force to overwrite)' : ''}`, {
        path, code,
      }, { cause: e });
    }
    if (opts.json) printJson({ algorithm, files });
    else for (const name of names) printLine(`${name}: ${files[name]}`);
    return;
  }
  if (opts.json) {
    printJson({ algorithm, ...Object.fromEntries(names.map((n) => [n, toHex(values[n]!)])) });
  } else if (names.length === 1) {
    printLine(toHex(values[names[0]!]!));
  } else {
    for (const name of names) printLine(`${name}: ${toHex(values[name]!)}`);
  }
}

async function using<P extends { close(): Promise<void> }, T>(open: () => Promise<P>, f: (p: P) => Promise<T>): Promise<T> {
  const p = await open();
  try {
    return await f(p);
  } finally {
    await p.close();
  }
}

/**
 * Opens only the plugin a command needs (the shipped ML-KEM-768 or ML-DSA-65: hash-checked, self-tested,
 * worker-isolated, as in a node), runs `f` and always closes it.
 */
export const withKemPlugin = <T>(f: (p: KemPlugin) => Promise<T>): Promise<T> => using(() => openKemPlugin(), f);
export const withSignerPlugin = <T>(f: (p: SignerPlugin) => Promise<T>): Promise<T> => using(() => openSignerPlugin(), f);
