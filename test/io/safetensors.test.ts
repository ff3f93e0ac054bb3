// lib/io/safetensors.ts: the byte layout against a file written out by hand from the format's spec,
// round trips, the dtype conversions on hand-computed bit patterns, and one case per malformed file.
// Exact throughout: F32 / I32 round-trip bit for bit, and every converted value below is exactly
// representable (or is the hand-rounded float32), so there is no tolerance.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  DTypeError, FormatError, InvalidArgumentError, OutOfRangeError, type Tensor, tensor, zeros,
} from '../../lib/index.js';
import {
  decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors,
} from '../../lib/io/safetensors.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
const bytesOf = (a: Float32Array | Int32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const u64 = (n: bigint) => {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, n, true);
  return b;
};

/** A file from its parts, as the spec lays it out: u64 header length, the header, the data. */
function file(header: unknown, data: ArrayLike<number> = [], headerLength?: bigint): Uint8Array {
  const json = utf8(typeof header === 'string' ? header : JSON.stringify(header));
  return concat(u64(headerLength ?? BigInt(json.length)), json, Uint8Array.from(data));
}

/** The bytes of each little-endian value of a typed array. */
const le = (a: Float32Array | Int32Array | Float64Array | BigInt64Array | Uint16Array) =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** Decoding `bytes` throws `cls` with every fragment in its message. */
function expectFormat(bytes: Uint8Array, ...fragments: string[]) {
  let caught: unknown;
  try {
    decodeSafetensors(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(FormatError);
  for (const f of fragments) expect((caught as Error).message).toContain(f);
}

describe('encodeSafetensors', () => {
  it('lays the bytes out exactly as the spec says (hand-written example)', () => {
    const bytes = encodeSafetensors(
      { b: tensor(new Int32Array([7, -1]), [2]), a: tensor([1.5], []) },
      { k: 'v' },
    );
    // Metadata first, then the tensors in sorted name order, each with dtype, shape, data_offsets.
    const json = '{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},'
      + '"b":{"dtype":"I32","shape":[2],"data_offsets":[4,12]}}';
    expect(json.length).toBe(132);
    // 132 + 4 spaces = 136: the data starts at 8 + 136 = 144, a multiple of 8.
    const expected = [
      136, 0, 0, 0, 0, 0, 0, 0,
      ...utf8(json), 0x20, 0x20, 0x20, 0x20,
      0x00, 0x00, 0xc0, 0x3f, // 1.5f = 0x3FC00000
      0x07, 0x00, 0x00, 0x00, // 7
      0xff, 0xff, 0xff, 0xff, // -1
    ];
    expect([...bytes]).toEqual(expected);
  });

  it('pads nothing when the header is already a multiple of 8, and writes {} for no tensors', () => {
    const empty = encodeSafetensors(new Map());
    expect([...empty]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, ...utf8('{}      ')]);
    // '{"xyz":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}' is 56 bytes: no padding, and no data.
    const zeroSize = encodeSafetensors({ xyz: zeros([0]) });
    expect([...zeroSize.subarray(0, 8)]).toEqual([56, 0, 0, 0, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(zeroSize.subarray(8))).toBe('{"xyz":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}');
  });

  it('writes names in sorted order, whatever order they come in', () => {
    const bytes = encodeSafetensors({ d: tensor([4], [1]), b: tensor([2], [1]), c: tensor([3], [1]), a: tensor([1], [1]) });
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + bytes[0]!))) as Record<string, { data_offsets: number[] }>;
    expect(Object.keys(header)).toEqual(['a', 'b', 'c', 'd']);
    expect(Object.values(header).map((e) => e.data_offsets)).toEqual([[0, 4], [4, 8], [8, 12], [12, 16]]);
    expect([...new Float32Array(bytes.slice(8 + bytes[0]!).buffer)]).toEqual([1, 2, 3, 4]);
  });

  it('rejects what it cannot write, with typed errors', () => {
    expect(() => encodeSafetensors([] as never)).toThrow(/Expected a Map or a record of Tensors for tensors/);
    expect(() => encodeSafetensors(null as never)).toThrow(InvalidArgumentError);
    expect(() => encodeSafetensors({}, null as never)).toThrow(/Expected a record of strings for metadata/);
    expect(() => encodeSafetensors({}, ['k'] as never)).toThrow(/Expected a record of strings for metadata/);
    expect(() => encodeSafetensors({ a: new Float32Array(2) as never })).toThrow(/Expected a Tensor for tensors\["a"\]/);
    expect(() => encodeSafetensors(new Map([[1, zeros([1])]]) as never)).toThrow(/string tensor names/);
    expect(() => encodeSafetensors({ __metadata__: zeros([1]) })).toThrow(/reserved/);
    expect(() => encodeSafetensors({}, { k: 1 } as never)).toThrow(/Expected a string for metadata\["k"\]/);
    expect(() => encodeSafetensors({}, 'x' as never)).toThrow(InvalidArgumentError);
    const gone = zeros([2]);
    gone.dispose();
    expect(() => encodeSafetensors({ gone })).toThrow(/disposed/);
    // int8: only float32 tensors that are there, holding integers in [-128, 127].
    const w = tensor([1, -128, 127, 0], [2, 2]);
    expect(() => encodeSafetensors({ w }, undefined, { int8: new Set(['v']) })).toThrow(/names of float32 tensors/);
    expect(() => encodeSafetensors({ w: tensor(new Int32Array(2), [2]) }, undefined, { int8: new Set(['w']) })).toThrow(InvalidArgumentError);
    expect(() => encodeSafetensors({ w: tensor([1, 128], [2]) }, undefined, { int8: new Set(['w']) })).toThrow(/element 1 is 128/);
    expect(() => encodeSafetensors({ w: tensor([0.5], [1]) }, undefined, { int8: new Set(['w']) })).toThrow(OutOfRangeError);
    expect(() => encodeSafetensors({ w }, undefined, { int8: ['w'] as never })).toThrow(/a Set of tensor names/);
  });

  it('writes the tensors named in int8 as I8, a byte each, that read back as the same values', () => {
    const w = tensor([1, -128, 127, 0, -5, 3], [2, 3]), b = tensor([0.25, -1], [2]);
    const bytes = encodeSafetensors({ w, b }, undefined, { int8: new Set(['w']) });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.w).toEqual({ dtype: 'I8', shape: [2, 3], data_offsets: [8, 14] });
    expect(header.b.dtype).toBe('F32');
    const back = decodeSafetensors(bytes).tensors;
    expect([...back.get('w')!.toFloat32Array()]).toEqual([1, -128, 127, 0, -5, 3]);
    expect([...back.get('b')!.toFloat32Array()]).toEqual([0.25, -1]);
  });
});

