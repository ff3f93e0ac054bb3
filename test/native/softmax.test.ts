// native/kernels/softmax*: the SIMD softmax and the naive loops against a float64 oracle under every ISA,
// −inf entries and rows, the backward against central differences and a float64 evaluation of its
// formula, and 1-vs-2-thread bit identity.
//
// Tolerances (u = 2⁻²⁴, γ_k = k·u/(1 − k·u)): x − max rounds by u·|x − max|, which exp turns into that
// relative error; each exp is within 2 ulp (vexp) and Σexp within γ_C relative, so
// |y − y64| ≤ (2·γ_C + 8u + 2u·|x − max|)·y64, plus 1e-38 where exp(x − max) underflows. The backward's dot product Σdy·y is within γ_C·Σ|dy·y|, so
// |dx − dx64| ≤ 2·(y·γ_C·Σ|dy·y| + 4u·|dx64|).
import { describe, expect, it } from 'vitest';

import { native } from '../../lib/native/binding.js';
import { bitsEqual, centralDifference, compare, f32, gamma as gam, SIMD_LEVELS, softmaxOracle, U32, withSimd, withThreads } from '../helpers.js';

const nb = native();
const SHAPES: Array<[number, number]> = [
  [1, 1], [7, 1], [5, 3], [4, 15], [3, 17], [9, 33], [2, 100], [6, 513], [2, 4100], [300, 257],
];

function forward(naive: boolean, x: Float32Array, n: number, c: number): Float32Array {
  const y = new Float32Array(n * c);
  (naive ? nb.softmaxForwardNaive : nb.softmaxForward)(y, x, n, c);
  return y;
}

function checkForward(naive: boolean, x: Float32Array, n: number, c: number, label: string) {
  const want = softmaxOracle(x, n, c);
  const max = Array.from({ length: n }, (_, i) => Math.max(...x.subarray(i * c, (i + 1) * c)));
  const shift = (i: number) => Math.abs(x[i]! - max[Math.floor(i / c)]!);
  expect(compare(forward(naive, x, n, c), want, (i) =>
    want[i] === 0 ? 0 : (2 * gam(c) + 8 * U32 + 2 * U32 * shift(i)) * want[i]! + 1e-38, label)).toBeNull();
}

function backwardOracle(y: Float32Array, dy: Float32Array, n: number, c: number) {
  const dx = new Float64Array(n * c), bound = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let dot = 0, abs = 0;
    for (let j = 0; j < c; j++) (dot += dy[i * c + j]! * y[i * c + j]!), (abs += Math.abs(dy[i * c + j]! * y[i * c + j]!));
    for (let j = 0; j < c; j++) {
      dx[i * c + j] = y[i * c + j]! * (dy[i * c + j]! - dot);
      bound[i * c + j] = 2 * (y[i * c + j]! * gam(c) * abs + 4 * U32 * Math.abs(dx[i * c + j]!));
    }
  }
  return { dx, bound };
}

function backward(naive: boolean, y: Float32Array, dy: Float32Array, n: number, c: number): Float32Array {
  const dx = new Float32Array(n * c);
  (naive ? nb.softmaxBackwardNaive : nb.softmaxBackward)(dx, dy, y, n, c);
  return dx;
}

describe.each(SIMD_LEVELS)('softmax_forward [%s]', (simd) => {
  it.each(SHAPES)('matches the float64 oracle at %i×%i', (n, c) => {
    withSimd(simd, () => {
      checkForward(false, f32(n * c, n + c, 4), n, c, `${n}×${c}`);
      checkForward(false, f32(n * c, n + c, 60), n, c, `${n}×${c} wide range`);
    });
  });

  it('gives exact zeros at −inf entries and NaN rows when every entry is −inf (as PyTorch)', () => {
    withSimd(simd, () => {
      const n = 3, c = 37;
      const x = f32(n * c, 5, 3);
      for (let j = 0; j < c; j += 3) x[j] = -Infinity;        // row 0: every third masked
      x.fill(-Infinity, c, 2 * c);                             // row 1: all masked
      x.fill(-Infinity, 2 * c, 3 * c - 1);                     // row 2: only the last (a tail lane) left
      const y = forward(false, x, n, c);
      for (let j = 0; j < c; j += 3) expect(Object.is(y[j], 0)).toBe(true);
      expect(y.subarray(c, 2 * c).every((v) => Number.isNaN(v))).toBe(true);
      expect([...y.subarray(2 * c)]).toEqual([...new Array(c - 1).fill(0), 1]);
      checkForward(false, x.subarray(0, c), 1, c, 'masked row');
      const naive = forward(true, x, n, c);
      expect(naive.subarray(c, 2 * c).every((v) => Number.isNaN(v))).toBe(true);
    });
  });

  it('is bit-identical with 1 and 2 threads', () => {
    withSimd(simd, () => {
      const x = f32(300 * 257, 6, 5);
      const [a, b] = [1, 2].map((t) => withThreads(t, () => forward(false, x, 300, 257)));
      expect(bitsEqual(a!, b!)).toBe(true);
    });
  });
});

describe('softmax_forward naive reference', () => {
  it.each(SHAPES)('matches the float64 oracle at %i×%i', (n, c) => checkForward(true, f32(n * c, n + c, 4), n, c, `naive ${n}×${c}`));
});

describe.each(SIMD_LEVELS)('softmax_backward [%s]', (simd) => {
  // L = Σ softmax(x)·G, so dx is the backward of dy = G.
  it.each([[1, 1], [2, 3], [3, 5], [2, 17]] as const)('matches finite differences of the oracle at %i×%i', (n, c) => {
    withSimd(simd, () => {
      const x = f32(n * c, 12, 2), G = f32(n * c, 13);
      const dx = backward(false, forward(false, x, n, c), G, n, c);
      const fd = centralDifference((xx) => softmaxOracle(xx, n, c).reduce((a, y, i) => a + y * G[i]!, 0), x);
      expect(compare(dx, fd, (i) => 1e-5 * (1 + Math.abs(fd[i]!)), `${n}×${c}`)).toBeNull();
    });
  });

  it.each([[64, 513], [300, 257], [3, 4100]] as const)('fused and naive match the float64 formula at %i×%i', (n, c) => {
    withSimd(simd, () => {
      const y = forward(false, f32(n * c, 14, 3), n, c), dy = f32(n * c, 15);
      const o = backwardOracle(y, dy, n, c);
      for (const naive of [false, true]) {
        expect(compare(backward(naive, y, dy, n, c), o.dx, (i) => o.bound[i]! + 1e-38, `${n}×${c} naive=${naive}`)).toBeNull();
      }
    });
  });

  it('is bit-identical with 1 and 2 threads', () => {
    withSimd(simd, () => {
      const y = forward(false, f32(300 * 257, 16), 300, 257), dy = f32(300 * 257, 17);
      const [a, b] = [1, 2].map((t) => withThreads(t, () => backward(false, y, dy, 300, 257)));
      expect(bitsEqual(a!, b!)).toBe(true);
    });
  });
});
