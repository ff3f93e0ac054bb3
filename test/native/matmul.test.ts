// native/kernels/matmul*: the SIMD GEMM (both paths: M ≤ 16 streaming, blocked) and the naive loop,
// against a float64 oracle under every ISA this machine supports, and the backward entry points.
//
// Tolerance: |c − c64| ≤ 2·γ_k·Σ|a||b| per element (γ_k = k·u/(1−k·u), u = 2⁻²⁴): the classical bound for
// a length-k float32 dot product in any summation order, doubled for the final add into C.
import { describe, expect, it } from 'vitest';

import { native } from '../../lib/native/binding.js';
import { bitsEqual, compare, f32, gamma, matmulOracle, SIMD_LEVELS, withSimd, withThreads } from '../helpers.js';

const nb = native();

// Awkward shapes: 1s, primes, tails smaller than a vector, both sides of the M ≤ 16 switch, row tails of
// every panel height, more than one KC (512) block of k, and N wide enough for B to be packed in groups
// of 8 panels with a remainder.
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [1, 7, 1], [1, 1, 13], [2, 3, 5], [3, 17, 31], [7, 13, 3], [16, 64, 100], [17, 33, 65],
  [1, 300, 257], [5, 257, 19], [13, 100, 129], [37, 41, 43], [64, 31, 1], [100, 300, 50], [29, 513, 67],
  [33, 600, 300], [26, 70, 523],
];
const TRANS: Array<[boolean, boolean]> = [[false, false], [true, false], [false, true], [true, true]];

function runForward(naive: boolean, m: number, k: number, n: number, ta: boolean, tb: boolean, accumulate = false, withBias = false) {
  const a = f32(m * k, 1 + m + 7 * k), b = f32(k * n, 2 + n + 5 * k);
  const c = f32(m * n, 3);
  const c0 = c.slice();
  const bias = withBias ? f32(n, 4 + n, 2) : null;
  (naive ? nb.matmulForwardNaive : nb.matmulForward)(c, a, b, m, k, n, ta, tb, accumulate, 1, null, null, bias);
  const { c: want, scale } = matmulOracle(a, b, m, k, n, ta, tb);
  if (accumulate) for (let i = 0; i < want.length; i++) (want[i] += c0[i]!), (scale[i] += Math.abs(c0[i]!));
  if (bias) for (let i = 0; i < want.length; i++) (want[i] += bias[i % n]!), (scale[i] += Math.abs(bias[i % n]!));
  return { c, want, scale };
}

