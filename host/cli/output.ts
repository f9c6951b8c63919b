// Shared by the command files: how the CLI prints results and errors, reads inputs, and parses option values.
// host/cli is the only layer that writes to stdout/stderr or decides the exit code.
import { InvalidArgumentError, type Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { asX0tError, IoError, UsageError } from '../errors/index.js';

/** Whether the running command asked for JSON; set by main before each action, guessed from argv before that. */
export const cliState = { json: process.argv.includes('--json') };

/** Adds the `--json` flag every command has. */
export function withJson(cmd: Command): Command {
  return cmd.option('--json', 'print one JSON object instead of text');
}

export function printLine(text = ''): void {
  process.stdout.write(text + '\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(safeJson(value) + '\n');
}

/** Writes raw bytes to stdout and resolves once they are handed to the OS. */
export function writeRaw(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(bytes, (e) => (e ? reject(e) : resolve()));
  });
}

/** A line to stderr (diagnostics and progress in text mode; never mixed into a command's stdout result). */
export function printErrLine(text: string): void {
  process.stderr.write(text + '\n');
}

/** JSON that survives bigint and cyclic values in error details. */
export function safeJson(value: unknown, indent?: number): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v.toString();
    if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
    if (typeof v === 'object' && v !== null) {
      if (seen.has(v)) return '[cycle]';
      seen.add(v);
    }
    return v;
  }, indent);
}

/** Prints an error the way every command does and returns the exit code to use. */
export function reportError(e: unknown, json = cliState.json): number {
  const err = asX0tError(e);
  if (json) process.stderr.write(safeJson({ error: err.toJSON() }) + '\n');
  else process.stderr.write(`x0t: ${err.code}: ${err.message}\n`);
  return err.exitCode;
}

/** Resolves once everything written to stdout and stderr so far has been handed to the OS. */
export async function flushOutput(): Promise<void> {
  await Promise.all([process.stdout, process.stderr].map((s) => new Promise<void>((r) => s.write('', () => r()))));
}

/** Left-aligned text columns separated by two spaces. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** An option parser for integers in [min, max]; commander turns the throw into a usage error. */
export function intOption(min: number, max: number): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    const n = Number(value.trim());
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

export async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return new Uint8Array(Buffer.concat(chunks));
}

/** `--input TEXT` (UTF-8) or `--input-file FILE` (`-` for stdin); empty input when neither is given. */
export async function readInput(opts: { input?: string; inputFile?: string }): Promise<Uint8Array> {
  if (opts.input !== undefined && opts.inputFile !== undefined) {
    throw new UsageError('give either --input or --input-file, not both', { path: '--input' });
  }
  if (opts.input !== undefined) return new TextEncoder().encode(opts.input);
  if (opts.inputFile === undefined) return new Uint8Array(0);
  if (opts.inputFile === '-') return readStdin();
  try {
    return new Uint8Array(await readFile(opts.inputFile));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? null;
    throw new IoError(`cannot read input file ${opts.inputFile}: ${code ?? (e as Error).message}`, {
      path: opts.inputFile, code,
    }, { cause: e });
  }
}

export function formatMs(ms: number | null): string {
  if (ms === null) return '-';
  return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0);
}
