/**
 * Kernels: `ops` runs the fused / optimised kernels, `ops.naive` the reference implementation of each
 * with the same signature (what the benches compare against).
 */
import { scaledDotProductAttention, scaledDotProductAttentionNaive } from './attention.js';
import { matmul, matmulNaive } from './matmul.js';

export type { AttentionOptions } from './attention.js';
export type { MatmulOptions } from './matmul.js';

export const ops = {
  matmul,
  scaledDotProductAttention,
  naive: {
    matmul: matmulNaive,
    scaledDotProductAttention: scaledDotProductAttentionNaive,
  },
};
