// Element-wise kernels of a Transformer: fused (SIMD, threaded) vs naive (plain loops), on one thread and
// on two. Each row times the native entry point on preallocated buffers; GB/s counts the bytes a kernel
// must read and write (x and y; x, dy and dx; the embedding rows gathered or scattered; param, grad, m, v
// read and param, m, v written for Adam; src and dst of a permute), so it can be read against the
// machine's memory bandwidth.
import { backend } from '../../lib/index.js';
import { native } from '../../lib/native/binding.js';
import { Rng } from '../../lib/tensor/random.js';
import { fixed, medianMs, table } from '../common.js';

function data(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform() * 4 - 2;
  return out;
}

interface Case {
  name: string;
  shape: string;
  bytes: number;
  fused: () => unknown;
  naive: () => unknown;
}

function cases(): Case[] {
  const nb = native();
  const rows = 2048, cols = 1024, n = rows * cols;
  const x = data(n, 1), dy = data(n, 2), y = new Float32Array(n), b = data(cols, 3), db = new Float32Array(cols);
  const act = (fwd: typeof nb.activationForward, bias: Float32Array | null) => () => fwd(y, x, bias, rows, cols, 'gelu');
  const actBwd = (bwd: typeof nb.activationBackward, bias: Float32Array | null) => () =>
    bwd(y, bias && db, x, bias, dy, rows, cols, 'gelu');

  const dn = 2 * 1024 * 1024, dx = data(dn, 4), dyOut = new Float32Array(dn);

  const vocab = 8000, dim = 256, nIds = 2048;
  const rng = new Rng(5);
  const ids = Int32Array.from({ length: nIds }, () => Math.floor(rng.uniform() * vocab));
  const table = data(vocab * dim, 6), out = new Float32Array(nIds * dim), dOut = data(nIds * dim, 7);
  const dTable = new Float32Array(vocab * dim);

  const pn = 10_000_000;
  const param = data(pn, 8), grad = data(pn, 9), m = new Float32Array(pn), v = new Float32Array(pn);
  const adam = (fn: typeof nb.adamUpdate) => () => fn(param, grad, m, v, 1e-6, 0.9, 0.999, 1e-8, 0.01, true, 10);

  // The head split of the reference config: [B, L, H, Dh] = [32, 64, 4, 64] read as [B, H, L, Dh].
  const [B, L, H, Dh] = [32, 64, 4, 64], hn = B * L * H * Dh;
  const heads = data(hn, 10), split = new Float32Array(hn);
  const permute = (fn: typeof nb.stridedCopy) => () =>
    fn(split, heads, [B, H, L, Dh], [H * L * Dh, L * Dh, Dh, 1], [L * H * Dh, Dh, H * Dh, 1], 0, 0);

  return [
    { name: 'GELU forward', shape: `${rows}×${cols}`, bytes: 8 * n, fused: act(nb.activationForward, null), naive: act(nb.activationForwardNaive, null) },
    { name: 'GELU backward', shape: `${rows}×${cols}`, bytes: 12 * n, fused: actBwd(nb.activationBackward, null), naive: actBwd(nb.activationBackwardNaive, null) },
    { name: 'bias+GELU forward', shape: `${rows}×${cols}`, bytes: 8 * n, fused: act(nb.activationForward, b), naive: act(nb.activationForwardNaive, b) },
    { name: 'bias+GELU backward (dx, db)', shape: `${rows}×${cols}`, bytes: 12 * n, fused: actBwd(nb.activationBackward, b), naive: actBwd(nb.activationBackwardNaive, b) },
    { name: 'dropout p=0.1', shape: `${dn}`, bytes: 8 * dn, fused: () => nb.dropoutForward(dyOut, dx, 0.1, 1, 0), naive: () => nb.dropoutForwardNaive(dyOut, dx, 0.1, 1, 0) },
    { name: 'embedding forward', shape: `${nIds} ids, ${vocab}×${dim}`, bytes: 8 * nIds * dim + 4 * nIds, fused: () => nb.embeddingForward(out, table, ids, vocab, dim), naive: () => nb.embeddingForwardNaive(out, table, ids, vocab, dim) },
    { name: 'embedding backward', shape: `${nIds} ids, ${vocab}×${dim}`, bytes: 12 * nIds * dim + 4 * nIds, fused: () => nb.embeddingBackward(dTable, ids, dOut, vocab, dim, null), naive: () => nb.embeddingBackwardNaive(dTable, ids, dOut, vocab, dim, null) },
    { name: 'permute (head split)', shape: `[${B}, ${L}, ${H}, ${Dh}] → [${B}, ${H}, ${L}, ${Dh}]`, bytes: 8 * hn, fused: permute(nb.stridedCopy), naive: permute(nb.stridedCopyNaive) },
    { name: 'AdamW step', shape: `${pn / 1e6}M params`, bytes: 28 * pn, fused: adam(nb.adamUpdate), naive: adam(nb.adamUpdateNaive) },
  ];
}

export async function benchElementwise(): Promise<void> {
  const { threads, simd } = backend.info();
  const two = Math.min(2, backend.info().hardwareThreads);
  const rows: Array<Array<string | number>> = [];
  for (const c of cases()) {
    const gbs = (ms: number) => fixed(c.bytes / ms / 1e6, 1);
    backend.setThreads(1);
    const fused1 = await medianMs(c.fused, { time: 300 });
    const naive1 = await medianMs(c.naive, { time: 300 });
    backend.setThreads(two);
    const fused2 = await medianMs(c.fused, { time: 300 });
    rows.push([
      c.name, c.shape, fixed(fused1, 3), gbs(fused1), fixed(naive1, 3), gbs(naive1), `${fixed(naive1 / fused1, 1)}×`,
      fixed(fused2, 3), gbs(fused2), `${fixed(fused1 / fused2, 2)}×`,
    ]);
  }
  backend.setThreads(threads);
  table(`element-wise kernels, fp32, ${simd} (ms per call, GB/s of data read + written)`, [
    'kernel', 'shape', 'fused 1T ms', 'GB/s', 'naive 1T ms', 'GB/s', 'fused / naive', `fused ${two}T ms`, 'GB/s', `${two}T / 1T`,
  ], rows);
}
