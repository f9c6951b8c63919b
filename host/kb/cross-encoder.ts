// A BERT cross-encoder re-ranker (BertForSequenceClassification with one output, as the MS MARCO re-rankers are)
// on onnxruntime-web: each (query, passage) pair is encoded as [CLS] query [SEP] passage [SEP] with longest-first
// truncation, and the graph (built in memory from the Hugging Face checkpoint folder: config.json,
// model.safetensors, vocab.txt) returns the relevance logit. No cross-encoder package is known on a registry, so
// the folder is whatever the operator provides; without one the knowledge base says so and skips re-ranking.

import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ModelRuntimeError, ModelUnavailableError } from '../errors/index.js';
import { buildBertOnnx, parseBertConfig } from './bert-onnx-graph.js';
import type { Reranker } from './kb-types.js';
import { OnnxSession } from './onnx-session.js';
import { Safetensors } from './safetensors.js';
import { WordPieceTokenizer } from './wordpiece-tokenizer.js';

export interface CrossEncoderOptions {
  /** Stable name stored with results; default the folder name. */
  readonly id?: string;
  /** Tokens per pair including specials; default min(512, the model's position table). */
  readonly maxLength?: number;
  /** Pairs per forward pass; default 16. */
  readonly maxBatch?: number;
  readonly numThreads?: number;
}

export class CrossEncoderReranker implements Reranker {
  private constructor(
    readonly id: string,
    readonly tokenizer: WordPieceTokenizer,
    private readonly session: OnnxSession,
    private readonly maxBatch: number,
  ) {}

  /** Loads a Hugging Face BertForSequenceClassification folder with one label. */
  static async fromCheckpoint(dir: string, options: CrossEncoderOptions = {}): Promise<CrossEncoderReranker> {
    const read = async (file: string): Promise<Buffer> => {
      try {
        return await readFile(join(dir, file));
      } catch {
        throw new ModelUnavailableError(
          `no cross-encoder re-ranker at ${dir}: ${file} is missing (a Hugging Face BERT cross-encoder folder needs config.json, model.safetensors and vocab.txt); searches run without re-ranking`,
          { dir, file });
      }
    };
    const config = parseBertConfig(JSON.parse((await read('config.json')).toString('utf8')), join(dir, 'config.json'));
    if ((config.num_labels ?? 1) !== 1) {
      throw new ModelUnavailableError(`${dir}: the classifier has ${config.num_labels} labels; a re-ranker has one`, { dir, file: 'config.json' });
    }
    let lowercase = true;
    try {
      const tc = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as { do_lower_case?: boolean };
      lowercase = tc.do_lower_case ?? true;
    } catch {
      // No tokenizer_config.json: BERT cross-encoders are uncased unless they say otherwise.
    }
    const maxLength = options.maxLength ?? Math.min(512, config.max_position_embeddings);
    if (maxLength > config.max_position_embeddings) {
      throw new RangeError(`maxLength ${maxLength} exceeds the model's ${config.max_position_embeddings} positions`);
    }
    const tokenizer = WordPieceTokenizer.fromVocabText((await read('vocab.txt')).toString('utf8'), { maxLength, lowercase });
    if (tokenizer.vocabSize !== config.vocab_size) {
      throw new ModelUnavailableError(`${dir}: vocab.txt has ${tokenizer.vocabSize} tokens, config.json says ${config.vocab_size}`, { dir, file: 'vocab.txt' });
    }
    const weights = Safetensors.parse(new Uint8Array(await read('model.safetensors')), join(dir, 'model.safetensors'));
    const onnx = buildBertOnnx(config, weights, { head: 'cross-encoder' });
    const id = options.id ?? basename(dir);
    const session = await OnnxSession.create(onnx, { numThreads: options.numThreads ?? 1 }, id);
    return new CrossEncoderReranker(id, tokenizer, session, options.maxBatch ?? 16);
  }

  /** Relevance logits of (query, passage) for each passage, in the order given; higher = more relevant. */
  async score(query: string, passages: readonly string[]): Promise<Float32Array> {
    const out = new Float32Array(passages.length);
    const encoded = passages.map((p) => this.tokenizer.encodePair(query, p));
    const order = Array.from(passages.keys()).sort((a, b) => encoded[a]!.ids.length - encoded[b]!.ids.length);
    const runs: Promise<void>[] = [];
    for (let i = 0; i < order.length; i += this.maxBatch) {
      const members = order.slice(i, i + this.maxBatch);
      const seq = encoded[members[members.length - 1]!]!.ids.length;
      const ids = new Int32Array(members.length * seq).fill(this.tokenizer.padId);
      const types = new Int32Array(members.length * seq);
      const mask = new Float32Array(members.length * seq);
      members.forEach((m, r) => {
        const e = encoded[m]!;
        ids.set(e.ids, r * seq);
        types.set(e.typeIds, r * seq);
        mask.fill(1, r * seq, r * seq + e.ids.length);
      });
      const dims = [members.length, seq];
      runs.push(this.session.run([
        { name: 'input_ids', type: 'int32', dims, data: ids },
        { name: 'attention_mask', type: 'float32', dims, data: mask },
        { name: 'token_type_ids', type: 'int32', dims, data: types },
      ], 'logits').then((res) => {
        if (res.data.length !== members.length) {
          throw new ModelRuntimeError(`${this.id} returned ${res.data.length} logits for ${members.length} pairs`, { model: this.id });
        }
        members.forEach((m, r) => { out[m] = res.data[r]!; });
      }));
    }
    await Promise.all(runs);
    return out;
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}
