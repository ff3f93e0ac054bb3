// lib/ops/adam.ts: the in-place step through the public API (defaults as PyTorch's, AdamW), and bad input.
// The numerics over several steps are tested in test/native/adam.test.ts.
import { describe, expect, it } from 'vitest';

import { DTypeError, InvalidArgumentError, ops, randn, ShapeError, tensor, zeros } from '../../lib/index.js';
import { adamStepNaive } from '../../lib/ops/adam.js';
import { native } from '../../lib/native/binding.js';
import { bitsEqual } from '../helpers.js';

describe('ops.adamStep', () => {
  it('updates param, m and v in place with PyTorch’s defaults (lr 1e-3, betas 0.9/0.999, eps 1e-8)', () => {
    const p = randn([3, 5], { seed: 1 }), g = randn([3, 5], { seed: 2 }), m = zeros([3, 5]), v = zeros([3, 5]);
    const want = { p: p.toFloat32Array(), m: new Float32Array(15), v: new Float32Array(15) };
    native().adamUpdate(want.p, g.toFloat32Array(), want.m, want.v, 1e-3, 0.9, 0.999, 1e-8, 0, false, 1);
    ops.adamStep(p, g, m, v, { step: 1 });
    expect(bitsEqual(p.toFloat32Array(), want.p)).toBe(true);
    expect(bitsEqual(m.toFloat32Array(), want.m)).toBe(true);
    expect(bitsEqual(v.toFloat32Array(), want.v)).toBe(true);
    // Step 1 of Adam moves every parameter by lr·sign(g) (m̂/√v̂ = g/|g|), up to eps.
    const p0 = randn([3, 5], { seed: 1 }).toFloat32Array(), gd = g.toFloat32Array();
    p.toFloat32Array().forEach((x, i) => expect(x).toBeCloseTo(p0[i]! - 1e-3 * Math.sign(gd[i]!), 6));
  });

  it('AdamW decays the weights; the naive twin agrees', () => {
    const run = (f: typeof ops.adamStep) => {
      const p = tensor([1, -2, 3], [3]), g = zeros([3]), m = zeros([3]), v = zeros([3]);
      f(p, g, m, v, { lr: 0.1, weightDecay: 0.5, decoupled: true, step: 1 });
      return p.toFloat32Array();
    };
    expect(Array.from(run(ops.adamStep))).toEqual(Array.from(Float32Array.from([1, -2, 3], (x) => x * 0.95)));
    expect(Array.from(run(adamStepNaive))).toEqual(Array.from(run(ops.adamStep)));
  });

  it('rejects bad options, shapes, dtypes and shared buffers', () => {
    const t = () => zeros([4]);
    const p = t(), g = t(), m = t(), v = t();
    expect(() => ops.adamStep(p, g, m, v, {} as never)).toThrow(/options.step/);
    expect(() => ops.adamStep(p, g, m, v, { step: 0 })).toThrow(InvalidArgumentError);
    expect(() => ops.adamStep(p, g, m, v, { step: 1, lr: -1 })).toThrow(InvalidArgumentError);
    expect(() => ops.adamStep(p, g, m, v, { step: 1, betas: [0.9, 1] })).toThrow(/options.betas\[1\]/);
    expect(() => ops.adamStep(p, g, m, v, { step: 1, betas: [0.9] as never })).toThrow(InvalidArgumentError);
    expect(() => ops.adamStep(p, g, m, v, { step: 1, eps: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => ops.adamStep(p, g, m, v, { step: 1, weightDecay: -1 })).toThrow(InvalidArgumentError);
    expect(() => ops.adamStep(p, g, m, v, { step: 1, decoupled: 'yes' as never })).toThrow(InvalidArgumentError);
    expect(() => ops.adamStep(p, g, m, v, { step: 1, amsgrad: true } as never)).toThrow(/Unknown option 'amsgrad'/);
    expect(() => ops.adamStep(p, zeros([5]), m, v, { step: 1 })).toThrow(ShapeError);
    expect(() => ops.adamStep(p, g, zeros([2, 2]), v, { step: 1 })).toThrow(ShapeError);
    expect(() => ops.adamStep(p, g, m, tensor(new Int32Array(4), [4]), { step: 1 })).toThrow(DTypeError);
    expect(() => ops.adamStep(p, g, m, m, { step: 1 })).toThrow(/share storage/);
  });
});
