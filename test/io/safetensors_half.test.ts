// lib/io/safetensors.ts writing F16 / BF16 (lib/io/half.ts narrows): exact bit patterns, no tolerance.
// - every one of the 65536 patterns of each format, read and written again, comes back bit for bit (NaNs by
//   class: still a NaN, quiet, same sign for F16);
// - constructed float32 values (the exact midpoints between neighbouring patterns, one float32 ulp either
//   side, and a million seeded random float32 bit patterns) against an oracle that rounds in float64 on
//   the format's grid and shares no code with half.ts;
// - the special cases spelled out; the files read back with the existing reader; and PyTorch 1.13's own
//   conversions (test/fixtures/half/, made by test/fixtures/make_half_fixture.py).
// Failures report the count of bad elements and the first bad index with its input and both outputs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

import { InvalidArgumentError, tensor } from '../../lib/index.js';
import {
  decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors,
} from '../../lib/io/safetensors.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/half/torch_casts.safetensors', import.meta.url));

// ---------------------------------------------------------------------------------------------- helpers

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bitsOf = (x: number) => {
  f32[0] = x;
  return u32[0]!;
};
const fromBits = (b: number) => {
  u32[0] = b >>> 0;
  return f32[0]!;
};
const hex = (n: number, digits: number) => `0x${n.toString(16).padStart(digits, '0')}`;

/** A safetensors file of one tensor `x`, laid out by hand (see safetensors.test.ts for the layout). */
function fileOf(dtype: string, data: Uint16Array | Float32Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify({ x: { dtype, shape: [data.length], data_offsets: [0, data.byteLength] } }));
  const out = new Uint8Array(8 + json.length + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 8 + json.length);
  return out;
}

/** The dtype and raw 16-bit patterns of tensor `name` in a safetensors file, read straight from its bytes. */
function raw16(bytes: Uint8Array, name: string): { dtype: string; bits: Uint16Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const { dtype, data_offsets: [begin, end] } = header[name]!;
  const bits = new Uint16Array((end - begin) / 2);
  for (let i = 0; i < bits.length; i++) bits[i] = view.getUint16(8 + n + begin + 2 * i, true);
  return { dtype, bits };
}

/** Narrows float32 `values` through encodeSafetensors and returns the 16-bit patterns written. */
function narrow(values: Float32Array, dtype: 'F16' | 'BF16'): Uint16Array {
  const bytes = encodeSafetensors({ x: tensor(values, [values.length]) }, undefined, { dtype });
  const out = raw16(bytes, 'x');
  expect(out.dtype).toBe(dtype);
  return out.bits;
}

const F16 = { mantissaBits: 10, minExp: -14, overflow: 2 ** 16, expMask: 0x7c00, quiet: 0x0200 };
const BF16 = { mantissaBits: 7, minExp: -126, overflow: 2 ** 128, expMask: 0x7f80, quiet: 0x0040 };
type Format = typeof F16;
const isNaN16 = (h: number, f: Format) => (h & f.expMask) === f.expMask && (h & ~f.expMask & 0x7fff) !== 0;

// The oracle: float64 arithmetic on the format's grid. Every step is exact (a float32 divided by a power
// of two, its floor, their difference), so it rounds once, to nearest, ties to even.
function exponentOf(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  return e;
}
function roundOnGrid(a: number, f: Format): number {
  const ulp = 2 ** (Math.max(exponentOf(a), f.minExp) - f.mantissaBits);
  const q = a / ulp, fl = Math.floor(q), r = q - fl;
  return (r > 0.5 || (r === 0.5 && fl % 2 === 1) ? fl + 1 : fl) * ulp;
}
/** Every finite non-negative half by value → its pattern, from the binary16 definition. */
const HALF_BY_VALUE = new Map<number, number>();
for (let e = 0; e < 31; e++) {
  for (let m = 0; m < 1024; m++) HALF_BY_VALUE.set(e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15), (e << 10) | m);
}
/** The pattern the oracle expects for float32 `x` (null for a NaN: checked by class). */
function oracle(x: number, f: Format): number | null {
  if (Number.isNaN(x)) return null;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a === 0) return sign;
  const v = a === Infinity ? Infinity : roundOnGrid(a, f);
  if (v >= f.overflow) return sign | f.expMask;
  if (f === F16) return sign | HALF_BY_VALUE.get(v)!;
  const b = bitsOf(v);
  if ((b & 0xffff) !== 0) throw new Error(`oracle: ${v} is not a bfloat16`); // its low float32 bits must be 0
  return sign | (b >>> 16);
}

