// native/kernels/matmul_packed*: the GEMM against a weight packed once (decoding's y = x·Wᵀ + b), under
// every ISA this machine supports, against the float64 oracle, the reference loops and itself.
//
// Tolerance: |c − c64| ≤ 2·γ_(k+1)·(Σ|a||w| + |bias|) per element (one fma chain of length k, then the bias
// added), as in matmul.test.ts. The FMA ISAs (avx2, avx512, neon) must also give the reference's bits
// exactly: every element is the one fma chain of matmul_packed.h.
import { describe, expect, it } from 'vitest';

import { OutOfRangeError, ShapeError } from '../../lib/index.js';
import { native } from '../../lib/native/binding.js';
import { bitsEqual, compare, f32, gamma, matmulOracle, SIMD_LEVELS, withSimd, withThreads } from '../helpers.js';

const nb = native();
const FMA_LEVELS = new Set(['avx2', 'avx512', 'neon']);

function pack(w: Float32Array, n: number, k: number): Float32Array {
  const packed = new Float32Array(nb.matmulPackedSize(n, k)).fill(Number.NaN);
  nb.matmulPack(packed, w, n, k);
  return packed;
}

function run(m: number, k: number, n: number, withBias: boolean, naive = false) {
  const a = f32(m * k, 1 + m + 7 * k), w = f32(n * k, 2 + n + 5 * k);
  const bias = withBias ? f32(n, 3 + n, 2) : null;
  const c = new Float32Array(m * n).fill(Number.NaN);
  (naive ? nb.matmulPackedForwardNaive : nb.matmulPackedForward)(c, a, pack(w, n, k), m, k, n, 1, null, bias);
  const { c: want, scale } = matmulOracle(a, w, m, k, n, false, true);
  if (bias) for (let i = 0; i < want.length; i++) (want[i]! += bias[i % n]!), (scale[i]! += Math.abs(bias[i % n]!));
  return { c, want, scale };
}

// Every row count of the decode path (tiles of 1-12 rows, 1-4 panels), k not a multiple of 16 (nor of
// a vector), n below one panel, with a partial panel, and the vocabulary projection's 8000.
const ROWS = Array.from({ length: 32 }, (_, i) => i + 1);
const SHAPES: Array<[number, number]> = [[37, 7], [19, 47], [1, 16], [100, 33]];

describe('matmulPack', () => {
  it('lays W [N, K] out in panels of 16 columns, K × 16 each, zero-padded', () => {
    const n = 21, k = 5;
    const w = f32(n * k, 9);
    const packed = pack(w, n, k);
    expect(packed.length).toBe(Math.ceil(n / 16) * 16 * k);
    for (let j = 0; j < 32; j++)
      for (let p = 0; p < k; p++)
        expect(packed[Math.floor(j / 16) * 16 * k + p * 16 + (j % 16)]).toBe(j < n ? w[j * k + p] : 0);
  });

  it('reports the packed length ceil(n / 16)·16·k', () => {
    expect([nb.matmulPackedSize(0, 5), nb.matmulPackedSize(1, 5), nb.matmulPackedSize(16, 5), nb.matmulPackedSize(17, 3)]).toEqual([0, 80, 80, 96]);
  });
});

describe('matmul_packed_forward naive reference', () => {
  it.each([[1, 37, 7], [5, 19, 47], [32, 100, 33]] as const)('matches the float64 oracle at %i×%i×%i', (m, k, n) => {
    for (const withBias of [false, true]) {
      const { c, want, scale } = run(m, k, n, withBias, true);
      expect(compare(c, want, (i) => 2 * gamma(k + 1) * scale[i]!, `naive ${m}×${k}×${n} bias=${withBias}`)).toBeNull();
    }
  });
});

