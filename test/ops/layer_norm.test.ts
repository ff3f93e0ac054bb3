// lib/ops/layer_norm.ts: ops.layerNorm / ops.addLayerNorm and their naive twins through the public API
// (leading dims flattened into rows, the default eps, the fused residual), the internal forward/backward
// pair autograd calls, and bad input. The kernels' error bounds are tested in test/native/layer_norm;
// here the wiring is, against the float64 oracle at 1e-5 relative (far above float32 rounding at C = 17).
import { describe, expect, it } from 'vitest';

import { DTypeError, InvalidArgumentError, ops, randn, ShapeError, tensor, zeros } from '../../lib/index.js';
import { layerNormBackward, layerNormForward } from '../../lib/ops/layer_norm.js';
import { compare, layerNormOracle } from '../helpers.js';

const rel = (want: ArrayLike<number>) => (i: number) => 1e-5 * (1 + Math.abs(want[i]!));

describe('ops.layerNorm', () => {
  const x = randn([2, 3, 17], { seed: 1 }), g = randn([17], { seed: 2 }), b = randn([17], { seed: 3 });

  it('normalises the last dimension of every row, fused and naive, with eps = 1e-5 by default', () => {
    const want = layerNormOracle(x.toFloat32Array(), g.toFloat32Array(), b.toFloat32Array(), 6, 17, 1e-5).y;
    for (const fn of [ops.layerNorm, ops.naive.layerNorm]) {
      const y = fn(x, g, b);
      expect(y.shape).toEqual([2, 3, 17]);
      expect(compare(y.toFloat32Array(), want, rel(want))).toBeNull();
    }
    const loose = layerNormOracle(x.toFloat32Array(), g.toFloat32Array(), b.toFloat32Array(), 6, 17, 0.5).y;
    expect(compare(ops.layerNorm(x, g, b, 0.5).toFloat32Array(), loose, rel(loose))).toBeNull();
  });

  it('addLayerNorm returns LN(x + residual) and the sum', () => {
    const r = randn([2, 3, 17], { seed: 4 });
    const s = x.toFloat32Array().map((v, i) => v + r.toFloat32Array()[i]!);
    const want = layerNormOracle(s, g.toFloat32Array(), b.toFloat32Array(), 6, 17, 1e-5).y;
    for (const fn of [ops.addLayerNorm, ops.naive.addLayerNorm]) {
      const { out, sum } = fn(x, r, g, b);
      expect(out.shape).toEqual([2, 3, 17]);
      expect([...sum.toFloat32Array()]).toEqual([...s]);
      expect(compare(out.toFloat32Array(), want, rel(want))).toBeNull();
    }
  });

  it('the forward saves mean and rstd per row; the backward gives dx (= dresidual), dgamma, dbeta', () => {
    const r = randn([2, 3, 17], { seed: 5 }), dy = randn([2, 3, 17], { seed: 6 });
    for (const naive of [false, true]) {
      const st = layerNormForward(x, g, b, 1e-5, r, naive);
      expect(st.mean.shape).toEqual([2, 3]);
      expect(st.rstd.shape).toEqual([2, 3]);
      const grads = layerNormBackward(dy, st.sum!, g, st.mean, st.rstd, naive);
      expect(grads.dx.shape).toEqual([2, 3, 17]);
      expect(grads.dgamma.shape).toEqual([17]);
      // Σ_j dx = 0 for every row: LN's output does not move when every input of a row moves together.
      const dx = grads.dx.toFloat32Array();
      for (let i = 0; i < 6; i++) expect(Math.abs(dx.subarray(i * 17, (i + 1) * 17).reduce((a, v) => a + v, 0))).toBeLessThan(1e-5);
      // dβ = Σ_rows dy.
      const dyd = dy.toFloat32Array();
      const dbeta = Float64Array.from({ length: 17 }, (_, j) => [0, 1, 2, 3, 4, 5].reduce((a, i) => a + dyd[i * 17 + j]!, 0));
      expect(compare(grads.dbeta.toFloat32Array(), dbeta, rel(dbeta))).toBeNull();
    }
    expect(layerNormForward(x, g, b, 1e-5, null, false).sum).toBeNull();
  });

  it('rejects bad input with typed errors naming the shapes', () => {
    expect(() => ops.layerNorm(x, zeros([16]), b)).toThrow(/Expected shape \[17\] for gamma but received \[16\]/);
    expect(() => ops.layerNorm(x, g, zeros([1, 17]))).toThrow(ShapeError);
    expect(() => ops.layerNorm(zeros([]), zeros([1]), zeros([1]))).toThrow(/non-empty last dimension/);
    expect(() => ops.layerNorm(zeros([4, 0]), zeros([0]), zeros([0]))).toThrow(ShapeError);
    expect(() => ops.layerNorm(tensor(new Int32Array(17), [17]), g, b)).toThrow(DTypeError);
    expect(() => ops.layerNorm(x, g, b, -1)).toThrow(InvalidArgumentError);
    expect(() => ops.layerNorm(x, g, b, '1e-5' as never)).toThrow(InvalidArgumentError);
    expect(() => ops.addLayerNorm(x, zeros([3, 17]), g, b)).toThrow(/for residual/);
    expect(() => ops.addLayerNorm(x, undefined as never, g, b)).toThrow(InvalidArgumentError);
    const st = layerNormForward(x, g, b, 1e-5, null, false);
    expect(() => layerNormBackward(zeros([2, 3, 16]), x, g, st.mean, st.rstd, false)).toThrow(/for dy/);
    expect(() => layerNormBackward(zeros([2, 3, 17]), x, g, zeros([6]), st.rstd, false)).toThrow(/for mean/);
  });
});
