// The ONNX writer: protobuf wire bytes checked against the encoding rules (varints, negative int64, packed
// fields), and a small generated graph loaded and run by onnxruntime-web (through OnnxSession's worker), whose
// output is compared with the same arithmetic in TypeScript.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelRuntimeError } from '../../../host/errors/index.js';
import { OnnxSession } from '../../../host/kb/onnx-session.js';
import { attrFloat, attrInts, encodeOnnxModel, ProtoWriter } from '../../../host/kb/onnx-writer.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('protobuf wire encoding of scalars, strings, packed and nested fields', () => {
  // Field 1 = 150 is the protobuf documentation's example: 08 96 01.
  assert.equal(hex(new ProtoWriter().varint(1, 150).finish()), '089601');
  // A negative int64 is its 64-bit two's complement: ten bytes.
  assert.equal(hex(new ProtoWriter().varint(3, -1).finish()), '18ffffffffffffffffff01');
  assert.equal(hex(new ProtoWriter().varint(2, 2 ** 40).finish()), '10808080808020');
  assert.equal(hex(new ProtoWriter().string(2, 'testing').finish()), '120774657374696e67');
  assert.equal(hex(new ProtoWriter().float32(2, 1).finish()), '150000803f');
  assert.equal(hex(new ProtoWriter().packedVarints(4, [3, 270, 86942]).finish()), '2206038e029ea705');
  const inner = new ProtoWriter().varint(1, 150);
  assert.equal(hex(new ProtoWriter().message(3, inner).finish()), '1a03089601');
  // Large blobs are referenced and copied once at finish; the result must be byte-identical.
  const blob = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  const w = new ProtoWriter().varint(1, 1).bytes(2, blob).varint(3, 7);
  const out = w.finish();
  assert.equal(out.length, w.length);
  assert.equal(hex(out.subarray(0, 5)), '0801' + '12ac02');
  assert.deepEqual(out.subarray(5, 305), blob);
  assert.equal(hex(out.subarray(305)), '1807');
});

test('a generated graph loads in onnxruntime-web and computes what it says', async () => {
  // y = LeakyRelu(Transpose(x · W + b), alpha 0.1): x [batch, 3], W [3, 2], output [2, batch].
  const W = Float32Array.from([0.5, -1, 2, 0.25, -0.75, 1.5]);
  const b = Float32Array.from([0.1, -0.2]);
  const bytes = encodeOnnxModel({
    irVersion: 8, opsetVersion: 17, producerName: 'onnx-writer test',
    graph: {
      name: 'tiny',
      nodes: [
        { opType: 'MatMul', inputs: ['x', 'W'], outputs: ['xw'] },
        { opType: 'Add', inputs: ['xw', 'b'], outputs: ['lin'] },
        { opType: 'Transpose', inputs: ['lin'], outputs: ['t'], attributes: [attrInts('perm', [1, 0])] },
        { opType: 'LeakyRelu', inputs: ['t'], outputs: ['y'], attributes: [attrFloat('alpha', 0.1)] },
      ],
      initializers: [
        { name: 'W', type: 'float32', dims: [3, 2], data: W },
        { name: 'b', type: 'float32', dims: [2], data: b },
      ],
      inputs: [{ name: 'x', type: 'float32', dims: ['batch', 3] }],
      outputs: [{ name: 'y', type: 'float32', dims: [2, 'batch'] }],
    },
  });
  const session = await OnnxSession.create(bytes, { numThreads: 1 }, 'tiny');
  try {
    assert.deepEqual(session.inputNames, ['x']);
    assert.deepEqual(session.outputNames, ['y']);
    const x = Float32Array.from([1, 2, 3, -1, 0.5, -2]);
    const batch = 2;
    const res = await session.run([{ name: 'x', type: 'float32', dims: [batch, 3], data: x }], 'y');
    assert.deepEqual(res.dims, [2, batch]);
    for (let o = 0; o < 2; o++) {
      for (let r = 0; r < batch; r++) {
        let v = b[o]!;
        for (let i = 0; i < 3; i++) v += x[r * 3 + i]! * W[i * 2 + o]!;
        v = v < 0 ? 0.1 * v : v;
        assert.ok(Math.abs(res.data[o * batch + r]! - v) < 1e-5, `y[${o}][${r}] = ${res.data[o * batch + r]}, expected ${v}`);
      }
    }
    // A feed of the wrong shape is a ModelRuntimeError, and the session stays usable.
    await assert.rejects(session.run([{ name: 'x', type: 'float32', dims: [1, 2], data: Float32Array.from([1, 2]) }], 'y'), ModelRuntimeError);
    const again = await session.run([{ name: 'x', type: 'float32', dims: [1, 3], data: Float32Array.from([0, 0, 0]) }], 'y');
    assert.deepEqual(Array.from(again.data).map((v) => Math.round(v * 1e6) / 1e6), [0.1, -0.02]);
  } finally {
    await session.close();
  }
  await assert.rejects(session.run([], 'y'), ModelRuntimeError);
});

test('bytes that are not an ONNX model are refused with ModelRuntimeError', async () => {
  await assert.rejects(OnnxSession.create(Uint8Array.from([1, 2, 3, 4, 5]), {}, 'garbage'),
    (e: unknown) => e instanceof ModelRuntimeError && /garbage/.test(e.message));
});