describe('decodeSafetensors round trip', () => {
  const special = Float32Array.from([0, -0, 1.5, -3.25e-38, 1e-45, 3.4028234663852886e38, Infinity, -Infinity, NaN]);
  const cases: Record<string, Tensor> = {
    'encoder.layers.0.weight': tensor(Float32Array.from({ length: 12 }, (_, i) => i / 7 - 0.5), [3, 4]),
    'scalar': tensor([2.5], []),
    'int scalar': tensor(new Int32Array([-7]), []),
    'empty': zeros([0]),
    'empty 2-D': zeros([3, 0]),
    'ids': tensor(new Int32Array([0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 5, 6]), [7]),
    'odd': tensor(Float32Array.from({ length: 3 * 1 * 5 }, (_, i) => Math.sin(i)), [3, 1, 5]),
    'special values': tensor(special, [9]),
    'ünïcode "quoted" \\ name': tensor([1], [1]),
  };

  it('gives back every tensor bit for bit: shapes, dtypes, scalars, empty tensors, odd names', () => {
    const { tensors, metadata } = decodeSafetensors(encodeSafetensors(cases));
    expect(metadata).toEqual({});
    expect([...tensors.keys()].sort()).toEqual(Object.keys(cases).sort());
    for (const [name, t] of Object.entries(cases)) {
      const got = tensors.get(name)!;
      expect(got.shape).toEqual(t.shape);
      expect(got.dtype).toBe(t.dtype);
      const data = (x: Tensor) => (x.dtype === 'float32' ? x.toFloat32Array() : x.toInt32Array());
      expect(bytesOf(data(got))).toEqual(bytesOf(data(t)));
      expect(Object.isFrozen(got.shape)).toBe(true);
      expect(got.requiresGrad).toBe(false);
    }
  });

  it('round-trips metadata, including odd keys, and accepts a Map of tensors', () => {
    // Parsed, so that "__proto__" is an own key (in an object literal it would set the prototype).
    const parsed = JSON.parse('{"format":"pt","ünï":"✓ \\"x\\"","__proto__":"not a prototype","empty":""}') as Record<string, string>;
    expect(Object.keys(parsed)).toHaveLength(4);
    const out = decodeSafetensors(encodeSafetensors(new Map([['w', zeros([2])]]), parsed));
    expect(out.metadata).toEqual(parsed);
    expect(Object.keys(out.metadata).sort()).toEqual(['__proto__', 'empty', 'format', 'ünï']);
    expect(Object.getPrototypeOf(out.metadata)).toBe(Object.prototype);
  });

  it('copies: the tensors do not alias the input, whose offset and type (Buffer) do not matter', () => {
    const bytes = encodeSafetensors({ a: tensor([1, 2, 3], [3]), b: tensor(new Int32Array([4]), [1]) });
    // At an odd byte offset every F32 / I32 range is misaligned in the backing buffer.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    for (const input of [shifted.subarray(1), Buffer.from(bytes)]) {
      const { tensors } = decodeSafetensors(input);
      input.fill(0);
      expect([...tensors.get('a')!.toFloat32Array()]).toEqual([1, 2, 3]);
      expect([...tensors.get('b')!.toInt32Array()]).toEqual([4]);
    }
  });

  it('reads a header in any entry order, with unknown entry fields, a null __metadata__ and an unpadded header', () => {
    const data = concat(le(new Float32Array([1, 2])), le(new Int32Array([3])));
    const { tensors, metadata } = decodeSafetensors(file({
      __metadata__: null,
      b: { dtype: 'I32', shape: [1], data_offsets: [8, 12], extra: 'ignored' },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    }, data));
    expect(metadata).toEqual({});
    expect([...tensors.get('a')!.toFloat32Array()]).toEqual([1, 2]);
    expect([...tensors.get('b')!.toInt32Array()]).toEqual([3]);
  });

  it('accepts several zero-size tensors at one offset, between others', () => {
    const { tensors } = decodeSafetensors(file({
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      e1: { dtype: 'F32', shape: [0, 2], data_offsets: [4, 4] },
      e2: { dtype: 'I64', shape: [0], data_offsets: [4, 4] },
      b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
    }, le(new Float32Array([5, 6]))));
    expect(tensors.get('e1')!.shape).toEqual([0, 2]);
    expect(tensors.get('e2')!.dtype).toBe('int32');
    expect([...tensors.get('b')!.toFloat32Array()]).toEqual([6]);
  });
});

