// native/kernels/embedding*: the gather (exact copies of table rows) and the scatter-add backward, under
// every ISA and by the naive loops. The backward adds each id's row in the order of the ids whatever the
// ISA or thread count, so fused and naive must agree bit for bit; both are checked against a float64
// oracle with |err| ≤ γ_(k+1)·Σ|terms| for a row hit k times (k + 1 terms with dW's initial value), and
// against finite differences of the float64 loss.
import { describe, expect, it } from 'vitest';

import { native } from '../../lib/native/binding.js';
import { Rng } from '../../lib/tensor/random.js';
import { bitsEqual, compare, f32, gamma, SIMD_LEVELS, withSimd, withThreads } from '../helpers.js';

const nb = native();

function ids(n: number, vocab: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  // Few distinct ids relative to n, so rows repeat (the case the scatter-add must get right).
  return Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * vocab));
}

// [n ids, vocab, cols]: widths 1, 3, 15, 17, 33, 100, 513; one id; more ids than rows.
const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1], [5, 3, 3], [40, 7, 15], [33, 10, 17], [17, 50, 33], [100, 20, 100], [9, 4, 513], [2000, 30, 64],
];

function backwardOracle(id: Int32Array, dOut: Float32Array, dw0: Float32Array, cols: number, padding: number | null) {
  const want = Float64Array.from(dw0), scale = Float64Array.from(dw0, Math.abs), hits = new Float64Array(dw0.length / cols);
  for (let i = 0; i < id.length; i++) {
    if (id[i] === padding) continue;
    hits[id[i]!]!++;
    for (let j = 0; j < cols; j++) (want[id[i]! * cols + j]! += dOut[i * cols + j]!), (scale[id[i]! * cols + j]! += Math.abs(dOut[i * cols + j]!));
  }
  return { want, bound: (k: number) => gamma(hits[Math.floor(k / cols)]! + 1) * scale[k]! };
}

for (const variant of [...SIMD_LEVELS, 'naive'] as const) {
  const naive = variant === 'naive';
  const within = <T>(fn: () => T) => (naive ? fn() : withSimd(variant, fn));
  const fwd = naive ? nb.embeddingForwardNaive : nb.embeddingForward;
  const bwd = naive ? nb.embeddingBackwardNaive : nb.embeddingBackward;

  describe(`embedding [${variant}]`, () => {
    it.each(SHAPES)('%i ids, %i×%i table: forward copies rows exactly; backward within γ of the oracle', (n, vocab, cols) => {
      within(() => {
        const w = f32(vocab * cols, vocab + cols), id = ids(n, vocab, n), out = new Float32Array(n * cols);
        fwd(out, w, id, vocab, cols);
        for (let i = 0; i < n; i++) expect(bitsEqual(out.subarray(i * cols, (i + 1) * cols), w.subarray(id[i]! * cols, (id[i]! + 1) * cols)), `row ${i}`).toBe(true);
        const dOut = f32(n * cols, 3), dw0 = f32(vocab * cols, 4);
        for (const padding of [null, id[0]!]) {
          const dw = dw0.slice();
          bwd(dw, id, dOut, vocab, cols, padding);
          const { want, bound } = backwardOracle(id, dOut, dw0, cols, padding);
          expect(compare(dw, want, bound, `dW padding ${padding}`)).toBeNull();
          if (padding !== null) expect(bitsEqual(dw.subarray(padding * cols, (padding + 1) * cols), dw0.subarray(padding * cols, (padding + 1) * cols))).toBe(true);
        }
      });
    });
  });
}

describe.each(SIMD_LEVELS)('embedding backward determinism [%s]', (simd) => {
  // Large enough (≥ 2²⁰ elements of dOut) for the backward to use threads; 300 columns split in blocks of
  // whole cache lines with a ragged last one.
  it('is bit-identical to the naive loop and with 1, 2 and 3 threads (4100 ids, 8000×300)', () => {
    withSimd(simd, () => {
      const n = 4100, vocab = 8000, cols = 300;
      const id = ids(n, 50, 1);  // 50 distinct ids: every row of dW is hit ~80 times
      const dOut = f32(n * cols, 2);
      const naive = new Float32Array(vocab * cols);
      nb.embeddingBackwardNaive(naive, id, dOut, vocab, cols, 3);
      for (const t of [1, 2, 3]) {
        const dw = new Float32Array(vocab * cols);
        withThreads(t, () => nb.embeddingBackward(dw, id, dOut, vocab, cols, 3));
        expect(bitsEqual(dw, naive), `${t} threads`).toBe(true);
      }
      const out1 = new Float32Array(n * cols), out2 = new Float32Array(n * cols), w = f32(vocab * cols, 5);
      withThreads(1, () => nb.embeddingForward(out1, w, id, vocab, cols));
      withThreads(2, () => nb.embeddingForward(out2, w, id, vocab, cols));
      expect(bitsEqual(out1, out2)).toBe(true);
    });
  });

  // L = Σ G∘W[ids]: ∂L/∂W by central differences of the float64 loss (linear, so exact up to rounding).
  it('matches finite differences of Σ G∘embedding(W, ids)', () => {
    withSimd(simd, () => {
      const vocab = 5, cols = 3, id = new Int32Array([4, 0, 4, 2, 4, 1, 0]), g = f32(id.length * cols, 6), w = f32(vocab * cols, 7);
      const loss = (ww: ArrayLike<number>) => {
        let s = 0;
        for (let i = 0; i < id.length; i++) for (let j = 0; j < cols; j++) s += g[i * cols + j]! * ww[id[i]! * cols + j]!;
        return s;
      };
      const fd = Float64Array.from(w, (_, k) => {
        const p = Float64Array.from(w), m = Float64Array.from(w);
        p[k]! += 1e-3;
        m[k]! -= 1e-3;
        return (loss(p) - loss(m)) / 2e-3;
      });
      const dw = new Float32Array(vocab * cols);
      nb.embeddingBackward(dw, id, g, vocab, cols, null);
      expect(compare(dw, fd, () => 1e-5, 'dW')).toBeNull();
    });
  });
});
