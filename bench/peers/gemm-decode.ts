// Decode GEMMs, same run: ours (the regular matmulForward), ours against a weight packed once
// (matmulPackedForward, transB only; the packing is done before the timing) and oneDNN
// (bench/peers/gemm_onednn.c, Debian's libdnnl-dev), one thread, C = A·op(B) with A M×K. Each round times
// the three back to back, in an order that rotates from round to round, so that all see the same load on a
// shared machine; the table gives the median over rounds of each side's median GFLOP/s and of the
// per-round ratios.
// All sides time the same way: a warm-up call, then `samples` timings of back-to-back calls lasting
// `MIN_S` seconds. Ours runs a batch of products per N-API call (same A and B, C rows apart) so that the
// ~0.1 µs of the call does not count against a 2 µs kernel; oneDNN is timed from C.
//
//   npx tsx bench/peers/gemm-decode.ts            (TRANS_B=T|N, SHAPES=MxKxN,..., ROUNDS, MIN_S, SAMPLES)
// Default shapes: the 1×512×512 and 8×512×2048, and the reference model's decode Linears for
// 1, 8 and 32 rows (d_model 256: Q/K/V/O 256→256, fused QKV 256→768, FFN 256→1024 and 1024→256,
// vocabulary 256→8000). TRANS_B=T (default) is the Linear layout, W stored N×K.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { backend } from '../../lib/index.js';
import { native } from '../../lib/native/binding.js';
import { fixed, table } from '../common.js';

const LINEARS = ['256x256', '256x768', '256x1024', '1024x256', '256x8000'];
const DEFAULT_SHAPES = ['1x512x512', '8x512x2048', ...[1, 8, 32].flatMap((m) => LINEARS.map((kn) => `${m}x${kn}`))];
const shapes = process.env.SHAPES ? process.env.SHAPES.split(',') : DEFAULT_SHAPES;
const transB = (process.env.TRANS_B ?? 'T') === 'T';
const rounds = Number(process.env.ROUNDS ?? 7);
const minS = Number(process.env.MIN_S ?? 0.1);
const samples = Number(process.env.SAMPLES ?? 5);

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;

// GFLOP/s of ours on one shape, with B as it is (regular) or packed once beforehand (packed).
function ours(shape: string, packed: boolean): number {
  const [m, k, n] = shape.split('x').map(Number) as [number, number, number];
  const nb = native();
  const a = Float32Array.from({ length: m * k }, (_, i) => ((i * 7) % 13 - 6) / 13);
  const b = Float32Array.from({ length: k * n }, (_, i) => ((i * 5) % 11 - 5) / 11);
  const batch = Math.max(1, Math.min(64, Math.floor(65536 / (m * n))));
  const c = new Float32Array(batch * m * n);
  const zeros = new Float64Array(batch);
  let call = () => nb.matmulForward(c, a, b, m, k, n, false, transB, false, batch, zeros, zeros, null);
  if (packed) {
    const p = new Float32Array(nb.matmulPackedSize(n, k));
    nb.matmulPack(p, b, n, k);
    call = () => nb.matmulPackedForward(c, a, p, m, k, n, batch, zeros, null);
  }
  const flop = 2 * m * k * n * batch;
  let t = performance.now();
  call();
  const t1 = (performance.now() - t) / 1e3;
  const inner = Math.min(100_000, t1 >= minS ? 1 : Math.floor(minS / Math.max(t1, 1e-7)) + 1);
  const g: number[] = [];
  for (let r = 0; r < samples; r++) {
    t = performance.now();
    for (let i = 0; i < inner; i++) call();
    g.push((flop * inner) / ((performance.now() - t) / 1e3) / 1e9);
  }
  return median(g);
}

const dir = mkdtempSync(join(tmpdir(), 'gemm-onednn-'));
const bin = join(dir, 'gemm_onednn');
execFileSync('gcc', ['-O3', '-march=native', '-fopenmp', new URL('gemm_onednn.c', import.meta.url).pathname, '-o', bin, '-ldnnl']);
const onednn = (shape: string): number => {
  const out = execFileSync(bin, [transB ? 'T' : 'N', String(minS), String(samples), shape], {
    env: { ...process.env, OMP_NUM_THREADS: '1' },
    encoding: 'utf8',
  });
  return (JSON.parse(out) as { median: number }).median;
};

backend.setThreads(1);
// The packed path exists for the Linear layout only.
const sides: Array<[string, (shape: string) => number]> = [
  ['ours', (sh) => ours(sh, false)],
  ...(transB ? [['prepacked', (sh: string) => ours(sh, true)] as [string, (shape: string) => number]] : []),
  ['oneDNN', onednn],
];
const rows = shapes.map((s) => {
  const g: number[][] = sides.map(() => []);
  for (let r = 0; r < rounds; r++) {
    // Each round times every side back to back, starting from a different one each round.
    for (let i = 0; i < sides.length; i++) {
      const j = (r + i) % sides.length;
      g[j]!.push(sides[j]![1](s));
    }
  }
  const last = g.length - 1;  // oneDNN
  const ratios = g.slice(0, last).map((xs) => xs.map((x, r) => x / g[last]![r]!));
  const range = (xs: number[]) => `${fixed(Math.min(...xs), 2)}–${fixed(Math.max(...xs), 2)}`;
  return [
    s.replaceAll('x', '×'), ...g.map((xs) => fixed(median(xs))),
    ...ratios.flatMap((xs) => [`${fixed(median(xs), 2)}×`, range(xs)]),
  ];
});
const names = sides.map(([name]) => name);
table(`decode GEMM, fp32, 1 thread, transB=${transB ? 'T' : 'N'}, ${rounds} rounds (GFLOP/s, medians over rounds)`,
  ['M×K×N', ...names, ...names.slice(0, -1).flatMap((name) => [`${name} / oneDNN`, 'min–max'])], rows);
