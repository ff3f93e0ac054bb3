// native/kernels/cross_entropy*: the SIMD cross-entropy and the naive loops against PyTorch's semantics
// evaluated in float64 (label smoothing, ignoreIndex, V = 1, V not a multiple of the vector width, all
// rows ignored), the backward against central differences and against its formula in float64, and
// 1-vs-2-thread bit identity.
//
// Tolerances (u = 2⁻²⁴, γ_k = k·u/(1 − k·u)): a row's logsumexp is within e_lse = γ_V + 4u + 2u·|lse| +
// 2u·max|x − max| (Σexp, the log, and x − max rounded by u·|x − max| before exp); the loss adds
// 2u·|x_t| and, with ε > 0, (ε/V)·γ_V·Σ|x|; the mean adds 2u·|loss|. dlogits = (exp(x − lse) − q)·s is
// within |s|·(p·(2u·|x − lse| + 4u) + 4u·|p − q|) of the formula evaluated on the kernel's lse.
import { describe, expect, it } from 'vitest';

import { native } from '../../lib/native/binding.js';
import { Rng } from '../../lib/tensor/random.js';
import { bitsEqual, centralDifference, compare, crossEntropyOracle, f32, gamma as gam, SIMD_LEVELS, U32, withSimd, withThreads } from '../helpers.js';

const nb = native();

interface Case { n: number; v: number; eps: number; ignore: number }

// Targets in [0, V), every fifth row (from the second) set to ignoreIndex.
function targetsFor(n: number, v: number, ignore: number, seed = 3): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, (_, i) => (i % 5 === 1 ? ignore : Math.min(v - 1, Math.floor(rng.uniform() * v))));
}

function forward(naive: boolean, logits: Float32Array, targets: Int32Array, k: Case) {
  const lse = new Float32Array(k.n);
  const loss = (naive ? nb.crossEntropyForwardNaive : nb.crossEntropyForward)(lse, logits, targets, k.n, k.v, k.eps, k.ignore);
  return { loss, lse };
}

function backward(naive: boolean, logits: Float32Array, targets: Int32Array, lse: Float32Array, k: Case, grad: number) {
  const d = new Float32Array(k.n * k.v);
  (naive ? nb.crossEntropyBackwardNaive : nb.crossEntropyBackward)(d, logits, targets, lse, k.n, k.v, k.eps, k.ignore, grad);
  return d;
}

function checkForward(naive: boolean, logits: Float32Array, targets: Int32Array, k: Case, label: string) {
  const { loss, lse } = forward(naive, logits, targets, k);
  const o = crossEntropyOracle(logits, targets, k.n, k.v, k.eps, k.ignore);
  let bound = 0;
  const lseBound = new Float64Array(k.n);
  for (let i = 0; i < k.n; i++) {
    const t = targets[i]!;
    if (t === k.ignore) continue;
    const row = logits.subarray(i * k.v, (i + 1) * k.v);
    const max = Math.max(...row), range = Math.max(...row.filter(Number.isFinite).map((x) => max - x));
    lseBound[i] = gam(k.v) + 4 * U32 + 2 * U32 * (Math.abs(o.lse[i]!) + range);
    bound += lseBound[i]! + 2 * U32 * Math.abs(row[t]!) + (k.eps > 0 ? (k.eps / k.v) * gam(k.v) * row.reduce((a, x) => a + Math.abs(x), 0) : 0);
  }
  bound = bound / o.count + 2 * U32 * Math.abs(o.loss);
  expect(compare([loss], [o.loss], () => bound, `${label} loss`)).toBeNull();
  expect(compare(lse, o.lse, (i) => lseBound[i]!, `${label} lse`)).toBeNull();
  return lse;
}

// The backward's formula on the kernel's lse, with per-element bounds.
function backwardOracle(logits: Float32Array, targets: Int32Array, lse: Float32Array, k: Case, grad: number) {
  const count = [...targets].filter((t) => t !== k.ignore).length;
  const s = grad / count;
  const want = new Float64Array(k.n * k.v), bound = new Float64Array(k.n * k.v);
  for (let i = 0; i < k.n; i++) {
    if (targets[i] === k.ignore) continue;
    for (let c = 0; c < k.v; c++) {
      const x = logits[i * k.v + c]!, p = Math.exp(x - lse[i]!), q = (c === targets[i] ? 1 - k.eps : 0) + k.eps / k.v;
      want[i * k.v + c] = (p - q) * s;
      bound[i * k.v + c] = p === 0 ? 0 : Math.abs(s) * (p * (2 * U32 * Math.abs(x - lse[i]!) + 4 * U32) + 4 * U32 * Math.abs(p - q)) + 1e-38;
    }
  }
  return { want, bound };
}

function checkBackward(naive: boolean, logits: Float32Array, targets: Int32Array, lse: Float32Array, k: Case, grad: number, label: string) {
  const d = backward(naive, logits, targets, lse, k, grad);
  const o = backwardOracle(logits, targets, lse, k, grad);
  expect(compare(d, o.want, (i) => o.bound[i]!, label)).toBeNull();
  return d;
}

const CASES: Case[] = [];
for (const [n, v] of [[1, 1], [6, 1], [5, 3], [7, 16], [4, 17], [33, 100], [9, 513], [3, 8000], [300, 257]] as const) {
  for (const eps of [0, 0.1]) CASES.push({ n, v, eps, ignore: -100 });
}
CASES.push({ n: 40, v: 37, eps: 0.1, ignore: 0 }, { n: 40, v: 37, eps: 0, ignore: 36 });

