// Assembles a knowledge base from its parts the way the CLI and the node want it: the embedder (MiniLM when its
// model is installed, else the lexical plugin, said plainly), the vector index (the HNSW plugin, or the exact scan),
// and the cross-encoder re-ranker when a model folder is present.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { KbConfigError, ModelUnavailableError } from '../errors/index.js';
import { CrossEncoderReranker } from './cross-encoder.js';
import { ExactVectorIndex } from './exact-vector-index.js';
import type { Embedder, Reranker, VectorIndex, VectorIndexParams } from './kb-types.js';
import { KnowledgeBase } from './knowledge-base.js';
import { LexicalEmbedder } from './lexical-embedder.js';
import { defaultModelsDir, MINILM_MODEL_NAME, openModelInfo, SETUP_COMMAND } from './model-cache.js';
import { MANIFEST_FILE } from './kb-store.js';
import { TransformerEmbedder } from './transformer-embedder.js';
import { openHnswIndex } from './vector-index.js';

export type EmbedderChoice = 'auto' | 'minilm' | 'lexical';
export type IndexChoice = 'hnsw' | 'exact';

export const EMBEDDER_CHOICES: readonly EmbedderChoice[] = ['auto', 'minilm', 'lexical'];
export const INDEX_CHOICES: readonly IndexChoice[] = ['hnsw', 'exact'];

/** Folder of the cross-encoder re-ranker inside the models cache (a Hugging Face BERT cross-encoder checkpoint). */
export const RERANKER_FOLDER = 'cross-encoder';

export interface OpenKnowledgeBaseOptions {
  /** Knowledge-base folder; default defaultKbDir(). */
  readonly dir?: string;
  /** Models cache; default `$X0T_MODELS_DIR` or ~/.cache/x0tta6bl4/models. */
  readonly modelsDir?: string;
  /** auto (default): the embedder the knowledge base was built with; for a new one MiniLM when installed, else
   *  the lexical embedder. */
  readonly embedder?: EmbedderChoice;
  readonly index?: IndexChoice;
  /** Cross-encoder folder; default `<modelsDir>/cross-encoder` when it exists. */
  readonly reranker?: string;
  /** Re-embed stored chunks when the embedder differs from the one they were embedded with. */
  readonly reembed?: boolean;
  /** onnxruntime-web threads for the transformer models. */
  readonly numThreads?: number;
  /** Refuse (KbConfigError) when the folder holds no knowledge base yet, instead of creating one: for commands that
   *  only read, where a mistyped folder must not look like an empty result. */
  readonly mustExist?: boolean;
}

export interface OpenedKnowledgeBase {
  readonly kb: KnowledgeBase;
  /** What the caller should tell the user (fallbacks, rebuilds), in order. */
  readonly notices: readonly string[];
  close(): Promise<void>;
}

/** `$X0T_KB_DIR`, else `$XDG_DATA_HOME/x0tta6bl4/kb`, else `~/.local/share/x0tta6bl4/kb`. */
export function defaultKbDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['X0T_KB_DIR'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const data = env['XDG_DATA_HOME'] !== undefined && env['XDG_DATA_HOME'] !== '' ? env['XDG_DATA_HOME'] : join(homedir(), '.local', 'share');
  return join(data, 'x0tta6bl4', 'kb');
}

/** The embedder id a knowledge-base folder was built with, or undefined for a new (or unreadable) one. */
async function storedEmbedderId(dir: string): Promise<string | undefined> {
  try {
    const m = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8')) as { embedder?: { id?: unknown } };
    return typeof m.embedder?.id === 'string' ? m.embedder.id : undefined;
  } catch {
    return undefined;
  }
}

