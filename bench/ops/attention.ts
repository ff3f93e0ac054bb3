// Attention: the fused kernel vs the naive one (full score matrix) and vs ONNX Runtime's naive attention
// as measured on this machine (../shared/PEERS.md), B = 1, H = 8, D = 64, fp32, one thread unless noted.
// Effective GFLOP/s counts 4·L²·D·H for causal too, so block skipping shows as a higher rate. Memory is the
// peak-RSS growth of one call (Linux: VmHWM after resetting it through /proc/self/clear_refs).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { backend, randn, type Tensor } from '../../lib/index.js';
import { attentionBackward, attentionForward } from '../../lib/ops/attention.js';
import { fixed, medianMs, table } from '../common.js';

const H = 8, D = 64;
const LENGTHS = [128, 512, 1024, 2048, 4096, 8192];
// The naive kernel takes ~10 s per call at 4096 (and 256 MiB of scores per head): it stops there.
const NAIVE_MAX = 4096;
// ONNX Runtime (onnxruntime-node, 1 thread) forward ms, [plain, causal], from PEERS.md.
const ORT: Record<number, [number, number]> = { 512: [7.1, 14.0], 1024: [24, 62], 2048: [104, 248], 4096: [443, 1010] };

function readKiB(field: string): number | null {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * MiB by which one call raises the peak RSS of a fresh process (a process that has already freed big
 * buffers reuses their pages, which hides the growth): runs this file as a child, see the end of the file.
 */
function peakGrowthMiB(L: number, causal: boolean, naive: boolean): number | null {
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'rss', `${L}`, `${causal}`, `${naive}`], {
    encoding: 'utf8',
  });
  const mib = Number.parseFloat(child.stdout);
  return child.status === 0 && Number.isFinite(mib) ? mib : null;
}

const mib = (x: number | null) => (x === null ? '—' : fixed(x, 0));

export async function benchAttention(): Promise<void> {
  const threads = backend.info().threads;
  const rows: Array<Array<string | number>> = [];
  for (const causal of [false, true]) {
    for (const L of LENGTHS) {
      const q = randn([1, H, L, D], { seed: 1 }), k = randn([1, H, L, D], { seed: 2 }), v = randn([1, H, L, D], { seed: 3 });
      const dOut = randn([1, H, L, D], { seed: 4 });
      const opts = { causal };
      const budget = { time: L >= 4096 ? 1 : 400, iterations: L >= 4096 ? 3 : 5 };
      backend.setThreads(1);
      const fwd = await medianMs(() => attentionForward(q, k, v, opts), budget);
      const saved = attentionForward(q, k, v, opts);
      const bwd = await medianMs(() => attentionBackward(q, k, v, saved, dOut, opts), budget);
      const mem = peakGrowthMiB(L, causal, false);
      let naive: number | null = null, naiveMem: number | null = null;
      if (L <= NAIVE_MAX) {
        naive = await medianMs(() => attentionForward(q, k, v, opts, true), { time: 1, iterations: L >= 2048 ? 1 : 3 });
        naiveMem = peakGrowthMiB(L, causal, true);
      }
      backend.setThreads(threads);
      const fwdAll = await medianMs(() => attentionForward(q, k, v, opts), budget);
      const ort = ORT[L]?.[causal ? 1 : 0];
      rows.push([
        L, causal ? 'yes' : 'no', fixed(fwd, 2), fixed((4 * L * L * D * H) / fwd / 1e6),
        naive === null ? '—' : `${fixed(naive / fwd, 1)}×`, ort === undefined ? '—' : `${fixed(ort / fwd, 2)}×`,
        fixed(bwd, 2), `${fixed(bwd / fwd, 2)}×`, fixed(fwdAll, 2), `${fixed(fwd / fwdAll, 2)}×`, mib(mem), mib(naiveMem),
      ]);
      for (const t of [q, k, v, dOut, saved.out, saved.lse] as Tensor[]) t.dispose();
    }
  }
  table(`scaled dot-product attention, B=1 H=${H} D=${D}, fp32, ${backend.info().simd} (1 thread unless noted)`, [
    'L', 'causal', 'fused fwd ms', 'GFLOP/s', 'vs naive', 'vs ORT', 'bwd ms', 'bwd / fwd', `fwd ${threads}T ms`,
    `${threads}T speed-up`, 'fused +MiB', 'naive +MiB',
  ], rows);

  // Decoding: one new query against a KV cache (split keys so that every core works).
  const dec: Array<Array<string | number>> = [];
  for (const L of [512, 4096]) {
    const q = randn([1, H, 1, D], { seed: 5 }), k = randn([1, H, L, D], { seed: 6 }), v = randn([1, H, L, D], { seed: 7 });
    backend.setThreads(1);
    const one = await medianMs(() => attentionForward(q, k, v, { causal: true }), { time: 300, iterations: 50 });
    backend.setThreads(threads);
    const all = await medianMs(() => attentionForward(q, k, v, { causal: true }), { time: 300, iterations: 50 });
    dec.push([L, fixed(one * 1000, 0), fixed(all * 1000, 0), `${fixed(one / all, 2)}×`]);
  }
  table(`decode step (Lq = 1, H=${H}, D=${D}, causal)`, ['cache length', 'µs 1T', `µs ${threads}T`, 'speed-up'], dec);
}

// Child mode for peakGrowthMiB: inputs allocated and the addon warmed up first, then the peak RSS is reset
// (Linux: /proc/self/clear_refs) and one call measured.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === 'rss') {
  const [L, causal, naive] = [Number(process.argv[3]), process.argv[4] === 'true', process.argv[5] === 'true'];
  backend.setThreads(1);
  const q = randn([1, H, L, D], { seed: 1 }), k = randn([1, H, L, D], { seed: 2 }), v = randn([1, H, L, D], { seed: 3 });
  const tiny = randn([1, 1, 1, D], { seed: 4 });
  attentionForward(tiny, tiny, tiny); // loads the addon and starts the pool
  writeFileSync('/proc/self/clear_refs', '5');
  const before = readKiB('VmRSS')!;
  attentionForward(q, k, v, { causal }, naive);
  console.log(((readKiB('VmHWM')! - before) / 1024).toFixed(1));
}