describe('decodeSafetensors conversions (hand-computed values)', () => {
  const one = (dtype: string, shape: number[], data: Uint8Array) =>
    decodeSafetensors(file({ x: { dtype, shape, data_offsets: [0, data.length] } }, data)).tensors.get('x')!;

  it('F16 → float32: normal, subnormal, extreme, signed zero, infinities, NaN', () => {
    const bits = [0x3c00, 0xc000, 0x3555, 0x0001, 0x03ff, 0x7bff, 0x8000, 0x7c00, 0xfc00, 0x7e00];
    const want = [
      1, -2, 0.333251953125 /* (1 + 341/1024)·2⁻² */, 2 ** -24, 1023 * 2 ** -24, 65504, -0, Infinity, -Infinity, NaN,
    ];
    const got = one('F16', [2, 5], le(Uint16Array.from(bits)));
    expect(got.dtype).toBe('float32');
    expect(got.shape).toEqual([2, 5]);
    expect([...got.toFloat32Array()]).toEqual(want);
    expect(Object.is(got.toFloat32Array()[6], -0)).toBe(true);
  });

  it('BF16 → float32: the top half of the float32 bits', () => {
    const bits = [0x3f80, 0xc0a0, 0x3eab, 0x0001, 0x8000, 0x7f80, 0xff80, 0x7fc0];
    const want = [1, -5, 0.333984375 /* (1 + 43/128)·2⁻² */, 2 ** -133, -0, Infinity, -Infinity, NaN];
    const got = one('BF16', [8], le(Uint16Array.from(bits)));
    expect([...got.toFloat32Array()]).toEqual(want);
    expect(Object.is(got.toFloat32Array()[4], -0)).toBe(true);
  });

  it('F64 → float32: rounded to nearest, ties to even; overflow to ±Infinity, underflow to ±0', () => {
    const values = [3, 0.1, 1 + 2 ** -24, 1 + 3 * 2 ** -24, 1e300, -1e300, -1e-50, NaN];
    const want = [3, 0.10000000149011612, 1, 1 + 2 ** -22, Infinity, -Infinity, -0, NaN];
    const got = one('F64', [4, 2], le(Float64Array.from(values)));
    expect([...got.toFloat32Array()]).toEqual(want);
    expect(Object.is(got.toFloat32Array()[6], -0)).toBe(true);
  });

  it('I8 → float32: every byte value', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const got = one('I8', [16, 16], bytes);
    expect(got.dtype).toBe('float32');
    expect([...got.toFloat32Array()]).toEqual(Array.from({ length: 256 }, (_, i) => (i < 128 ? i : i - 256)));
  });

  it('I64 → int32 over the whole int32 range', () => {
    const values = [0n, 5n, -3n, -1n, 2n ** 31n - 1n, -(2n ** 31n)];
    const got = one('I64', [6], le(BigInt64Array.from(values)));
    expect(got.dtype).toBe('int32');
    expect([...got.toInt32Array()]).toEqual([0, 5, -3, -1, 2 ** 31 - 1, -(2 ** 31)]);
  });

  it.each([
    [2n ** 31n, '2147483648'],
    [-(2n ** 31n) - 1n, '-2147483649'],
    [2n ** 32n + 1n, '4294967297'], // low word 1 alone would fit
    [-(2n ** 63n), '-9223372036854775808'],
  ])('I64 value %s does not fit int32: OutOfRangeError naming the tensor and element', (value, text) => {
    const data = le(BigInt64Array.from([1n, value]));
    const bytes = file({ 'ids.buf': { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, data);
    expect(() => decodeSafetensors(bytes)).toThrow(OutOfRangeError);
    expect(() => decodeSafetensors(bytes)).toThrow(`I64 tensor "ids.buf" of the safetensors data but element 1 is ${text}`);
  });
});

describe('decodeSafetensors rejects malformed files with a FormatError', () => {
  const f32 = (name = 'w', shape = [2], offsets = [0, 8]) => ({ [name]: { dtype: 'F32', shape, data_offsets: offsets } });
  const eight = new Uint8Array(8);

  it('fewer than 8 bytes', () => {
    expectFormat(new Uint8Array(0), 'Expected at least 8 bytes (the header length)', 'received 0');
    expectFormat(new Uint8Array(7), 'received 7');
  });

  it('a header length beyond the file', () => {
    expectFormat(file('{}', [], 3n), 'Expected a header length ≤ 2 (the bytes after the length)', 'received 3');
    expectFormat(u64(1n), 'Expected a header length ≤ 0', 'received 1');
  });

  it('an absurd header length (> 100 MB), even as a u64 past 2^53', () => {
    expectFormat(file('{}', [], 100_000_001n), 'Expected a header length ≤ 100000000 bytes', 'received 100000001');
    expectFormat(file('{}', [], 2n ** 64n - 1n), 'received 18446744073709551615');
  });

  it('a header that is not UTF-8', () => {
    expectFormat(concat(u64(4n), Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d])), 'Expected a UTF-8 header', 'not valid UTF-8');
  });

  it('a header that is not JSON', () => {
    expectFormat(file('{"w": '), 'Expected a JSON header in the safetensors data but it does not parse');
    expectFormat(file(''), 'does not parse');
  });

  it.each([['[1, 2]', 'an array of length 2'], ['null', 'null'], ['"x"', 'the string "x"'], ['3', 'the number 3']])(
    'a header %s that is not an object', (json, what) => {
      expectFormat(file(json), `Expected a JSON object for the header of the safetensors data but received ${what}`);
    },
  );

  it('an entry that is not an object', () => {
    expectFormat(file({ w: [0, 8] }), 'Expected an object { dtype, shape, data_offsets } for tensor "w"', 'an array of length 2');
    expectFormat(file({ w: null }), 'received null');
  });

  it.each(['dtype', 'shape', 'data_offsets'])('an entry without %s', (field) => {
    const entry: Record<string, unknown> = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
    delete entry[field];
    expectFormat(file({ w: entry }, eight), `Expected a field '${field}' for tensor "w" in the safetensors data but it is missing`);
  });

  it('a dtype that is not a string, or not one nodeformer reads', () => {
    expectFormat(file({ w: { dtype: 4, shape: [2], data_offsets: [0, 8] } }, eight), 'Expected a string for the dtype of tensor "w"', 'the number 4');
    for (const dtype of ['U8', 'BOOL', 'F8_E4M3', 'f32', 'I16']) {
      expectFormat(
        file({ w: { dtype, shape: [8], data_offsets: [0, 8] } }, eight),
        'Expected a dtype in F32, F64, F16, BF16, I32, I64, I8 for tensor "w"', `the unsupported dtype '${dtype}'`,
      );
    }
  });

  it('a shape that is not an array of non-negative safe integers', () => {
    expectFormat(file(f32('w', 2 as never), eight), 'Expected an array for the shape of tensor "w"', 'the number 2');
    expectFormat(file(f32('w', [-2]), eight), 'Expected a non-negative integer for shape[0] of tensor "w"', 'the number -2');
    expectFormat(file(f32('w', [2, 0.5]), eight), 'shape[1]', 'the number 0.5');
    expectFormat(file(f32('w', ['2'] as never), eight), 'shape[0]', 'the string "2"');
    expectFormat(file(f32('w', [2 ** 53]), eight), 'shape[0]', `the number ${2 ** 53}`);
    expectFormat(file(f32('w', [2 ** 30, 2 ** 30, 2 ** 30]), eight), 'Expected a shape of at most 2^53 elements');
  });

  it('data_offsets that are not two non-negative integers', () => {
    expectFormat(file(f32('w', [2], [0]), eight), 'Expected an array [begin, end] for the data_offsets of tensor "w"');
    expectFormat(file(f32('w', [2], [0, 8, 8]), eight), 'an array of length 3');
    expectFormat(file(f32('w', [2], '0,8' as never), eight), 'the string "0,8"');
    expectFormat(file(f32('w', [2], [0, 7.5]), eight), 'Expected a non-negative integer for data_offsets[1]', 'the number 7.5');
    expectFormat(file(f32('w', [2], [-8, 0]), eight), 'data_offsets[0]', 'the number -8');
    expectFormat(file(f32('w', [2], [null, 8] as never), eight), 'data_offsets[0]', 'received null');
  });

  it('begin > end', () => {
    expectFormat(file(f32('w', [0], [8, 0]), eight), 'Expected begin ≤ end in the data_offsets of tensor "w"', '[8, 0]');
  });

  it('an end beyond the data', () => {
    expectFormat(file(f32('w', [2], [0, 8]), new Uint8Array(4)), 'Expected data_offsets within the 4 data bytes for tensor "w"', '[0, 8]');
    expectFormat(file(f32('w', [4], [0, 16]), new Uint8Array(12)), 'within the 12 data bytes');
  });

  it('a byte length that is not product(shape) · element size', () => {
    expectFormat(file(f32('w', [3], [0, 8]), eight), 'Expected 12 bytes (shape [3] × 4 bytes of F32) for tensor "w"', 'data_offsets [0, 8] hold 8');
    expectFormat(
      file({ w: { dtype: 'F64', shape: [2], data_offsets: [0, 8] } }, eight), 'Expected 16 bytes (shape [2] × 8 bytes of F64)',
    );
    expectFormat(file(f32('w', [], [0, 8]), eight), 'Expected 4 bytes (shape [] × 4 bytes of F32)');
  });

  it('overlapping ranges, in any header order, zero-size ones included', () => {
    const twelve = new Uint8Array(12);
    expectFormat(
      file({ ...f32('b', [2], [4, 12]), ...f32('a', [2], [0, 8]) }, twelve),
      'Expected the data of tensor "b" in the safetensors data to start at byte 8, where tensor "a" ends,',
      '[4, 12], overlapping tensor "a" [0, 8]',
    );
    expectFormat(
      file({ ...f32('a', [2], [0, 8]), ...f32('e', [0], [4, 4]) }, eight),
      'tensor "e"', 'overlapping tensor "a" [0, 8]',
    );
    expectFormat(file({ ...f32('a', [2], [0, 8]), ...f32('b', [2], [0, 8]) }, eight), 'tensor "b"', 'overlapping tensor "a"');
  });

  it('gaps, which the format does not allow either (leading, between, trailing)', () => {
    const twelve = new Uint8Array(12);
    expectFormat(
      file(f32('a', [1], [4, 8]), eight),
      'Expected the data of tensor "a" in the safetensors data to start at byte 0', 'leaving 4 unused bytes before it',
    );
    expectFormat(
      file({ ...f32('a', [1], [0, 4]), ...f32('b', [1], [8, 12]) }, twelve),
      'start at byte 4, where tensor "a" ends,', '[8, 12], leaving 4 unused bytes', 'without gaps',
    );
    expectFormat(
      file(f32('a', [1], [0, 4]), eight),
      'Expected the tensors of the safetensors data to cover all 8 data bytes but they end at byte 4 (4 unused bytes',
    );
    expectFormat(file({}, [1]), 'cover all 1 data bytes but they end at byte 0');
  });

  it('metadata that is not an object of strings', () => {
    expectFormat(file({ __metadata__: ['a'] }), 'Expected an object of strings for __metadata__', 'an array of length 1');
    expectFormat(file({ __metadata__: 'x' }), 'the string "x"');
    expectFormat(file({ __metadata__: { ok: 'y', n: 1 } }), 'Expected a string for __metadata__["n"]', 'the number 1');
    expectFormat(file({ __metadata__: { nested: {} } }), '__metadata__["nested"]', 'an object');
  });

  it('input that is not bytes is an InvalidArgumentError', () => {
    expect(() => decodeSafetensors('{}' as never)).toThrow(InvalidArgumentError);
    expect(() => decodeSafetensors(new Float32Array(4) as never)).toThrow(/Expected a Uint8Array for bytes but received a Float32Array/);
  });
});

