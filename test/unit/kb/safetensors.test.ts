// The safetensors reader: header parsing, float32 extraction (also from an unaligned data section), and clear
// refusals of malformed files and non-F32 tensors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelUnavailableError } from '../../../host/errors/index.js';
import { Safetensors } from '../../../host/kb/safetensors.js';

interface Entry { dtype: string; shape: number[]; bytes: Uint8Array }

/** Writes a safetensors file; `pad` spaces after the JSON shift the data section off 4-byte alignment. */
function encode(entries: Record<string, Entry>, pad = 0, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = metadata === undefined ? {} : { __metadata__: metadata };
  let offset = 0;
  for (const [name, e] of Object.entries(entries)) {
    header[name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const e of Object.values(entries)) {
    out.set(e.bytes, at);
    at += e.bytes.length;
  }
  return out;
}

const f32bytes = (v: number[]): Uint8Array => new Uint8Array(Float32Array.from(v).buffer);

test('reads float32 tensors, shapes and metadata, at any data alignment', () => {
  for (const pad of [0, 1, 2, 3]) {
    const bytes = encode({
      'a.weight': { dtype: 'F32', shape: [2, 3], bytes: f32bytes([1, -2, 3.5, 4, 5, 6e-7]) },
      'b.bias': { dtype: 'F32', shape: [1], bytes: f32bytes([-0.25]) },
    }, pad, { format: 'pt' });
    const st = Safetensors.parse(bytes, 'test.safetensors');
    assert.deepEqual([...st.tensors.keys()], ['a.weight', 'b.bias']);
    assert.deepEqual(st.metadata, { format: 'pt' });
    const a = st.f32('a.weight');
    assert.deepEqual(a.shape, [2, 3]);
    assert.deepEqual(Array.from(a.data), Array.from(Float32Array.from([1, -2, 3.5, 4, 5, 6e-7])));
    assert.deepEqual(Array.from(st.f32('b.bias').data), [-0.25]);
    assert.equal(st.has('c'), false);
  }
});

test('refuses a non-F32 tensor by name and dtype, and a missing tensor', () => {
  const st = Safetensors.parse(encode({
    'embeddings.position_ids': { dtype: 'I64', shape: [1, 2], bytes: new Uint8Array(new BigInt64Array([0n, 1n]).buffer) },
  }));
  assert.throws(() => st.f32('embeddings.position_ids'), (e: unknown) =>
    e instanceof ModelUnavailableError && /I64/.test(e.message) && e.details['tensor'] === 'embeddings.position_ids');
  assert.throws(() => st.f32('nope'), ModelUnavailableError);
});

test('detects truncated and malformed files', () => {
  const good = encode({ w: { dtype: 'F32', shape: [4], bytes: f32bytes([1, 2, 3, 4]) } });
  const bad: [string, Uint8Array][] = [
    ['too short', good.subarray(0, 5)],
    ['truncated data', good.subarray(0, good.length - 1)],
    ['header beyond file', (() => { const b = good.slice(); new DataView(b.buffer).setBigUint64(0, 1n << 40n, true); return b; })()],
    ['not JSON', (() => { const b = good.slice(); b[8] = 0x7b + 1; return b; })()],
    ['shape does not fill range', encode({ w: { dtype: 'F32', shape: [3], bytes: f32bytes([1, 2, 3, 4]) } })],
    ['unknown dtype', encode({ w: { dtype: 'Q4', shape: [16], bytes: new Uint8Array(16) } })],
  ];
  for (const [what, bytes] of bad) {
    assert.throws(() => Safetensors.parse(bytes, 'x.safetensors'), (e: unknown) =>
      e instanceof ModelUnavailableError && e.details['file'] === 'x.safetensors', what);
  }
});
