// A minimal ONNX model writer: the handful of protobuf messages a static inference graph needs (ModelProto,
// GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto, TensorShapeProto,
// OperatorSetIdProto), with field numbers from onnx.proto. Weight blobs are kept as views and copied once into
// the final buffer, so a 90 MB model costs one allocation of its own size.

export type OnnxElementType = 'float32' | 'int32' | 'int64';

const ELEMENT_TYPE_CODE: Readonly<Record<OnnxElementType, number>> = { float32: 1, int32: 6, int64: 7 };

export interface OnnxTensor {
  readonly name: string;
  readonly type: OnnxElementType;
  readonly dims: readonly number[];
  readonly data: Float32Array | Int32Array | BigInt64Array;
}

export type OnnxAttribute =
  | { readonly name: string; readonly kind: 'int'; readonly value: number }
  | { readonly name: string; readonly kind: 'float'; readonly value: number }
  | { readonly name: string; readonly kind: 'ints'; readonly value: readonly number[] }
  | { readonly name: string; readonly kind: 'string'; readonly value: string }
  | { readonly name: string; readonly kind: 'tensor'; readonly value: OnnxTensor };

export interface OnnxNode {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly attributes?: readonly OnnxAttribute[];
  readonly domain?: string;
}

/** A graph input or output; a string dimension is symbolic (e.g. `batch`). */
export interface OnnxValueInfo {
  readonly name: string;
  readonly type: OnnxElementType;
  readonly dims: readonly (number | string)[];
}

export interface OnnxGraph {
  readonly name: string;
  readonly nodes: readonly OnnxNode[];
  readonly initializers: readonly OnnxTensor[];
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

export interface OnnxModel {
  /** IR version 8 goes with opset 17 (ONNX 1.12+). */
  readonly irVersion: number;
  readonly opsetVersion: number;
  readonly producerName: string;
  readonly producerVersion?: string;
  readonly docString?: string;
  readonly graph: OnnxGraph;
}

// AttributeProto.AttributeType values.
const ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3, ATTR_TENSOR = 4, ATTR_INTS = 7;

const utf8 = new TextEncoder();

/** Protobuf wire encoder for one message: small scalars go to a scratch buffer, large byte blobs are kept by
 *  reference as separate chunks. */
export class ProtoWriter {
  private readonly chunks: Uint8Array[] = [];
  private scratch: number[] = [];
  private flushed = 0;

  get length(): number {
    return this.flushed + this.scratch.length;
  }

  private flush(): void {
    if (this.scratch.length > 0) {
      this.chunks.push(Uint8Array.from(this.scratch));
      this.flushed += this.scratch.length;
      this.scratch = [];
    }
  }

  private rawVarint(v: number | bigint): void {
    if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) throw new RangeError(`varint ${v} is not a safe integer`);
      if (v >= 0) {
        while (v > 0x7f) {
          this.scratch.push((v % 128) | 0x80);
          v = Math.floor(v / 128);
        }
        this.scratch.push(v);
        return;
      }
      v = BigInt(v);
    }
    // Negative int64 values are encoded as their 64-bit two's complement: always 10 bytes.
    let u = BigInt.asUintN(64, v);
    while (u > 0x7fn) {
      this.scratch.push(Number(u & 0x7fn) | 0x80);
      u >>= 7n;
    }
    this.scratch.push(Number(u));
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  /** int32 / int64 / enum field (wire type 0). */
  varint(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.rawVarint(v);
    return this;
  }

  /** float field (wire type 5, little-endian IEEE 754). */
  float32(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.scratch.push(b[0]!, b[1]!, b[2]!, b[3]!);
    return this;
  }

  /** bytes field (wire type 2); the blob is referenced, not copied, until `finish`. */
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.rawVarint(b.length);
    if (b.length <= 64) {
      for (let i = 0; i < b.length; i++) this.scratch.push(b[i]!);
    } else {
      this.flush();
      this.chunks.push(b);
      this.flushed += b.length;
    }
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  /** Embedded message field (wire type 2). */
  message(field: number, m: ProtoWriter): this {
    this.tag(field, 2);
    this.rawVarint(m.length);
    m.flush();
    this.flush();
    for (const c of m.chunks) this.chunks.push(c);
    this.flushed += m.flushed;
    return this;
  }

  /** Packed repeated varints (wire type 2). */
  packedVarints(field: number, values: readonly (number | bigint)[]): this {
    const inner = new ProtoWriter();
    for (const v of values) inner.rawVarint(v);
    this.tag(field, 2);
    this.rawVarint(inner.length);
    for (const b of inner.scratch) this.scratch.push(b);
    return this;
  }

  finish(): Uint8Array {
    this.flush();
    const out = new Uint8Array(this.flushed);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function tensorProto(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  for (const d of t.dims) w.varint(1, d); // dims (repeated int64, unpacked is always accepted)
  w.varint(2, ELEMENT_TYPE_CODE[t.type]); // data_type
  w.string(8, t.name); // name
  const expected = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.length !== expected) {
    throw new RangeError(`tensor ${t.name}: ${t.data.length} elements for dims [${t.dims.join(', ')}]`);
  }
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)); // raw_data, little-endian
  return w;
}

function attributeProto(a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  switch (a.kind) {
    case 'float': w.float32(2, a.value).varint(20, ATTR_FLOAT); break;
    case 'int': w.varint(3, a.value).varint(20, ATTR_INT); break;
    case 'string': w.string(4, a.value).varint(20, ATTR_STRING); break;
    case 'tensor': w.message(5, tensorProto(a.value)).varint(20, ATTR_TENSOR); break;
    case 'ints': w.packedVarints(8, a.value).varint(20, ATTR_INTS); break;
  }
  return w;
}

function nodeProto(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  if (n.name !== undefined) w.string(3, n.name);
  w.string(4, n.opType);
  for (const a of n.attributes ?? []) w.message(5, attributeProto(a));
  if (n.domain !== undefined) w.string(7, n.domain);
  return w;
}

function valueInfoProto(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.dims) {
    shape.message(1, typeof d === 'number' ? new ProtoWriter().varint(1, d) : new ProtoWriter().string(2, d));
  }
  const tensorType = new ProtoWriter().varint(1, ELEMENT_TYPE_CODE[v.type]).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

function graphProto(g: OnnxGraph): ProtoWriter {
  const w = new ProtoWriter();
  for (const n of g.nodes) w.message(1, nodeProto(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, tensorProto(t));
  for (const i of g.inputs) w.message(11, valueInfoProto(i));
  for (const o of g.outputs) w.message(12, valueInfoProto(o));
  return w;
}

/** Serialises a model to ONNX protobuf bytes. */
export function encodeOnnxModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.varint(1, m.irVersion);
  w.string(2, m.producerName);
  if (m.producerVersion !== undefined) w.string(3, m.producerVersion);
  if (m.docString !== undefined) w.string(6, m.docString);
  w.message(7, graphProto(m.graph));
  w.message(8, new ProtoWriter().string(1, '').varint(2, m.opsetVersion)); // default domain (ai.onnx)
  return w.finish();
}

// Attribute helpers, so graph builders read like the operator documentation.
export const attrInt = (name: string, value: number): OnnxAttribute => ({ name, kind: 'int', value });
export const attrFloat = (name: string, value: number): OnnxAttribute => ({ name, kind: 'float', value });
export const attrInts = (name: string, value: readonly number[]): OnnxAttribute => ({ name, kind: 'ints', value });
