// x0t kb … — the knowledge base of runbooks and incidents the self-healing loop and operators search. See docs/RAG.md.
import type { Command } from 'commander';
import { registerKbIngest } from './kb-ingest.js';
import { registerKbSearch } from './kb-search.js';
import { registerKbStats } from './kb-stats.js';

export function registerKb(program: Command): void {
  const kb = program.command('kb').description('knowledge base: ingest documents and incidents, search them');
  registerKbIngest(kb);
  registerKbSearch(kb);
  registerKbStats(kb);
}
