// lib/ops/softmax.ts: ops.softmax and its naive twin through the public API (leading dims flattened),
// the internal backward, and bad input. Error bounds are tested in test/native/softmax; the wiring here
// is checked against the float64 oracle at 1e-6 relative.
import { describe, expect, it } from 'vitest';

import { DTypeError, ops, randn, ShapeError, tensor, zeros } from '../../lib/index.js';
import { softmaxBackward, softmaxForward } from '../../lib/ops/softmax.js';
import { compare, softmaxOracle } from '../helpers.js';

describe('ops.softmax', () => {
  const x = randn([2, 3, 19], { seed: 7 });

  it('normalises the last dimension of every row, fused and naive', () => {
    const want = softmaxOracle(x.toFloat32Array(), 6, 19);
    for (const fn of [ops.softmax, ops.naive.softmax]) {
      const y = fn(x);
      expect(y.shape).toEqual([2, 3, 19]);
      expect(compare(y.toFloat32Array(), want, (i) => 1e-6 * want[i]!)).toBeNull();
    }
    expect([...ops.softmax(tensor([-Infinity, -Infinity], [1, 2])).toFloat32Array()].every(Number.isNaN)).toBe(true);
  });

  it('the backward gives y ∘ (dy − Σ dy∘y)', () => {
    const dy = randn([2, 3, 19], { seed: 8 });
    for (const naive of [false, true]) {
      const y = softmaxForward(x, naive);
      const dx = softmaxBackward(y, dy, naive);
      expect(dx.shape).toEqual([2, 3, 19]);
      // A constant dy changes nothing (the outputs always sum to 1).
      expect(softmaxBackward(y, tensor(new Float32Array(6 * 19).fill(3), [2, 3, 19]), naive).toFloat32Array().every((v) => Math.abs(v) < 1e-6)).toBe(true);
    }
  });

  it('rejects bad input with typed errors', () => {
    expect(() => ops.softmax(zeros([]))).toThrow(ShapeError);
    expect(() => ops.softmax(zeros([3, 0]))).toThrow(/non-empty last dimension/);
    expect(() => ops.softmax(tensor(new Int32Array(4), [2, 2]))).toThrow(DTypeError);
    expect(() => softmaxBackward(zeros([2, 3]), zeros([3, 2]), false)).toThrow(/Expected shape \[2, 3\] for dy but received \[3, 2\]/);
  });
});
