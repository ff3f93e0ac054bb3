// lib/ops/add.ts: add, addBias and the bias gradient through the public API (exact: one float addition per
// element), with bad input.
import { describe, expect, it } from 'vitest';

import { DTypeError, InvalidArgumentError, ops, randn, ShapeError, tensor, zeros } from '../../lib/index.js';
import { addBiasBackward, addBiasBackwardNaive } from '../../lib/ops/add.js';

describe('ops.add and ops.addBias', () => {
  it('add sums two tensors of one shape; addBias broadcasts [C] over [..., C]', () => {
    const a = tensor([1, 2, 3, 4, 5, 6], [2, 3]), b = tensor([10, 20, 30], [3]);
    expect(Array.from(ops.add(a, a).toFloat32Array())).toEqual([2, 4, 6, 8, 10, 12]);
    expect(Array.from(ops.addBias(a, b).toFloat32Array())).toEqual([11, 22, 33, 14, 25, 36]);
    expect(Array.from(ops.naive.addBias(a, b).toFloat32Array())).toEqual([11, 22, 33, 14, 25, 36]);
    expect(Array.from(ops.naive.add(a, a).toFloat32Array())).toEqual([2, 4, 6, 8, 10, 12]);
    expect(ops.addBias(zeros([2, 0, 3]), b).shape).toEqual([2, 0, 3]);
  });

  it('addBiasBackward sums dy over the leading dims', () => {
    const dy = tensor([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 2, 3]);
    for (const f of [addBiasBackward, addBiasBackwardNaive]) {
      const db = f(dy);
      expect(db.shape).toEqual([3]);
      expect(Array.from(db.toFloat32Array())).toEqual([22, 26, 30]);
    }
    expect(Array.from(addBiasBackward(randn([0, 4], { seed: 1 })).toFloat32Array())).toEqual([0, 0, 0, 0]);
  });

  it('rejects shapes that do not match, wrong dtypes and non-tensors', () => {
    expect(() => ops.add(zeros([2, 3]), zeros([3, 2]))).toThrow(/Expected b to have the shape \[2, 3\] of a but received \[3, 2\]/);
    expect(() => ops.add(zeros([2, 3]), zeros([3]))).toThrow(ShapeError);
    expect(() => ops.addBias(zeros([2, 3]), zeros([4]))).toThrow(ShapeError);
    expect(() => ops.addBias(zeros([2, 3]), tensor(new Int32Array(3), [3]))).toThrow(DTypeError);
    expect(() => ops.add(zeros([1]), 1 as never)).toThrow(InvalidArgumentError);
    expect(() => addBiasBackward(zeros([]))).toThrow(ShapeError);
  });
});
