// The options every `x0t kb …` command shares: where the knowledge base and the models live, which embedder and
// index to use, and the re-ranker folder.
import { Option, type Command } from 'commander';
import { EMBEDDER_CHOICES, INDEX_CHOICES, type EmbedderChoice, type IndexChoice, type OpenKnowledgeBaseOptions } from '../kb/open-knowledge-base.js';
import { printErrLine } from './output.js';

export interface KbCommonOptions {
  kb?: string;
  models?: string;
  embedder: EmbedderChoice;
  index: IndexChoice;
  reranker?: string;
  threads?: number;
}

export function withKbOptions(cmd: Command): Command {
  return cmd
    .option('--kb <dir>', 'knowledge-base folder (default $X0T_KB_DIR or ~/.local/share/x0tta6bl4/kb)')
    .option('--models <dir>', 'models cache (default $X0T_MODELS_DIR or ~/.cache/x0tta6bl4/models)')
    .addOption(new Option('--embedder <name>', 'auto: the one the knowledge base was built with; for a new one MiniLM when installed, else lexical')
      .choices(EMBEDDER_CHOICES as string[]).default('auto'))
    .addOption(new Option('--index <kind>', 'vector index: the HNSW plugin or an exact scan').choices(INDEX_CHOICES as string[]).default('hnsw'))
    .option('--reranker <dir>', 'cross-encoder checkpoint folder (default <models>/cross-encoder when present)')
    .option('--threads <n>', 'onnxruntime-web threads for the transformer models', (v) => Number.parseInt(v, 10));
}

export function openOptionsFrom(o: KbCommonOptions, extra: Partial<OpenKnowledgeBaseOptions> = {}): OpenKnowledgeBaseOptions {
  return {
    ...(o.kb !== undefined ? { dir: o.kb } : {}),
    ...(o.models !== undefined ? { modelsDir: o.models } : {}),
    embedder: o.embedder,
    index: o.index,
    ...(o.reranker !== undefined ? { reranker: o.reranker } : {}),
    ...(o.threads !== undefined && Number.isInteger(o.threads) && o.threads > 0 ? { numThreads: o.threads } : {}),
    ...extra,
  };
}

/** Notices go to stderr in text mode (stdout stays the result) and into the JSON object otherwise. */
export function showNotices(notices: readonly string[], json: boolean | undefined): void {
  if (json) return;
  for (const n of notices) printErrLine(`notice: ${n}`);
}
