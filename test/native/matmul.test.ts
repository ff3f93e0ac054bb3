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
  if (accumulate) for (let i = 0; i < want.length; i++) (want[i]! += c0[i]!), (scale[i]! += Math.abs(c0[i]!));
  if (bias) for (let i = 0; i < want.length; i++) (want[i]! += bias[i % n]!), (scale[i]! += Math.abs(bias[i % n]!));
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
          for (let j = 0; j < one.length; j++) wantDa[j]! += one[j]!;
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

// ---------------------------------------------------------------------------------------------------
// Uneven thread splits: every ISA at 1, 2, 3 and 4 threads, outputs prefilled so that an element no
// thread writes fails the oracle comparison.
//
// The blocked path cuts C into a tm × tn grid of blocks of mstep = ⌈⌈M/tm⌉/MR⌉·MR rows (MR = 12 on avx512,
// 6 on avx2, 8 on neon, 4 on scalar) by ⌈⌈N/tn⌉/NR⌉·NR columns, picking the grid that repacks least; with
// M > N that splits rows (tm = threads, or 2 × 2 at 4 threads when M < 2N) as far as ⌈M/MR⌉ allows. Every
// M from 17 to 80 is swept rather than a subset: 64 consecutive values meet every residue of M modulo tm·MR
// (at most 4·12 = 48) for every tm ≤ 4 and MR, so every way the last row block can come out short, one row
// long or empty (e.g. avx512, 4 threads, M = 49, N = 5: blocks of 24 rows at 0, 24, 48 and 72), every row-panel
// tail (panel_rows), and M > 72 also crosses a second MC = 72 block of A. Subsampling would save little:
// the float64 oracle and the inputs dominate the run time and cost the same per shape.
// K = ⌈2¹⁷/(M·N)⌉ keeps M·N·K at kMinParallelWork = 2¹⁷ multiply-adds or just above (below it everything
// runs on one thread, whatever the thread count). That gives K from 50 to 1543: every residue mod 4 (the
// 4×4 transposing packer's tail) and up to four KC = 512 blocks (C read back and added to).
// With B transposed, M ≤ 32 takes the few-row dot-product path instead (threads split N in tiles of 8 or 16
// columns: N = 33 gives 3-5 tasks with a 1-column tail), so both paths are swept; N = 33 is also kept for
// M ≤ 33 for that reason, while every other shape has M > N.
const SPLIT_M = Array.from({ length: 64 }, (_, i) => 17 + i);
const SPLIT_N = [5, 16, 33];
const SPLIT_THREADS = [1, 2, 3, 4];
const splitK = (m: number, n: number) => Math.ceil(2 ** 17 / (m * n));

/** The oracle of one product and its bound 2·γ_inner·Σ|a||b| per element, computed once for every run. */
function oracleBound(...args: Parameters<typeof matmulOracle>) {
  const { c, scale } = matmulOracle(...args);
  const g = 2 * gamma(args[3]);
  return { want: c, bound: scale.map((s) => g * s) };
}

/** compare() with the bound precomputed, behind a tight first pass: the sweeps check ~10⁸ elements. */
function compareTo(got: Float32Array, { want, bound }: { want: Float64Array; bound: Float64Array }, label: string) {
  let ok = got.length === want.length;
  for (let i = 0; ok && i < want.length; i++) ok = Math.abs(got[i]! - want[i]!) <= bound[i]!;
  return ok ? null : compare(got, want, (i) => bound[i]!, label);
}

/** Runs `run(case)` at every thread count (outer: a resize of the pool costs ~0.3 ms) and ISA. */
function sweepThreads<C>(cases: C[], run: (c: C, simd: string, threads: number) => void) {
  for (const t of SPLIT_THREADS) withThreads(t, () => {
    for (const simd of SIMD_LEVELS) withSimd(simd, () => cases.forEach((c) => run(c, simd, t)));
  });
}