const label = (k: Case) => `${k.n}×${k.v} ε=${k.eps} ignore=${k.ignore}`;

describe.each(SIMD_LEVELS)('cross_entropy [%s]', (simd) => {
  it.each(CASES.map((k) => [label(k), k] as const))('forward and backward match PyTorch semantics in float64: %s', (_, k) => {
    withSimd(simd, () => {
      for (const scale of [3, 30]) {
        const logits = f32(k.n * k.v, k.n + k.v, scale), targets = targetsFor(k.n, k.v, k.ignore);
        const lse = checkForward(false, logits, targets, k, label(k));
        const d = checkBackward(false, logits, targets, lse, k, 0.7, label(k));
        for (let i = 1; i < k.n; i += 5) expect(d.subarray(i * k.v, (i + 1) * k.v).every((x) => x === 0)).toBe(true);
      }
    });
  });

  it('gives NaN (0/0) when every row is ignored, and zero gradients', () => {
    withSimd(simd, () => {
      const k = { n: 4, v: 9, eps: 0.1, ignore: -100 };
      const logits = f32(36, 1), targets = new Int32Array(4).fill(-100);
      const { loss, lse } = forward(false, logits, targets, k);
      expect(Number.isNaN(loss)).toBe(true);
      expect(Number.isNaN(forward(true, logits, targets, k).loss)).toBe(true);
      expect(backward(false, logits, targets, lse, k, 1).every((x) => x === 0)).toBe(true);
    });
  });

  it('ignores −inf logits of other classes without label smoothing, as PyTorch', () => {
    withSimd(simd, () => {
      const k = { n: 2, v: 21, eps: 0, ignore: -100 };
      const logits = f32(42, 2);
      logits[3] = -Infinity;
      logits[21 + 20] = -Infinity;
      const targets = Int32Array.of(0, 5);
      const lse = checkForward(false, logits, targets, k, '−inf logits');
      const d = checkBackward(false, logits, targets, lse, k, 1, '−inf logits');
      expect(Object.is(d[3], 0) && Object.is(d[41], 0)).toBe(true);
    });
  });

  it('backward matches central differences of the float64 loss', () => {
    withSimd(simd, () => {
      for (const k of [{ n: 1, v: 1, eps: 0, ignore: -100 }, { n: 3, v: 5, eps: 0, ignore: -100 }, { n: 7, v: 17, eps: 0.1, ignore: -100 }, { n: 6, v: 4, eps: 0.2, ignore: 2 }]) {
        const logits = f32(k.n * k.v, 21, 2), targets = targetsFor(k.n, k.v, k.ignore, 8);
        const { lse } = forward(false, logits, targets, k);
        const d = backward(false, logits, targets, lse, k, 1.5);
        const fd = centralDifference((x) => 1.5 * crossEntropyOracle(x, targets, k.n, k.v, k.eps, k.ignore).loss, logits);
        expect(compare(d, fd, (i) => 1e-5 * (1 + Math.abs(fd[i]!)), label(k))).toBeNull();
      }
    });
  });

  it('fused and naive backwards agree on larger shapes', () => {
    withSimd(simd, () => {
      for (const k of [{ n: 64, v: 1000, eps: 0.1, ignore: -100 }, { n: 20, v: 8000, eps: 0, ignore: -100 }]) {
        const logits = f32(k.n * k.v, 22, 8), targets = targetsFor(k.n, k.v, k.ignore);
        const { lse } = forward(false, logits, targets, k);
        const fused = checkBackward(false, logits, targets, lse, k, 1, label(k));
        const naive = checkBackward(true, logits, targets, lse, k, 1, `naive ${label(k)}`);
        const { bound } = backwardOracle(logits, targets, lse, k, 1);
        expect(compare(fused, naive, (i) => 2 * bound[i]!, `fused vs naive ${label(k)}`)).toBeNull();
      }
    });
  });

  it('is bit-identical with 1 and 2 threads (the loss summed per task in a fixed order)', () => {
    withSimd(simd, () => {
      for (const k of [{ n: 300, v: 257, eps: 0.1, ignore: -100 }, { n: 64, v: 1000, eps: 0, ignore: -100 }]) {
        const logits = f32(k.n * k.v, 23, 5), targets = targetsFor(k.n, k.v, k.ignore);
        const [a, b] = [1, 2].map((t) => withThreads(t, () => {
          const f = forward(false, logits, targets, k);
          return { ...f, d: backward(false, logits, targets, f.lse, k, 1) };
        }));
        expect(a!.loss).toBe(b!.loss);
        expect(bitsEqual(a!.lse, b!.lse)).toBe(true);
        expect(bitsEqual(a!.d, b!.d)).toBe(true);
      }
    });
  });
});

describe('cross_entropy naive reference', () => {
  it.each(CASES.slice(0, 14).map((k) => [label(k), k] as const))('matches PyTorch semantics in float64: %s', (_, k) => {
    const logits = f32(k.n * k.v, k.n + k.v, 3), targets = targetsFor(k.n, k.v, k.ignore);
    const lse = checkForward(true, logits, targets, k, `naive ${label(k)}`);
    checkBackward(true, logits, targets, lse, k, 0.7, `naive ${label(k)}`);
  });
});
