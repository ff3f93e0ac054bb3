// native/kernels/fma_peak*: the bench's peak kernel runs under every ISA, on one thread and on all, and
// reports a finite positive rate (the figure itself is the bench's business, never a test's).
import { describe, expect, it } from 'vitest';

import { native } from '../../lib/native/binding.js';
import { SIMD_LEVELS } from '../helpers.js';

describe.each(SIMD_LEVELS)('fma_peak [%s]', (simd) => {
  it('runs on one thread and on all', () => {
    const { threads } = native().info();
    for (const t of [1, threads]) {
      const gflops = native().fmaPeak(simd, 0.01, t);
      expect(Number.isFinite(gflops) && gflops > 0).toBe(true);
    }
  });
});
