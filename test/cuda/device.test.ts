// Device tensors: placement, copies, views, freeing, mixing devices, and a model moved to the GPU. The
// first block runs everywhere (what a machine without a GPU says and refuses); the rest needs a GPU.
import { describe, expect, it } from 'vitest';

import { backend, DeviceError, ops, randn, tensor, Transformer, zeros } from '../../lib/index.js';
import { native } from '../../lib/native/binding.js';

const cuda = backend.info().cuda;

describe('without a usable GPU', () => {
  it.skipIf(cuda.available)('info() says why, and every way onto the GPU throws a DeviceError saying so', () => {
    expect(cuda.available).toBe(false);
    expect(cuda.devices).toEqual([]);
    expect(cuda.compiled).toBe(native().info().cudaCompiled);
    // The gyp build has no CUDA code; a CUDA build on a machine without a GPU or driver has no device.
    expect(cuda.reason).toMatch(cuda.compiled ? /CUDA|driver|device/i : /no CUDA kernels/);
    const because = new RegExp(`CUDA is not available: ${cuda.reason!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
    expect(() => backend.setDevice('cuda')).toThrow(because);
    expect(() => zeros([2], { device: 'cuda' })).toThrow(DeviceError);
    expect(() => tensor([1, 2], [2], { device: 'cuda' })).toThrow(DeviceError);
    expect(() => randn([2], { seed: 1, device: 'cuda' })).toThrow(DeviceError);
    expect(() => randn([2], { seed: 1 }).to('cuda')).toThrow(because);
    expect(backend.getDevice()).toBe('cpu');
    expect(backend.gpuMemory()).toEqual({ allocated: 0, cached: 0, peak: 0 });
    backend.synchronize(); // a no-op
  });

  it('the CPU is always there: to("cpu") is the tensor itself, a model moves to the CPU in place', () => {
    const x = randn([3], { seed: 2 });
    expect(x.to('cpu')).toBe(x);
    const model = new Transformer({ srcVocabSize: 8, tgtVocabSize: 8, dModel: 8, heads: 2, encoderLayers: 1, decoderLayers: 1, ffnDim: 16 });
    const before = model.parameters();
    expect(model.to('cpu')).toBe(model);
    expect(model.parameters()).toEqual(before);
    expect(model.device).toBe('cpu');
  });

  it('setMatmulPrecision takes "highest", "high" or "medium" only', () => {
    expect(backend.getMatmulPrecision()).toBe('high');
    backend.setMatmulPrecision('highest');
    expect(backend.getMatmulPrecision()).toBe('highest');
    backend.setMatmulPrecision('high');
    expect(() => backend.setMatmulPrecision('low' as never)).toThrow(/Expected one of/);
  });
});

describe.skipIf(!cuda.available)('device tensors', () => {
  it('round trips exactly, both dtypes, empty tensors too', () => {
    const f = randn([7, 13], { seed: 3 });
    expect(f.to('cuda').to('cpu').toFloat32Array()).toEqual(f.toFloat32Array());
    const i = tensor(Int32Array.of(-5, 0, 2 ** 31 - 1), [3], { device: 'cuda' });
    expect(i.device).toBe('cuda');
    expect(i.toInt32Array()).toEqual(Int32Array.of(-5, 0, 2 ** 31 - 1));
    expect(zeros([0, 4], { device: 'cuda' }).toFloat32Array()).toEqual(new Float32Array(0));
    expect(zeros([3], { device: 'cuda' }).toFloat32Array()).toEqual(new Float32Array(3));
    expect(tensor([2.5], [], { device: 'cuda' }).item()).toBe(2.5);
  });

  it('views share memory; the block is freed when the last holder is disposed', () => {
    backend.releaseMemory();
    const base = backend.gpuMemory().allocated;
    const x = randn([256, 256], { seed: 4, device: 'cuda' });
    expect(backend.gpuMemory().allocated).toBeGreaterThanOrEqual(base + 256 * 256 * 4);
    const view = x.reshape([-1]);
    x.dispose();
    expect(view.toFloat32Array().length).toBe(256 * 256); // still alive through the view
    view.dispose();
    expect(backend.gpuMemory().allocated).toBe(base);
    expect(backend.gpuMemory().cached).toBeGreaterThan(0);
    backend.releaseMemory();
    expect(backend.gpuMemory().cached).toBe(0);
  });

  it('mixing devices is a DeviceError that names the tensors; naive kernels refuse GPU tensors', () => {
    const a = randn([2, 2], { seed: 5, device: 'cuda' }), b = randn([2, 2], { seed: 6 });
    expect(() => ops.matmul(a, b)).toThrow(/matmul: expected every tensor on one device but a is on cuda and b on cpu/);
    expect(() => a.add(b)).toThrow(DeviceError);
    expect(() => ops.naive.matmul(a, a)).toThrow(/naive kernel/);
  });

  it('setDevice("cuda") makes new tensors and models live on the GPU', () => {
    backend.setDevice('cuda');
    try {
      expect(zeros([2]).device).toBe('cuda');
      const model = new Transformer({ srcVocabSize: 8, tgtVocabSize: 8, dModel: 8, heads: 2, encoderLayers: 1, decoderLayers: 1, ffnDim: 16 });
      expect(model.device).toBe('cuda');
      expect(model.parameters().every((p) => p.device === 'cuda')).toBe(true);
      expect(model.forward([Int32Array.of(3, 4)], [Int32Array.of(1, 3)]).device).toBe('cuda');
    } finally {
      backend.setDevice('cpu');
    }
  });

  it('a gradient flows back across .to()', () => {
    const x = randn([4], { seed: 7, requiresGrad: true });
    x.to('cuda').mul(2).sum().backward();
    expect(x.grad!.device).toBe('cpu');
    expect(x.grad!.toFloat32Array()).toEqual(new Float32Array([2, 2, 2, 2]));
  });
});
