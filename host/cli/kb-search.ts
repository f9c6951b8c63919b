// x0t kb search "query" [-k 5] [--mode vector|bm25|hybrid] [--mmr [--mmr-lambda λ]] [--rerank] [--source S] [--tag T]
//               [--severity S] [--kind doc|incident] [--json]
// Prints the best chunks with where they come from (source, heading path, offsets) and how each retriever ranked
// them; notices (lexical fallback, no re-ranker) go to stderr, or into the JSON object.
import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError } from '../errors/index.js';
import type { SearchFilter, SearchHit, SearchMode, SearchOptions } from '../kb/knowledge-base.js';
import { openKnowledgeBase } from '../kb/open-knowledge-base.js';
import { intOption, printJson, printLine } from './output.js';
import { openOptionsFrom, showNotices, withKbOptions, type KbCommonOptions } from './kb-options.js';

interface SearchCliOptions extends KbCommonOptions {
  k: number;
  mode: SearchMode;
  mmr?: boolean;
  mmrLambda: string;
  rerank?: boolean;
  source: string[];
  tag: string[];
  severity: string[];
  kindFilter?: 'doc' | 'incident';
  json?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function mmrOption(on: boolean | undefined, lambda: string, given: boolean): number | undefined {
  if (!on && !given) return undefined;
  const x = Number(lambda);
  if (lambda.trim() === '' || !Number.isFinite(x) || x < 0 || x > 1) {
    throw new UsageError(`--mmr-lambda takes a number in [0, 1] (got '${lambda}')`, { option: 'mmr-lambda' });
  }
  return x;
}

function where(h: SearchHit): string {
  const c = h.chunk;
  const path = c.headingPath.length > 0 ? ` › ${c.headingPath.join(' › ')}` : '';
  return `${c.source}${path}  [${c.start}–${c.end}]`;
}

function ranks(h: SearchHit): string {
  const r = h.ranks;
  const parts = [r.vector !== undefined ? `vector #${r.vector}` : '', r.bm25 !== undefined ? `bm25 #${r.bm25}` : '',
    r.rerank !== undefined ? `rerank #${r.rerank}` : ''].filter((s) => s !== '');
  return parts.join(', ');
}

export function registerKbSearch(kb: Command): void {
  withKbOptions(kb.command('search')
    .description('search the knowledge base')
    .argument('<query>', 'what to look for')
    .option('-k, --k <n>', 'results', intOption(1, 1000), 5)
    .addOption(new Option('--mode <mode>', 'retriever: embeddings, BM25, or both fused by reciprocal rank').choices(['vector', 'bm25', 'hybrid']).default('hybrid'))
    .option('--mmr', 'diversify the hits with maximal marginal relevance')
    .option('--mmr-lambda <λ>', 'MMR trade-off, 0 (diverse) .. 1 (relevant); implies --mmr', '0.5')
    .option('--rerank', 're-rank with the cross-encoder (a notice when no re-ranker model is present)')
    .option('--source <prefix>', 'only chunks from this source or folder (repeatable)', collect, [])
    .option('--tag <tag>', 'only incidents with this tag (repeatable: all must match)', collect, [])
    .option('--severity <level>', 'only incidents of this severity (repeatable)', collect, [])
    .addOption(new Option('--kind <kind>', 'only documents or only incidents').choices(['doc', 'incident']))
    .option('--json', 'print hits as JSON'))
    .action(async (query: string, o: SearchCliOptions & { kind?: 'doc' | 'incident' }, cmd: Command) => {
      const filter: SearchFilter = {
        ...(o.source.length > 0 ? { source: o.source } : {}),
        ...(o.tag.length > 0 ? { tags: o.tag } : {}),
        ...(o.severity.length > 0 ? { severity: o.severity as never } : {}),
        ...(o.kind !== undefined ? { kind: o.kind } : {}),
      };
      const mmr = mmrOption(o.mmr, o.mmrLambda, cmd.getOptionValueSource('mmrLambda') === 'cli');
      const options: SearchOptions = {
        k: o.k, mode: o.mode, ...(mmr !== undefined ? { mmr } : {}), ...(o.rerank ? { rerank: true } : {}),
        ...(Object.keys(filter).length > 0 ? { filter } : {}),
      };
      const opened = await openKnowledgeBase(openOptionsFrom(o, { mustExist: true }));
      try {
        showNotices(opened.notices, o.json);
        const t0 = performance.now();
        const result = await opened.kb.search(query, options);
        const ms = performance.now() - t0;
        if (o.json) {
          printJson({ query, mode: o.mode, k: o.k, ms: Math.round(ms * 100) / 100, notices: [...opened.notices, ...result.notices], hits: result.hits });
          return;
        }
        showNotices(result.notices, false);
        if (result.hits.length === 0) {
          printLine('no results');
          return;
        }
        result.hits.forEach((h, i) => {
          printLine(`${i + 1}. ${where(h)}  score ${h.score.toFixed(4)}${ranks(h) ? `  (${ranks(h)})` : ''}`);
          const text = h.chunk.text.replace(/\s+/g, ' ').trim();
          printLine(`   ${text.length > 300 ? `${text.slice(0, 297)}…` : text}`);
        });
        printLine(`${result.hits.length} hits in ${ms.toFixed(1)} ms (${o.mode}, embedder ${opened.kb.embedder.id})`);
      } finally {
        await opened.close();
      }
    });
}
