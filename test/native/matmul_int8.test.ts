// native/kernels/matmul_int8*: int8 inference GEMM (per-row symmetric quantization of the weight once and
// of x at every call, exact int32 sums, one fma per output). Its result is defined to the bit
// (matmul_int8.h), so:
//  - quantizeRows matches a JavaScript reading of the definition (Math.fround arithmetic, ties to even);
//  - the reference's integer sums are the JavaScript integer dot products of the JavaScript-quantized
//    values (recovered exactly from y / (s_x·s_w) without a bias);
//  - every ISA of this machine, with VPDPBUSD and with its emulation, on one thread and on all, gives the
//    reference's bits from the packed weight on awkward shapes, zero rows and NaN rows;
//  - the result is within the quantization bound of the float64 product.
import { afterEach, describe, expect, it } from 'vitest';

import { backend, InvalidArgumentError, ShapeError } from '../../lib/index.js';
import { native } from '../../lib/native/binding.js';
import { bitsEqual, f32, SIMD_LEVELS, withSimd, withThreads } from '../helpers.js';

const nb = native();

afterEach(() => backend.setSimd(SIMD_LEVELS.at(-1)!, { lowPrecision: 'native' }));

/** Round half to even, as the kernels' rne. */
const rne = (x: number): number => {
  const f = Math.floor(x), d = x - f;
  return d > 0.5 || (d === 0.5 && f % 2 !== 0) ? f + 1 : f;
};

/** matmul_int8.h's quantization of one row, in JavaScript. */
function quantizeJs(row: Float32Array): { q: Int8Array; s: number } {
  const q = new Int8Array(row.length);
  if (!row.every(Number.isFinite)) return { q, s: Number.NaN };
  const amax = row.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  if (amax === 0) return { q, s: 0 };
  const inv = Math.fround(127 / amax);
  row.forEach((x, i) => (q[i] = Math.max(-127, Math.min(127, rne(Math.fround(x * inv))))));
  return { q, s: Math.fround(amax / 127) };
}

function quantize(x: Float32Array, rows: number, k: number): { q: Int8Array; s: Float32Array } {
  const q = new Int8Array(rows * k), s = new Float32Array(rows);
  nb.quantizeRows(q, s, x, rows, k);
  return { q, s };
}

function pack(wq: Int8Array, n: number, k: number): Int8Array {
  const packed = new Int8Array(nb.matmulInt8PackedBytes(n, k)).fill(99);
  nb.matmulInt8Pack(packed, wq, n, k);
  return packed;
}

interface Case { m: number; k: number; n: number; bias: boolean }

function operands(t: Case, seed: number) {
  const x = f32(t.m * t.k, seed, 3), w = f32(t.n * t.k, seed + 1, 0.2);
  if (t.m > 2) x.fill(0, t.k, 2 * t.k); // a zero row
  const { q: wq, s: ws } = quantize(w, t.n, t.k);
  return { x, w, wq, ws, packed: pack(wq, t.n, t.k), bias: t.bias ? f32(t.n, seed + 2) : null };
}

function run(naive: boolean, t: Case, o: ReturnType<typeof operands>): Float32Array {
  const y = new Float32Array(t.m * t.n).fill(Number.NaN);
  (naive ? nb.matmulInt8ForwardNaive : nb.matmulInt8Forward)(y, o.x, naive ? o.wq : o.packed, o.ws, t.m, t.k, t.n, o.bias);
  return y;
}

// Rows around the tiles (4 on AVX-512 and scalar, 2 on AVX2), K not a multiple of 4 (a padded quad), N
// around the 16-column panels and the 4-panel task blocks.
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 3, 15], [2, 4, 16], [3, 5, 17], [4, 37, 33], [5, 64, 64], [7, 100, 65], [9, 256, 129], [13, 31, 200],
  [32, 256, 1000], [1, 1024, 8],
];
const CASES: Case[] = SHAPES.flatMap(([m, k, n]) => [{ m, k, n, bias: false }, { m, k, n, bias: true }]);

describe('quantizeRows', () => {
  it('is the definition: scale max|x| / 127, values rne(x · 127 / max|x|), zero and non-finite rows', () => {
    const k = 41, rows = 6;
    const x = f32(rows * k, 4, 5);
    x.fill(0, k, 2 * k);
    x[2 * k + 3] = Number.NaN;
    x[3 * k + 7] = Number.POSITIVE_INFINITY;
    // Exact ties: max 127 makes inv 1, so x.5 values round to even.
    x.set(Float32Array.from({ length: k }, (_, i) => (i === 0 ? 127 : (i % 9) - 4.5)), 4 * k);
    const { q, s } = quantize(x, rows, k);
    for (let r = 0; r < rows; r++) {
      const want = quantizeJs(x.subarray(r * k, (r + 1) * k));
      expect(Object.is(s[r], want.s) || (Number.isNaN(s[r]!) && Number.isNaN(want.s)), `row ${r} scale`).toBe(true);
      expect(Array.from(q.subarray(r * k, (r + 1) * k)), `row ${r}`).toEqual(Array.from(want.q));
    }
    expect(Array.from(q.subarray(4 * k + 1, 4 * k + 10))).toEqual([-4, -2, -2, 0, 0, 2, 2, 4, -4]);
  });
});