/** Compares written patterns with the oracle's; NaN inputs must give quiet NaNs of the input's sign. */
function expectAsOracle(values: Float32Array, got: Uint16Array, f: Format) {
  let bad = 0, first = '';
  for (let i = 0; i < values.length; i++) {
    const x = values[i]!, want = oracle(x, f), h = got[i]!;
    const ok = want === null
      ? isNaN16(h, f) && (h & f.quiet) !== 0 && (h & 0x8000) === (bitsOf(x) >>> 31 ? 0x8000 : 0)
      : h === want;
    if (!ok && bad++ === 0) first = `index ${i}: float32 ${hex(bitsOf(x), 8)} (${x}) gave ${hex(h, 4)}, expected ${want === null ? 'a quiet NaN' : hex(want, 4)}`;
  }
  expect(bad, `${bad} of ${values.length} wrong; first at ${first}`).toBe(0);
}

/** Seeded xorshift32: float32 bit patterns of every kind (NaNs, subnormals, huge values) in equal measure. */
function randomBits(n: number, seed: number): Float32Array {
  const out = new Uint32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = s;
  }
  return new Float32Array(out.buffer);
}

/** The midpoints between neighbouring finite patterns of `f` (as float32s), and one float32 ulp either side. */
function midpoints(f: Format): Float32Array {
  const out: number[] = [];
  // Positive finite patterns are ordered as their values: pattern h is the h-th smallest.
  const halves = [...HALF_BY_VALUE.keys()].sort((a, b) => a - b);
  const valueAt = (h: number) => (f === F16 ? halves[h]! : fromBits(h << 16));
  const last = f === F16 ? 0x7bff : 0x7f7f;
  for (let h = 0; h < last; h++) {
    const lo = valueAt(h), hi = valueAt(h + 1);
    const mid = (lo + hi) / 2; // exact in float32: one bit more than the format's significand
    const b = bitsOf(mid);
    for (const s of [0, 0x80000000]) out.push(fromBits(b | s), fromBits((b - 1) | s), fromBits((b + 1) | s));
  }
  // And the overflow edge: halfway between the largest finite value and the next power of two.
  const top = f === F16 ? 65520 : fromBits(0x7f7f8000);
  for (const s of [1, -1]) out.push(s * top, s * fromBits(bitsOf(top) - 1), s * fromBits(bitsOf(top) + 1));
  return Float32Array.from(out);
}

// ------------------------------------------------------------------------------------------------ tests