describe.each(SIMD_LEVELS)('matmul_packed_forward [%s]', (simd) => {
  it.each(SHAPES)('matches the float64 oracle for M = 1…32 at K = %i, N = %i, with and without bias', (k, n) => {
    withSimd(simd, () => {
      for (const m of ROWS) {
        for (const withBias of [false, true]) {
          const { c, want, scale } = run(m, k, n, withBias);
          expect(compare(c, want, (i) => 2 * gamma(k + 1) * scale[i]!, `${m}×${k}×${n} bias=${withBias}`)).toBeNull();
        }
      }
    });
  });

  it.each([1, 3, 8, 13, 32])('matches the float64 oracle at %i×37×8000 (many panels, one partial)', (m) => {
    withSimd(simd, () => {
      for (const withBias of [false, true]) {
        const { c, want, scale } = run(m, 37, 8000, withBias);
        expect(compare(c, want, (i) => 2 * gamma(38) * scale[i]!, `${m}×37×8000 bias=${withBias}`)).toBeNull();
      }
    });
  });

  it(FMA_LEVELS.has(simd) ? 'gives the reference loops\' bits exactly (one fma chain per element)' : 'stays within the tolerance of the reference loops', () => {
    withSimd(simd, () => {
      for (const [m, k, n] of [[1, 37, 7], [7, 257, 100], [32, 256, 8000], [20, 1, 33]] as const) {
        const a = f32(m * k, 10), w = f32(n * k, 11), bias = f32(n, 12);
        const packed = pack(w, n, k);
        const got = new Float32Array(m * n), ref = new Float32Array(m * n);
        nb.matmulPackedForward(got, a, packed, m, k, n, 1, null, bias);
        nb.matmulPackedForwardNaive(ref, a, packed, m, k, n, 1, null, bias);
        if (FMA_LEVELS.has(simd)) expect(bitsEqual(got, ref), `${m}×${k}×${n}`).toBe(true);
        else {
          const { scale } = matmulOracle(a, w, m, k, n, false, true);
          expect(compare(got, ref, (i) => 4 * gamma(k + 1) * (scale[i]! + Math.abs(bias[i % n]!)), `${m}×${k}×${n}`)).toBeNull();
        }
      }
    });
  });

  it('gives each row the bits of that row computed alone (tiles change no result)', () => {
    withSimd(simd, () => {
      for (const [m, k, n] of [[7, 300, 45], [32, 1024, 40]] as const) {
        const a = f32(m * k, 15), w = f32(n * k, 16), bias = f32(n, 17);
        const packed = pack(w, n, k);
        const all = new Float32Array(m * n);
        nb.matmulPackedForward(all, a, packed, m, k, n, 1, null, bias);
        for (let i = 0; i < m; i++) {
          const row = new Float32Array(n);
          nb.matmulPackedForward(row, a.subarray(i * k, (i + 1) * k), packed, 1, k, n, 1, null, bias);
          expect(bitsEqual(row, all.subarray(i * n, (i + 1) * n)), `${m}×${k}×${n} row ${i}`).toBe(true);
        }
      }
    });
  });

  it('is bit-identical with 1, 2 and 3 threads', () => {
    withSimd(simd, () => {
      for (const [m, k, n] of [[32, 256, 8000], [1, 512, 2000], [9, 100, 250], [17, 1024, 300]] as const) {
        const a = f32(m * k, 4), w = f32(n * k, 5), bias = f32(n, 6);
        const packed = pack(w, n, k);
        const outs = [1, 2, 3].map((t) =>
          withThreads(t, () => {
            const c = new Float32Array(m * n);
            nb.matmulPackedForward(c, a, packed, m, k, n, 1, null, bias);
            return c;
          }),
        );
        expect(bitsEqual(outs[0]!, outs[1]!), `${m}×${k}×${n} 1 vs 2 threads`).toBe(true);
        expect(bitsEqual(outs[0]!, outs[2]!), `${m}×${k}×${n} 1 vs 3 threads`).toBe(true);
      }
    });
  });

  it('writes the bias rows for k = 0 and nothing for m = 0 or n = 0', () => {
    withSimd(simd, () => {
      const c = new Float32Array(6).fill(7);
      nb.matmulPackedForward(c, new Float32Array(0), new Float32Array(0), 2, 0, 3, 1, null, Float32Array.of(1, 2, 3));
      expect([...c]).toEqual([1, 2, 3, 1, 2, 3]);
      nb.matmulPackedForward(c, new Float32Array(0), new Float32Array(0), 2, 0, 3, 1, null, null);
      expect([...c]).toEqual([0, 0, 0, 0, 0, 0]);
      nb.matmulPackedForward(new Float32Array(0), new Float32Array(0), pack(f32(12, 1), 3, 4), 0, 4, 3, 1, null, null);
      nb.matmulPackedForward(new Float32Array(0), f32(8, 1), new Float32Array(0), 2, 4, 0, 1, null, null);
    });
  });
});

describe('matmulPackedForward batches', () => {
  it('reads each input at its offset (null: contiguous), all against the one weight', () => {
    const m = 3, k = 20, n = 40, batch = 3;
    const a = f32(2 * m * k + 5, 6), w = f32(n * k, 7), bias = f32(n, 8);
    const packed = pack(w, n, k);
    const offsets = new Float64Array([5, 0, 5 + m * k]);
    const c = new Float32Array(batch * m * n);
    nb.matmulPackedForward(c, a, packed, m, k, n, batch, offsets, bias);
    for (let i = 0; i < batch; i++) {
      const one = new Float32Array(m * n);
      nb.matmulPackedForward(one, a.subarray(offsets[i]!, offsets[i]! + m * k), packed, m, k, n, 1, null, bias);
      expect(bitsEqual(one, c.subarray(i * m * n, (i + 1) * m * n)), `batch ${i}`).toBe(true);
    }
    const contiguous = new Float32Array(2 * m * n);
    nb.matmulPackedForward(contiguous, a.subarray(0, 2 * m * k), packed, m, k, n, 2, null, bias);
    expect(bitsEqual(contiguous.subarray(0, m * n), c.subarray(m * n, 2 * m * n))).toBe(true);
  });
});

