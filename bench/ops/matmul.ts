// GEMM: ours vs the naive triple loop, on one thread and on all, against the FMA peak measured in the
// same run, plus the cost of one native call from JS. Shapes are M×K×N (op(A) M×K, op(B) K×N).
import { backend, ops, randn, tensor } from '../../lib/index.js';
import { native } from '../../lib/native/binding.js';
import { fixed, medianMs, table } from '../common.js';
import type { Peak } from '../peak.js';

const SHAPES: Array<[number, number, number]> = [
  [1024, 1024, 1024], [512, 512, 512], [64, 512, 2048], [4096, 256, 256], [8, 512, 2048], [1, 512, 512],
];

export async function benchMatmul(peaks: Peak[]): Promise<void> {
  const threads = backend.info().threads;
  const peak1 = peaks[0]?.one ?? Number.NaN;
  const rows: Array<Array<string | number>> = [];
  for (const [m, k, n] of SHAPES) {
    const a = randn([m, k], { seed: 1 }), b = randn([k, n], { seed: 2 });
    const flop = 2 * m * k * n;
    const gflops = (ms: number) => flop / ms / 1e6;
    backend.setThreads(1);
    const one = gflops(await medianMs(() => ops.matmul(a, b), { time: 400 }));
    // The naive loop is slow (seconds at 1024³): few iterations, no time budget to speak of.
    const naive = gflops(await medianMs(() => ops.naive.matmul(a, b), { time: 1, iterations: flop > 1e9 ? 1 : 3 }));
    backend.setThreads(threads);
    const all = gflops(await medianMs(() => ops.matmul(a, b), { time: 400 }));
    rows.push([`${m}×${k}×${n}`, fixed(one), `${fixed((100 * one) / peak1, 0)}%`, fixed(all), `${fixed(all / one, 2)}×`, fixed(naive, 2), `${fixed(one / naive, 0)}×`]);
  }
  table(`matmul, fp32, ${peaks[0]?.simd ?? ''} (GFLOP/s; peak = measured 1-thread FMA peak)`,
    ['M×K×N', 'ours 1T', '% of peak', `ours ${threads}T`, `${threads}T / 1T`, 'naive 1T', 'ours / naive'], rows);

  // One native call from JS, end to end: argument checks, output allocation, N-API, the kernel.
  const x = tensor([1, 2, 3, 4], [2, 2]), y = tensor([5, 6, 7, 8], [2, 2]);
  const c = new Float32Array(4), xd = x.toFloat32Array(), yd = y.toFloat32Array();
  const mm = native().matmulForward;
  const api = await medianMs(() => ops.matmul(x, y), { time: 500, iterations: 10_000 });
  const raw = await medianMs(() => mm(c, xd, yd, 2, 2, 2, false, false, false, 1, null, null), { time: 500, iterations: 10_000 });
  table('one native call (2×2 · 2×2)', ['what', 'µs per call'], [
    ['ops.matmul (validation + allocation + N-API + kernel)', fixed(api * 1000, 2)],
    ['raw binding call (N-API + kernel)', fixed(raw * 1000, 2)],
  ]);
}
