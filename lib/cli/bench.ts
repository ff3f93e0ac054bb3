/**
 * `nodeformer bench`: each fused kernel against its naive reference (ops.naive, plain loops) on this
 * machine, at the reference Transformer's shapes, forward only, timed with tinybench (median).
 */
import { Bench } from 'tinybench';

import { backend } from '../backend.js';
import { noGrad } from '../autograd/tape.js';
import { ops } from '../ops/index.js';
import { randn } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

type Case = [name: string, shape: string, fused: () => Tensor, naive: () => Tensor];

export async function benchCommand(): Promise<void> {
  const x = randn([2048, 256], { seed: 1 }), w = randn([1024, 256], { seed: 2 });
  const q = randn([8, 4, 128, 64], { seed: 3 }), k = randn([8, 4, 128, 64], { seed: 4 }), v = randn([8, 4, 128, 64], { seed: 5 });
  const gamma = randn([256], { seed: 6 }), beta = randn([256], { seed: 7 });
  const logits = randn([2048, 1024], { seed: 8 });
  const cases: Case[] = [
    ['matmul x·Wᵀ', '2048×256 · 256×1024', () => ops.matmul(x, w, { transB: true }), () => ops.naive.matmul(x, w, { transB: true })],
    ['attention (causal)', 'B8 H4 L128 d64', () => ops.scaledDotProductAttention(q, k, v, { causal: true }), () => ops.naive.scaledDotProductAttention(q, k, v, { causal: true })],
    ['layerNorm', '2048×256', () => ops.layerNorm(x, gamma, beta), () => ops.naive.layerNorm(x, gamma, beta)],
    ['softmax', '2048×1024', () => ops.softmax(logits), () => ops.naive.softmax(logits)],
    ['gelu', '2048×1024', () => ops.gelu(logits), () => ops.naive.gelu(logits)],
  ];
  const info = backend.info();
  process.stdout.write(`fused (${info.simd}, ${info.threads} threads) against naive, median ms per call\n\n`);
  process.stdout.write('| kernel | shape | fused ms | naive ms | speed-up |\n|---|---|---|---|---|\n');
  for (const [name, shape, fused, naive] of cases) {
    const [f, n] = [await median(fused), await median(naive)];
    process.stdout.write(`| ${name} | ${shape} | ${f.toFixed(3)} | ${n.toFixed(3)} | ${(n / f).toFixed(1)}× |\n`);
  }
}

async function median(fn: () => Tensor): Promise<number> {
  const bench = new Bench({ time: 200, iterations: 3, warmupIterations: 1 });
  bench.add('task', () => noGrad(fn));
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result.state !== 'completed') throw new Error(`bench task ended in state ${result.state}`);
  return result.latency.p50;
}