describe('encodeSafetensors { dtype: F16 | BF16 }', () => {
  it('F16: every one of the 65536 patterns, read and written again, gives the same bits (NaNs: quiet, same sign)', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const widened = decodeSafetensors(fileOf('F16', all)).tensors.get('x')!.toFloat32Array();
    const back = narrow(widened, 'F16');
    let bad = 0, first = -1;
    for (let h = 0; h < 65536; h++) {
      const ok = isNaN16(h, F16) ? isNaN16(back[h]!, F16) && (back[h]! & F16.quiet) !== 0 : back[h] === h;
      if (!ok && bad++ === 0) first = h;
    }
    expect(bad, `${bad} wrong; first ${hex(first, 4)} → ${hex(back[first] ?? 0, 4)}`).toBe(0);
  });

  it('BF16: every one of the 65536 patterns, read and written again, gives the same bits (NaNs: quiet, same sign)', () => {
    const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const widened = decodeSafetensors(fileOf('BF16', all)).tensors.get('x')!.toFloat32Array();
    const back = narrow(widened, 'BF16');
    let bad = 0, first = -1;
    for (let h = 0; h < 65536; h++) {
      const ok = isNaN16(h, BF16)
        ? isNaN16(back[h]!, BF16) && (back[h]! & BF16.quiet) !== 0 && (back[h]! & 0x8000) === (h & 0x8000)
        : back[h] === h;
      if (!ok && bad++ === 0) first = h;
    }
    expect(bad, `${bad} wrong; first ${hex(first, 4)} → ${hex(back[first] ?? 0, 4)}`).toBe(0);
  });

  for (const [name, f] of [['F16', F16], ['BF16', BF16]] as const) {
    it(`${name}: every midpoint between neighbouring values rounds to the even one, one ulp off to the nearer`, () => {
      const values = midpoints(f);
      expectAsOracle(values, narrow(values, name), f);
    });

    it(`${name}: a million seeded random float32 bit patterns round as the float64 oracle does`, () => {
      const values = randomBits(1_000_000, name === 'F16' ? 0x9e3779b9 : 0x85ebca6b);
      expectAsOracle(values, narrow(values, name), f);
    });
  }

  it('the special cases, spelled out', () => {
    const cases: Array<[number, number, number]> = [ // [float32, F16 bits, BF16 bits]
      [0, 0x0000, 0x0000],
      [-0, 0x8000, 0x8000],
      [Infinity, 0x7c00, 0x7f80],
      [-Infinity, 0xfc00, 0xff80],
      [1, 0x3c00, 0x3f80],
      [-2, 0xc000, 0xc000],
      [65504, 0x7bff, 0x4780], // F16's largest finite value
      [fromBits(0x477fefff), 0x7bff, 0x4780], // just below 65520: still 65504
      [65520, 0x7c00, 0x4780], // the midpoint to 2^16: ties to even, which is Infinity
      [-1e10, 0xfc00, 0xd015],
      [2 ** -24, 0x0001, 0x3380], // F16's smallest subnormal
      [2 ** -25, 0x0000, 0x3300], // half of it: a tie, to even (0)
      [fromBits(0x33000001), 0x0001, 0x3300], // just above half: up
      [3 * 2 ** -25, 0x0002, 0x33c0], // 1.5 subnormal ulps: a tie, to even (2)
      [2 ** -14 - 2 ** -25, 0x0400, 0x3880], // the largest subnormal + half an ulp: to the smallest normal
      [1 + 2 ** -11, 0x3c00, 0x3f80], // F16 tie, to even (down)
      [1 + 3 * 2 ** -11, 0x3c02, 0x3f80], // F16 tie, to even (up)
      [1 + 2 ** -8, 0x3c04, 0x3f80], // BF16 tie, to even (down)
      [1 + 3 * 2 ** -8, 0x3c0c, 0x3f82], // BF16 tie, to even (up)
      [fromBits(0x7f7fffff), 0x7c00, 0x7f80], // float32's largest: Infinity in both
      [fromBits(0x7f7f7fff), 0x7c00, 0x7f7f], // just below BF16's overflow midpoint
      [fromBits(0x00000001), 0x0000, 0x0000], // float32's smallest subnormal
      [fromBits(0x807fffff), 0x8000, 0x8080], // float32's largest subnormal, negative: BF16 rounds it up
    ];
    const values = Float32Array.from(cases, ([x]) => x);
    expect([...narrow(values, 'F16')].map((h) => hex(h, 4))).toEqual(cases.map(([, h]) => hex(h, 4)));
    expect([...narrow(values, 'BF16')].map((h) => hex(h, 4))).toEqual(cases.map(([, , b]) => hex(b, 4)));
    // NaN: quiet, sign kept. A signalling NaN with a payload only in its low bits is still a NaN, never ±Infinity.
    const nanBits = Uint32Array.from([0x7fc00000, 0xffc00000, 0x7f800001, 0xffa00000, 0x7fffffff]);
    for (const [name, f] of [['F16', F16], ['BF16', BF16]] as const) {
      const got = narrow(new Float32Array(nanBits.buffer.slice(0)), name);
      for (let i = 0; i < nanBits.length; i++) {
        expect(isNaN16(got[i]!, f), `${name} ${hex(nanBits[i]!, 8)} → ${hex(got[i]!, 4)}`).toBe(true);
        expect(got[i]! & f.quiet).not.toBe(0);
        expect(got[i]! & 0x8000).toBe(nanBits[i]! >>> 31 ? 0x8000 : 0);
      }
    }
  });

  it('int32 tensors stay I32; F32 is the default; the options are checked', () => {
    const t = { w: tensor([1.5, -2], [2]), ids: tensor(new Int32Array([7, -1]), [2]) };
    for (const dtype of ['F16', 'BF16'] as const) {
      const bytes = encodeSafetensors(t, undefined, { dtype });
      expect(raw16(bytes, 'w').dtype).toBe(dtype);
      expect(raw16(bytes, 'ids').dtype).toBe('I32');
      expect([...decodeSafetensors(bytes).tensors.get('ids')!.toInt32Array()]).toEqual([7, -1]);
    }
    expect(encodeSafetensors(t, { k: 'v' }, { dtype: 'F32' })).toEqual(encodeSafetensors(t, { k: 'v' }));
    expect(encodeSafetensors(t, undefined, {})).toEqual(encodeSafetensors(t));
    expect(() => encodeSafetensors(t, undefined, { dtype: 'F64' as never }))
      .toThrow(/Expected one of .*'F32'.*'F16'.*'BF16'.* for options.dtype but received/);
    expect(() => encodeSafetensors(t, undefined, { dtyp: 'F16' } as never)).toThrow(/Unknown option 'dtyp' in options/);
    expect(() => encodeSafetensors(t, undefined, 'F16' as never)).toThrow(InvalidArgumentError);
  });
});

