// GEMM: ours vs the naive triple loop, on one thread and on all, against the FMA peak re-measured next to
// each shape (clocks drift on a shared machine, so "% of peak" is a ratio taken moments apart). The
// kernel rows time the native entry point with a preallocated C, as BLAS benchmarks do; the API rows
// show what ops.matmul adds (argument checks, allocating the result). Shapes are M×K×N.
import { backend, type LowPrecisionKernels, ops, tensor } from '../../lib/index.js';
import { native } from '../../lib/native/binding.js';
import { Rng } from '../../lib/tensor/random.js';
import { fixed, medianMs, table } from '../common.js';

const SHAPES: Array<[number, number, number]> = [
  [1024, 1024, 1024], [512, 512, 512], [64, 512, 2048], [4096, 256, 256], [8, 512, 2048], [1, 512, 512],
];
// Decoding: a Linear layer's y = x·Wᵀ with W stored N×K (transB), for the reference model's d_model 256
// (Q/K/V/O, FFN up and down, vocabulary) and the issue's 8×512×2048. Same-run ratios against oneDNN:
// bench/peers/gemm-decode.ts.
const DECODE: Array<[number, number, number]> = [
  [1, 256, 256], [1, 256, 1024], [1, 1024, 256], [1, 256, 8000], [8, 256, 1024], [8, 512, 2048],
  [8, 256, 8000], [32, 256, 1024], [32, 1024, 256], [32, 256, 8000],
];

// bf16 inputs (precision 'medium') against float32, one thread, same run: the issue's 1024³ and
// 64×512×2048, and a training step's three GEMM layouts of the reference model's FFN (x·Wᵀ, dY·W, dYᵀ·X).
const BF16: Array<[number, number, number, boolean, boolean, string]> = [
  [1024, 1024, 1024, false, false, ''], [64, 512, 2048, false, false, ''], [2048, 256, 1024, false, true, 'Linear forward x·Wᵀ'],
  [2048, 1024, 256, false, false, 'Linear dX = dY·W'], [1024, 256, 2048, true, false, 'Linear dW = dYᵀ·X'],
];

function data(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => rng.uniform() - 0.5);
}

export async function benchMatmul(): Promise<void> {
  const nb = native();
  const { threads, simd } = backend.info();
  const rows: Array<Array<string | number>> = [];
  for (const [m, k, n] of SHAPES) {
    const a = data(m * k, 1), b = data(k * n, 2), c = new Float32Array(m * n);
    const flop = 2 * m * k * n;
    const gflops = (ms: number) => flop / ms / 1e6;
    const run = (fn: typeof nb.matmulForward) => () => fn(c, a, b, m, k, n, false, false, false, 1, null, null, null);
    backend.setThreads(1);
    const peak = nb.fmaPeak(simd, 0.1, 1);
    const one = gflops(await medianMs(run(nb.matmulForward), { time: 500 }));
    // The naive loop takes seconds at 1024³: a few iterations, no time budget to speak of.
    const naive = gflops(await medianMs(run(nb.matmulForwardNaive), { time: 1, iterations: flop > 1e9 ? 1 : 3 }));
    backend.setThreads(threads);
    const all = gflops(await medianMs(run(nb.matmulForward), { time: 500 }));
    rows.push([`${m}×${k}×${n}`, fixed(one), fixed(peak), `${fixed((100 * one) / peak, 0)}%`, fixed(all), `${fixed(all / one, 2)}×`, fixed(naive, 2), `${fixed(one / naive, 0)}×`]);
  }
  table(`matmul kernel, fp32, ${simd} (GFLOP/s)`,
    ['M×K×N', 'ours 1T', 'FMA peak 1T', '% of peak', `ours ${threads}T`, `${threads}T / 1T`, 'naive 1T', 'ours / naive'], rows);

  backend.setThreads(1);
  const decodeRows: Array<Array<string | number>> = [];
  for (const [m, k, n] of DECODE) {
    const a = data(m * k, 1), w = data(n * k, 2), c = new Float32Array(m * n);
    const ms = await medianMs(() => nb.matmulForward(c, a, w, m, k, n, false, true, false, 1, null, null, null), { time: 300 });
    decodeRows.push([`${m}×${k}×${n}`, fixed((2 * m * k * n) / ms / 1e6)]);
  }
  backend.setThreads(threads);
  table(`matmul decode, x·Wᵀ (W stored N×K), fp32, ${simd}, 1 thread (GFLOP/s)`, ['M×K×N', 'ours 1T'], decodeRows);

  await benchBf16();

  // One call from JS, end to end: argument checks, output allocation, N-API, the kernel.
  const x = tensor([1, 2, 3, 4], [2, 2]), y = tensor([5, 6, 7, 8], [2, 2]);
  const c = new Float32Array(4), xd = x.toFloat32Array(), yd = y.toFloat32Array();
  const api = await medianMs(() => ops.matmul(x, y), { time: 500, iterations: 10_000 });
  const raw = await medianMs(() => nb.matmulForward(c, xd, yd, 2, 2, 2, false, false, false, 1, null, null, null), { time: 500, iterations: 10_000 });
  table('one call from JS (2×2 · 2×2)', ['what', 'µs per call'], [
    ['ops.matmul (checks + result allocation + N-API + kernel)', fixed(api * 1000, 2)],
    ['native entry point (N-API + kernel)', fixed(raw * 1000, 2)],
  ]);
}

async function benchBf16(): Promise<void> {
  const nb = native();
  const { threads, simd, bf16, amx } = backend.info();
  backend.setThreads(1);
  const rows: Array<Array<string | number>> = [];
  for (const [m, k, n, ta, tb, what] of BF16) {
    const a = data(m * k, 1), b = data(k * n, 2), c = new Float32Array(m * n);
    const gflops = async (precision: 'high' | 'medium', lowPrecision: LowPrecisionKernels = 'native') => {
      backend.setMatmulPrecision(precision);
      backend.setSimd(simd, { lowPrecision });
      try {
        return (2 * m * k * n) / (await medianMs(() => nb.matmulForward(c, a, b, m, k, n, ta, tb, false, 1, null, null, null), { time: 500 })) / 1e6;
      } finally {
        backend.setMatmulPrecision('high');
        backend.setSimd(simd, { lowPrecision: 'native' });
      }
    };
    const f32 = await gflops('high'), best = await gflops('medium');
    const vector = amx ? await gflops('medium', 'vector') : best, emulated = await gflops('medium', 'emulate');
    const ratio = (x: number) => `${fixed(x / f32, 2)}×`;
    rows.push([`${m}×${k}×${n}${ta ? ' transA' : ''}${tb ? ' transB' : ''}${what ? ` (${what})` : ''}`, fixed(f32),
      ...(amx ? [fixed(best), ratio(best)] : []), fixed(vector), ratio(vector), fixed(emulated), ratio(emulated)]);
  }
  backend.setThreads(threads);
  const vectorName = bf16 ? 'bf16 VDPBF16PS' : 'bf16 (no AVX512_BF16: emulated)';
  table(`matmul bf16 ('medium') vs fp32, ${simd}, 1 thread (GFLOP/s)`,
    ['M×K×N', 'fp32', ...(amx ? ['bf16 AMX', 'AMX / fp32'] : []), vectorName, '/ fp32', 'bf16 emulated', 'emulated / fp32'], rows);
}
