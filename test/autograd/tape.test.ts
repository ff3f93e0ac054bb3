// The tape itself: accumulation, shared inputs, noGrad, deep graphs, and the errors of backward().
import { describe, expect, it } from 'vitest';

import { record } from '../../lib/autograd/tape.js';
import { InvalidArgumentError, isGradEnabled, noGrad, ops, ShapeError, type Tensor, tensor } from '../../lib/index.js';
import { param } from './gradcheck.js';

describe('backward', () => {
  it('fills .grad of leaves that require it and accumulates with += across calls', () => {
    const a = tensor([1, 2, 3], [3], { requiresGrad: true });
    const b = tensor([4, 5, 6], [3]);
    a.mul(b).sum().backward();
    expect(Array.from(a.grad!.toFloat32Array())).toEqual([4, 5, 6]);
    expect(b.grad).toBeNull();
    a.mul(b).sum().backward();
    expect(Array.from(a.grad!.toFloat32Array())).toEqual([8, 10, 12]);
  });

  it('sums the gradients of a tensor used several times, and of one op reading the same tensor twice', () => {
    const x = tensor([1, -2], [2], { requiresGrad: true });
    const y = x.mul(x).add(x).add(ops.add(x, x)); // x² + 3x
    y.sum().backward();
    expect(Array.from(x.grad!.toFloat32Array())).toEqual([5, -1]); // 2x + 3
  });

  it('gives each leaf its own gradient storage (no aliasing between leaves)', () => {
    const a = tensor([1, 2], [2], { requiresGrad: true });
    const b = tensor([3, 4], [2], { requiresGrad: true });
    ops.add(a, b).sum().backward();
    a.grad!.toFloat32Array();
    ops.add(a, a).sum().backward(); // a.grad += 2, b.grad unchanged
    expect(Array.from(a.grad!.toFloat32Array())).toEqual([3, 3]);
    expect(Array.from(b.grad!.toFloat32Array())).toEqual([1, 1]);
  });

  it('walks a 20,000-op chain without recursion', () => {
    const x = tensor([1], [1], { requiresGrad: true });
    let y = x;
    for (let i = 0; i < 20000; i++) y = y.add(0.5);
    y.sum().backward();
    expect(x.grad!.item()).toBe(1);
  });

  it('takes an explicit output gradient of the output shape', () => {
    const x = param([2, 3], 1);
    x.mul(2).backward(tensor([1, 2, 3, 4, 5, 6], [2, 3]));
    expect(Array.from(x.grad!.toFloat32Array())).toEqual([2, 4, 6, 8, 10, 12]);
  });

  it('runs the closures with recording off, even when the output gradient itself requires grad', () => {
    const x = param([2, 3], 2);
    const g = param([2, 3], 3);
    let inside: Tensor | null = null;
    const y = record(x.detach().mul(2), [x], (gy) => {
      inside = gy.mul(2); // an op inside a closure, on a gradient that requires grad
      return [inside];
    }, 'probe');
    y.backward(g);
    expect(inside!.gradFn).toBeNull();
    expect(inside!.requiresGrad).toBe(false);
    expect(Array.from(x.grad!.toFloat32Array())).toEqual(Array.from(g.toFloat32Array(), (v) => Math.fround(2 * v)));
    expect(isGradEnabled()).toBe(true);
  });

  it('refuses what it cannot do, with typed errors', () => {
    expect(() => tensor([1, 2], [2]).sum().backward()).toThrow(InvalidArgumentError);
    expect(() => param([2, 3], 1).mul(2).backward()).toThrow(ShapeError);
    expect(() => param([2, 3], 2).mul(2).backward(tensor([1, 2], [2]))).toThrow(ShapeError);
  });
});

describe('noGrad', () => {
  it('records nothing inside, restores the previous state after (also on throw), and nests', () => {
    const x = param([3], 1);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return noGrad(() => x.mul(2));
    });
    expect(isGradEnabled()).toBe(true);
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
    expect(() => noGrad(() => {
      throw new Error('boom');
    })).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
  });

  it('refuses an async function instead of leaking the scope past an await', () => {
    expect(() => noGrad(async () => 1)).toThrow(InvalidArgumentError);
    expect(isGradEnabled()).toBe(true);
  });
});

describe('graph bookkeeping', () => {
  it('marks outputs of recorded ops and names the op', () => {
    const x = param([2, 2], 1);
    const y = ops.matmul(x, x);
    expect(y.requiresGrad).toBe(true);
    expect(y.gradFn?.name).toBe('matmul');
    expect(String(y)).toContain('gradFn=matmul');
    expect(ops.matmul(tensor([1, 2, 3, 4], [2, 2]), tensor([1, 2, 3, 4], [2, 2])).gradFn).toBeNull();
  });

  it('detach stops gradients; reshape shares storage', () => {
    const x = param([4], 1);
    const d = x.detach();
    expect(d.requiresGrad).toBe(false);
    x.mul(d).sum().backward();
    expect(Array.from(x.grad!.toFloat32Array())).toEqual(Array.from(x.toFloat32Array()));
    const r = tensor([1, 2, 3, 4], [2, 2]).reshape([4]);
    expect(r.shape).toEqual([4]);
    expect(() => r.reshape([3])).toThrow(ShapeError);
    expect(() => r.reshape([-1, -1])).toThrow(ShapeError);
  });

  it('reductions validate their dims', () => {
    const x = param([2, 3], 1);
    expect(() => x.sum({ dims: 2 })).toThrow(InvalidArgumentError);
    expect(() => x.sum({ dims: [0, 0] })).toThrow(InvalidArgumentError);
    expect(() => x.mean({ keepdims: true } as never)).toThrow(InvalidArgumentError);
    expect(x.sum({ dims: [-1], keepDims: true }).shape).toEqual([2, 1]);
    expect(() => x.add(param([4], 2))).toThrow(ShapeError);
  });
});