describe('saveSafetensors { dtype } → loadSafetensors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodeformer-st-half-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const [dtype, f] of [['F16', F16], ['BF16', BF16]] as const) {
    it(`${dtype}: the existing reader reads the file back: the rounded values, the I32 tensor, the metadata`, async () => {
      const path = join(dir, `w.${dtype}.safetensors`);
      const w = Float32Array.from({ length: 35 }, (_, i) => Math.sin(i) * 10 ** ((i % 9) - 4));
      w[3] = NaN;
      await saveSafetensors(path, { w: tensor(w, [5, 7]), ids: tensor(new Int32Array([3, 1, 4]), [3]) }, { epoch: '3' }, { dtype });
      const bytes = readFileSync(path);
      const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
      expect((8 + n) % 8).toBe(0);
      expect(bytes.length).toBe(8 + n + 35 * 2 + 3 * 4); // two bytes a weight
      const { tensors, metadata } = await loadSafetensors(path);
      expect(metadata).toEqual({ epoch: '3' });
      const got = tensors.get('w')!;
      expect(got.dtype).toBe('float32');
      expect(got.shape).toEqual([5, 7]);
      const values = got.toFloat32Array();
      for (let i = 0; i < w.length; i++) {
        if (i === 3) expect(values[i]).toBeNaN();
        else expect(raw16(bytes, 'w').bits[i], `element ${i}`).toBe(oracle(w[i]!, f));
      }
      // Widening is exact, so what was read narrows to the same bits again.
      expect(narrow(values, dtype).filter((_, i) => i !== 3)).toEqual(raw16(bytes, 'w').bits.filter((_, i) => i !== 3));
      expect([...tensors.get('ids')!.toInt32Array()]).toEqual([3, 1, 4]);
    });
  }
});

describe('PyTorch 1.13 x.to(torch.float16 / torch.bfloat16) (test/fixtures/half)', () => {
  const bytes = readFileSync(FIXTURE);
  const x = decodeSafetensors(bytes).tensors.get('x')!.toFloat32Array();

  for (const [dtype, f, name] of [['F16', F16, 'x_f16'], ['BF16', BF16, 'x_bf16']] as const) {
    it(`${dtype}: the same bits as torch for all ${x.length} values (NaNs by class)`, () => {
      const torch = raw16(bytes, name);
      expect(torch.dtype).toBe(dtype);
      const ours = narrow(x, dtype);
      let bad = 0, first = '';
      for (let i = 0; i < x.length; i++) {
        const ok = Number.isNaN(x[i]) ? isNaN16(ours[i]!, f) && isNaN16(torch.bits[i]!, f) : ours[i] === torch.bits[i];
        if (!ok && bad++ === 0) first = `index ${i}: ${hex(bitsOf(x[i]!), 8)} → ours ${hex(ours[i]!, 4)}, torch ${hex(torch.bits[i]!, 4)}`;
      }
      expect(bad, `${bad} of ${x.length} differ; first at ${first}`).toBe(0);
    });
  }
});