describe('saveSafetensors / loadSafetensors', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nodeformer-st-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips through a file, replacing an old one and leaving no temp file', async () => {
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, 'old');
    const w = tensor(Float32Array.from({ length: 6 }, (_, i) => i - 2.5), [2, 3]);
    await saveSafetensors(path, { w, ids: tensor(new Int32Array([3, 1]), [2]) }, { epoch: '3' });
    const { tensors, metadata } = await loadSafetensors(path);
    expect(metadata).toEqual({ epoch: '3' });
    expect(tensors.get('w')!.shape).toEqual([2, 3]);
    expect([...tensors.get('w')!.toFloat32Array()]).toEqual([...w.toFloat32Array()]);
    expect([...tensors.get('ids')!.toInt32Array()]).toEqual([3, 1]);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('a missing file: a clear message naming it, the fs error as cause', async () => {
    const path = join(dir, 'missing.safetensors');
    const err = await loadSafetensors(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toContain(`Expected a readable safetensors file for file but could not read ${JSON.stringify(path)}`);
    expect((err as Error).message).toContain('ENOENT');
    expect((err as Error).cause).toMatchObject({ code: 'ENOENT' });
  });

  it('a malformed file: a FormatError naming the file', async () => {
    const path = join(dir, 'bad.safetensors');
    writeFileSync(path, file('{"w": 1}'));
    await expect(loadSafetensors(path)).rejects.toThrow(FormatError);
    await expect(loadSafetensors(path)).rejects.toThrow(`for tensor "w" in the safetensors file ${JSON.stringify(path)}`);
  });

  it('a save that cannot encode writes nothing; bad paths are InvalidArgumentErrors', async () => {
    const path = join(dir, 'x.safetensors');
    await expect(saveSafetensors(path, { w: 3 as never })).rejects.toThrow(InvalidArgumentError);
    await expect(saveSafetensors('', {})).rejects.toThrow(/non-empty file path for file/);
    await expect(loadSafetensors(7 as never)).rejects.toThrow(/non-empty file path for file but received the number 7/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('int32 tensors only carry int32 data (dtype is checked on read back)', async () => {
    const path = join(dir, 'i.safetensors');
    await saveSafetensors(path, { i: tensor(new Int32Array([1]), [1]) });
    const i = (await loadSafetensors(path)).tensors.get('i')!;
    expect(() => i.toInt32Array()).not.toThrow();
    expect(() => (decodeSafetensors(encodeSafetensors({ f: zeros([1]) })).tensors.get('f')!).toInt32Array()).toThrow(DTypeError);
  });
});
