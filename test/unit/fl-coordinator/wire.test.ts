// The FL wire codec: round trips of random messages of every kind, random and mutated bytes never throw anything
// but FlProtocolError, and the documented layout on a hand-checked example.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { FlProtocolError } from '../../../host/errors/index.js';
import {
  decodeEnvelope, decodeFlMessage, encodeEnvelope, encodeFlMessage, f32Bytes, FL_HEADER_BYTES, modelDigest, updateSigningMessage,
  type FlMessage,
} from '../../../host/fl/wire.js';

const RUNS = { numRuns: 400 };
const id = fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }).filter((s) => {
  const n = new TextEncoder().encode(s).length;
  return n >= 1 && n <= 255;
});
const u32 = fc.nat({ max: 0xffff_ffff });
const digest = fc.uint8Array({ minLength: 32, maxLength: 32 });
const f32s = fc.float32Array({ maxLength: 64 });
const f32 = fc.float({ noNaN: true });

const message: fc.Arbitrary<FlMessage> = fc.oneof(
  fc.record({ kind: fc.constant('round-start' as const), round: u32, sender: id, modelVersion: u32, deadlineMs: u32, modelDigest: digest, model: f32s }),
  fc.record({
    kind: fc.constant('update' as const), round: u32, sender: id, coordinator: id, modelVersion: u32, modelDigest: digest, weight: f32,
    loss: fc.option(f32, { nil: null }), signature: fc.uint8Array({ maxLength: 3400 }), update: f32s,
  }),
  fc.record({ kind: fc.constant('model' as const), round: u32, sender: id, modelVersion: u32, modelDigest: digest, model: f32s }),
  fc.record({ kind: fc.constant('join' as const), round: u32, sender: id }),
  fc.record({ kind: fc.constant('leave' as const), round: u32, sender: id }),
  fc.record({ kind: fc.constant('extension' as const), round: u32, sender: id, code: fc.integer({ min: 0x40, max: 0xff }), payload: fc.uint8Array({ maxLength: 200 }) }),
);

/** Float arrays compare by their bytes (NaN payloads and -0 included). */
function normalise(m: FlMessage): unknown {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v instanceof Float32Array ? [...f32Bytes(v)] : v instanceof Uint8Array ? [...v] : v]));
}

function onlyProtocolErrors(bytes: Uint8Array): void {
  try {
    decodeFlMessage(bytes);
  } catch (e) {
    if (!(e instanceof FlProtocolError)) throw e;
    assert.equal(e.code, 'X0T_FL_PROTOCOL');
    assert.equal(typeof e.details['what'], 'string');
  }
}

test('every message kind round-trips', () => {
  fc.assert(fc.property(message, (m) => {
    const bytes = encodeFlMessage(m);
    const back = decodeFlMessage(bytes);
    assert.deepEqual(normalise(back), normalise(m));
    assert.deepEqual(encodeFlMessage(back), bytes, 're-encoding gives the same bytes');
  }), RUNS);
});

test('random bytes never throw anything but FlProtocolError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), onlyProtocolErrors), { numRuns: 2000 });
  // Random bytes behind a valid magic and version get further into the decoder.
  fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 300 }), (tail) => {
    const b = new Uint8Array(4 + tail.length);
    b.set([0x58, 0x46, 0x4c, 0x31], 0);
    b.set(tail, 4);
    b[4] = 1;
    onlyProtocolErrors(b);
  }), { numRuns: 2000 });
});

test('valid messages with a byte changed, bytes cut off or bytes appended decode or fail with FlProtocolError only', () => {
  fc.assert(fc.property(message, fc.nat(), fc.nat({ max: 255 }), (m, at, v) => {
    const bytes = encodeFlMessage(m);
    const changed = bytes.slice();
    changed[at % changed.length] = v;
    onlyProtocolErrors(changed);
    onlyProtocolErrors(bytes.subarray(0, at % bytes.length));
    const longer = new Uint8Array(bytes.length + 1 + (at % 7));
    longer.set(bytes);
    assert.throws(() => decodeFlMessage(longer), FlProtocolError);
  }), RUNS);
});

