// native/kernels/add*: bias add (forward and the bias gradient) and the residual add, under every ISA and
// by the naive loops, against float64 oracles.
//
// Tolerances: a float32 sum of two floats is the correctly rounded sum, so y must equal fl32(x + b)
// exactly. db = db0 + Σ_rows dy is a sum of rows + 1 terms in some fixed order: |err| ≤ γ_(rows+1)·Σ|terms|.
import { describe, expect, it } from 'vitest';

import { native } from '../../lib/native/binding.js';
import { bitsEqual, compare, f32, gamma, SIMD_LEVELS, withSimd, withThreads } from '../helpers.js';

const nb = native();

const SHAPES: Array<[number, number]> = [
  [1, 1], [1, 3], [2, 15], [3, 17], [5, 33], [7, 100], [4, 513], [1, 5000], [70, 1000], [2, 20000],
];

function biasGrad(naive: boolean, dy: Float32Array, rows: number, cols: number, db0: Float32Array) {
  const db = db0.slice();
  (naive ? nb.addBiasBackwardNaive : nb.addBiasBackward)(db, dy, rows, cols);
  const want = Float64Array.from(db0), scale = Float64Array.from(db0, Math.abs);
  for (let i = 0; i < dy.length; i++) (want[i % cols]! += dy[i]!), (scale[i % cols]! += Math.abs(dy[i]!));
  return { db, want, bound: (j: number) => gamma(rows + 1) * scale[j]! };
}

for (const variant of [...SIMD_LEVELS, 'naive'] as const) {
  const naive = variant === 'naive';
  const within = <T>(fn: () => T) => (naive ? fn() : withSimd(variant, fn));

  describe(`add [${variant}]`, () => {
    it.each(SHAPES)('bias add forward is exact and its gradient within γ at %i×%i', (rows, cols) => {
      within(() => {
        const x = f32(rows * cols, rows + cols), b = f32(cols, 3 * cols);
        const y = new Float32Array(rows * cols);
        (naive ? nb.addBiasForwardNaive : nb.addBiasForward)(y, x, b, rows, cols);
        expect(compare(y, Float64Array.from(y, (_, i) => Math.fround(x[i]! + b[i % cols]!)), () => 0, 'y')).toBeNull();
        const { db, want, bound } = biasGrad(naive, x, rows, cols, f32(cols, 9));
        expect(compare(db, want, bound, 'db')).toBeNull();
      });
    });

    it.each([1, 3, 17, 100, 513, 100_003])('residual add is exact at n = %i', (n) => {
      within(() => {
        const a = f32(n, n), b = f32(n, n + 1), y = new Float32Array(n);
        (naive ? nb.addForwardNaive : nb.addForward)(y, a, b, n);
        expect(compare(y, Float64Array.from(y, (_, i) => Math.fround(a[i]! + b[i]!)), () => 0, 'y')).toBeNull();
      });
    });
  });
}

describe.each(SIMD_LEVELS)('add threads and finite differences [%s]', (simd) => {
  it('bias add forward, bias gradient and residual add are bit-identical with 1, 2 and 3 threads', () => {
    withSimd(simd, () => {
      for (const [rows, cols] of [[300, 513], [3, 70_000], [20_000, 3]] as const) {
        const x = f32(rows * cols, 1), b = f32(cols, 2);
        const outs = [1, 2, 3].map((t) =>
          withThreads(t, () => {
            const y = new Float32Array(rows * cols), db = new Float32Array(cols), r = new Float32Array(rows * cols);
            nb.addBiasForward(y, x, b, rows, cols);
            nb.addBiasBackward(db, x, rows, cols);
            nb.addForward(r, x, y, rows * cols);
            return [y, db, r];
          }),
        );
        for (const o of outs.slice(1)) o.forEach((v, k) => expect(bitsEqual(v, outs[0]![k]!), `${rows}×${cols} output ${k}`).toBe(true));
      }
    });
  });

  // L = Σ G∘(x + b): ∂L/∂b_j = Σ_r G_rj, checked by central differences of the float64 loss.
  it('the bias gradient matches finite differences', () => {
    withSimd(simd, () => {
      const rows = 4, cols = 7, x = f32(rows * cols, 5), b = f32(cols, 6), g = f32(rows * cols, 7);
      const loss = (bb: ArrayLike<number>) => g.reduce((s, gi, i) => s + gi * (x[i]! + bb[i % cols]!), 0);
      const fd = Float64Array.from(b, (_, j) => {
        const p = Float64Array.from(b), m = Float64Array.from(b);
        p[j]! += 1e-3;
        m[j]! -= 1e-3;
        return (loss(p) - loss(m)) / 2e-3;
      });
      const db = new Float32Array(cols);
      nb.addBiasBackward(db, g, rows, cols);
      expect(compare(db, fd, () => 1e-5, 'db')).toBeNull();
    });
  });
});