describe.each(SIMD_LEVELS)('matmul_forward [%s]', (simd) => {
  it.each(SHAPES)('matches the float64 oracle at %i×%i×%i, every transpose', (m, k, n) => {
    withSimd(simd, () => {
      for (const [ta, tb] of TRANS) {
        const { c, want, scale } = runForward(false, m, k, n, ta, tb);
        expect(compare(c, want, (i) => 2 * gamma(k) * scale[i]!, `${m}×${k}×${n} ta=${ta} tb=${tb}`)).toBeNull();
      }
    });
  });

  it('accumulates into C when asked', () => {
    withSimd(simd, () => {
      for (const [m, k, n] of [[3, 5, 7], [40, 300, 33]] as const) {
        for (const [ta, tb] of TRANS) {
          const { c, want, scale } = runForward(false, m, k, n, ta, tb, true);
          expect(compare(c, want, (i) => 2 * gamma(k + 1) * scale[i]!, `acc ${m}×${k}×${n}`)).toBeNull();
        }
      }
    });
  });

  it('adds a bias row once, on both paths, over several K blocks, with and without accumulate', () => {
    withSimd(simd, () => {
      for (const [m, k, n] of [[3, 5, 7], [16, 40, 100], [17, 33, 65], [40, 1100, 33], [100, 300, 50]] as const) {
        for (const [ta, tb] of TRANS) {
          for (const accumulate of [false, true]) {
            const { c, want, scale } = runForward(false, m, k, n, ta, tb, accumulate, true);
            expect(compare(c, want, (i) => 2 * gamma(k + 2) * scale[i]!, `bias ${m}×${k}×${n} acc=${accumulate}`)).toBeNull();
          }
        }
      }
      const c = new Float32Array(6).fill(7); // k = 0: the bias rows alone
      nb.matmulForward(c, new Float32Array(0), new Float32Array(0), 2, 0, 3, false, false, false, 1, null, null, Float32Array.of(1, 2, 3));
      expect([...c]).toEqual([1, 2, 3, 1, 2, 3]);
    });
  });

  // The decode path: with B transposed (a Linear layer's weight, N×K) up to 32 rows are dot products of
  // A's rows with B's rows, 16 outputs per tile reduced together; tiles of 1, 2, 3 and 4 rows, column
  // tails, k tails shorter than a vector, an L1-aliasing stride (k = 1024) and a B big enough to be prefetched.
  const DECODE: Array<[number, number, number]> = [
    [1, 37, 7], [2, 20, 8000], [3, 1024, 23], [4, 100, 33], [5, 257, 40], [8, 31, 17], [15, 64, 129],
    [17, 33, 65], [24, 300, 47], [31, 19, 100], [32, 256, 7], [32, 135, 8000],
  ];
  it.each(DECODE)('decode shapes %i×%i×%i: both B layouts, with and without bias and accumulate', (m, k, n) => {
    withSimd(simd, () => {
      for (const tb of [false, true]) {
        for (const [accumulate, withBias] of [[false, false], [true, false], [false, true], [true, true]] as const) {
          const { c, want, scale } = runForward(false, m, k, n, false, tb, accumulate, withBias);
          const tol = (i: number) => 2 * gamma(k + 2) * scale[i]!;
          expect(compare(c, want, tol, `${m}×${k}×${n} tb=${tb} acc=${accumulate} bias=${withBias}`)).toBeNull();
        }
      }
    });
  });

  it('gives each row of a decode product the bits of that row computed alone (tiles change no result)', () => {
    withSimd(simd, () => {
      for (const [m, k, n] of [[7, 300, 45], [32, 1024, 40]] as const) {
        const a = f32(m * k, 15), b = f32(n * k, 16), bias = f32(n, 17);
        const all = new Float32Array(m * n);
        nb.matmulForward(all, a, b, m, k, n, false, true, false, 1, null, null, bias);
        for (let i = 0; i < m; i++) {
          const row = new Float32Array(n);
          nb.matmulForward(row, a.subarray(i * k, (i + 1) * k), b, 1, k, n, false, true, false, 1, null, null, bias);
          expect(bitsEqual(row, all.subarray(i * n, (i + 1) * n)), `${m}×${k}×${n} row ${i}`).toBe(true);
        }
      }
    });
  });

  it('writes zeros for k = 0 and nothing for m = 0 or n = 0', () => {
    withSimd(simd, () => {
      const c = new Float32Array(6).fill(7);
      nb.matmulForward(c, new Float32Array(0), new Float32Array(0), 2, 0, 3, false, false, false, 1, null, null, null);
      expect([...c]).toEqual([0, 0, 0, 0, 0, 0]);
      nb.matmulForward(new Float32Array(0), new Float32Array(0), f32(12, 1), 0, 4, 3, false, false, false, 1, null, null, null);
    });
  });

  it('is bit-identical with 1, 2 and 3 threads (both paths)', () => {
    withSimd(simd, () => {
      for (const [m, k, n, ta, tb] of [
        [300, 200, 260, false, false], [67, 129, 700, true, true], [5, 300, 900, false, false],
        [16, 257, 1000, true, true], [1, 512, 2000, false, true], [32, 256, 8000, false, true],
        [9, 1024, 250, true, true],
      ] as const) {
        const a = f32(m * k, 4), b = f32(k * n, 5), bias = f32(n, 6);
        const outs = [1, 2, 3].map((t) =>
          withThreads(t, () => {
            const c = new Float32Array(m * n);
            nb.matmulForward(c, a, b, m, k, n, ta, tb, false, 1, null, null, bias);
            return c;
          }),
        );
        expect(bitsEqual(outs[0]!, outs[1]!), `${m}×${k}×${n} 1 vs 2 threads`).toBe(true);
        expect(bitsEqual(outs[0]!, outs[2]!), `${m}×${k}×${n} 1 vs 3 threads`).toBe(true);
      }
    });
  });
});

describe('matmul_forward naive reference', () => {
  it.each(SHAPES.slice(0, 10))('matches the float64 oracle at %i×%i×%i, with and without a bias', (m, k, n) => {
    for (const [ta, tb] of TRANS) {
      for (const withBias of [false, true]) {
        const { c, want, scale } = runForward(true, m, k, n, ta, tb, false, withBias);
        expect(compare(c, want, (i) => 2 * gamma(k + 1) * scale[i]!, `naive ${m}×${k}×${n}`)).toBeNull();
      }
    }
  });
});

describe('batched matmul with offsets', () => {
  it('reads each batch at its offset (broadcast A, strided B)', () => {
    const m = 3, k = 4, n = 5, batch = 3;
    const a = f32(m * k, 6);                       // one A shared by every batch
    const b = f32(2 * k * n + 7, 7);               // batches at 7, 7 + k·n, 7
    const bOff = new Float64Array([7, 7 + k * n, 7]);
    const c = new Float32Array(batch * m * n);
    nb.matmulForward(c, a, b, m, k, n, false, false, false, batch, new Float64Array(batch), bOff, null);
    for (let i = 0; i < batch; i++) {
      const { c: want, scale } = matmulOracle(a, b.subarray(bOff[i]!, bOff[i]! + k * n), m, k, n, false, false);
      expect(compare(c.subarray(i * m * n, (i + 1) * m * n), want, (j) => 2 * gamma(k) * scale[j]!, `batch ${i}`)).toBeNull();
    }
  });
});

