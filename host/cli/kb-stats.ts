// x0t kb stats [--json]: what the knowledge base holds and how it is built.
import type { Command } from 'commander';
import { openKnowledgeBase } from '../kb/open-knowledge-base.js';
import { printJson, printLine } from './output.js';
import { openOptionsFrom, showNotices, withKbOptions, type KbCommonOptions } from './kb-options.js';

export function registerKbStats(kb: Command): void {
  withKbOptions(kb.command('stats')
    .description('documents, chunks, embedder, index and disk use of the knowledge base')
    .option('--json', 'print one JSON object'))
    .action(async (o: KbCommonOptions & { json?: boolean }) => {
      const opened = await openKnowledgeBase(openOptionsFrom(o, { mustExist: true }));
      try {
        showNotices(opened.notices, o.json);
        const s = await opened.kb.stats();
        if (o.json) {
          printJson({ dir: opened.kb.dir, ...s, notices: opened.notices });
          return;
        }
        const i = s.index.info;
        printLine(`knowledge base  ${opened.kb.dir}`);
        printLine(`documents       ${s.documents}`);
        printLine(`chunks          ${s.chunks} (${s.duplicatesSkipped} duplicates skipped)`);
        printLine(`embedder        ${s.embedder.id} (${s.embedder.kind}, ${s.embedder.dim}-d)`);
        printLine(`index           ${s.index.kind}: ${i.count} vectors, ${i.deleted} deleted, metric ${i.metric}, M ${i.m}, ` +
          `efConstruction ${i.efConstruction}, efSearch ${i.efSearch}, ${(i.memoryBytes / 1048576).toFixed(1)} MiB`);
        printLine(`re-ranker       ${s.reranker ?? 'none (no cross-encoder model present)'}`);
        printLine(`on disk         ${(s.bytesOnDisk / 1048576).toFixed(2)} MiB`);
        printLine(`last ingest     ${s.lastIngest ?? 'never'}`);
      } finally {
        await opened.close();
      }
    });
}
