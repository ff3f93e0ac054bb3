// The CUDA targets of issue 6, where a GPU can be used (npm run bench -- cuda): GEMM at 4096³ (TF32 and
// exact float32), fused attention forward at L = 4096, D = 64 (TF32 and exact), and a training step of the
// reference Transformer (bench/nn/transformer.ts's config) on the GPU against the same step on the CPU.
// Peers (cuBLAS, PyTorch SDPA) run in PyTorch on the same machine: bench/peers/torch_cuda.py.
// Every timing synchronises the GPU, so it measures the kernels, not the queueing.
import { backend, noGrad, ops, optim, randn, type Tensor, Transformer } from '../lib/index.js';
import { Rng } from '../lib/tensor/random.js';
import { fixed, medianMs, table } from './common.js';

const CONFIG = { srcVocabSize: 8000, tgtVocabSize: 8000, dModel: 256, heads: 4, encoderLayers: 3, decoderLayers: 3, ffnDim: 1024, dropout: 0.1 };
const BATCH = 32, LENGTH = 64;

/** Median ms of fn (whose result is disposed), the GPU synchronised after each call. */
async function gpuMs(fn: () => Tensor, time = 1000): Promise<number> {
  return medianMs(() => {
    const out = fn();
    backend.synchronize();
    out.dispose();
  }, { time });
}

function batch(rng: Rng, vocab: number): Int32Array[] {
  return Array.from({ length: BATCH }, () => Int32Array.from({ length: LENGTH }, () => 3 + (rng.nextUint32() % (vocab - 3))));
}

async function trainStepMs(device: 'cpu' | 'cuda', time: number): Promise<number> {
  const model = new Transformer(CONFIG).to(device);
  const rng = new Rng(1);
  const src = batch(rng, CONFIG.srcVocabSize), tgt = batch(rng, CONFIG.tgtVocabSize);
  const targets = Int32Array.from(batch(rng, CONFIG.tgtVocabSize).flatMap((r) => [...r]));
  const adam = new optim.Adam(model.parameters(), { lr: 1e-4 });
  return medianMs(() => {
    const logits = model.forward(src, tgt);
    const loss = ops.crossEntropy(logits.reshape([-1, CONFIG.tgtVocabSize]), targets, { labelSmoothing: 0.1 });
    adam.zeroGrad();
    loss.backward();
    adam.step();
    loss.item(); // waits for the step, as a training loop that logs its loss does
  }, { time, iterations: 3 });
}

export async function benchCuda(): Promise<void> {
  const cuda = backend.info().cuda;
  if (!cuda.available) {
    console.log(`\n### CUDA\n\nSkipped: ${cuda.reason}`);
    return;
  }
  console.log(`\n### CUDA on ${cuda.devices.join(', ')}`);
  const rows: Array<Array<string | number>> = [];
  const n = 4096;
  const a = randn([n, n], { seed: 1, device: 'cuda' }), b = randn([n, n], { seed: 2, device: 'cuda' });
  const [bh, l, d] = [32, 4096, 64];
  const q = randn([1, bh, l, d], { seed: 3, device: 'cuda' }), k = randn([1, bh, l, d], { seed: 4, device: 'cuda' });
  const v = randn([1, bh, l, d], { seed: 5, device: 'cuda' });
  for (const precision of ['high', 'highest'] as const) {
    backend.setMatmulPrecision(precision);
    const gemm = await gpuMs(() => ops.matmul(a, b));
    rows.push([`GEMM ${n}³`, precision === 'high' ? 'TF32' : 'fp32', fixed(gemm, 2), fixed((2 * n ** 3) / gemm / 1e9, 1)]);
    const attn = await gpuMs(() => noGrad(() => ops.scaledDotProductAttention(q, k, v)));
    rows.push([`attention fwd ${bh} heads × L ${l}, D ${d}`, precision === 'high' ? 'TF32' : 'fp32', fixed(attn, 2), fixed((4 * bh * l * l * d) / attn / 1e9, 1)]);
  }
  backend.setMatmulPrecision('high');
  for (const t of [a, b, q, k, v]) t.dispose();
  table('CUDA kernels', ['what', 'math', 'ms', 'TFLOP/s'], rows);

  const gpu = await trainStepMs('cuda', 2000);
  const cpu = await trainStepMs('cpu', 3000);
  table('Training step of the reference Transformer (batch 32 × 64)', ['device', 'ms', 'tokens/s', 'GPU speed-up'], [
    ['cuda (TF32)', fixed(gpu, 1), fixed((BATCH * LENGTH) / (gpu / 1000), 0), `${fixed(cpu / gpu, 1)}×`],
    [`cpu (${backend.info().threads} threads)`, fixed(cpu, 1), fixed((BATCH * LENGTH) / (cpu / 1000), 0), '1×'],
  ]);
}
