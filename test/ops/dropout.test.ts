// lib/ops/dropout.ts: options, the backward's reuse of the forward's mask, and bad input. The mask itself
// is tested in test/native/dropout.test.ts.
import { describe, expect, it } from 'vitest';

import { DTypeError, InvalidArgumentError, ops, randn, tensor } from '../../lib/index.js';
import { dropoutBackward, dropoutBackwardNaive } from '../../lib/ops/dropout.js';
import { bitsEqual } from '../helpers.js';

describe('ops.dropout', () => {
  const x = randn([4, 100], { seed: 1 });

  it('is reproducible from its seed, naive equal to fused, and the backward applies the same mask', () => {
    const y = ops.dropout(x, { p: 0.3, seed: 7 });
    expect(y.shape).toEqual([4, 100]);
    expect(bitsEqual(y.toFloat32Array(), ops.dropout(x, { p: 0.3, seed: 7 }).toFloat32Array())).toBe(true);
    expect(bitsEqual(y.toFloat32Array(), ops.naive.dropout(x, { p: 0.3, seed: 7 }).toFloat32Array())).toBe(true);
    expect(bitsEqual(y.toFloat32Array(), ops.dropout(x, { p: 0.3, seed: 8 }).toFloat32Array())).toBe(false);
    const ones = tensor(new Float32Array(400).fill(1), [4, 100]);
    const dx = dropoutBackward(ones, { p: 0.3, seed: 7 }).toFloat32Array();
    const yd = y.toFloat32Array();
    expect(dx.every((d, i) => (d === 0) === (yd[i] === 0) && (d === 0 || Math.abs(d - 1 / 0.7) < 1e-6))).toBe(true);
    expect(bitsEqual(dropoutBackwardNaive(ones, { p: 0.3, seed: 7 }).toFloat32Array(), dx)).toBe(true);
  });

  it('offset selects a later part of the stream', () => {
    const ones = tensor(new Float32Array(400).fill(1), [400]);
    const whole = ops.dropout(ones, { p: 0.5, seed: 2 }).toFloat32Array();
    const tail = ops.dropout(tensor(new Float32Array(300).fill(1), [300]), { p: 0.5, seed: 2, offset: 100 }).toFloat32Array();
    expect(bitsEqual(tail, whole.subarray(100))).toBe(true);
  });

  it('p = 0 is the identity and p = 1 gives zeros', () => {
    expect(bitsEqual(ops.dropout(x, { p: 0, seed: 1 }).toFloat32Array(), x.toFloat32Array())).toBe(true);
    expect(ops.dropout(x, { p: 1, seed: 1 }).toFloat32Array().every((v) => v === 0)).toBe(true);
  });

  it('rejects p outside [0, 1], bad seeds and offsets, unknown options and wrong dtypes', () => {
    expect(() => ops.dropout(x, { p: 1.5, seed: 1 })).toThrow(/Expected a number in \[0, 1\] for options.p but received the number 1.5/);
    expect(() => ops.dropout(x, { p: -0.1, seed: 1 })).toThrow(InvalidArgumentError);
    expect(() => ops.dropout(x, { p: Number.NaN, seed: 1 })).toThrow(InvalidArgumentError);
    expect(() => ops.dropout(x, { seed: 1 } as never)).toThrow(InvalidArgumentError);
    expect(() => ops.dropout(x, { p: 0.1, seed: -1 })).toThrow(InvalidArgumentError);
    expect(() => ops.dropout(x, { p: 0.1, seed: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => ops.dropout(x, { p: 0.1, seed: 1, offset: -3 })).toThrow(InvalidArgumentError);
    expect(() => ops.dropout(x, { p: 0.1, seed: 1, rate: 0.1 } as never)).toThrow(/Unknown option 'rate'/);
    expect(() => ops.dropout(x, undefined as never)).toThrow(InvalidArgumentError);
    expect(() => ops.dropout(tensor(new Int32Array(2), [2]), { p: 0.1, seed: 1 })).toThrow(DTypeError);
  });
});
