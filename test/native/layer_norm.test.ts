// native/kernels/layer_norm*: the SIMD LayerNorm (with and without the fused residual) and the naive
// loops against a float64 oracle under every ISA, the backward against central differences of the oracle
// and against a float64 evaluation of its formula, and 1-vs-2-thread bit identity.
//
// Tolerances (u = 2⁻²⁴, γ_k = k·u/(1 − k·u)): the float32 mean is off by at most γ_C·mean|s|, which
// moves every (s − mean)·rstd·γ by rstd·|γ|·γ_C·mean|s|; the variance sum and the final products add a
// relative γ_{C+8}. So |y − y64| ≤ 8·γ_{C+8}·(|x̂γ| + rstd·|γ|·mean|s|) + 4u·|β|. The backward sums
// (Σg, Σg·x̂ over C; dγ, dβ over N) give the analogous bounds stated where they are used.
import { describe, expect, it } from 'vitest';

import { native } from '../../lib/native/binding.js';
import {
  bitsEqual, centralDifference, compare, f32, gamma as gam, layerNormOracle, SIMD_LEVELS, U32, withSimd, withThreads,
} from '../helpers.js';

const nb = native();
const EPS = 1e-5;

// One row, widths that leave every tail length of a vector (1, 3, 15, 17, 33, 100, 513), more than four
// vectors per row with a tail (4100), and enough rows to split into several tasks.
const SHAPES: Array<[number, number]> = [
  [1, 1], [7, 1], [5, 3], [4, 15], [3, 17], [9, 33], [2, 100], [6, 513], [2, 4100], [40, 64], [300, 257],
];

interface Forward {
  x: Float32Array; r: Float32Array | null; g: Float32Array; b: Float32Array;
  y: Float32Array; sum: Float32Array | null; mean: Float32Array; rstd: Float32Array;
}

function forward(naive: boolean, n: number, c: number, residual: boolean, x = f32(n * c, 1 + n + c, 3)): Forward {
  const r = residual ? f32(n * c, 2 + c, 2) : null;
  const g = f32(c, 3).map((v) => 1 + v / 2), b = f32(c, 4, 0.5);
  const y = new Float32Array(n * c), sum = residual ? new Float32Array(n * c) : null;
  const mean = new Float32Array(n), rstd = new Float32Array(n);
  (naive ? nb.layerNormForwardNaive : nb.layerNormForward)(y, sum, mean, rstd, x, r, g, b, n, c, EPS);
  return { x, r, g, b, y, sum, mean, rstd };
}

function checkForward(f: Forward, n: number, c: number, label: string) {
  if (f.r) expect(bitsEqual(f.sum!, f.x.map((v, i) => v + f.r![i]!)), `${label}: sum = fl(x + r)`).toBe(true);
  const s = f.sum ?? f.x;
  const o = layerNormOracle(s, f.g, f.b, n, c, EPS);
  const k = 8 * gam(c + 8);
  const row = (i: number) => Math.floor(i / c);
  expect(compare(f.y, o.y, (i) => {
    const j = i % c, xh = (s[i]! - o.mean[row(i)]!) * o.rstd[row(i)]!;
    return k * (Math.abs(xh * f.g[j]!) + o.rstd[row(i)]! * Math.abs(f.g[j]!) * o.absMean[row(i)]!) + 4 * U32 * Math.abs(f.b[j]!);
  }, `${label} y`)).toBeNull();
  expect(compare(f.mean, o.mean, (i) => 2 * gam(c) * o.absMean[i]! + 1e-38, `${label} mean`)).toBeNull();
  expect(compare(f.rstd, o.rstd, (i) => o.rstd[i]! * (k + (o.rstd[i]! * 2 * gam(c) * o.absMean[i]!) ** 2), `${label} rstd`)).toBeNull();
}

