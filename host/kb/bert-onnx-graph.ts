// Builds an ONNX inference graph (opset 17) for a BERT encoder from its config.json and safetensors weights:
// embeddings (word + position + token type, LayerNorm), N post-LayerNorm transformer layers (multi-head
// self-attention, FFN with exact erf GELU), then either
//   - `sentence`: mean pooling over the attention mask and L2 normalisation (sentence-transformers' Pooling +
//     Normalize), output `sentence_embedding` [batch, hidden]; or
//   - `cross-encoder`: the BERT pooler (dense + tanh on [CLS]) and the classifier, output `logits` [batch, labels].
// Inputs are int32 `input_ids` and float32 `attention_mask` (1 = token, 0 = padding), both [batch, seq]; the
// cross-encoder also takes int32 `token_type_ids`. For sentences the token-type-0 row is folded into the
// position table, and 1/sqrt(head size) into the query projection, so the graph has fewer operators.

import { ModelUnavailableError } from '../errors/index.js';
import type { Safetensors } from './safetensors.js';
import {
  attrFloat, attrInt, attrInts, encodeOnnxModel, type OnnxAttribute, type OnnxNode, type OnnxTensor,
} from './onnx-writer.js';

/** The fields of a Hugging Face BERT config.json the graph needs. */
export interface BertConfig {
  readonly hidden_size: number;
  readonly num_attention_heads: number;
  readonly num_hidden_layers: number;
  readonly intermediate_size: number;
  readonly layer_norm_eps: number;
  readonly max_position_embeddings: number;
  readonly vocab_size: number;
  readonly type_vocab_size: number;
  readonly hidden_act: string;
  readonly num_labels?: number;
}

export type BertHead = 'sentence' | 'cross-encoder';

/** Names the graph this builder emits; bump it whenever the emitted graph changes, so `setup:models` rebuilds
 *  cached models (it compares this with the `builder` recorded in model.json). */
export const BERT_GRAPH_BUILDER = 'x0tta6bl4 host/kb/bert-onnx-graph v1 (ONNX opset 17)';

/** Checks the config.json object has what the graph builder supports; throws ModelUnavailableError otherwise. */
export function parseBertConfig(json: unknown, source = 'config.json'): BertConfig {
  const c = json as Record<string, unknown>;
  const need = ['hidden_size', 'num_attention_heads', 'num_hidden_layers', 'intermediate_size',
    'max_position_embeddings', 'vocab_size', 'type_vocab_size'] as const;
  for (const k of need) {
    if (!Number.isSafeInteger(c[k]) || (c[k] as number) <= 0) {
      throw new ModelUnavailableError(`${source}: ${k} is missing or not a positive integer`, { file: source, field: k });
    }
  }
  const act = c['hidden_act'] ?? 'gelu';
  if (act !== 'gelu') {
    throw new ModelUnavailableError(`${source}: hidden_act ${String(act)} is not supported (only exact gelu)`,
      { file: source, field: 'hidden_act' });
  }
  if ((c['hidden_size'] as number) % (c['num_attention_heads'] as number) !== 0) {
    throw new ModelUnavailableError(`${source}: hidden_size is not a multiple of num_attention_heads`, { file: source });
  }
  const id2label = c['id2label'] as Record<string, unknown> | undefined;
  const labels = typeof c['num_labels'] === 'number' ? c['num_labels'] as number
    : id2label !== undefined ? Object.keys(id2label).length : undefined;
  return {
    hidden_size: c['hidden_size'] as number,
    num_attention_heads: c['num_attention_heads'] as number,
    num_hidden_layers: c['num_hidden_layers'] as number,
    intermediate_size: c['intermediate_size'] as number,
    layer_norm_eps: typeof c['layer_norm_eps'] === 'number' ? c['layer_norm_eps'] : 1e-12,
    max_position_embeddings: c['max_position_embeddings'] as number,
    vocab_size: c['vocab_size'] as number,
    type_vocab_size: c['type_vocab_size'] as number,
    hidden_act: 'gelu',
    ...(labels !== undefined ? { num_labels: labels } : {}),
  };
}

/** Accumulates nodes and initializers with generated value names. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  private counter = 0;

  op(opType: string, inputs: readonly string[], attributes: readonly OnnxAttribute[] = [], hint = opType): string {
    const out = `${hint}_${this.counter++}`;
    this.nodes.push({ opType, inputs, outputs: [out], name: out, attributes });
    return out;
  }

  f32(name: string, dims: readonly number[], data: Float32Array): string {
    this.initializers.push({ name, type: 'float32', dims, data });
    return name;
  }

  i64(name: string, values: readonly number[], scalar = false): string {
    this.initializers.push({
      name, type: 'int64', dims: scalar ? [] : [values.length], data: BigInt64Array.from(values.map(BigInt)),
    });
    return name;
  }

  scalar(name: string, value: number): string {
    return this.f32(name, [], Float32Array.of(value));
  }
}

/** Transposes a row-major [rows, cols] matrix (PyTorch Linear weight [out, in] → MatMul right operand [in, out]),
 *  optionally scaling it. */
