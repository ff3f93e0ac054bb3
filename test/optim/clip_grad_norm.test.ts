// lib/optim/clip_grad_norm.ts: optim.clipGradNorm on hand-computed gradients. The norm is computed in
// float64 and compared exactly; a clipped gradient is one float32 rounding of g · maxNorm / (norm + 1e-6),
// so it is compared exactly with Math.fround of that float64 product.
import { describe, expect, it } from 'vitest';

import { DisposedError, DTypeError, InvalidArgumentError, optim, type Tensor, tensor, zeros } from '../../lib/index.js';

const withGrad = (grad: number[] | Float32Array, shape: number[]) => {
  const p = zeros(shape, { requiresGrad: true });
  p.grad = tensor(grad, shape);
  return p;
};
const gradOf = (p: Tensor) => [...p.grad!.toFloat32Array()];

describe('optim.clipGradNorm', () => {
  it('returns the global L2 norm and scales every gradient by maxNorm / (norm + 1e-6) when it is larger', () => {
    // √(3² + 4² + 12²) = 13.
    const a = withGrad([3, 4], [2]), b = withGrad([12], [1, 1]), c = zeros([2], { requiresGrad: true });
    expect(optim.clipGradNorm([a, b, c], 1)).toBe(13);
    const scale = 1 / (13 + 1e-6);
    expect(gradOf(a)).toEqual([Math.fround(3 * scale), Math.fround(4 * scale)]);
    expect(gradOf(b)).toEqual([Math.fround(12 * scale)]);
    expect(c.grad).toBeNull();
    // The clipped norm lands just under maxNorm; clipping again is a no-op.
    const again = optim.clipGradNorm([a, b, c], 1);
    expect(again).toBeLessThan(1);
    expect(again).toBeCloseTo(13 * scale, 6);
    expect(gradOf(a)).toEqual([Math.fround(3 * scale), Math.fround(4 * scale)]);
  });

  it('leaves gradients alone when the norm is at or under maxNorm', () => {
    const a = withGrad([-3, 4], [1, 2]);
    expect(optim.clipGradNorm([a], 5)).toBe(5);
    expect(gradOf(a)).toEqual([-3, 4]);
    expect(optim.clipGradNorm([a], 100)).toBe(5);
    expect(gradOf(a)).toEqual([-3, 4]);
  });

  it('maxNorm 0 zeroes the gradients; zero gradients stay zero with norm 0', () => {
    const a = withGrad([1, -1, 2], [3]);
    expect(optim.clipGradNorm([a], 0)).toBe(Math.sqrt(6));
    expect(gradOf(a)).toEqual([0, -0, 0]);
    expect(optim.clipGradNorm([withGrad([0, 0], [2])], 0)).toBe(0);
  });

  it('skips null grads; no gradients, or only empty ones, give norm 0', () => {
    expect(optim.clipGradNorm([], 1)).toBe(0);
    expect(optim.clipGradNorm([zeros([3], { requiresGrad: true })], 1)).toBe(0);
    expect(optim.clipGradNorm([withGrad([], [0]), withGrad([], [2, 0])], 1)).toBe(0);
    expect(optim.clipGradNorm([withGrad([7], [])], 1)).toBe(7);
  });

  it('sums the squares in float64: 1 plus 2²⁰ squares of 2⁻¹² is 1 + 1/16, where float32 would stay at 1', () => {
    const g = new Float32Array(2 ** 20 + 1).fill(2 ** -12);
    g[0] = 1;
    expect(optim.clipGradNorm([withGrad(g, [g.length])], 10)).toBe(Math.sqrt(17 / 16));
  });

  it('returns a non-finite norm as it is and leaves the gradients alone (unlike PyTorch, on purpose)', () => {
    const a = withGrad([1, Infinity], [2]), b = withGrad([3], [1]);
    expect(optim.clipGradNorm([a, b], 1)).toBe(Infinity);
    expect(gradOf(a)).toEqual([1, Infinity]);
    expect(gradOf(b)).toEqual([3]);
    const n = withGrad([Number.NaN, 2], [2]);
    expect(optim.clipGradNorm([n], 1)).toBeNaN();
    expect(gradOf(n)[1]).toBe(2);
    // Float32 values whose squares, and even whose norm (≈ 3.6e38), overflow float32 give a finite float64 norm.
    const [x, y] = [Math.fround(2e38), Math.fround(3e38)];
    const big = withGrad([x, y], [2]), norm = Math.sqrt(x * x + y * y), scale = 1 / (norm + 1e-6);
    expect(optim.clipGradNorm([big], 1)).toBe(norm);
    expect(gradOf(big)).toEqual([Math.fround(x * scale), Math.fround(y * scale)]);
  });

  it('rejects bad arguments with typed errors', () => {
    const a = withGrad([1], [1]);
    expect(() => optim.clipGradNorm(a as never, 1)).toThrow(/Expected an array of Tensors for params/);
    expect(() => optim.clipGradNorm([a, 3] as never, 1)).toThrow(/Expected a Tensor for params\[1\]/);
    expect(() => optim.clipGradNorm([a, a], 1)).toThrow(/params\[1\] is params\[0\]/);
    expect(() => optim.clipGradNorm([a], -1)).toThrow(/Expected a number in \[0, ∞\) for maxNorm but received the number -1/);
    expect(() => optim.clipGradNorm([a], Number.NaN)).toThrow(InvalidArgumentError);
    expect(() => optim.clipGradNorm([a], '1' as never)).toThrow(InvalidArgumentError);
    const b = zeros([1], { requiresGrad: true });
    b.grad = tensor(new Int32Array([1]), [1]);
    expect(() => optim.clipGradNorm([b], 1)).toThrow(DTypeError);
    const gone = withGrad([1], [1]);
    gone.grad!.dispose();
    expect(() => optim.clipGradNorm([gone], 1)).toThrow(DisposedError);
    expect(gradOf(a)).toEqual([1]);
  });
});