describe.each(SIMD_LEVELS)('layer_norm_forward [%s]', (simd) => {
  it.each(SHAPES)('matches the float64 oracle at %i×%i, with and without a residual', (n, c) => {
    withSimd(simd, () => {
      for (const residual of [false, true]) checkForward(forward(false, n, c, residual), n, c, `${n}×${c} r=${residual}`);
    });
  });

  it('gives y = β on constant rows (variance 0) and on C = 1', () => {
    withSimd(simd, () => {
      for (const [n, c, value] of [[3, 100, 1], [2, 513, -2.5], [4, 1, 0.3]] as const) {
        const f = forward(false, n, c, false, new Float32Array(n * c).fill(value));
        expect(compare(f.y, Float64Array.from({ length: n * c }, (_, i) => f.b[i % c]!), () => 0, `${n}×${c}`)).toBeNull();
        expect([...f.rstd].every((r) => Math.abs(r - 1 / Math.sqrt(EPS)) < 1e-3 * r)).toBe(true);
      }
      // A value whose C-fold sum rounds: mean is off by ≤ γ_C·|v|, so y is β up to rstd·|γ|·γ_C·|v|.
      checkForward(forward(false, 5, 33, false, new Float32Array(5 * 33).fill(0.1)), 5, 33, 'constant 0.1');
    });
  });

  it('is bit-identical with 1 and 2 threads', () => {
    withSimd(simd, () => {
      for (const [n, c] of [[300, 257], [1000, 64]] as const) {
        for (const residual of [false, true]) {
          const [a, b] = [1, 2].map((t) => withThreads(t, () => forward(false, n, c, residual)));
          for (const key of ['y', 'mean', 'rstd'] as const) expect(bitsEqual(a![key], b![key]), `${n}×${c} ${key}`).toBe(true);
        }
      }
    });
  });
});

describe('layer_norm_forward naive reference', () => {
  it.each(SHAPES)('matches the float64 oracle at %i×%i', (n, c) => {
    for (const residual of [false, true]) checkForward(forward(true, n, c, residual), n, c, `naive ${n}×${c} r=${residual}`);
  });
});

// L = Σ LN(x + r)·G, so (dx, dγ, dβ) is the backward of dy = G.
function backward(naive: boolean, f: Forward, dy: Float32Array, n: number, c: number) {
  const dx = new Float32Array(n * c), dgamma = new Float32Array(c), dbeta = new Float32Array(c);
  (naive ? nb.layerNormBackwardNaive : nb.layerNormBackward)(dx, dgamma, dbeta, dy, f.sum ?? f.x, f.g, f.mean, f.rstd, n, c);
  return { dx, dgamma, dbeta };
}

// The backward's formula evaluated in float64 on the kernel's float32 inputs, with per-element bounds.
function backwardOracle(f: Forward, dy: Float32Array, n: number, c: number) {
  const s = f.sum ?? f.x;
  const dx = new Float64Array(n * c), dxBound = new Float64Array(n * c);
  const dgamma = new Float64Array(c), dbeta = new Float64Array(c), dgAbs = new Float64Array(c), dbAbs = new Float64Array(c);
  const k = 8 * gam(c + 8);
  for (let i = 0; i < n; i++) {
    const m = f.mean[i]!, r = f.rstd[i]!;
    let gs = 0, gxs = 0, gAbs = 0, gxAbs = 0;
    for (let j = 0; j < c; j++) {
      const xh = (s[i * c + j]! - m) * r, g = dy[i * c + j]! * f.g[j]!;
      (gs += g), (gxs += g * xh), (gAbs += Math.abs(g)), (gxAbs += Math.abs(g * xh));
      dgamma[j]! += dy[i * c + j]! * xh;
      dbeta[j]! += dy[i * c + j]!;
      dgAbs[j]! += Math.abs(dy[i * c + j]! * xh);
      dbAbs[j]! += Math.abs(dy[i * c + j]!);
    }
    for (let j = 0; j < c; j++) {
      const xh = (s[i * c + j]! - m) * r, g = dy[i * c + j]! * f.g[j]!;
      dx[i * c + j] = r * (g - gs / c - xh * (gxs / c));
      dxBound[i * c + j] = k * r * (Math.abs(g) + gAbs / c + Math.abs(xh) * (gxAbs / c) + Math.abs(xh * gxs / c));
    }
  }
  return { dx, dxBound, dgamma, dbeta, dgBound: dgAbs.map((a) => 4 * gam(n + c) * a), dbBound: dbAbs.map((a) => 2 * gam(n) * a) };
}

