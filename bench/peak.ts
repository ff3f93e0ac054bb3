// This machine's fp32 FMA peak per SIMD level, measured natively (native/kernels/fma_peak*), so that
// kernel efficiency is a ratio taken in the same run.
import { backend } from '../lib/index.js';
import { native } from '../lib/native/binding.js';
import { fixed, table } from './common.js';

interface Peak {
  simd: string;
  one: number;   // GFLOP/s on one thread
  all: number;   // GFLOP/s on every thread
}

export function measurePeaks(): Peak[] {
  const { supportedSimd, threads } = backend.info();
  return supportedSimd
    .filter((s) => s !== 'scalar')
    .reverse()
    .map((simd) => ({ simd, one: native().fmaPeak(simd, 0.3, 1), all: native().fmaPeak(simd, 0.3, threads) }));
}

export function printPeaks(peaks: Peak[]): void {
  const t = backend.info().threads;
  table('fp32 FMA peak (GFLOP/s)', ['SIMD', '1 thread', `${t} threads`], peaks.map((p) => [p.simd, fixed(p.one), fixed(p.all)]));
}

if (import.meta.url === `file://${process.argv[1]}`) printPeaks(measurePeaks());
