// lib/ops/activation.ts: shapes, the bias broadcast and the fused/naive twins through the public API, the
// backwards autograd will call, and bad input. The numerics are tested in test/native/activation.test.ts;
// here results are compared with the native entry points they wrap (bit for bit).
import { describe, expect, it } from 'vitest';

import { DisposedError, DTypeError, InvalidArgumentError, ops, randn, ShapeError, tensor, zeros } from '../../lib/index.js';
import {
  biasGeluBackward, biasGeluBackwardNaive, biasReluBackward, biasReluBackwardNaive, geluBackward, geluBackwardNaive,
  reluBackward, reluBackwardNaive,
} from '../../lib/ops/activation.js';
import { native } from '../../lib/native/binding.js';
import { bitsEqual } from '../helpers.js';

const nb = native();

describe('ops activations', () => {
  it('keep the shape of x and compute f(x) element-wise, any rank', () => {
    const x = randn([2, 3, 5], { seed: 1 });
    for (const [fn, naive, kind] of [[ops.relu, ops.naive.relu, 'relu'], [ops.gelu, ops.naive.gelu, 'gelu']] as const) {
      const y = fn(x);
      expect(y.shape).toEqual([2, 3, 5]);
      const want = new Float32Array(30);
      nb.activationForward(want, x.toFloat32Array(), null, 6, 5, kind);
      expect(bitsEqual(y.toFloat32Array(), want)).toBe(true);
      const n = new Float32Array(30);
      nb.activationForwardNaive(n, x.toFloat32Array(), null, 6, 5, kind);
      expect(bitsEqual(naive(x).toFloat32Array(), n)).toBe(true);
    }
    expect(Array.from(ops.relu(tensor([-1, 0, 2], [3])).toFloat32Array())).toEqual([0, 0, 2]);
    expect(ops.gelu(tensor([3], [])).shape).toEqual([]);
  });

  it('biasGelu / biasRelu broadcast a [C] bias over the leading dims', () => {
    const x = randn([2, 2, 4], { seed: 2 }), b = randn([4], { seed: 3 });
    const xb = Float32Array.from(x.toFloat32Array(), (v, i) => v + b.toFloat32Array()[i % 4]!);
    expect(bitsEqual(ops.biasGelu(x, b).toFloat32Array(), ops.gelu(tensor(xb, [2, 2, 4])).toFloat32Array())).toBe(true);
    expect(bitsEqual(ops.biasRelu(x, b).toFloat32Array(), ops.relu(tensor(xb, [16])).toFloat32Array())).toBe(true);
    expect(ops.naive.biasGelu(x, b).shape).toEqual([2, 2, 4]);
  });

  it('backwards return dx of x’s shape and dBias of bias’s, fused and naive', () => {
    const x = randn([3, 4], { seed: 4 }), b = randn([4], { seed: 5 }), dy = randn([3, 4], { seed: 6 });
    for (const f of [reluBackward, reluBackwardNaive, geluBackward, geluBackwardNaive]) expect(f(x, dy).shape).toEqual([3, 4]);
    for (const f of [biasReluBackward, biasReluBackwardNaive, biasGeluBackward, biasGeluBackwardNaive]) {
      const { dx, dBias } = f(x, b, dy);
      expect(dx.shape).toEqual([3, 4]);
      expect(dBias.shape).toEqual([4]);
    }
    const { dx, dBias } = biasReluBackward(x, b, dy);
    const col0 = [0, 1, 2].reduce((s, r) => s + dx.toFloat32Array()[r * 4]!, 0);
    expect(dBias.toFloat32Array()[0]).toBeCloseTo(col0, 6);
  });

  it('rejects bad input with typed errors that name the shapes', () => {
    const x = zeros([2, 3]);
    expect(() => ops.gelu(tensor(new Int32Array(2), [2]))).toThrow(DTypeError);
    expect(() => ops.relu([1, 2] as never)).toThrow(InvalidArgumentError);
    expect(() => ops.biasGelu(x, zeros([2]))).toThrow(/bias of shape \[C\] for x of shape \[\.\.\., C\] but received x \[2, 3\] and bias \[2\]/);
    expect(() => ops.biasRelu(x, zeros([1, 3]))).toThrow(ShapeError);
    expect(() => ops.biasRelu(zeros([]), zeros([1]))).toThrow(ShapeError);
    expect(() => geluBackward(x, zeros([3, 2]))).toThrow(/Expected dy to have the shape \[2, 3\] of x but received \[3, 2\]/);
    expect(() => biasGeluBackward(x, zeros([3]), zeros([2, 3, 1]))).toThrow(ShapeError);
    const gone = zeros([2]);
    gone.dispose();
    expect(() => ops.gelu(gone)).toThrow(DisposedError);
  });
});
