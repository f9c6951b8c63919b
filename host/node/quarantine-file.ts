// The node's quarantine list on disk (manifest `driver.quarantineFile`), so that an operator's quarantine outlives a
// graceful restart (the XDP driver removes its pins on a clean stop; the user-space driver keeps nothing). The text is
// canonical: `{ "version": 1, "addresses": [...] }`, addresses in the drivers' canonical form (dotted quad, RFC 5952),
// deduplicated, IPv4 before IPv6 and each in byte order, two-space JSON and a final newline; drop counts are not kept.
//
// Reading is strict: anything but an absent file or a well-formed version-1 list is an IoError naming the file (and the
// offending field), because starting with an empty quarantine would silently release every peer the operator shut out.
// Writing is crash-safe (host/io/durable-file.ts): after a crash the file holds the previous complete list or the new one.
// The write is synchronous on purpose: the admin API answers a quarantine change only once it is durable, its callers
// are synchronous, and the file is small (at most a few thousand short lines) and changed only by operators.
import { readFile } from 'node:fs/promises';
import { IoError, UsageError } from '../errors/index.js';
import { replaceFileWithSync } from '../io/durable-file.js';
import { compareAddressKeys, encodeAddress } from '../driver/ip-address.js';
import { normalizeAddress } from '../driver/userspace-driver.js';

export const QUARANTINE_FILE_VERSION = 1;
/** Far above any real list (the kernel maps hold 4096 addresses per family), small enough to read at once. */
export const MAX_QUARANTINE_FILE_BYTES = 4 * 1024 * 1024;

/** The file's JSON shape. */
export interface QuarantineFileV1 {
  readonly version: 1;
  readonly addresses: readonly string[];
}

function unusable(path: string, field: string, reason: string, cause?: unknown): IoError {
  const where = field === '' ? '' : ` (${field})`;
  return new IoError(
    `quarantine file ${path} is unusable${where}: ${reason}; fix it, or remove it to start with an empty quarantine`,
    { path, field, reason },
    cause === undefined ? undefined : { cause },
  );
}

/** Canonical addresses, deduplicated and in the drivers' listing order (IPv4 first, then by bytes). */
export function sortAddresses(addresses: Iterable<string>): string[] {
  return [...new Set(addresses)]
    .map((address) => ({ address, key: encodeAddress(address) }))
    .sort((a, b) => compareAddressKeys(a.key, b.key))
    .map((a) => a.address);
}

/**
 * Parses the file's text into canonical addresses (sorted, deduplicated; any valid IPv4/IPv6 text form is accepted and
 * normalised as the admin API does). IoError (details `{path, field, reason}`) for anything else.
 */
export function parseQuarantineFile(text: string, path: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw unusable(path, '', `not JSON (${(e as Error).message})`, e);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw unusable(path, '', 'not a JSON object');
  const o = json as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key !== 'version' && key !== 'addresses') throw unusable(path, key, 'unknown field (a file holds only version and addresses)');
  }
  if (!Object.hasOwn(o, 'version')) throw unusable(path, 'version', 'missing');
  if (o['version'] !== QUARANTINE_FILE_VERSION) {
    throw unusable(path, 'version', `version ${JSON.stringify(o['version'])} is not supported (this node reads version ${QUARANTINE_FILE_VERSION})`);
  }
  const list = o['addresses'];
  if (!Array.isArray(list)) throw unusable(path, 'addresses', list === undefined ? 'missing' : 'not an array');
  const canonical = list.map((item: unknown, i) => {
    const field = `addresses[${i}]`;
    if (typeof item !== 'string') throw unusable(path, field, `${JSON.stringify(item)} is not a string`);
    try {
      return normalizeAddress(item, field).address;
    } catch (e) {
      if (e instanceof UsageError) throw unusable(path, field, `${JSON.stringify(item)} is not an IPv4 or IPv6 address`, e);
      throw e;
    }
  });
  return sortAddresses(canonical);
}

/** The canonical text of a list of canonical addresses. */
export function formatQuarantineFile(addresses: Iterable<string>): string {
  const body: QuarantineFileV1 = { version: QUARANTINE_FILE_VERSION, addresses: sortAddresses(addresses) };
  return JSON.stringify(body, null, 2) + '\n';
}

/** The file's addresses; `null` when there is no file. IoError when it cannot be read or is not a version-1 list. */
export async function readQuarantineFile(path: string): Promise<string[] | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new IoError(`cannot read quarantine file ${path}: ${code ?? (e as Error).message}`, { path, code: code ?? null }, { cause: e });
  }
  if (bytes.length > MAX_QUARANTINE_FILE_BYTES) throw unusable(path, '', `${bytes.length} bytes, more than ${MAX_QUARANTINE_FILE_BYTES}`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    throw unusable(path, '', 'not UTF-8 text', e);
  }
  return parseQuarantineFile(text, path);
}

/**
 * Replaces the file with the canonical text of `addresses`, crash-safely (temp file in the same folder, fsync,
 * rename, fsync of the folder); the folder is created when absent. IoError (details `{path, code}`) on failure, with
 * the previous file left as it was.
 */
export function writeQuarantineFile(path: string, addresses: Iterable<string>): void {
  replaceFileWithSync(path, formatQuarantineFile(addresses), { what: 'quarantine file' });
}