function transpose(w: Float32Array, rows: number, cols: number, scale = 1): Float32Array {
  const t = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) t[c * rows + r] = w[base + c]! * scale;
  }
  return t;
}

function scaled(v: Float32Array, s: number): Float32Array {
  return s === 1 ? v : v.map((x) => x * s);
}

/** Locates tensors whether the checkpoint is a bare BertModel (`embeddings.*`) or wrapped (`bert.embeddings.*`). */
function tensorReader(st: Safetensors, config: BertConfig) {
  const prefix = st.has('embeddings.word_embeddings.weight') ? '' : st.has('bert.embeddings.word_embeddings.weight') ? 'bert.' : null;
  if (prefix === null) {
    throw new ModelUnavailableError('model.safetensors has no BERT embeddings (embeddings.word_embeddings.weight)',
      { file: 'model.safetensors', tensor: 'embeddings.word_embeddings.weight' });
  }
  return (name: string, shape: readonly number[], bare = false): Float32Array => {
    const full = bare ? name : prefix + name;
    const t = st.f32(full);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new ModelUnavailableError(
        `model.safetensors: ${full} has shape [${t.shape.join(', ')}], config.json implies [${shape.join(', ')}]`,
        { file: 'model.safetensors', tensor: full, hidden: config.hidden_size });
    }
    return t.data;
  };
}

export interface BertGraphOptions {
  readonly head: BertHead;
  /** Written into the model's doc string (e.g. the source package). */
  readonly docString?: string;
}