async function openEmbedder(choice: EmbedderChoice, dir: string, opts: OpenKnowledgeBaseOptions, notices: string[]): Promise<Embedder> {
  const modelsDir = opts.modelsDir ?? defaultModelsDir();
  const minilm = (): Promise<TransformerEmbedder> => TransformerEmbedder.open(undefined, {
    modelsDir, ...(opts.numThreads !== undefined ? { numThreads: opts.numThreads } : {}),
  });
  if (choice === 'minilm') return minilm();
  if (choice === 'lexical') return LexicalEmbedder.open();
  const stored = await storedEmbedderId(dir);
  if (stored !== undefined && stored.startsWith('lexical-')) {
    try {
      await openModelInfo(MINILM_MODEL_NAME, { modelsDir, verifyHashes: false });
      notices.push(`this knowledge base was embedded with the lexical embedder; ${MINILM_MODEL_NAME} is installed now: ` +
        '`x0t kb ingest PATH --embedder minilm --reembed` re-embeds it with the model');
    } catch {
      // still no model: nothing to suggest
    }
    return LexicalEmbedder.open();
  }
  if (stored === MINILM_MODEL_NAME) return minilm(); // its vectors need the model: no silent fallback
  try {
    return await minilm();
  } catch (e) {
    if (!(e instanceof ModelUnavailableError)) throw e;
    notices.push(
      `no ${MINILM_MODEL_NAME} model in ${modelsDir} (\`${SETUP_COMMAND}\` installs it): using the lexical embedder ` +
      '(hashing trick + IDF), so "vector" search matches words, not meaning',
    );
    return LexicalEmbedder.open();
  }
}

async function openReranker(opts: OpenKnowledgeBaseOptions, notices: string[]): Promise<Reranker | undefined> {
  const dir = opts.reranker ?? join(opts.modelsDir ?? defaultModelsDir(), RERANKER_FOLDER);
  try {
    return await CrossEncoderReranker.fromCheckpoint(dir, opts.numThreads !== undefined ? { numThreads: opts.numThreads } : {});
  } catch (e) {
    if (!(e instanceof ModelUnavailableError)) throw e;
    if (opts.reranker !== undefined) throw e; // asked for explicitly: a missing folder is an error, not a notice
    return undefined;
  }
}

/** Opens (creating when new) the knowledge base with its embedder, index and optional re-ranker. */
export async function openKnowledgeBase(opts: OpenKnowledgeBaseOptions = {}): Promise<OpenedKnowledgeBase> {
  const dir = resolve(opts.dir ?? defaultKbDir());
  const choice = opts.embedder ?? 'auto';
  if (!EMBEDDER_CHOICES.includes(choice)) throw new KbConfigError(`unknown embedder ${choice}; one of ${EMBEDDER_CHOICES.join(', ')}`, { embedder: choice });
  const indexChoice = opts.index ?? 'hnsw';
  if (!INDEX_CHOICES.includes(indexChoice)) throw new KbConfigError(`unknown index ${indexChoice}; one of ${INDEX_CHOICES.join(', ')}`, { index: indexChoice });
  if (opts.mustExist && (await storedEmbedderId(dir)) === undefined) {
    throw new KbConfigError(`no knowledge base at ${dir}: \`x0t kb ingest PATH --kb ${dir}\` creates one`, { dir });
  }
  const notices: string[] = [];
  const embedder = await openEmbedder(choice, dir, opts, notices);
  let reranker: Reranker | undefined;
  try {
    reranker = await openReranker(opts, notices);
    const openIndex = (params: VectorIndexParams): Promise<VectorIndex> =>
      indexChoice === 'hnsw' ? openHnswIndex(params) : Promise.resolve(new ExactVectorIndex(params));
    const kb = await KnowledgeBase.open(dir, {
      embedder, openIndex, ...(reranker ? { reranker } : {}), ...(opts.reembed ? { reembed: true } : {}),
    });
    notices.push(...kb.notices);
    return {
      kb,
      notices,
      close: async () => {
        try {
          await kb.close();
        } finally {
          await embedder.close();
          await reranker?.close();
        }
      },
    };
  } catch (e) {
    await embedder.close();
    await reranker?.close();
    throw e;
  }
}
