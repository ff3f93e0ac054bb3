// Every CUDA kernel against the CPU kernel, on the awkward shapes of the CPU tests (length 1, odd sizes,
// tails that fill no tile, heads of any D ≤ 128, Lq ≠ Lk, masks that hide every key), forward and
// backward through autograd, and a training step of a small Transformer on both devices.
//
// Runs only where a GPU can be used (describe.skipIf); elsewhere one test prints why it was skipped.
// Tolerances, relative to the CPU result's scale: exact float32 math ('highest') within 2e-5 of the CPU
// (different summation orders), TF32 ('high') within 5e-3 (10-bit products, float32 sums), element-wise
// kernels within 1e-6, and the integer-exact ones (dropout masks, copies, embedding rows) bit for bit.
import { afterAll, describe, expect, it } from 'vitest';

import {
  backend, DeviceError, noGrad, ops, optim, OutOfRangeError, randn, type Tensor, tensor, Transformer,
} from '../../lib/index.js';
import { f32 } from '../helpers.js';

const cuda = backend.info().cuda;
const HIGHEST = 2e-5, TF32 = 5e-3, ELEMENTWISE = 1e-6;

/** max |got − want| / max(1, max |want|): 0 for identical arrays. */
function relErr(got: Float32Array, want: Float32Array): number {
  expect(got.length).toBe(want.length);
  let err = 0, scale = 1;
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i]!) || Number.isNaN(got[i]!)) {
      if (Number.isNaN(want[i]!) !== Number.isNaN(got[i]!)) return Infinity;
      continue;
    }
    if (want[i] === got[i]) continue; // equal infinities too
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return err / scale;
}

const rand = (shape: number[], seed: number, requiresGrad = false): Tensor =>
  tensor(f32(shape.reduce((a, b) => a * b, 1), seed), shape, { device: 'cpu', requiresGrad });

/**
 * Runs `fn` on CPU copies and on CUDA copies of `inputs` (leaves that require grad keep requiring it),
 * backpropagates a fixed random upstream gradient through the output, and returns the output and every
 * input gradient of both runs as host arrays.
 */
function onBoth(inputs: Tensor[], fn: (...xs: Tensor[]) => Tensor): { cpu: Float32Array[]; gpu: Float32Array[] } {
  const run = (device: 'cpu' | 'cuda'): Float32Array[] => {
    const xs = inputs.map((t) => tensor(t.toFloat32Array(), t.shape, { device, requiresGrad: t.requiresGrad }));
    const y = fn(...xs);
    const out = [y.toFloat32Array()];
    if (xs.some((x) => x.requiresGrad)) {
      y.backward(tensor(f32(y.size, 99), y.shape, { device }));
      for (const x of xs) if (x.requiresGrad) out.push(x.grad!.toFloat32Array());
    }
    return out;
  };
  return { cpu: run('cpu'), gpu: run('cuda') };
}

function expectClose(r: { cpu: Float32Array[]; gpu: Float32Array[] }, tol: number, label: string): void {
  r.cpu.forEach((want, i) => {
    const e = relErr(r.gpu[i]!, want);
    expect(e, `${label}, result ${i}: relative error ${e}`).toBeLessThanOrEqual(tol);
  });
}

describe('CUDA availability', () => {
  it(cuda.available ? 'has a GPU: the CUDA tests run' : 'has no GPU: the CUDA tests are skipped, and says why', () => {
    if (!cuda.available) {
      console.log(`CUDA tests skipped: ${cuda.reason}`);
      expect(cuda.reason).toMatch(/\w/);
      expect(() => backend.setDevice('cuda')).toThrow(DeviceError);
      expect(() => randn([2], { seed: 1 }).to('cuda')).toThrow(/CUDA is not available/);
    } else {
      expect(cuda.devices.length).toBeGreaterThan(0);
    }
  });
});