function checkBackward(naive: boolean, n: number, c: number, residual: boolean, label: string) {
  const f = forward(false, n, c, residual);
  const dy = f32(n * c, 7 + n);
  const got = backward(naive, f, dy, n, c);
  const o = backwardOracle(f, dy, n, c);
  expect(compare(got.dx, o.dx, (i) => o.dxBound[i]! + 1e-30, `${label} dx`)).toBeNull();
  expect(compare(got.dgamma, o.dgamma, (j) => o.dgBound[j]! + 1e-30, `${label} dgamma`)).toBeNull();
  expect(compare(got.dbeta, o.dbeta, (j) => o.dbBound[j]! + 1e-30, `${label} dbeta`)).toBeNull();
}

describe.each(SIMD_LEVELS)('layer_norm_backward [%s]', (simd) => {
  it.each([[1, 1], [2, 3], [3, 5], [4, 17]] as const)('matches finite differences of the oracle at %i×%i', (n, c) => {
    withSimd(simd, () => {
      for (const residual of [false, true]) {
        const f = forward(false, n, c, residual);
        const G = f32(n * c, 9);
        const got = backward(false, f, G, n, c);
        const loss = (x: ArrayLike<number>, g: ArrayLike<number>, b: ArrayLike<number>) => {
          const s = f.r ? Float64Array.from(x, (v, i) => v + f.r![i]!) : x;
          return layerNormOracle(s, g, b, n, c, EPS).y.reduce((acc, y, i) => acc + y * G[i]!, 0);
        };
        const fdx = centralDifference((x) => loss(x, f.g, f.b), f.x);
        const fdg = centralDifference((g) => loss(f.x, g, f.b), f.g);
        const fdb = centralDifference((b) => loss(f.x, f.g, b), f.b);
        const tol = (want: ArrayLike<number>) => (i: number) => 1e-4 * (1 + Math.abs(want[i]!));
        const label = `${n}×${c} r=${residual}`;
        expect(compare(got.dx, fdx, tol(fdx), `${label} dx`)).toBeNull();
        expect(compare(got.dgamma, fdg, tol(fdg), `${label} dgamma`)).toBeNull();
        expect(compare(got.dbeta, fdb, tol(fdb), `${label} dbeta`)).toBeNull();
      }
    });
  });

  it.each([[64, 513], [300, 257], [3, 4100], [33, 1]] as const)('matches the float64 formula (and so the naive) at %i×%i', (n, c) => {
    withSimd(simd, () => {
      for (const residual of [false, true]) checkBackward(false, n, c, residual, `${n}×${c} r=${residual}`);
    });
  });

  it('accumulates into dgamma and dbeta', () => {
    withSimd(simd, () => {
      const n = 50, c = 33;
      const f = forward(false, n, c, false);
      const dy = f32(n * c, 10);
      const once = backward(false, f, dy, n, c);
      const dx = new Float32Array(n * c), dgamma = Float32Array.from(once.dgamma), dbeta = Float32Array.from(once.dbeta);
      nb.layerNormBackward(dx, dgamma, dbeta, dy, f.x, f.g, f.mean, f.rstd, n, c);
      expect(compare(dgamma, once.dgamma.map((v) => 2 * v), (j) => 4 * U32 * Math.abs(once.dgamma[j]!), 'dgamma')).toBeNull();
      expect(compare(dbeta, once.dbeta.map((v) => 2 * v), (j) => 4 * U32 * Math.abs(once.dbeta[j]!), 'dbeta')).toBeNull();
    });
  });

  it('is bit-identical with 1 and 2 threads (dγ, dβ summed per task in a fixed order)', () => {
    withSimd(simd, () => {
      for (const [n, c] of [[300, 257], [1000, 64]] as const) {
        const f = forward(false, n, c, true);
        const dy = f32(n * c, 11);
        const [a, b] = [1, 2].map((t) => withThreads(t, () => backward(false, f, dy, n, c)));
        for (const key of ['dx', 'dgamma', 'dbeta'] as const) expect(bitsEqual(a![key], b![key]), `${n}×${c} ${key}`).toBe(true);
      }
    });
  });
});

describe('layer_norm_backward naive reference', () => {
  it.each([[1, 1], [9, 33], [64, 513]] as const)('matches the float64 formula at %i×%i', (n, c) => {
    for (const residual of [false, true]) checkBackward(true, n, c, residual, `naive ${n}×${c} r=${residual}`);
  });
});
