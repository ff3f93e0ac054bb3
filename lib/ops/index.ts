/**
 * Kernels: `ops` runs the fused / optimised kernels, `ops.naive` the reference implementation of each
 * with the same signature (what the benches compare against).
 */
import { crossEntropy, crossEntropyNaive } from './cross_entropy.js';
import { addLayerNorm, addLayerNormNaive, layerNorm, layerNormNaive } from './layer_norm.js';
import { matmul, matmulNaive } from './matmul.js';
import { softmax, softmaxNaive } from './softmax.js';

export type { CrossEntropyOptions } from './cross_entropy.js';
export type { MatmulOptions } from './matmul.js';

export const ops = {
  matmul,
  layerNorm,
  addLayerNorm,
  softmax,
  crossEntropy,
  naive: {
    matmul: matmulNaive,
    layerNorm: layerNormNaive,
    addLayerNorm: addLayerNormNaive,
    softmax: softmaxNaive,
    crossEntropy: crossEntropyNaive,
  },
};