/** Builds the ONNX model bytes. */
export function buildBertOnnx(config: BertConfig, st: Safetensors, options: BertGraphOptions): Uint8Array {
  const H = config.hidden_size;
  const heads = config.num_attention_heads;
  const headSize = H / heads;
  const F = config.intermediate_size;
  const read = tensorReader(st, config);
  const g = new GraphBuilder();
  const cross = options.head === 'cross-encoder';

  // Embeddings.
  const wordTable = g.f32('word_embeddings', [config.vocab_size, H], read('embeddings.word_embeddings.weight', [config.vocab_size, H]));
  const posData = read('embeddings.position_embeddings.weight', [config.max_position_embeddings, H]);
  const ttData = read('embeddings.token_type_embeddings.weight', [config.type_vocab_size, H]);
  if (!cross) {
    // Every sentence token has type 0: fold that row into the position table.
    for (let p = 0; p < config.max_position_embeddings; p++) {
      for (let i = 0; i < H; i++) posData[p * H + i]! += ttData[i]!;
    }
  }
  const posTable = g.f32('position_embeddings', [config.max_position_embeddings, H], posData);
  const zero1 = g.i64('zero_1d', [0]);
  const seqLen = g.op('Shape', ['input_ids'], [attrInt('start', 1), attrInt('end', 2)], 'seq_len');
  const positions = g.op('Slice', [posTable, zero1, seqLen, zero1], [], 'positions');
  let x = g.op('Add', [g.op('Gather', [wordTable, 'input_ids'], [attrInt('axis', 0)], 'word'), positions], [], 'emb');
  if (cross) {
    const ttTable = g.f32('token_type_embeddings', [config.type_vocab_size, H], ttData);
    x = g.op('Add', [x, g.op('Gather', [ttTable, 'token_type_ids'], [attrInt('axis', 0)], 'token_type')], [], 'emb');
  }
  const layerNorm = (input: string, name: string): string => g.op('LayerNormalization', [
    input,
    g.f32(`${name}.weight`, [H], read(`${name}.weight`, [H])),
    g.f32(`${name}.bias`, [H], read(`${name}.bias`, [H])),
  ], [attrInt('axis', -1), attrFloat('epsilon', config.layer_norm_eps)], 'ln');
  x = layerNorm(x, 'embeddings.LayerNorm');

  // Additive attention mask [batch, 1, 1, seq]: 0 for tokens, -10000 for padding (exp underflows to 0).
  const one = g.scalar('one', 1);
  const maskBias = g.op('Unsqueeze', [
    g.op('Mul', [g.op('Sub', [one, 'attention_mask']), g.scalar('mask_fill', -10000)]),
    g.i64('axes_1_2', [1, 2]),
  ], [], 'mask_bias');

  const headShape = g.i64('head_shape', [0, 0, heads, headSize]);
  const hiddenShape = g.i64('hidden_shape', [0, 0, H]);
  const qScale = 1 / Math.sqrt(headSize);
  const linear = (input: string, name: string, inDim: number, outDim: number, scale = 1): string => g.op('Add', [
    g.op('MatMul', [input, g.f32(`${name}.weight_t`, [inDim, outDim], transpose(read(`${name}.weight`, [outDim, inDim]), outDim, inDim, scale))]),
    g.f32(`${name}.bias`, [outDim], scaled(read(`${name}.bias`, [outDim]), scale)),
  ], [], 'linear');
  const sqrt2 = g.scalar('sqrt2', Math.SQRT2);
  const half = g.scalar('half', 0.5);

  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    const split = (name: string, perm: number[], scale = 1): string => g.op('Transpose', [
      g.op('Reshape', [linear(x, `${p}.attention.self.${name}`, H, H, scale), headShape]),
    ], [attrInts('perm', perm)], name);
    const q = split('query', [0, 2, 1, 3], qScale); // [b, heads, seq, d]
    const kT = split('key', [0, 2, 3, 1]); // [b, heads, d, seq]
    const v = split('value', [0, 2, 1, 3]);
    const probs = g.op('Softmax', [g.op('Add', [g.op('MatMul', [q, kT], [], 'scores'), maskBias])], [attrInt('axis', -1)], 'probs');
    const context = g.op('Reshape', [
      g.op('Transpose', [g.op('MatMul', [probs, v])], [attrInts('perm', [0, 2, 1, 3])]),
      hiddenShape,
    ], [], 'context');
    x = layerNorm(g.op('Add', [linear(context, `${p}.attention.output.dense`, H, H), x]), `${p}.attention.output.LayerNorm`);
    const inter = linear(x, `${p}.intermediate.dense`, H, F);
    // Exact GELU: x · ½ · (1 + erf(x / √2)).
    const gelu = g.op('Mul', [
      g.op('Mul', [inter, half]),
      g.op('Add', [g.op('Erf', [g.op('Div', [inter, sqrt2])]), one]),
    ], [], 'gelu');
    x = layerNorm(g.op('Add', [linear(gelu, `${p}.output.dense`, F, H), x]), `${p}.output.LayerNorm`);
  }

  const nodes = g.nodes;
  let output: { name: string; dims: (number | string)[] };
  if (!cross) {
    const mask3 = g.op('Unsqueeze', ['attention_mask', g.i64('axes_2', [2])], [], 'mask3');
    const axes1 = g.i64('axes_1', [1]);
    const summed = g.op('ReduceSum', [g.op('Mul', [x, mask3]), axes1], [attrInt('keepdims', 0)], 'sum');
    const count = g.op('Max', [g.op('ReduceSum', [mask3, axes1], [attrInt('keepdims', 0)]), g.scalar('min_count', 1e-9)], [], 'count');
    const mean = g.op('Div', [summed, count], [], 'mean');
    const norm = g.op('Max', [g.op('ReduceL2', [mean], [attrInts('axes', [1]), attrInt('keepdims', 1)]), g.scalar('min_norm', 1e-12)], [], 'norm');
    nodes.push({ opType: 'Div', inputs: [mean, norm], outputs: ['sentence_embedding'], name: 'sentence_embedding' });
    output = { name: 'sentence_embedding', dims: ['batch', H] };
  } else {
    const labels = config.num_labels ?? 1;
    const cls = g.op('Gather', [x, g.i64('zero_scalar', [0], true)], [attrInt('axis', 1)], 'cls');
    const pooled = g.op('Tanh', [linear(cls, 'pooler.dense', H, H)], [], 'pooled');
    const wc = st.f32('classifier.weight');
    const bc = st.f32('classifier.bias');
    if (wc.shape[0] !== labels || wc.shape[1] !== H || bc.shape[0] !== labels) {
      throw new ModelUnavailableError(`model.safetensors: classifier has shape [${wc.shape.join(', ')}], expected [${labels}, ${H}]`,
        { file: 'model.safetensors', tensor: 'classifier.weight' });
    }
    const logits = g.op('MatMul', [pooled, g.f32('classifier.weight_t', [H, labels], transpose(wc.data, labels, H))]);
    nodes.push({ opType: 'Add', inputs: [logits, g.f32('classifier.bias', [labels], bc.data)], outputs: ['logits'], name: 'logits' });
    output = { name: 'logits', dims: ['batch', labels] };
  }
  return encodeOnnxModel({
    irVersion: 8,
    opsetVersion: 17,
    producerName: 'x0tta6bl4 bert-onnx-graph',
    ...(options.docString !== undefined ? { docString: options.docString } : {}),
    graph: {
      name: cross ? 'bert_cross_encoder' : 'bert_sentence_embedding',
      nodes,
      initializers: g.initializers,
      inputs: [
        { name: 'input_ids', type: 'int32', dims: ['batch', 'seq'] },
        { name: 'attention_mask', type: 'float32', dims: ['batch', 'seq'] },
        ...(cross ? [{ name: 'token_type_ids', type: 'int32' as const, dims: ['batch', 'seq'] }] : []),
      ],
      outputs: [{ name: output.name, type: 'float32', dims: output.dims }],
    },
  });
}
