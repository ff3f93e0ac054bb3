/**
 * Finite-difference gradient checks for autograd ops. The loss is L = Σ f(inputs) ⊙ w with fixed random
 * weights w (so every output element matters with its own weight); the analytic gradient comes from
 * backward(), the numeric one from central differences of L computed by the same float32 ops, with a
 * step h large enough that float32 rounding (~6e-8·|L|/h) stays far below the tolerance.
 */
import { expect } from 'vitest';

import { noGrad, type Tensor, tensor } from '../../lib/index.js';
import { centralDifference, f32 } from '../helpers.js';

export interface GradcheckOptions {
  /** Finite-difference step. */
  h?: number;
  /** Allowed max |analytic − numeric| relative to max(1, max |numeric|). */
  tol?: number;
}

/** A float32 tensor of random values in [−scale, scale) that requires grad. */
export const param = (shape: number[], seed: number, scale = 1): Tensor =>
  tensor(f32(shape.reduce((a, b) => a * b, 1), seed, scale), shape, { requiresGrad: true });

export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): void {
  const h = opts.h ?? 1e-2, tol = opts.tol ?? 1e-2;
  const out = fn(...inputs);
  const w = f32(out.size, 999);
  out.mul(tensor(w, out.shape)).sum().backward();
  inputs.forEach((x, i) => {
    if (!x.requiresGrad) return;
    // No gradient at all means the output does not depend on x: zero.
    const analytic = x.grad?.toFloat32Array() ?? new Float32Array(x.size);
    const numeric = centralDifference((xi) => {
      const args = inputs.map((t, j) => (j === i ? tensor(Float32Array.from(xi), t.shape) : t));
      const y = noGrad(() => fn(...args)).toFloat32Array();
      let s = 0;
      for (let k = 0; k < y.length; k++) s += y[k]! * w[k]!;
      return s;
    }, x.toFloat32Array(), h);
    let scale = 1, worst = 0, at = -1;
    numeric.forEach((n) => (scale = Math.max(scale, Math.abs(n))));
    numeric.forEach((n, k) => {
      const e = Math.abs(analytic[k]! - n);
      if (e > worst) [worst, at] = [e, k];
    });
    expect(worst, `input ${i}: max error ${worst} at ${at} (analytic ${analytic[at]}, numeric ${numeric[at]})`).toBeLessThanOrEqual(tol * scale);
  });
}