// dC = op(A)·op(B): dA += dC·op(B)ᵀ (stored transposed when transA), dB += op(A)ᵀ·dC (likewise).
describe.each(SIMD_LEVELS)('matmul_backward [%s]', (simd) => {
  // L = Σ C∘G, so ∂L/∂A is the backward of dC = G. Central differences of the float64 oracle are exact
  // for this bilinear L up to rounding, which checks the formulas independently of the kernels.
  function finiteDifference(a: Float32Array, b: Float32Array, g: Float32Array, m: number, k: number, n: number, ta: boolean, tb: boolean) {
    const loss = (aa: ArrayLike<number>, bb: ArrayLike<number>) => {
      const { c } = matmulOracle(aa, bb, m, k, n, ta, tb);
      return c.reduce((s, x, i) => s + x * g[i]!, 0);
    };
    const h = 1e-3;
    const grad = (x: Float32Array, which: 'a' | 'b') =>
      Float64Array.from(x, (_, i) => {
        const plus = Float64Array.from(x), minus = Float64Array.from(x);
        plus[i]! += h;
        minus[i]! -= h;
        const [lp, lm] = which === 'a' ? [loss(plus, b), loss(minus, b)] : [loss(a, plus), loss(a, minus)];
        return (lp - lm) / (2 * h);
      });
    return { da: grad(a, 'a'), db: grad(b, 'b') };
  }

  it.each([[1, 1, 1], [2, 3, 4], [5, 7, 3], [17, 9, 6]] as const)('matches finite differences at %i×%i×%i', (m, k, n) => {
    withSimd(simd, () => {
      for (const [ta, tb] of TRANS) {
        const a = f32(m * k, 8), b = f32(k * n, 9), g = f32(m * n, 10);
        const da = new Float32Array(m * k), db = new Float32Array(k * n);
        nb.matmulBackward(da, db, g, a, b, m, k, n, ta, tb, 1, null, null);
        const fd = finiteDifference(a, b, g, m, k, n, ta, tb);
        expect(compare(da, fd.da, () => 1e-5 * (1 + n), `dA ta=${ta} tb=${tb}`)).toBeNull();
        expect(compare(db, fd.db, () => 1e-5 * (1 + m), `dB ta=${ta} tb=${tb}`)).toBeNull();
      }
    });
  });

  it('accumulates into existing gradients and sums over broadcast batches; null skips one', () => {
    withSimd(simd, () => {
      const m = 20, k = 30, n = 40, batch = 3;
      for (const [ta, tb] of TRANS) {
        const a = f32(m * k, 11);                         // broadcast over the batch
        const b = f32(batch * k * n, 12);
        const g = f32(batch * m * n, 13);
        const da = f32(m * k, 14), db = new Float32Array(batch * k * n);
        const da0 = da.slice();
        nb.matmulBackward(da, db, g, a, b, m, k, n, ta, tb, batch, new Float64Array(batch), null);
        const naiveDa = da0.slice(), naiveDb = new Float32Array(batch * k * n);
        nb.matmulBackwardNaive(naiveDa, naiveDb, g, a, b, m, k, n, ta, tb, batch, new Float64Array(batch), null);
        // Oracle for dA: da0 + Σ_batches of the single-product gradient.
        const wantDa = Float64Array.from(da0);
        for (let i = 0; i < batch; i++) {
          const one = new Float32Array(m * k);
          nb.matmulBackwardNaive(one, null, g.subarray(i * m * n, (i + 1) * m * n), a, b.subarray(i * k * n, (i + 1) * k * n), m, k, n, ta, tb, 1, null, null);
          for (let j = 0; j < one.length; j++) wantDa[j] += one[j]!;
        }
        expect(compare(da, wantDa, (j) => 1e-4 * (1 + Math.abs(wantDa[j]!)), `dA ta=${ta} tb=${tb}`)).toBeNull();
        expect(compare(db, naiveDb, (j) => 1e-4 * (1 + Math.abs(naiveDb[j]!)), `dB ta=${ta} tb=${tb}`)).toBeNull();
        const onlyDb = new Float32Array(batch * k * n);
        nb.matmulBackward(null, onlyDb, g, a, b, m, k, n, ta, tb, batch, new Float64Array(batch), null);
        expect(bitsEqual(onlyDb, db)).toBe(true);
      }
    });
  });
});
