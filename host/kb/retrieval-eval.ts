// Retrieval evaluation on a labelled query set. A relevant entry is `<source>#<heading path joined by " > ">` (a
// section of a markdown file, subsections included), `<source>` alone (the whole file) or `incident:<id>`. A
// retrieved chunk hits an entry when its source matches and its heading path starts with the entry's path.
// recall@k: fraction of a query's entries hit by some chunk in the top k, averaged over queries.
// MRR: mean over queries of 1 / rank of the first chunk that hits any entry (0 when none in the top 10).
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KbConfigError } from '../errors/index.js';

export interface LabelledQuery {
  readonly id: string;
  readonly query: string;
  readonly relevant: readonly string[];
}

export interface RetrievedChunk {
  readonly source: string;
  readonly headingPath: readonly string[];
}

export interface RelevantEntry {
  readonly source: string;
  readonly headingPath: readonly string[];
}

export const MRR_CUTOFF = 10;
export const HEADING_JOIN = ' > ';

export function parseRelevantEntry(entry: string): RelevantEntry {
  if (entry.startsWith('incident:')) return { source: entry, headingPath: [] };
  const hash = entry.indexOf('#');
  if (hash < 0) return { source: entry, headingPath: [] };
  const path = entry.slice(hash + 1);
  return { source: entry.slice(0, hash), headingPath: path.length === 0 ? [] : path.split(HEADING_JOIN).map((s) => s.trim()) };
}

export function chunkMatches(chunk: RetrievedChunk, entry: RelevantEntry): boolean {
  return chunk.source === entry.source && entry.headingPath.every((h, i) => chunk.headingPath[i] === h);
}

export interface QueryEvaluation {
  readonly id: string;
  readonly recall: Readonly<Record<number, number>>;
  /** 1-based rank of the first relevant chunk within MRR_CUTOFF, or null. */
  readonly firstRelevantRank: number | null;
}

export interface RetrievalEvaluation {
  readonly queries: number;
  /** k → mean recall@k */
  readonly recall: Readonly<Record<number, number>>;
  readonly mrr: number;
  readonly perQuery: readonly QueryEvaluation[];
}

/** Scores one query's ranked chunks. */
export function evaluateQuery(q: LabelledQuery, ranked: readonly RetrievedChunk[], ks: readonly number[]): QueryEvaluation {
  const entries = q.relevant.map(parseRelevantEntry);
  const recall: Record<number, number> = {};
  for (const k of ks) {
    const top = ranked.slice(0, k);
    const hit = entries.filter((e) => top.some((c) => chunkMatches(c, e))).length;
    recall[k] = entries.length === 0 ? 0 : hit / entries.length;
  }
  const idx = ranked.slice(0, MRR_CUTOFF).findIndex((c) => entries.some((e) => chunkMatches(c, e)));
  return { id: q.id, recall, firstRelevantRank: idx < 0 ? null : idx + 1 };
}

/** Runs `retrieve` for every query (one at a time) and averages. `retrieve` should return at least
 *  max(max(ks), MRR_CUTOFF) chunks. */
export async function evaluateRetrieval(queries: readonly LabelledQuery[],
  retrieve: (query: string) => Promise<readonly RetrievedChunk[]>, ks: readonly number[] = [5]): Promise<RetrievalEvaluation> {
  if (queries.length === 0) throw new KbConfigError('retrieval evaluation needs at least one query');
  const perQuery: QueryEvaluation[] = [];
  for (const q of queries) perQuery.push(evaluateQuery(q, await retrieve(q.query), ks));
  const recall: Record<number, number> = {};
  for (const k of ks) recall[k] = perQuery.reduce((s, e) => s + e.recall[k]!, 0) / perQuery.length;
  const mrr = perQuery.reduce((s, e) => s + (e.firstRelevantRank === null ? 0 : 1 / e.firstRelevantRank), 0) / perQuery.length;
  return { queries: perQuery.length, recall, mrr, perQuery };
}

function checkQuery(v: unknown, where: string): LabelledQuery {
  const q = v as Partial<LabelledQuery> | null;
  if (typeof q !== 'object' || q === null || typeof q.id !== 'string' || typeof q.query !== 'string'
    || !Array.isArray(q.relevant) || q.relevant.length === 0 || !q.relevant.every((r) => typeof r === 'string')) {
    throw new KbConfigError(`${where}: a labelled query needs {id: string, query: string, relevant: non-empty string[]}`, { where });
  }
  return { id: q.id, query: q.query, relevant: q.relevant };
}

/** Reads every `*.json` file of a folder: each an array of labelled queries (or `{queries: [...]}`). Ids must be
 *  unique across files. */
export async function loadLabelledQueries(dir: string): Promise<LabelledQuery[]> {
  const out: LabelledQuery[] = [];
  const ids = new Set<string>();
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()) {
    const v = JSON.parse(await readFile(join(dir, name), 'utf8')) as unknown;
    const list = Array.isArray(v) ? v : (v as { queries?: unknown }).queries;
    if (!Array.isArray(list)) throw new KbConfigError(`${name}: expected an array of queries or {queries: [...]}`);
    list.forEach((x, i) => {
      const q = checkQuery(x, `${name}[${i}]`);
      if (ids.has(q.id)) throw new KbConfigError(`${name}[${i}]: query id ${q.id} is used twice`);
      ids.add(q.id);
      out.push(q);
    });
  }
  return out;
}
