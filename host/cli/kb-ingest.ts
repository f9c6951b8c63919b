// x0t kb ingest PATH… [--chunker recursive|fixed|sentence|paragraph] [--size 512] [--overlap 64] [--reembed] [--json]
// Adds Markdown, text and incident-record files (folders recursively) to the knowledge base; files that did not
// change since the last ingest are skipped, changed ones re-chunked, vanished ones removed. A progress bar on stderr.
import type { Command } from 'commander';
import { Option } from 'commander';
import { CHUNKER_NAMES, chunkerSpec, type ChunkerName } from '../kb/chunkers/chunk.js';
import type { IngestProgress } from '../kb/knowledge-base.js';
import { KbIngestError } from '../errors/index.js';
import { openKnowledgeBase } from '../kb/open-knowledge-base.js';
import { intOption, printJson, printLine, printErrLine } from './output.js';
import { openOptionsFrom, showNotices, withKbOptions, type KbCommonOptions } from './kb-options.js';
import { ProgressBar } from './progress-bar.js';

interface IngestCliOptions extends KbCommonOptions {
  chunker: string;
  size: number;
  overlap: number;
  reembed?: boolean;
  progress: boolean;
  json?: boolean;
}

const PHASE_LABEL: Record<IngestProgress['phase'], string> = {
  scan: 'scanning', chunk: 'chunking', embed: 'embedding', index: 'indexing', save: 'saving',
};

export function registerKbIngest(kb: Command): void {
  withKbOptions(kb.command('ingest')
    .description('add or update documents (.md, .txt, .incident.json, .jsonl of incident records)')
    .argument('<path...>', 'files or folders')
    .addOption(new Option('--chunker <name>', 'how documents are split').choices(CHUNKER_NAMES as unknown as string[]).default('recursive'))
    .option('--size <chars>', 'chunk size in characters', intOption(32, 1 << 20), 512)
    .option('--overlap <chars>', 'characters shared by neighbouring chunks', intOption(0, 1 << 20), 64)
    .option('--reembed', 're-embed stored chunks when the embedder changed')
    .option('--no-progress', 'no progress bar (there is none unless stderr is a terminal)')
    .option('--json', 'print the ingest report as JSON'))
    .action(async (paths: string[], o: IngestCliOptions) => {
      // Checked before the knowledge base is opened (or created): a bad size leaves nothing behind.
      const spec = chunkerSpec({ name: o.chunker as ChunkerName, size: o.size, overlap: o.overlap });
      const opened = await openKnowledgeBase(openOptionsFrom(o, o.reembed ? { reembed: true } : {}));
      try {
        showNotices(opened.notices, o.json);
        let bar: ProgressBar | undefined;
        let phase: IngestProgress['phase'] | undefined;
        // A bar only on a terminal: in logs and pipes the report lines say enough.
        const onProgress = o.progress && process.stderr.isTTY === true ? (p: IngestProgress): void => {
          if (p.phase !== phase) {
            bar?.close();
            phase = p.phase;
            bar = new ProgressBar(p.total, PHASE_LABEL[p.phase].padEnd(9), { everyMs: 2_000 });
          }
          bar!.update(p.done);
        } : undefined;
        const report = await opened.kb.ingest(paths, { chunker: spec.name, size: spec.size, overlap: spec.overlap }, onProgress);
        bar?.close();
        const stats = await opened.kb.stats();
        if (report.errors.length > 0) process.exitCode = new KbIngestError('').exitCode;
        if (o.json) {
          printJson({ ...report, notices: [...opened.notices, ...report.notices], documents: stats.documents, chunks: stats.chunks, embedder: stats.embedder.id });
          return;
        }
        for (const n of report.notices) printErrLine(`notice: ${n}`);
        for (const e of report.errors) printErrLine(`not ingested: ${e.message} (${e.code})`);
        printLine(`files: ${report.filesAdded} added, ${report.filesChanged} changed, ${report.filesUnchanged} unchanged, ` +
          `${report.filesRemoved} removed${report.errors.length > 0 ? `, ${report.errors.length} not ingested` : ''}`);
        printLine(`chunks: ${report.chunksAdded} added, ${report.chunksRemoved} removed, ${report.duplicates} duplicates skipped`);
        printLine(`knowledge base ${opened.kb.dir}: ${stats.documents} documents, ${stats.chunks} chunks, ` +
          `embedder ${stats.embedder.id}, index ${stats.index.kind}`);
      } finally {
        await opened.close();
      }
    });
}
