// Every differentiable op against central finite differences (see gradcheck.ts for the loss and the
// tolerance: max |analytic − numeric| ≤ 1e-2·max(1, max |numeric|), h = 1e-2 in float32).
import { describe, it } from 'vitest';

import { ops, type Tensor, tensor } from '../../lib/index.js';
import { sliceRows } from '../../lib/ops/shape.js';
import { gradcheck, param } from './gradcheck.js';

/** Values kept away from ReLU's kink at 0 (|x| ≥ 0.1), so finite differences do not straddle it. */
const awayFromZero = (t: Tensor): Tensor =>
  tensor(t.toFloat32Array().map((x) => (x < 0 ? x - 0.1 : x + 0.1)), t.shape, { requiresGrad: true });

describe('matmul', () => {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`2-D, transA ${transA}, transB ${transB}`, () => {
        const a = param(transA ? [4, 3] : [3, 4], 1), b = param(transB ? [5, 4] : [4, 5], 2);
        gradcheck((x, y) => ops.matmul(x, y, { transA, transB }), [a, b]);
      });
      it(`batched with broadcasting, transA ${transA}, transB ${transB}`, () => {
        const a = param(transA ? [2, 1, 4, 3] : [2, 1, 3, 4], 3), b = param(transB ? [3, 5, 4] : [3, 4, 5], 4);
        gradcheck((x, y) => ops.matmul(x, y, { transA, transB }), [a, b]);
      });
    }
  }
  it('a batch of rows times one matrix (the Linear layer)', () => {
    gradcheck((x, w) => ops.matmul(x, w, { transB: true }), [param([2, 3, 5], 5), param([7, 5], 6)]);
  });
  it('linear, with and without a bias', () => {
    gradcheck((x, w, b) => ops.linear(x, w, b), [param([2, 3, 5], 9), param([4, 5], 10), param([4], 11)]);
    gradcheck((x, w) => ops.naive.linear(x, w), [param([3, 5], 12), param([2, 5], 13)]);
  });
  it('one matrix times a batch', () => {
    gradcheck((w, x) => ops.matmul(w, x), [param([3, 4], 7), param([2, 4, 2], 8)]);
  });
});

describe('element-wise and reductions', () => {
  it('add: same shape, bias, broadcast both ways, scalar', () => {
    gradcheck((a, b) => ops.add(a, b), [param([3, 5], 1), param([3, 5], 2)]);
    gradcheck((a, b) => a.add(b), [param([2, 3, 5], 3), param([5], 4)]);
    gradcheck((a, b) => a.add(b), [param([2, 1, 5], 5), param([3, 1], 6)]);
    gradcheck((a) => a.add(2.5), [param([4], 7)]);
  });
  it('sub and mul with broadcasting', () => {
    gradcheck((a, b) => a.sub(b), [param([2, 3], 1), param([3], 2)]);
    gradcheck((a, b) => a.mul(b), [param([2, 3, 4], 3), param([3, 1], 4)]);
    gradcheck((a) => a.mul(-1.5), [param([5], 5)]);
    gradcheck((a) => a.mul(a), [param([6], 6)]);
  });
  it('sum and mean, over everything and over dims, with and without keepDims', () => {
    gradcheck((a) => a.sum(), [param([3, 4], 1)]);
    gradcheck((a) => a.mean(), [param([3, 4], 2)]);
    gradcheck((a) => a.sum({ dims: [0, 2] }), [param([2, 3, 4], 3)]);
    gradcheck((a) => a.mean({ dims: -1, keepDims: true }), [param([2, 3, 4], 4)]);
  });
  it('reshape, transpose, permute, sliceRows', () => {
    gradcheck((a) => a.reshape([4, -1]), [param([2, 3, 2], 1)]);
    gradcheck((a) => a.transpose(0, 2), [param([2, 3, 4], 2)]);
    gradcheck((a) => a.permute([1, 2, 0]), [param([2, 3, 4], 3)]);
    gradcheck((a) => sliceRows(a, 1, 2), [param([4, 3], 4)]);
  });
});

