// Property tests of every generated frame codec (sdk/abi/generated/contract.ts), driven by the
// FRAMES table so that a frame added to the contract is covered without editing this file.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { CodecError } from '../../../sdk/abi/errors.js';
import {
  FRAME_CODECS, FRAME_MAGIC, FRAMES, decodeAggregateRequest, decodeF32Vector, encodeAggregateRequest,
  encodeF32Vector, type FrameName,
} from '../../../sdk/abi/generated/contract.js';

type Section = Float32Array | Float64Array | Uint32Array | Int32Array | Uint8Array;
type AnyFrame = Record<string, number | Section>;

const FRAME_NAMES = Object.keys(FRAMES) as FrameName[];

interface Codec {
  encode(v: AnyFrame): Uint8Array;
  decode(b: Uint8Array): AnyFrame;
}

function codecOf(name: FrameName): Codec {
  return FRAME_CODECS[name] as unknown as Codec;
}

function sectionArbitrary(type: string, n: number): fc.Arbitrary<Section> {
  const len = { minLength: n, maxLength: n };
  switch (type) {
    case 'f32': return fc.float32Array(len);
    case 'f64': return fc.float64Array(len);
    case 'u32': return fc.uint32Array(len);
    case 'i32': return fc.int32Array(len);
    case 'u8': return fc.uint8Array(len);
    default: throw new Error(`no arbitrary for ${type}`);
  }
}

/** Valid values of a frame: small header fields, sections of exactly the header products. */
function frameArbitrary(name: FrameName): fc.Arbitrary<AnyFrame> {
  const f = FRAMES[name];
  const headers = f.header.map(() => fc.integer({ min: 0, max: 7 }));
  return fc.tuple(...headers).chain((values) => {
    const head: Record<string, number> = {};
    f.header.forEach((h, i) => { head[h] = values[i]!; });
    const sections = f.sections.map((s) =>
      sectionArbitrary(s.type, (s.length as readonly string[]).reduce((p, l) => p * head[l]!, 1)));
    return fc.tuple(...sections).map((arrays) => {
      const v: AnyFrame = { ...head };
      f.sections.forEach((s, i) => { v[s.name] = arrays[i]!; });
      return v;
    });
  });
}

function bytesOf(a: Section): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Equality of header fields and of the sections' bytes (so NaN payloads and -0 count). */
function assertFrameEqual(name: FrameName, a: AnyFrame, b: AnyFrame): void {
  const f = FRAMES[name];
  for (const h of f.header) assert.equal(a[h], b[h], `${name}.${h}`);
  for (const s of f.sections) {
    const x = a[s.name] as Section;
    const y = b[s.name] as Section;
    assert.equal(Object.prototype.toString.call(x), Object.prototype.toString.call(y), `${name}.${s.name} type`);
    assert.deepEqual(bytesOf(x), bytesOf(y), `${name}.${s.name}`);
  }
}

function assertCodecError(fn: () => unknown, pattern?: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CodecError, `expected CodecError, got ${String(e)}`);
    assert.equal(e.code, 'X0T_CODEC');
    if (pattern !== undefined) assert.match(e.message, pattern);
    return;
  }
  assert.fail('expected a CodecError');
}

/** `bytes` copied to byte offset `shift` of a fresh buffer (to exercise the unaligned copy path). */
function shifted(bytes: Uint8Array, shift: number): Uint8Array {
  const buf = new Uint8Array(bytes.length + shift);
  buf.set(bytes, shift);
  return buf.subarray(shift);
}