describe.skipIf(!cuda.available)('CUDA kernels against the CPU kernels', () => {
  afterAll(() => backend.setMatmulPrecision('high'));

  describe.each(['highest', 'high'] as const)('matmul (%s precision)', (precision) => {
    const tol = precision === 'highest' ? HIGHEST : TF32;
    it.each([
      [1, 1, 1], [1, 7, 3], [7, 1, 9], [17, 33, 65], [64, 64, 64], [129, 31, 257], [300, 517, 129],
    ])('[%i × %i]·[%i]: all four transposes, bias, gradients', (m, k, n) => {
      backend.setMatmulPrecision(precision);
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          const a = rand(transA ? [k, m] : [m, k], 1, true), b = rand(transB ? [n, k] : [k, n], 2, true);
          expectClose(onBoth([a, b], (x, y) => ops.matmul(x, y, { transA, transB })), tol, `${m}×${k}×${n} ${transA} ${transB}`);
        }
      }
      const x = rand([m, k], 3, true), w = rand([n, k], 4, true), bias = rand([n], 5, true);
      expectClose(onBoth([x, w, bias], (p, q, r) => ops.linear(p, q, r)), tol, 'linear');
    });

    it('batched with broadcasting', () => {
      backend.setMatmulPrecision(precision);
      const a = rand([3, 1, 5, 7], 6, true), b = rand([4, 7, 6], 7, true);
      expectClose(onBoth([a, b], (x, y) => ops.matmul(x, y)), tol, 'broadcast batch');
    });
  });

  describe.each(['highest', 'high'] as const)('attention (%s precision)', (precision) => {
    const tol = precision === 'highest' ? 1e-4 : 1e-2;
    it.each([
      // [B, H, Lq, Lk, D]
      [1, 1, 1, 1, 1], [2, 3, 5, 7, 7], [1, 2, 64, 64, 64], [2, 1, 33, 129, 80], [1, 1, 130, 17, 128],
      [2, 2, 100, 100, 32], [1, 4, 1, 1000, 64], [3, 2, 2, 513, 128], [1, 1, 4, 4000, 16],
    ])('B %i H %i Lq %i Lk %i D %i: plain, causal, kvLengths (one of them 0), gradients', (b, h, lq, lk, d) => {
      backend.setMatmulPrecision(precision);
      const q = rand([b, h, lq, d], 8, true), k = rand([b, h, lk, d], 9, true), v = rand([b, h, lk, d], 10, true);
      const kvLengths = Int32Array.from({ length: b }, (_, i) => (i === 0 && b > 1 ? 0 : Math.max(1, lk - 3 * i)));
      for (const opts of [{}, { causal: true }, { kvLengths }, { causal: true, kvLengths }]) {
        expectClose(onBoth([q, k, v], (x, y, z) => ops.scaledDotProductAttention(x, y, z, opts)), tol, JSON.stringify(opts));
      }
    });
  });

  it.each([[1, 1], [3, 7], [64, 512], [33, 1000], [5, 4099]])('layerNorm and addLayerNorm [%i, %i]', (n, c) => {
    const x = rand([n, c], 11, true), r = rand([n, c], 12, true), g = rand([c], 13, true), b = rand([c], 14, true);
    expectClose(onBoth([x, g, b], (p, q, s) => ops.layerNorm(p, q, s)), 1e-5, 'layerNorm');
    expectClose(onBoth([x, r, g, b], (p, q, s, t) => {
      const { out, sum } = ops.addLayerNorm(p, q, s, t);
      return out.add(sum.mul(0.5));
    }), 1e-5, 'addLayerNorm');
  });

  it.each([[1, 1], [4, 3], [64, 1000], [3, 8000]])('softmax [%i, %i], with −inf entries and an all −inf row', (n, c) => {
    const data = f32(n * c, 15, 5);
    for (let i = 0; i < n * c; i += 3) data[i] = -Infinity;
    const x = tensor(data, [n, c], { device: 'cpu', requiresGrad: true });
    expectClose(onBoth([x], (p) => ops.softmax(p)), 1e-6, 'softmax');
  });

  it.each([[1, 1, 0], [7, 5, 0.1], [64, 8000, 0.1], [300, 33, 0]])('crossEntropy [%i, %i], ε %f, ignored rows', (n, v, eps) => {
    const logits = rand([n, v], 16, true);
    const targets = Int32Array.from({ length: n }, (_, i) => (i % 4 === 3 ? -100 : (i * 7) % v));
    expectClose(onBoth([logits], (p) => ops.crossEntropy(p, targets, { labelSmoothing: eps })), 1e-5, 'crossEntropy');
    const onGpu = tensor(f32(n * v, 17), [n, v], { device: 'cuda' });
    const bad = targets.slice();
    bad[n - 1] = v;
    expect(() => ops.crossEntropy(onGpu, tensor(bad, [n], { device: 'cuda' }))).toThrow(OutOfRangeError);
    expect(() => ops.crossEntropy(onGpu, tensor(bad, [n], { device: 'cuda' }))).toThrow(`targets[${n - 1}]`);
  });

  it.each([[1, 1], [7, 33], [128, 2048]])('relu, gelu, biasRelu, biasGelu, addBias, add [%i, %i]', (rows, cols) => {
    const x = rand([rows, cols], 18, true), b = rand([cols], 19, true), y = rand([rows, cols], 20, true);
    for (const f of [ops.relu, ops.gelu]) expectClose(onBoth([x], f), ELEMENTWISE, f.name);
    for (const f of [ops.biasRelu, ops.biasGelu, ops.addBias]) expectClose(onBoth([x, b], f), 1e-5, f.name);
    expectClose(onBoth([x, y], ops.add), 0, 'add');
  });

  it('dropout draws the same mask on both devices, bit for bit', () => {
    const x = rand([1001, 37], 21, true);
    expectClose(onBoth([x], (p) => ops.dropout(p, { p: 0.3, seed: 12345, offset: 2 ** 33 + 5 })), 0, 'dropout');
  });

  it('embedding rows, gradients, and an id out of range', () => {
    const w = rand([50, 17], 22, true);
    const ids = Int32Array.from({ length: 300 }, (_, i) => (i * 13) % 50);
    expectClose(onBoth([w], (p) => ops.embedding(p, tensor(ids, [3, 100], { device: p.device }))), 1e-6, 'embedding');
    const bad = ids.slice();
    bad[123] = 50;
    expect(() => ops.embedding(w.to('cuda'), tensor(bad, [300], { device: 'cuda' }))).toThrow(/ids\[123\]/);
  });

  it('adamStep updates as the CPU does', () => {
    for (const decoupled of [false, true]) {
      const run = (device: 'cpu' | 'cuda') => {
        const p = tensor(f32(1003, 23), [1003], { device }), g = tensor(f32(1003, 24), [1003], { device });
        const m = tensor(f32(1003, 25, 0.1), [1003], { device }), v = tensor(f32(1003, 26, 0.1).map(Math.abs), [1003], { device });
        for (let step = 1; step <= 3; step++) ops.adamStep(p, g, m, v, { lr: 1e-2, weightDecay: 0.01, decoupled, step });
        return [p, m, v].map((t) => t.toFloat32Array());
      };
      expectClose({ cpu: run('cpu'), gpu: run('cuda') }, 1e-6, `adam decoupled=${decoupled}`);
    }
  });

  it('permute, transpose, broadcasting arithmetic and reductions (with gradients)', () => {
    const x = rand([2, 3, 4, 5], 27, true), y = rand([3, 1, 5], 28, true);
    expectClose(onBoth([x], (p) => p.permute([3, 1, 0, 2])), 0, 'permute');
    expectClose(onBoth([x], (p) => p.transpose(0, 2)), 0, 'transpose');
    expectClose(onBoth([x, y], (p, q) => p.add(q)), 0, 'add');
    expectClose(onBoth([x, y], (p, q) => p.sub(q)), 0, 'sub');
    expectClose(onBoth([x, y], (p, q) => p.mul(q)), 1e-6, 'mul');
    expectClose(onBoth([x], (p) => p.mul(3.5).sub(1)), 1e-6, 'scalars');
    expectClose(onBoth([x], (p) => p.sum({ dims: [1, 3], keepDims: true })), 1e-6, 'sum');
    expectClose(onBoth([x], (p) => p.mean({ dims: 2 })), 1e-6, 'mean');
    expectClose(onBoth([x], (p) => p.mean()), 1e-6, 'mean of all');
  });

  it('clipGradNorm measures and scales gradients on the GPU', () => {
    const norms = (['cpu', 'cuda'] as const).map((device) => {
      const p = tensor(f32(5000, 29), [5000], { device, requiresGrad: true });
      p.mul(3).sum().backward();
      const norm = optim.clipGradNorm([p], 1);
      return { norm, grad: p.grad!.toFloat32Array() };
    });
    expect(Math.abs(norms[1]!.norm - norms[0]!.norm) / norms[0]!.norm).toBeLessThan(1e-6);
    expect(relErr(norms[1]!.grad, norms[0]!.grad)).toBeLessThan(1e-6);
  });

  it('a Transformer trains the same on both devices (five Adam steps)', () => {
    backend.setMatmulPrecision('highest');
    const config = { srcVocabSize: 40, tgtVocabSize: 40, dModel: 64, heads: 4, encoderLayers: 2, decoderLayers: 2, ffnDim: 128, dropout: 0.1, padId: 0, bosId: 1, eosId: 2, seed: 3 };
    const src = [Int32Array.of(5, 7, 3, 9, 11), Int32Array.of(9, 4)];
    const tgtIn = [Int32Array.of(1, 5, 7, 3, 9, 11), Int32Array.of(1, 9, 4)];
    const targets = Int32Array.of(5, 7, 3, 9, 11, 2, 9, 4, 2, 0, 0, 0);
    const losses = (['cpu', 'cuda'] as const).map((device) => {
      const model = new Transformer(config).to(device);
      const adam = new optim.Adam(model.parameters(), { lr: 1e-3 });
      const out: number[] = [];
      for (let step = 0; step < 5; step++) {
        const logits = model.forward(src, tgtIn);
        const loss = ops.crossEntropy(logits.reshape([-1, 40]), targets, { labelSmoothing: 0.1, ignoreIndex: 0 });
        adam.zeroGrad();
        loss.backward();
        optim.clipGradNorm(model.parameters(), 1);
        adam.step();
        out.push(loss.item());
      }
      out.push(noGrad(() => model.forward(src, tgtIn)).toFloat32Array().reduce((a, b) => a + Math.abs(b), 0));
      return out;
    });
    losses[0]!.forEach((want, i) => expect(Math.abs(losses[1]![i]! - want) / Math.abs(want), `value ${i}`).toBeLessThan(1e-3));
  });
});