describe('matmul packed: lengths checked in C++', () => {
  const m = 2, k = 3, n = 4;
  const ok = () => [new Float32Array(m * n), new Float32Array(m * k), new Float32Array(nb.matmulPackedSize(n, k))] as const;
  it('refuses buffers of the wrong length with a ShapeError', () => {
    const [c, a, packed] = ok();
    expect(() => nb.matmulPackedForward(c.subarray(1), a, packed, m, k, n, 1, null, null)).toThrow(ShapeError);
    expect(() => nb.matmulPackedForward(c, a.subarray(1), packed, m, k, n, 1, null, null)).toThrow(ShapeError);
    expect(() => nb.matmulPackedForward(c, a, packed.subarray(1), m, k, n, 1, null, null)).toThrow(ShapeError);
    expect(() => nb.matmulPackedForward(c, a, new Float32Array(n * k), m, k, n, 1, null, null)).toThrow(ShapeError);
    expect(() => nb.matmulPackedForward(c, a, packed, m, k, n, 1, null, new Float32Array(n + 1))).toThrow(ShapeError);
    expect(() => nb.matmulPackedForward(c, a, packed, m, k, n, 2, null, null)).toThrow(ShapeError);
    expect(() => nb.matmulPack(packed.subarray(1), new Float32Array(n * k), n, k)).toThrow(ShapeError);
    expect(() => nb.matmulPack(packed, new Float32Array(n * k + 1), n, k)).toThrow(ShapeError);
  });
  it('refuses an input offset past the end with an OutOfRangeError', () => {
    const [c, a, packed] = ok();
    expect(() => nb.matmulPackedForward(c, a, packed, m, k, n, 1, new Float64Array([1]), null)).toThrow(OutOfRangeError);
    expect(() => nb.matmulPackedSize(2 ** 31 - 1, 2 ** 31 - 1)).toThrow(OutOfRangeError);
  });
});

describe('matmul_packed_forward: M = 17…80 at 1-4 threads, C prefilled with NaN, every ISA', () => {
  // Row tiles: with M ≥ 12 every tile is rows_for(1) rows high (12 on avx512, two panels wide; 6 on avx2
  // and neon, 2 on scalar, one panel wide), the last one shorter: M = 17…80 meets every row tail of each
  // several times over, for little next to the oracle. Threads split N, not M, in whole groups of 4 panels
  // (64 columns), and only once M·N·K ≥ 2¹⁷ (kMinParallelWork): so K = ⌈2¹⁷/(M·N)⌉ (6 to 1543). Besides
  // N = 5 and 33 (M > N: one task whatever the thread count), N = 300 splits unevenly: 19 panels, the last
  // 12 columns wide, in 5 groups, handed out as 4 tasks of 8 panels at 2 threads (the third has 3 panels,
  // the fourth none) and as 5 tasks of 4 at 3 and 4 threads (the last has 3).
  it.each([5, 33, 300])('N = %i, with a bias', (n) => {
    const cases = Array.from({ length: 64 }, (_, i) => {
      const m = 17 + i, k = Math.ceil(2 ** 17 / (m * n));
      const a = f32(m * k, 40 + m), w = f32(n * k, 41 + k), bias = f32(n, 42 + n, 2);
      const { c: want, scale } = matmulOracle(a, w, m, k, n, false, true);
      for (let j = 0; j < want.length; j++) (want[j]! += bias[j % n]!), (scale[j]! += Math.abs(bias[j % n]!));
      const g = 2 * gamma(k + 1);
      return { m, k, a, packed: pack(w, n, k), bias, want, bound: scale.map((s) => g * s), one: new Map<string, Float32Array>() };
    });
    for (const t of [1, 2, 3, 4]) withThreads(t, () => {
      for (const simd of SIMD_LEVELS) withSimd(simd, () => {
        for (const { m, k, a, packed, bias, want, bound, one } of cases) {
          const c = new Float32Array(m * n).fill(Number.NaN);
          nb.matmulPackedForward(c, a, packed, m, k, n, 1, null, bias);
          const label = `${simd} ${t} threads ${m}×${k}×${n}`;
          expect(compare(c, want, (j) => bound[j]!, label)).toBeNull();
          // matmul_packed.h: neither the tiles nor the thread split change a bit.
          if (t === 1) one.set(simd, c);
          else expect(bitsEqual(c, one.get(simd)!), `${label}: bits of 1 thread`).toBe(true);
        }
      });
    });
  });
});
