// The knowledge base a running node holds (node manifest `knowledge`): opened after the slots, fed by the configured
// ingest in the background once the admin API is up, searched by the admin API and the demo, closed on shutdown.
// Nothing here can crash the node: a failure to open or ingest leaves the node running without a knowledge base,
// with the reason in status() and in one `kb` event.
import type { KnowledgeSpec } from '../core/manifest/node-spec.js';
import { asX0tError, KbConfigError, UsageError, type X0tError } from '../errors/index.js';
import type { IngestProgress, IngestReport, KbStats, SearchMode, SearchResult } from '../kb/knowledge-base.js';
import { SETUP_COMMAND } from '../kb/model-cache.js';
import { openKnowledgeBase, type OpenedKnowledgeBase } from '../kb/open-knowledge-base.js';

export type KnowledgeState = 'opening' | 'ingesting' | 'ready' | 'failed';

/** What the node tells its log about its knowledge base (see NodeEvent `kb`). */
export type KnowledgeEvent =
  | { readonly kind: 'notice'; readonly message: string }
  | { readonly kind: 'ingesting'; readonly paths: readonly string[]; readonly embedder: string }
  | { readonly kind: 'ready'; readonly stats: KbStats; readonly ingest: IngestReport | null; readonly ms: number }
  | { readonly kind: 'failed'; readonly code: string; readonly message: string };

export interface KnowledgeStatus {
  readonly state: KnowledgeState;
  /** Why the state is `failed` (`CODE: message`); null otherwise. */
  readonly message: string | null;
  /** Fallbacks, rebuilds and ingest problems worth knowing, in order. */
  readonly notices: readonly string[];
  readonly dir: string;
  /** The latest statistics (kept from before an ingest while it runs); null until the knowledge base is open. */
  readonly stats: KbStats | null;
  readonly ingest: {
    readonly paths: readonly string[];
    /** The phase the running ingest is in; null when none runs. */
    readonly progress: IngestProgress | null;
    /** The report of the finished ingest; null before it ends (or when there is nothing to ingest). */
    readonly report: IngestReport | null;
  };
  /** Searches answered since the node started. */
  readonly searches: number;
}

export interface KnowledgeSearch {
  readonly query: string;
  readonly k?: number;
  readonly mode?: SearchMode;
}

/** The body `GET /kb/search` answers with: what `x0t kb search --json` prints. */
export interface KnowledgeSearchResult {
  readonly query: string;
  readonly mode: SearchMode;
  readonly k: number;
  readonly ms: number;
  readonly notices: readonly string[];
  readonly hits: SearchResult['hits'];
}

export const SEARCH_MODES: readonly SearchMode[] = ['vector', 'bm25', 'hybrid'];
export const MAX_SEARCH_K = 100;

/** Thrown by the progress callback to cut an ingest short when the node stops (nothing of it is committed). */
class IngestAborted extends Error {}

/** Thrown by search() while the knowledge base cannot answer; `details.state` says why. */
export function notReady(status: KnowledgeStatus): X0tError {
  const why = status.state === 'failed' ? `failed: ${status.message}` : `${status.state} (try again shortly)`;
  return new KbConfigError(`the node's knowledge base is not ready: ${why}`, { state: status.state, message: status.message });
}

export class NodeKnowledge {
  readonly spec: KnowledgeSpec;
  readonly #emit: (event: KnowledgeEvent) => void;
  #state: KnowledgeState = 'opening';
  #message: string | null = null;
  readonly #notices: string[] = [];
  #stats: KbStats | null = null;
  #progress: IngestProgress | null = null;
  #report: IngestReport | null = null;
  #searches = 0;
  #opened: OpenedKnowledgeBase | null = null;
  #running: Promise<void> | null = null;
  #stopping = false;

  constructor(spec: KnowledgeSpec, emit: (event: KnowledgeEvent) => void = () => undefined) {
    this.spec = spec;
    this.#emit = emit;
  }

  get state(): KnowledgeState {
    return this.#state;
  }

  /** Opens the knowledge base and runs the configured ingest, in the background; call once, after the admin API is up. */
  start(): void {
    this.#running ??= this.#run();
  }

