// The row-wise kernels (LayerNorm, softmax, cross-entropy): fused SIMD vs the naive loops, on one thread
// and on two. Timed at the native entry points with preallocated outputs; GB/s counts the bytes each
// kernel must read and write once (inputs + outputs), so it shows how close a kernel is to streaming
// memory. The LayerNorm forward target is 2× PyTorch's 1.54 ms at (4096, 512) on one thread: ≤ 0.77 ms.
import { backend } from '../../lib/index.js';
import { native } from '../../lib/native/binding.js';
import { Rng } from '../../lib/tensor/random.js';
import { fixed, medianMs, table } from '../common.js';

function data(n: number, seed: number, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n }, () => (rng.uniform() - 0.5) * scale);
}

interface Kernel {
  name: string;
  shape: string;
  bytes: number;
  fused: () => unknown;
  naive: () => unknown;
}

function kernels(): Kernel[] {
  const nb = native();
  const [n, c] = [4096, 512];
  const x = data(n * c, 1, 4), dy = data(n * c, 2), g = data(c, 3), b = data(c, 4);
  const y = new Float32Array(n * c), dx = new Float32Array(n * c), mean = new Float32Array(n), rstd = new Float32Array(n);
  const dg = new Float32Array(c), db = new Float32Array(c);
  nb.layerNormForward(y, null, mean, rstd, x, null, g, b, n, c, 1e-5);
  const [rows, v] = [2048, 8000];
  const logits = data(rows * v, 5, 8), dl = new Float32Array(rows * v), lse = new Float32Array(rows);
  const rng = new Rng(6);
  const targets = Int32Array.from({ length: rows }, (_, i) => (i % 10 === 9 ? -100 : Math.floor(rng.uniform() * v)));
  const ce = (fwd: typeof nb.crossEntropyForward, bwd: typeof nb.crossEntropyBackward) => () => {
    fwd(lse, logits, targets, rows, v, 0.1, -100);
    bwd(dl, logits, targets, lse, rows, v, 0.1, -100, 1);
  };
  const lnf = (fn: typeof nb.layerNormForward) => () => fn(y, null, mean, rstd, x, null, g, b, n, c, 1e-5);
  const lnb = (fn: typeof nb.layerNormBackward) => () => fn(dx, dg, db, dy, x, g, mean, rstd, n, c);
  const smf = (fn: typeof nb.softmaxForward) => () => fn(y, x, n, c);
  return [
    { name: 'LayerNorm forward', shape: '4096×512', bytes: 4 * (2 * n * c + 2 * n + 2 * c), fused: lnf(nb.layerNormForward), naive: lnf(nb.layerNormForwardNaive) },
    { name: 'LayerNorm backward', shape: '4096×512', bytes: 4 * (3 * n * c + 2 * n + 3 * c), fused: lnb(nb.layerNormBackward), naive: lnb(nb.layerNormBackwardNaive) },
    { name: 'softmax forward', shape: '4096×512', bytes: 4 * 2 * n * c, fused: smf(nb.softmaxForward), naive: smf(nb.softmaxForwardNaive) },
    { name: 'cross-entropy fwd+bwd (ε=0.1)', shape: '2048×8000', bytes: 4 * (3 * rows * v + 3 * rows), fused: ce(nb.crossEntropyForward, nb.crossEntropyBackward), naive: ce(nb.crossEntropyForwardNaive, nb.crossEntropyBackwardNaive) },
  ];
}

export async function benchRows(): Promise<void> {
  const { threads, simd } = backend.info();
  const out: Array<Array<string | number>> = [];
  for (const k of kernels()) {
    backend.setThreads(1);
    const one = await medianMs(k.fused, { time: 500 });
    const naive = await medianMs(k.naive, { time: 1, iterations: 3 });
    backend.setThreads(2);
    const two = await medianMs(k.fused, { time: 500 });
    const gbs = (ms: number) => fixed(k.bytes / ms / 1e6);
    out.push([k.name, k.shape, fixed(one, 3), gbs(one), fixed(naive, 2), `${fixed(naive / one)}×`, fixed(two, 3), gbs(two), `${fixed(one / two, 2)}×`]);
  }
  backend.setThreads(threads);
  table(`row-wise kernels, fp32, ${simd} (ms; GB/s = bytes read + written / time)`,
    ['kernel', 'shape', 'fused 1T', 'GB/s', 'naive 1T', 'fused / naive', 'fused 2T', 'GB/s', '2T / 1T'], out);
  console.log('\nLayerNorm forward target (2× PyTorch 1.54 ms, one thread): ≤ 0.77 ms.');
}