describe('matmulInt8Pack', () => {
  it('lays wq [N, K] out in panels of 16 columns by quads of k, zero-padded, then the column sums', () => {
    const n = 21, k = 6, k4 = 8;
    const wq = Int8Array.from({ length: n * k }, (_, i) => ((i * 37) % 255) - 127);
    const packed = pack(wq, n, k);
    expect(packed.length).toBe(32 * k4 + 4 * 32);
    for (let j = 0; j < 32; j++)
      for (let p = 0; p < k4; p++)
        expect(packed[Math.floor(j / 16) * 16 * k4 + Math.floor(p / 4) * 64 + (j % 16) * 4 + (p % 4)]).toBe(j < n && p < k ? wq[j * k + p] : 0);
    const sums = new Int32Array(packed.buffer.slice(32 * k4));
    for (let j = 0; j < 32; j++) expect(sums[j]).toBe(j < n ? wq.subarray(j * k, (j + 1) * k).reduce((a, b) => a + b, 0) : 0);
  });
});

describe('matmul_int8 reference', () => {
  it.each(CASES.filter((t) => !t.bias && t.k <= 256))('sums the JavaScript-quantized values exactly: %o', (t) => {
    const o = operands(t, t.m + 3 * t.k);
    const y = run(true, t, o);
    for (let i = 0; i < t.m; i++) {
      const { q: xq, s: sx } = quantizeJs(o.x.subarray(i * t.k, (i + 1) * t.k));
      for (let j = 0; j < t.n; j++) {
        let acc = 0;
        for (let p = 0; p < t.k; p++) acc += xq[p]! * o.wq[j * t.k + p]!;
        const scale = Math.fround(sx * o.ws[j]!);
        // y = fl(acc · scale) and |acc| < 2²², so y / scale rounds back to acc.
        expect(scale === 0 ? y[i * t.n + j] : Math.round(y[i * t.n + j]! / scale)).toBe(scale === 0 ? 0 : acc);
      }
    }
  });

  it('is within the quantization bound of the float64 product', () => {
    const t: Case = { m: 9, k: 300, n: 40, bias: true };
    const o = operands(t, 77);
    const y = run(true, t, o);
    for (let i = 0; i < t.m; i++) {
      const sx = quantizeJs(o.x.subarray(i * t.k, (i + 1) * t.k)).s;
      for (let j = 0; j < t.n; j++) {
        let exact = o.bias![j]!, bound = 1e-6 * Math.abs(exact);
        for (let p = 0; p < t.k; p++) {
          const x = o.x[i * t.k + p]!, w = o.w[j * t.k + p]!;
          exact += x * w;
          // |x − x̂| ≤ s_x/2 and |w − ŵ| ≤ s_w/2 (plus the rounding of each scale and of the output).
          bound += (Math.abs(x) * o.ws[j]! + Math.abs(w) * sx + (sx * o.ws[j]!) / 2) * 0.5 * (1 + 1e-6);
        }
        expect(Math.abs(y[i * t.n + j]! - exact), `${i},${j}`).toBeLessThanOrEqual(bound + 1e-6);
      }
    }
  });
});

describe.each(SIMD_LEVELS)('matmul_int8_forward [%s]', (simd) => {
  it.each(['native', 'emulate'] as const)('gives the reference\'s bits on awkward shapes, one thread and all (%s)', (mode) => {
    withSimd(simd, () => {
      backend.setSimd(simd, { lowPrecision: mode });
      for (const t of CASES) {
        const o = operands(t, t.m + 3 * t.k + t.n);
        if (t.m > 3) o.x[3 * t.k] = Number.NaN; // a NaN row: NaN outputs
        const want = run(true, t, o);
        for (const threads of [1, backend.info().hardwareThreads]) {
          const got = withThreads(threads, () => run(false, t, o));
          expect(bitsEqual(got, want), `${JSON.stringify(t)} threads=${threads}`).toBe(true);
        }
      }
    });
  });
});

describe('int8 entry points', () => {
  it('report whether VPDPBUSD runs, and check their arguments', () => {
    const best = SIMD_LEVELS.at(-1)!;
    backend.setSimd(best, { lowPrecision: 'emulate' });
    expect(backend.info().int8).toBe(false);
    backend.setSimd(best, { lowPrecision: 'native' });
    if (best !== 'avx512') expect(backend.info().int8).toBe(false);
    const y = new Float32Array(4), x = new Float32Array(4), ws = new Float32Array(2);
    const packed = new Int8Array(nb.matmulInt8PackedBytes(2, 2));
    expect(() => nb.matmulInt8Forward(y, x, packed.subarray(1), ws, 2, 2, 2, null)).toThrow(ShapeError);
    expect(() => nb.matmulInt8Forward(y, x, new Float32Array(packed.length) as never, ws, 2, 2, 2, null)).toThrow(/Int8Array/);
    expect(() => nb.matmulInt8Forward(y, x, packed, ws, 2, 2, 2, new Float32Array(3))).toThrow(ShapeError);
    expect(() => nb.matmulInt8PackedBytes(2, 200_000)).toThrow(/k/); // int32 sums: K ≤ 133,000
    expect(() => nb.quantizeRows(new Int8Array(3), new Float32Array(1), new Float32Array(4), 1, 4)).toThrow(ShapeError);
    expect(() => nb.matmulInt8Pack(packed, new Int8Array(4), 2, -1)).toThrow(InvalidArgumentError);
  });
});