describe('kernels', () => {
  it('attention: plain, causal, padded keys, Lq ≠ Lk', () => {
    const q = () => param([2, 2, 3, 4], 1), k = () => param([2, 2, 5, 4], 2), v = () => param([2, 2, 5, 4], 3);
    gradcheck((a, b, c) => ops.scaledDotProductAttention(a, b, c), [q(), k(), v()]);
    gradcheck((a, b, c) => ops.scaledDotProductAttention(a, b, c, { causal: true }), [q(), k(), v()]);
    gradcheck((a, b, c) => ops.scaledDotProductAttention(a, b, c, { kvLengths: new Int32Array([2, 5]) }), [q(), k(), v()]);
    gradcheck((a, b, c) => ops.naive.scaledDotProductAttention(a, b, c, { causal: true, kvLengths: new Int32Array([4, 1]) }), [q(), k(), v()]);
  });
  it('layerNorm and addLayerNorm (both outputs)', () => {
    gradcheck((x, g, b) => ops.layerNorm(x, g, b), [param([3, 7], 1), param([7], 2), param([7], 3)]);
    gradcheck((x, r, g, b) => ops.addLayerNorm(x, r, g, b).out, [param([2, 2, 5], 4), param([2, 2, 5], 5), param([5], 6), param([5], 7)]);
    gradcheck((x, r, g, b) => ops.addLayerNorm(x, r, g, b).sum, [param([2, 5], 8), param([2, 5], 9), param([5], 10), param([5], 11)]);
    gradcheck((x, g, b) => ops.naive.layerNorm(x, g, b), [param([3, 7], 12), param([7], 13), param([7], 14)]);
  });
  it('softmax', () => {
    gradcheck((x) => ops.softmax(x), [param([3, 6], 1, 2)]);
    gradcheck((x) => ops.naive.softmax(x), [param([2, 5], 2, 2)]);
  });
  it('crossEntropy with label smoothing and ignored rows', () => {
    const targets = new Int32Array([2, -100, 0, 4]);
    gradcheck((x) => ops.crossEntropy(x, targets, { labelSmoothing: 0.1 }), [param([4, 5], 1, 2)]);
    gradcheck((x) => ops.naive.crossEntropy(x, new Int32Array([1, 3]), { ignoreIndex: 3 }), [param([2, 5], 2, 2)]);
  });
  it('activations, with and without a fused bias', () => {
    gradcheck((x) => ops.relu(x), [awayFromZero(param([3, 5], 1))]);
    gradcheck((x) => ops.gelu(x), [param([3, 5], 2, 3)]);
    gradcheck((x, b) => ops.biasGelu(x, b), [param([2, 3, 5], 3, 2), param([5], 4)]);
    // relu(x + b) with x + b kept away from 0: b is small, x is ≥ 0.5 away.
    const x = tensor(param([4, 3], 5).toFloat32Array().map((v) => (v < 0 ? v - 0.5 : v + 0.5)), [4, 3], { requiresGrad: true });
    gradcheck((a, b) => ops.biasRelu(a, b), [x, param([3], 6, 0.2)]);
    gradcheck((a, b) => ops.naive.biasGelu(a, b), [param([3, 4], 7), param([4], 8)]);
  });
  it('dropout (a fixed mask: linear in x)', () => {
    gradcheck((x) => ops.dropout(x, { p: 0.3, seed: 7 }), [param([4, 6], 1)]);
  });
  it('embedding (repeated ids add up)', () => {
    const ids = tensor(new Int32Array([3, 1, 3, 0, 3, 2]), [2, 3]);
    gradcheck((w) => ops.embedding(w, ids), [param([5, 4], 1)]);
    gradcheck((w) => ops.naive.embedding(w, ids), [param([5, 4], 2)]);
  });
  it('addBias', () => {
    gradcheck((x, b) => ops.addBias(x, b), [param([2, 3, 4], 1), param([4], 2)]);
  });
});
