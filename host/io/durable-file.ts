// Replacing a file so that a crash leaves either the previous complete file or the new one, never a torn one: the
// bytes go to a temp file in the same folder (`<file>.tmp-<pid>`), which is fsynced and renamed over the
// file, and then the folder is fsynced (the rename is durable only once the folder is). Key files, the quarantine
// list, the knowledge base, saved indexes and SPIFFE state all go through here.
import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { IoError } from '../errors/index.js';

export interface DurableWriteOptions {
  /** File mode of the new file (default 0o644); a secret is 0o600 whatever the umask. */
  readonly mode?: number;
  /** What the file is, for error messages ("quarantine file", "key file"); default "file". */
  readonly what?: string;
  /** Create the folder when it is absent (default true). */
  readonly createFolder?: boolean;
  /** Mode of a folder created here (default 0o777 less the umask); 0o700 for folders that hold secrets. */
  readonly folderMode?: number;
}

/** The temp file this process writes `path` through. */
export function tempName(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** Whether process `pid` is alive (a temp file of a live writer must not be removed). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `<path>.tmp-<pid>` files left by writers that died mid-write (large files are worth the sweep). */
export async function removeStaleTemps(path: string): Promise<void> {
  const prefix = `${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    if (Number.isSafeInteger(pid) && pid !== process.pid && !alive(pid)) await rm(join(dirname(path), name), { force: true });
  }
}

function ioError(verb: string, what: string, path: string, e: unknown): IoError {
  if (e instanceof IoError) return e;
  const code = (e as NodeJS.ErrnoException).code ?? null;
  return new IoError(`cannot ${verb} ${what} ${path}: ${code ?? (e as Error).message}`, { path, code }, { cause: e });
}

/**
 * Replaces `path` with what `write` puts into the open temp file (positioned writes are fine: headers written last).
 * IoError (details `{path, code}`) on failure, with the previous file left as it was and the temp file removed.
 */
export function replaceFile(path: string, write: (file: FileHandle) => Promise<void>, opts: DurableWriteOptions = {}): Promise<void> {
  // Writes of one path from this process take turns: they share the temp name, and the last one started wins.
  const key = resolve(path);
  const previous = writesInFlight.get(key) ?? Promise.resolve();
  const mine = previous.then(() => replaceNow(path, write, opts));
  const settled = mine.then(() => undefined, () => undefined);
  writesInFlight.set(key, settled);
  void settled.then(() => {
    if (writesInFlight.get(key) === settled) writesInFlight.delete(key);
  });
  return mine;
}

/** Path → the settling of the last write queued for it. */
const writesInFlight = new Map<string, Promise<void>>();

async function replaceNow(path: string, write: (file: FileHandle) => Promise<void>, opts: DurableWriteOptions): Promise<void> {
  const what = opts.what ?? 'file';
  const tmp = tempName(path);
  try {
    if (opts.createFolder !== false) await mkdir(dirname(path), { recursive: true, mode: opts.folderMode ?? 0o777 });
    const mode = opts.mode ?? 0o644;
    const fh = await open(tmp, 'w', mode);
    try {
      await fh.chmod(mode); // the umask may have taken bits off; a secret stays exactly 0600
      await write(fh);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw ioError('write', what, path, e);
  }
  await syncFolder(dirname(path), what, path);
}

/** Replaces `path` with `data` (text is written as UTF-8). */
export function replaceFileWith(path: string, data: Uint8Array | string, opts: DurableWriteOptions = {}): Promise<void> {
  return replaceFile(path, async (fh) => {
    await fh.writeFile(data);
  }, opts);
}

/** The synchronous form, for callers that must answer only once the file is durable and cannot await. */
export function replaceFileWithSync(path: string, data: Uint8Array | string, opts: DurableWriteOptions = {}): void {
  const what = opts.what ?? 'file';
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = tempName(path);
  try {
    if (opts.createFolder !== false) mkdirSync(dirname(path), { recursive: true, mode: opts.folderMode ?? 0o777 });
    const mode = opts.mode ?? 0o644;
    const fd = openSync(tmp, 'w', mode);
    try {
      fchmodSync(fd, mode);
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      /* not ours to remove (a folder by that name); the write's failure is the one to report */
    }
    throw ioError('write', what, path, e);
  }
  let dirFd: number;
  try {
    dirFd = openSync(dirname(path), 'r');
  } catch {
    return; // a folder that cannot be opened for reading (Windows) keeps the rename atomic all the same
  }
  try {
    fsyncSync(dirFd);
  } catch (e) {
    throw ioError('sync the folder of', what, path, e);
  } finally {
    closeSync(dirFd);
  }
}

async function syncFolder(dir: string, what: string, path: string): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await open(dir, 'r');
  } catch {
    return; // see replaceFileWithSync
  }
  try {
    await fh.sync();
  } catch (e) {
    throw ioError('sync the folder of', what, path, e);
  } finally {
    await fh.close();
  }
}
