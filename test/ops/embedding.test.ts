// lib/ops/embedding.ts: shapes, the in-place backward with paddingIdx, and bad input (ids out of range
// named by position and value).
import { describe, expect, it } from 'vitest';

import { DTypeError, InvalidArgumentError, OutOfRangeError, ops, randn, ShapeError, tensor, zeros } from '../../lib/index.js';
import { embeddingBackward, embeddingBackwardNaive } from '../../lib/ops/embedding.js';
import { bitsEqual } from '../helpers.js';

describe('ops.embedding', () => {
  const w = randn([6, 4], { seed: 1 });

  it('gathers rows for ids of any shape into [...ids.shape, C]', () => {
    const ids = tensor(new Int32Array([5, 0, 2, 5, 1, 3]), [2, 3]);
    const e = ops.embedding(w, ids);
    expect(e.shape).toEqual([2, 3, 4]);
    const wd = w.toFloat32Array(), ed = e.toFloat32Array();
    expect(bitsEqual(ed.subarray(0, 4), wd.subarray(20, 24))).toBe(true);
    expect(bitsEqual(ed.subarray(20, 24), wd.subarray(12, 16))).toBe(true);
    expect(bitsEqual(ops.naive.embedding(w, ids).toFloat32Array(), ed)).toBe(true);
    expect(ops.embedding(w, tensor(new Int32Array(0), [0])).shape).toEqual([0, 4]);
  });

  it('embeddingBackward accumulates into dWeight in place and skips paddingIdx', () => {
    const ids = tensor(new Int32Array([1, 2, 1]), [3]);
    const dOut = tensor(Float32Array.from({ length: 12 }, (_, i) => i), [3, 4]);
    for (const f of [embeddingBackward, embeddingBackwardNaive]) {
      const dW = tensor(new Float32Array(24).fill(1), [6, 4]);
      f(dW, ids, dOut);
      expect(Array.from(dW.toFloat32Array().subarray(4, 12))).toEqual([9, 11, 13, 15, 5, 6, 7, 8]);
      const padded = tensor(new Float32Array(24).fill(1), [6, 4]);
      f(padded, ids, dOut, 1);
      expect(Array.from(padded.toFloat32Array().subarray(4, 12))).toEqual([1, 1, 1, 1, 5, 6, 7, 8]);
    }
  });

  it('rejects ids out of range (naming position and value), bad shapes and dtypes', () => {
    expect(() => ops.embedding(w, tensor(new Int32Array([0, 1, 6, 2]), [2, 2]))).toThrow(/ids\[2\] \(at \[1, 0\]\) is 6/);
    expect(() => ops.embedding(w, tensor(new Int32Array([-1]), [1]))).toThrow(OutOfRangeError);
    expect(() => ops.embedding(w, zeros([2]))).toThrow(DTypeError);
    expect(() => ops.embedding(zeros([6]), tensor(new Int32Array([0]), [1]))).toThrow(ShapeError);
    const ids = tensor(new Int32Array([1, 2]), [2]);
    expect(() => embeddingBackward(zeros([6, 4]), ids, zeros([2, 3]))).toThrow(/Expected dOut to have the shape \[2, 4\]/);
    expect(() => embeddingBackward(zeros([6, 4]), tensor(new Int32Array([7, 0]), [2]), zeros([2, 4]))).toThrow(OutOfRangeError);
    expect(() => embeddingBackward(zeros([6, 4]), ids, zeros([2, 4]), 6)).toThrow(InvalidArgumentError);
    expect(() => embeddingBackward(zeros([6, 4]), ids, zeros([2, 4]), 0.5)).toThrow(InvalidArgumentError);
  });
});
