// Shared test vocabulary: seeded data, the float64 oracle, and error reports that name the worst element.
import { native } from '../lib/native/binding.js';
import { backend, type Simd } from '../lib/backend.js';
import { Rng } from '../lib/tensor/random.js';

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

export function bitsEqual(x: Float32Array, y: Float32Array): boolean {
  return x.length === y.length && Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.byteLength), Buffer.from(y.buffer, y.byteOffset, y.byteLength)) === 0;
}
