// Shared test vocabulary: seeded data, the float64 oracle, and error reports that name the worst element.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { native } from '../lib/native/binding.js';
import { backend, type Simd } from '../lib/backend.js';
import { Rng } from '../lib/tensor/random.js';

/** The repository root, and the node flags that let a child process run its TypeScript sources (tsx's loader, resolved here). */
export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const TSX_IMPORT = ['--import', pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href];

export const f32 = (n: number, seed: number, scale = 1): Float32Array => {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (rng.uniform() * 2 - 1) * scale;
  return out;
};

/** Every SIMD level this machine runs, for describe.each; the best one is restored after each use. */
export const SIMD_LEVELS: Simd[] = native().info().supportedSimd;

function scoped<V, T>(before: V, set: (v: V) => unknown, value: V, fn: () => T): T {
  set(value);
  try {
    return fn();
  } finally {
    set(before);
  }
}

export const withSimd = <T>(simd: Simd, fn: () => T): T => scoped(backend.info().simd, backend.setSimd, simd, fn);
export const withThreads = <T>(threads: number, fn: () => T): T =>
  scoped(backend.info().threads, backend.setThreads, threads, fn);

/**
 * The float64 oracle of C = op(A)·op(B) (m×n) and, per element, Σ|a||b|: the scale a float32 result's
 * rounding error is bounded by (|err| ≤ γ_k · Σ|a||b| for any summation order, γ_k = k·u/(1 − k·u)).
 */
export function matmulOracle(
  a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number, transA: boolean, transB: boolean,
): { c: Float64Array; scale: Float64Array } {
  const c = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, t = 0;
      for (let p = 0; p < k; p++) {
        const x = (transA ? a[p * m + i]! : a[i * k + p]!) * (transB ? b[j * k + p]! : b[p * n + j]!);
        s += x;
        t += Math.abs(x);
      }
      c[i * n + j] = s;
      scale[i * n + j] = t;
    }
  }
  return { c, scale };
}

export const gamma = (k: number): number => {
  const u = 2 ** -24;
  return (k * u) / (1 - k * u);
};

/**
 * Null when every |got − want| ≤ bound(i); otherwise a message naming the worst element, the first bad
 * index and the max error, for expect(...).toBeNull().
 */
export function compare(
  got: ArrayLike<number>, want: ArrayLike<number>, bound: (i: number) => number, label = '',
): string | null {
  if (got.length !== want.length) return `${label}: length ${got.length} ≠ ${want.length}`;
  let firstBad = -1, worst = 0, worstAt = -1;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    const ok = err <= bound(i);
    if (!ok && firstBad < 0) firstBad = i;
    if (!(err <= worst)) (worst = err), (worstAt = i);
  }
  if (firstBad < 0) return null;
  return `${label}: first bad index ${firstBad} (got ${got[firstBad]}, want ${want[firstBad]}, bound ${bound(firstBad)}); max error ${worst} at ${worstAt}`;
}

/** A Float32Array of `n` elements whose buffer has been transferred away (detached: length 0). */
export function detached(n: number): Float32Array {
  const buf = new ArrayBuffer(n * 4);
  const view = new Float32Array(buf);
  structuredClone(buf, { transfer: [buf] });
  return view;
}

export function bitsEqual(x: Float32Array, y: Float32Array): boolean {
  return x.length === y.length && Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)) === 0;
}

/** u = 2⁻²⁴, the unit roundoff of float32. */
export const U32 = 2 ** -24;

/** ∂f/∂x_i by central differences, every coordinate of x, in float64. */
export function centralDifference(f: (x: Float64Array) => number, x: ArrayLike<number>, h = 1e-3): Float64Array {
  const at = Float64Array.from(x);
  return Float64Array.from(at, (xi, i) => {
    at[i] = xi + h;
    const plus = f(at);
    at[i] = xi - h;
    const minus = f(at);
    at[i] = xi;
    return (plus - minus) / (2 * h);
  });
}

/**
 * The float64 LayerNorm of n rows of c (biased variance), with per row the mean of |s| (the scale the
 * float32 mean's rounding error is bounded by).
 */
export function layerNormOracle(
  s: ArrayLike<number>, gamma: ArrayLike<number>, beta: ArrayLike<number>, n: number, c: number, eps: number,
): { y: Float64Array; mean: Float64Array; rstd: Float64Array; absMean: Float64Array } {
  const y = new Float64Array(n * c), mean = new Float64Array(n), rstd = new Float64Array(n), absMean = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0, abs = 0;
    for (let j = 0; j < c; j++) (sum += s[i * c + j]!), (abs += Math.abs(s[i * c + j]!));
    const m = sum / c;
    let sq = 0;
    for (let j = 0; j < c; j++) sq += (s[i * c + j]! - m) ** 2;
    const r = 1 / Math.sqrt(sq / c + eps);
    for (let j = 0; j < c; j++) y[i * c + j] = (s[i * c + j]! - m) * r * gamma[j]! + beta[j]!;
    (mean[i] = m), (rstd[i] = r), (absMean[i] = abs / c);
  }
  return { y, mean, rstd, absMean };
}

/** The float64 softmax of n rows of c (NaN rows where every entry is −inf). */
export function softmaxOracle(x: ArrayLike<number>, n: number, c: number): Float64Array {
  const y = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let max = -Infinity, sum = 0;
    for (let j = 0; j < c; j++) max = Math.max(max, x[i * c + j]!);
    for (let j = 0; j < c; j++) sum += y[i * c + j] = Math.exp(x[i * c + j]! - max);
    for (let j = 0; j < c; j++) y[i * c + j]! /= sum;
  }
  return y;
}

/**
 * PyTorch's F.cross_entropy(logits, targets, label_smoothing=eps, ignore_index) in float64: the mean loss
 * over kept rows (NaN if none), each kept row's logsumexp (0 for ignored rows) and the kept-row count.
 */
export function crossEntropyOracle(
  logits: ArrayLike<number>, targets: ArrayLike<number>, n: number, v: number, eps: number, ignoreIndex: number,
): { loss: number; lse: Float64Array; count: number } {
  const lse = new Float64Array(n);
  let total = 0, count = 0;
  for (let i = 0; i < n; i++) {
    const t = targets[i]!;
    if (t === ignoreIndex) continue;
    let max = -Infinity, sum = 0;
    for (let c = 0; c < v; c++) max = Math.max(max, logits[i * v + c]!);
    for (let c = 0; c < v; c++) sum += Math.exp(logits[i * v + c]! - max);
    lse[i] = max + Math.log(sum);
    for (let c = 0; c < v; c++) {
      const q = (c === t ? 1 - eps : 0) + eps / v;
      if (q !== 0) total -= q * (logits[i * v + c]! - lse[i]!);
    }
    count++;
  }
  return { loss: total / count, lse, count };
}