describe('matmul_forward: M = 17…80 split unevenly over 1-4 threads, C prefilled with NaN, every ISA', () => {
  it.each(SPLIT_N)('N = %i, every transpose, both paths', (n) => {
    for (const [ta, tb] of TRANS) {
      const cases = SPLIT_M.map((m) => {
        const k = splitK(m, n);
        const a = f32(m * k, 20 + m), b = f32(k * n, 21 + n + k);
        return { m, k, a, b, want: oracleBound(a, b, m, k, n, ta, tb), one: new Map<string, Float32Array>() };
      });
      sweepThreads(cases, ({ m, k, a, b, want, one }, simd, t) => {
        const c = new Float32Array(m * n).fill(Number.NaN);
        nb.matmulForward(c, a, b, m, k, n, ta, tb, false, 1, null, null, null);
        const label = `${simd} ${t} threads ${m}×${k}×${n} ta=${ta} tb=${tb}`;
        expect(compareTo(c, want, label)).toBeNull();
        // matmul.h: each element has one summation order whatever the thread count.
        if (t === 1) one.set(simd, c);
        else expect(bitsEqual(c, one.get(simd)!), `${label}: bits of 1 thread`).toBe(true);
      });
    }
  });
});

describe('matmul_backward: M = 17…80 split unevenly over 1-4 threads, every ISA', () => {
  // The backward is two products (bindings/matmul.cc), each of M·N·K multiply-adds:
  //   dA = dC·op(B)ᵀ, M×K over N (stored K×M when transA: op(B)·dCᵀ, M the columns),
  //   dB = op(A)ᵀ·dC, K×N over M (stored N×K when transB: dCᵀ·op(A)).
  // M is the row count of dA's product, so the forward's M > N becomes M > K here: K = 7 (one row-panel tail
  // on every ISA, and dB's product K ≤ 16 rows takes the few-row path) or 33, and N = ⌈2¹⁷/(M·K)⌉ (50 to
  // 1102: the inner dimension of dA crosses KC = 512) keeps both products at the threading threshold.
  // dA and dB are accumulated into, so they start at zero (not NaN); an element left unwritten keeps its 0,
  // far outside the tolerance of these random sums. Every element of both is checked.
  it.each([7, 33])('K = %i, every transpose: every element of dA and dB against the float64 oracle', (k) => {
    for (const [ta, tb] of TRANS) {
      const cases = SPLIT_M.map((m) => {
        const n = splitK(m, k);
        const a = f32(m * k, 30 + m), b = f32(k * n, 31 + n + k), g = f32(m * n, 32 + m);
        const da = ta ? oracleBound(b, g, k, n, m, tb, true) : oracleBound(g, b, m, n, k, false, !tb);
        const db = tb ? oracleBound(g, a, n, m, k, true, ta) : oracleBound(a, g, k, m, n, !ta, false);
        return { m, n, a, b, g, da, db, one: new Map<string, [Float32Array, Float32Array]>() };
      });
      sweepThreads(cases, ({ m, n, a, b, g, da: wantDa, db: wantDb, one }, simd, t) => {
        const da = new Float32Array(m * k), db = new Float32Array(k * n);
        nb.matmulBackward(da, db, g, a, b, m, k, n, ta, tb, 1, null, null);
        const label = `${simd} ${t} threads ${m}×${k}×${n} ta=${ta} tb=${tb}`;
        expect(compareTo(da, wantDa, `dA ${label}`)).toBeNull();
        expect(compareTo(db, wantDb, `dB ${label}`)).toBeNull();
        if (t === 1) one.set(simd, [da, db]);
        else {
          expect(bitsEqual(da, one.get(simd)![0]), `dA ${label}: bits of 1 thread`).toBe(true);
          expect(bitsEqual(db, one.get(simd)![1]), `dB ${label}: bits of 1 thread`).toBe(true);
        }
      });
    }
  });
});