for (const name of FRAME_NAMES) {
  const codec = codecOf(name);
  const arb = frameArbitrary(name);
  const layout = FRAMES[name];

  describe(`frame codec ${name}`, () => {
    it('magic constant is the four ASCII characters as a little-endian u32', () => {
      const m = new TextEncoder().encode(layout.magic);
      assert.equal(m.length, 4);
      assert.equal(FRAME_MAGIC[name], new DataView(m.buffer).getUint32(0, true));
    });

    it('decode(encode(v)) equals v, and encode(decode(b)) equals b', () => {
      fc.assert(fc.property(arb, (v) => {
        const bytes = codec.encode(v);
        assert.equal(bytes.length % 8, 0, 'frames are padded to 8');
        assert.equal(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true), FRAME_MAGIC[name]);
        const back = codec.decode(bytes);
        assertFrameEqual(name, v, back);
        assert.deepEqual(codec.encode(back), bytes);
      }), { numRuns: 200 });
    });

    it('decodes at any byte offset (zero-copy views when aligned, copies otherwise)', () => {
      fc.assert(fc.property(arb, fc.integer({ min: 0, max: 15 }), (v, shift) => {
        const bytes = shifted(codec.encode(v), shift);
        const back = codec.decode(bytes);
        assertFrameEqual(name, v, back);
        for (const s of layout.sections) {
          const arr = back[s.name] as Section;
          if (arr.byteLength > 0 && shift % 8 === 0) assert.equal(arr.buffer, bytes.buffer, 'aligned sections are views');
        }
      }), { numRuns: 200 });
    });

    it('rejects every truncation and every extension with CodecError', () => {
      fc.assert(fc.property(arb, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 24 }), (v, cutSeed, extra) => {
        const bytes = codec.encode(v);
        const cut = cutSeed % bytes.length;
        assertCodecError(() => codec.decode(bytes.slice(0, cut)));
        const longer = new Uint8Array(bytes.length + extra.length);
        longer.set(bytes);
        longer.set(extra, bytes.length);
        assertCodecError(() => codec.decode(longer));
      }), { numRuns: 200 });
    });

    it('throws nothing but CodecError on arbitrary bytes', () => {
      const magic = new Uint8Array(new Uint32Array([FRAME_MAGIC[name]]).buffer);
      const withMagic = fc.uint8Array({ maxLength: 96 }).map((tail) => {
        const b = new Uint8Array(4 + tail.length);
        b.set(magic);
        b.set(tail, 4);
        return b;
      });
      fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 96 }), withMagic), fc.integer({ min: 0, max: 7 }), (raw, shift) => {
        try {
          codec.decode(shifted(raw, shift));
        } catch (e) {
          assert.ok(e instanceof CodecError, `unexpected ${String(e)}`);
        }
      }), { numRuns: 1000 });
    });

    it('rejects hostile headers without allocating their sizes', () => {
      if ((layout.header as readonly string[]).length === 0) return;
      const b = new Uint8Array(layout.headerBytes + 64);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, FRAME_MAGIC[name], true);
      for (let i = 0; i < layout.header.length; i++) dv.setUint32(4 + 4 * i, 0xffffffff, true);
      assertCodecError(() => codec.decode(b), /runs past the end|describes/);
    });

    it('encode rejects header fields that are not u32 integers', () => {
      fc.assert(fc.property(arb, fc.constantFrom(-1, 0.5, 2 ** 32, Number.NaN, Infinity), (v, bad) => {
        const field = layout.header[0];
        if (field === undefined) return;
        assertCodecError(() => codec.encode({ ...v, [field]: bad }), new RegExp(`header field ${field}`));
      }), { numRuns: 50 });
    });

    it('encode rejects sections of the wrong length or type', () => {
      fc.assert(fc.property(arb, (v) => {
        for (const s of layout.sections) {
          const arr = v[s.name] as Section;
          const Ctor = arr.constructor as new (n: number) => Section;
          assertCodecError(() => codec.encode({ ...v, [s.name]: new Ctor(arr.length + 1) }), new RegExp(`section ${s.name}`));
          const Other = s.type === 'f64' ? Float32Array : Float64Array;
          assertCodecError(() => codec.encode({ ...v, [s.name]: new Other(arr.length) }), new RegExp(`section ${s.name} must be`));
          assertCodecError(() => codec.encode({ ...v, [s.name]: Array.from(arr as ArrayLike<number>) } as AnyFrame));
        }
      }), { numRuns: 50 });
    });
  });
}

describe('frame codec messages', () => {
  it('names the frame, the field and the sizes', () => {
    const ok = encodeAggregateRequest({ clients: 2, dim: 3, weights: new Float32Array(2), updates: new Float32Array(6) });
    assert.equal(ok.length, 16 + 8 + 24);
    assertCodecError(() => decodeAggregateRequest(ok.subarray(0, 40)), /^AggregateRequest: section updates \(clients × dim = 6 elements, 24 bytes at offset 24\) runs past the end of the 40-byte frame$/);
    assertCodecError(() => decodeF32Vector(ok), /^F32Vector: bad magic 0x31524741, expected 0x56323346 \("F32V"\)$/);
    assertCodecError(() => decodeF32Vector(new Uint8Array(4)), /shorter than its 8-byte header/);
    assertCodecError(
      () => encodeAggregateRequest({ clients: 2, dim: 3, weights: new Float32Array(2), updates: new Float32Array(5) }),
      /^AggregateRequest: section updates has 5 elements but clients × dim = 6$/,
    );
    const padded = encodeF32Vector({ len: 1, values: new Float32Array([1]) });
    assert.equal(padded.length, 16, 'one f32 is padded to 8 bytes');
    assertCodecError(() => decodeF32Vector(padded.subarray(0, 12)), /frame is 12 bytes but its header \(len=1\) describes 16/);
  });

  it('decode rejects what is not a Uint8Array', () => {
    assertCodecError(() => decodeF32Vector(new Uint16Array(8) as unknown as Uint8Array), /input must be a Uint8Array/);
    assertCodecError(() => decodeF32Vector('F32V' as unknown as Uint8Array), /input must be a Uint8Array/);
  });

  it('accepts a Node Buffer (a Uint8Array subclass) at an odd pool offset', () => {
    const frame = encodeF32Vector({ len: 3, values: new Float32Array([1, 2, 3]) });
    const buf = Buffer.concat([Buffer.from([9]), Buffer.from(frame)]).subarray(1);
    assert.deepEqual(Array.from(decodeF32Vector(buf).values), [1, 2, 3]);
  });
});
