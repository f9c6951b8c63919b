// Join tokens (SPIRE's join-token attestation): a random secret the CA operator hands to a new node out of band.
// Stored only as SHA-256, single use, with an expiry; the store is a file rewritten crash-safely on every change so
// a used token stays used across a restart.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { replaceFileWith } from '../io/durable-file.js';
import { identityError } from './identity-error.js';

const PREFIX = 'x0tjt1.';
const TOKEN = /^x0tjt1\.[A-Za-z0-9_-]{43}$/;

interface Entry { readonly hash: string; readonly expiresAt: number }

const hashOf = (token: string): string => createHash('sha256').update(token).digest('hex');

export class JoinTokenStore {
  readonly #file: string;
  #entries: Entry[];
  private constructor(file: string, entries: Entry[]) {
    this.#file = file;
    this.#entries = entries;
  }

  static async open(file: string): Promise<JoinTokenStore> {
    let entries: Entry[] = [];
    try {
      const json = JSON.parse(await readFile(file, 'utf8')) as { tokens?: unknown };
      if (Array.isArray(json.tokens)) {
        entries = json.tokens.filter((t): t is Entry => typeof t?.hash === 'string' && typeof t?.expiresAt === 'number');
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw identityError('malformed', `cannot read the join-token store ${file}`, { file }, e);
    }
    return new JoinTokenStore(file, entries);
  }

  async #save(): Promise<void> {
    await replaceFileWith(this.#file, `${JSON.stringify({ tokens: this.#entries })}\n`, { mode: 0o600, folderMode: 0o700 });
  }

  /** A new token valid for ttlMs from nowMs; only its hash is kept. */
  async create(ttlMs: number, nowMs: number): Promise<{ token: string; expiresAt: number }> {
    if (!(ttlMs > 0)) throw identityError('token', `a join token TTL must be positive, got ${ttlMs}`);
    const token = PREFIX + randomBytes(32).toString('base64url');
    const expiresAt = nowMs + ttlMs;
    this.#entries = [...this.#entries.filter((e) => e.expiresAt >= nowMs), { hash: hashOf(token), expiresAt }];
    await this.#save();
    return { token, expiresAt };
  }

  /** Throws IdentityError 'token' unless `token` is known and unexpired (does not use it up). */
  check(token: string, nowMs: number): void {
    if (typeof token !== 'string' || !TOKEN.test(token)) throw identityError('token', 'the join token is malformed');
    const e = this.#entries.find((x) => x.hash === hashOf(token));
    if (e === undefined) throw identityError('token', 'the join token is unknown or already used');
    if (nowMs > e.expiresAt) throw identityError('token', 'the join token has expired', { expiresAt: e.expiresAt });
  }

  /** Checks and uses up the token (persisted before returning). */
  async consume(token: string, nowMs: number): Promise<void> {
    this.check(token, nowMs);
    const h = hashOf(token);
    this.#entries = this.#entries.filter((x) => x.hash !== h && x.expiresAt >= nowMs);
    await this.#save();
  }

  /** Tokens still outstanding (unused, unexpired). */
  outstanding(nowMs: number): number {
    return this.#entries.filter((e) => e.expiresAt >= nowMs).length;
  }
}
