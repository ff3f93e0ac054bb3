// lib/ops/cross_entropy.ts: ops.crossEntropy and its naive twin through the public API (targets as an
// Int32Array or an int32 tensor, options, the scalar result), the internal forward/backward pair, and
// bad input. Error bounds are tested in test/native/cross_entropy; the wiring here is checked against
// the float64 PyTorch-semantics oracle at 1e-5 relative.
import { describe, expect, it } from 'vitest';

import { DTypeError, InvalidArgumentError, ops, OutOfRangeError, randn, ShapeError, tensor, zeros } from '../../lib/index.js';
import { crossEntropyBackward, crossEntropyForward } from '../../lib/ops/cross_entropy.js';
import { compare, crossEntropyOracle } from '../helpers.js';

describe('ops.crossEntropy', () => {
  const logits = randn([6, 11], { seed: 9 });
  const targets = Int32Array.of(3, 0, -100, 10, 7, 3);

  it('gives the mean loss as a scalar tensor, with label smoothing and ignoreIndex', () => {
    for (const opts of [undefined, { labelSmoothing: 0.1 }, { ignoreIndex: 3 }, { labelSmoothing: 0.2, ignoreIndex: 0 }]) {
      const eps = opts?.labelSmoothing ?? 0, ignore = opts?.ignoreIndex ?? -100;
      const t = ignore === -100 ? targets : targets.map((v) => (v === -100 ? ignore : v));
      const want = crossEntropyOracle(logits.toFloat32Array(), t, 6, 11, eps, ignore).loss;
      for (const fn of [ops.crossEntropy, ops.naive.crossEntropy]) {
        const loss = fn(logits, t, opts);
        expect(loss.shape).toEqual([]);
        expect(compare(loss.toFloat32Array(), [want], () => 1e-5 * Math.abs(want))).toBeNull();
        expect(fn(logits, tensor(t, [6]), opts).toFloat32Array()).toEqual(loss.toFloat32Array());
      }
    }
  });

  it('is NaN when every row is ignored (0/0, as PyTorch)', () => {
    expect(Number.isNaN(ops.crossEntropy(logits, new Int32Array(6).fill(-100)).toFloat32Array()[0])).toBe(true);
  });

  it('the forward saves lse; the backward is (softmax − q)·gradOutput/count over the 5 kept rows', () => {
    for (const naive of [false, true]) {
      const st = crossEntropyForward(logits, targets, { labelSmoothing: 0.1 }, naive);
      expect(st.lse.shape).toEqual([6]);
      const d = crossEntropyBackward(logits, targets, st.lse, { labelSmoothing: 0.1 }, 2, naive).toFloat32Array();
      const x = logits.toFloat32Array(), lse = st.lse.toFloat32Array();
      const want = Float64Array.from({ length: 66 }, (_, k) => {
        const i = Math.floor(k / 11), c = k % 11;
        if (targets[i] === -100) return 0;
        return (Math.exp(x[k]! - lse[i]!) - ((c === targets[i] ? 0.9 : 0) + 0.1 / 11)) * (2 / 5);
      });
      expect(compare(d, want, (k) => 1e-6 * (1 + Math.abs(want[k]!)))).toBeNull();
    }
  });

  it('rejects bad input with typed errors', () => {
    expect(() => ops.crossEntropy(randn([2, 3, 4]), new Int32Array(2))).toThrow(/\[N, V\] .* received \[2, 3, 4\]/);
    expect(() => ops.crossEntropy(zeros([2, 0]), new Int32Array(2))).toThrow(ShapeError);
    expect(() => ops.crossEntropy(tensor(new Int32Array(6), [2, 3]), new Int32Array(2))).toThrow(DTypeError);
    expect(() => ops.crossEntropy(zeros([2, 3]), new Int32Array(3))).toThrow(/Expected 2 targets/);
    expect(() => ops.crossEntropy(zeros([2, 3]), zeros([2]))).toThrow(DTypeError);
    expect(() => ops.crossEntropy(zeros([2, 3]), tensor(new Int32Array(2), [1, 2]))).toThrow(ShapeError);
    expect(() => ops.crossEntropy(zeros([2, 3]), [0, 1] as never)).toThrow(InvalidArgumentError);
    expect(() => ops.crossEntropy(zeros([2, 3]), Int32Array.of(0, 3))).toThrow(OutOfRangeError);
    expect(() => ops.crossEntropy(zeros([2, 3]), Int32Array.of(0, 3))).toThrow(/targets\[1\] but received 3/);
    expect(() => ops.crossEntropy(zeros([2, 3]), Int32Array.of(-1, 0))).toThrow(/targets\[0\] but received -1/);
    expect(() => ops.crossEntropy(zeros([2, 3]), Int32Array.of(0, 1), { smoothing: 0.1 } as never)).toThrow(/Unknown option 'smoothing'/);
    expect(() => ops.crossEntropy(zeros([2, 3]), Int32Array.of(0, 1), { labelSmoothing: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => ops.crossEntropy(zeros([2, 3]), Int32Array.of(0, 1), { ignoreIndex: 0.5 })).toThrow(InvalidArgumentError);
    const st = crossEntropyForward(zeros([2, 3]), Int32Array.of(0, 1), undefined, false);
    expect(() => crossEntropyBackward(zeros([2, 3]), Int32Array.of(0, 1), zeros([3]), undefined, 1, false)).toThrow(/for lse/);
    expect(() => crossEntropyBackward(zeros([2, 3]), Int32Array.of(0, 1), st.lse, undefined, Number.NaN, false)).toThrow(InvalidArgumentError);
  });
});