test('the envelope layout is the documented one', () => {
  const bytes = encodeEnvelope({ kind: 4, round: 0x01020304, sender: 'ab', payload: Uint8Array.of(9, 8) });
  assert.equal(Buffer.from(bytes).toString('hex'), '58464c31' + '01' + '04' + '0200' + '04030201' + '02000000' + '00000000' + '6162' + '0908');
  assert.equal(bytes.length, FL_HEADER_BYTES + 4);
  const e = decodeEnvelope(bytes);
  assert.deepEqual({ ...e, payload: [...e.payload] }, { kind: 4, round: 0x01020304, sender: 'ab', payload: [9, 8] });
  // join with a payload, an unsupported version, a reserved kind, a non-zero reserved field, a bad UTF-8 sender:
  assert.throws(() => decodeFlMessage(bytes), (e: unknown) => e instanceof FlProtocolError && e.details['what'] === 'payloadLen');
  const cases: [number, number, string][] = [[4, 2, 'version'], [5, 7, 'kind'], [5, 0, 'kind'], [16, 1, 'reserved'], [20, 0xff, 'sender']];
  for (const [at, v, what] of cases) {
    const b = bytes.slice();
    b[at] = v;
    assert.throws(() => decodeFlMessage(b), (e: unknown) => e instanceof FlProtocolError && e.details['what'] === what, what);
  }
});

test('updates carry raw little-endian f32: the update bytes sit at the end of the message', () => {
  const update = Float32Array.of(1.5, -2, 0.25);
  const bytes = encodeFlMessage({
    kind: 'update', round: 7, sender: 'c1', coordinator: 'A', modelVersion: 3, modelDigest: new Uint8Array(32), weight: 10, loss: null,
    signature: Uint8Array.of(1, 2, 3), update,
  });
  assert.equal(Buffer.from(bytes.subarray(bytes.length - 12)).toString('hex'), '0000c03f' + '000000c0' + '0000803e');
  const m = decodeFlMessage(bytes);
  assert.ok(m.kind === 'update' && m.loss === null && m.weight === 10);
});

test('encoders refuse what no decoder would accept', () => {
  const base = { round: 1, sender: 'n' };
  assert.throws(() => encodeFlMessage({ kind: 'join', round: -1, sender: 'n' }), FlProtocolError);
  assert.throws(() => encodeFlMessage({ kind: 'join', round: 1, sender: '' }), FlProtocolError);
  assert.throws(() => encodeFlMessage({ kind: 'join', round: 1, sender: 'x'.repeat(256) }), FlProtocolError);
  assert.throws(() => encodeFlMessage({ kind: 'extension', ...base, code: 0x3f, payload: new Uint8Array(0) }), FlProtocolError);
  assert.throws(() => encodeFlMessage({ kind: 'model', ...base, modelVersion: 1, modelDigest: new Uint8Array(31), model: new Float32Array(1) }), FlProtocolError);
});

test('the signed message binds every field: changing any one changes it', () => {
  const f = {
    round: 3, coordinator: 'A', modelVersion: 2, modelDigest: modelDigest(Float32Array.of(1, 2)), sender: 'c1', weight: 5, loss: 0.5,
    update: Float32Array.of(0.1, 0.2),
  };
  const base = Buffer.from(updateSigningMessage(f)).toString('hex');
  assert.ok(base.startsWith(Buffer.from('x0t-fl-update-v1\0').toString('hex')));
  const variants = [
    { ...f, round: 4 }, { ...f, coordinator: 'C' }, { ...f, modelVersion: 3 }, { ...f, modelDigest: new Uint8Array(32) },
    { ...f, sender: 'c2' }, { ...f, weight: 6 }, { ...f, loss: null }, { ...f, update: Float32Array.of(0.1, 0.3) },
    { ...f, update: Float32Array.of(0.1, 0.2, 0) },
  ];
  for (const v of variants) assert.notEqual(Buffer.from(updateSigningMessage(v)).toString('hex'), base);
});
