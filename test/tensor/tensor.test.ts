// lib/tensor: factories validate and copy; tensors report shape, dtype, device; dispose is final.
import { describe, expect, it } from 'vitest';

import {
  DeviceError, DisposedError, DTypeError, InvalidArgumentError, ones, randn, ShapeError, Tensor, tensor, zeros,
} from '../../lib/index.js';

describe('tensor()', () => {
  it('copies float data with its shape', () => {
    const src = new Float32Array([1, 2, 3, 4, 5, 6]);
    const t = tensor(src, [2, 3]);
    src[0] = 99;
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.device).toBe('cpu');
    expect(t.size).toBe(6);
    expect([...t.toFloat32Array()]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Object.isFrozen(t.shape)).toBe(true);
  });

  it('infers int32 from an Int32Array and checks number[] values for int32', () => {
    expect(tensor(new Int32Array([1, -2]), [2]).dtype).toBe('int32');
    expect([...tensor([3, 4], [2], { dtype: 'int32' }).toInt32Array()]).toEqual([3, 4]);
    expect(() => tensor([1.5], [1], { dtype: 'int32' })).toThrow(DTypeError);
    expect(() => tensor([2 ** 31], [1], { dtype: 'int32' })).toThrow(DTypeError);
  });

  it('accepts scalars (shape []) and empty tensors', () => {
    expect(tensor([5], []).size).toBe(1);
    expect(tensor([], [0, 3]).size).toBe(0);
  });

  it('rejects bad shapes, lengths, data and options with typed errors', () => {
    expect(() => tensor([1, 2, 3], [2, 2])).toThrow(ShapeError);
    expect(() => tensor([1, 2], [-2])).toThrow(ShapeError);
    expect(() => tensor([1, 2], [1.5] as number[])).toThrow(ShapeError);
    expect(() => tensor([1, 2], 'x' as unknown as number[])).toThrow(InvalidArgumentError);
    expect(() => tensor(new Float64Array(2) as unknown as Float32Array, [2])).toThrow(InvalidArgumentError);
    expect(() => tensor(['a'] as unknown as number[], [1])).toThrow(InvalidArgumentError);
    expect(() => tensor([1], [1], { dtpye: 'int32' } as never)).toThrow(/Unknown option 'dtpye'/);
    expect(() => tensor([1], [1], { dtype: 'float16' as never })).toThrow(InvalidArgumentError);
    expect(() => tensor([1], [1], { device: 'cuda' })).toThrow(DeviceError);
    expect(() => tensor([1], [1], { dtype: 'int32', requiresGrad: true })).toThrow(DTypeError);
  });
});

describe('zeros, ones, randn', () => {
  it('fill as named', () => {
    expect([...zeros([2, 2]).toFloat32Array()]).toEqual([0, 0, 0, 0]);
    expect([...ones([3], { dtype: 'int32' }).toInt32Array()]).toEqual([1, 1, 1]);
    expect(ones([2], { requiresGrad: true }).requiresGrad).toBe(true);
  });

  it('randn is reproducible by seed and standard normal', () => {
    const a = randn([100_000], { seed: 7 }).toFloat32Array();
    expect(randn([100_000], { seed: 7 }).toFloat32Array()).toEqual(a);
    expect(randn([10], { seed: 8 }).toFloat32Array()).not.toEqual(a.subarray(0, 10));
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const variance = a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);        // 3.2 standard errors
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
    const scaled = randn([50_000], { seed: 9, std: 0.5 }).toFloat32Array();
    const sd = Math.sqrt(scaled.reduce((s, x) => s + x * x, 0) / scaled.length);
    expect(Math.abs(sd - 0.5)).toBeLessThan(0.01);
  });

  it('randn rejects bad seeds and std', () => {
    expect(() => randn([2], { seed: -1 })).toThrow(InvalidArgumentError);
    expect(() => randn([2], { seed: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => randn([2], { std: Number.NaN })).toThrow(InvalidArgumentError);
  });
});

describe('Tensor', () => {
  it('to(cpu) is itself; to(cuda) says why it cannot', () => {
    const t = ones([2]);
    expect(t.to('cpu')).toBe(t);
    expect(() => t.to('cuda')).toThrow(DeviceError);
    expect(() => t.to('tpu' as never)).toThrow(InvalidArgumentError);
  });

  it('dispose() is final and idempotent', () => {
    const t = ones([2]);
    t.dispose();
    t.dispose();
    expect(t.disposed).toBe(true);
    expect(() => t.toFloat32Array()).toThrow(DisposedError);
    expect(String(t)).toBe('Tensor([2], float32, cpu, disposed)');
  });

  it('toInt32Array() needs an int32 tensor; toFloat32Array() converts', () => {
    expect(() => ones([1]).toInt32Array()).toThrow(DTypeError);
    expect([...tensor(new Int32Array([7]), [1]).toFloat32Array()]).toEqual([7]);
    expect(ones([1])).toBeInstanceOf(Tensor);
  });
});