  async #run(): Promise<void> {
    const t0 = performance.now();
    try {
      const opened = await openKnowledgeBase({
        dir: this.spec.dir,
        ...(this.spec.models !== null ? { modelsDir: this.spec.models } : {}),
        embedder: this.spec.embedder,
        index: this.spec.index,
      });
      this.#opened = opened;
      for (const n of opened.notices) this.#notice(n);
      if (opened.kb.embedder.kind === 'lexical' && !opened.notices.some((n) => n.includes('lexical'))) {
        // A knowledge base built with the lexical embedder stays with it (auto) without a word from host/kb: say it.
        const why = this.spec.embedder === 'lexical' ? 'the node manifest asks for it' : 'this knowledge base was built with it';
        this.#notice(`using the lexical embedder ${opened.kb.embedder.id} (${why}), so "vector" ` +
          `search matches words, not meaning; \`${SETUP_COMMAND}\` and \`x0t kb ingest PATH --embedder minilm --reembed\` change that`);
      }
      if (this.#stopping) return;
      this.#stats = await opened.kb.stats();
      if (this.spec.ingest.length > 0) {
        this.#state = 'ingesting';
        this.#emit({ kind: 'ingesting', paths: this.spec.ingest, embedder: opened.kb.embedder.id });
        const report = await opened.kb.ingest(this.spec.ingest, {}, (p) => {
          if (this.#stopping) throw new IngestAborted('the node is stopping');
          this.#progress = p;
        });
        this.#progress = null;
        this.#report = report;
        // The ingest's own notices (fitted weights, re-chunked documents) stay in status(); only a file that could
        // not be ingested is worth a log line.
        this.#notices.push(...report.notices);
        if (report.errors.length > 0) {
          const first = report.errors.slice(0, 3).map((e) => `${e.path}: ${e.message}`).join('; ');
          this.#notice(`ingest: ${report.errors.length} file(s) not ingested (${first}${report.errors.length > 3 ? '; …' : ''})`);
        }
        this.#stats = await opened.kb.stats();
      }
      this.#state = 'ready';
      this.#emit({ kind: 'ready', stats: this.#stats, ingest: this.#report, ms: performance.now() - t0 });
    } catch (e) {
      this.#progress = null;
      if (e instanceof IngestAborted) return;
      const err = asX0tError(e);
      this.#state = 'failed';
      this.#message = `${err.code}: ${err.message}`;
      this.#emit({ kind: 'failed', code: err.code, message: err.message });
      // Whatever an ingest that threw left in memory is not committed; the node goes on without a knowledge base.
      const opened = this.#opened;
      this.#opened = null;
      await opened?.close().catch(() => undefined);
    }
  }

  #notice(message: string): void {
    this.#notices.push(message);
    this.#emit({ kind: 'notice', message });
  }

  status(): KnowledgeStatus {
    return {
      state: this.#state,
      message: this.#message,
      notices: [...this.#notices],
      dir: this.spec.dir,
      stats: this.#stats,
      ingest: { paths: this.spec.ingest, progress: this.#progress, report: this.#report },
      searches: this.#searches,
    };
  }

  /** Searches the knowledge base; KbConfigError (see notReady) unless it is ready, UsageError for bad arguments. */
  async search(req: KnowledgeSearch): Promise<KnowledgeSearchResult> {
    const query = req.query.trim();
    if (query === '') throw new UsageError('the search needs a non-empty query (q)', { path: 'q' });
    const k = req.k ?? 5;
    if (!Number.isInteger(k) || k < 1 || k > MAX_SEARCH_K) {
      throw new UsageError(`k must be an integer from 1 to ${MAX_SEARCH_K}, got ${k}`, { path: 'k', value: k });
    }
    const mode = req.mode ?? 'hybrid';
    if (!SEARCH_MODES.includes(mode)) {
      throw new UsageError(`mode must be one of ${SEARCH_MODES.join(', ')}, got ${JSON.stringify(mode)}`, { path: 'mode', value: mode });
    }
    const opened = this.#opened;
    if (this.#state !== 'ready' || opened === null || this.#stopping) throw notReady(this.status());
    const t0 = performance.now();
    const result = await opened.kb.search(query, { k, mode });
    const ms = performance.now() - t0;
    this.#searches++;
    return {
      query, mode, k, ms: Math.round(ms * 100) / 100, notices: [...opened.notices, ...result.notices], hits: result.hits,
    };
  }

  /** Cuts a running ingest short (nothing of it is committed), waits for it, closes the knowledge base. Idempotent. */
  async close(): Promise<void> {
    this.#stopping = true;
    await this.#running;
    const opened = this.#opened;
    this.#opened = null;
    await opened?.close();
  }
}
