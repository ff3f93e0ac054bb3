/**
 * Kernels: `ops` runs the fused / optimised kernels, `ops.naive` the reference implementation of each
 * with the same signature (what the benches compare against). Every op is differentiable: with an input
 * that requires grad it records its backward for autograd (lib/autograd), and `ops.naive` records the
 * reference backward. The backward functions themselves are exported by the op modules.
 */
import { biasGelu, biasGeluNaive, biasRelu, biasReluNaive, gelu, geluNaive, relu, reluNaive } from './activation.js';
import { adamStep, adamStepNaive } from './adam.js';
import { add, addBias, addBiasNaive, addNaive } from './add.js';
import { scaledDotProductAttention, scaledDotProductAttentionNaive } from './attention.js';
import { crossEntropy, crossEntropyNaive } from './cross_entropy.js';
import { dropout, dropoutNaive } from './dropout.js';
import { embedding, embeddingNaive } from './embedding.js';
import { addLayerNorm, addLayerNormNaive, layerNorm, layerNormNaive } from './layer_norm.js';
import { linear, linearNaive } from './linear.js';
import { matmul, matmulNaive } from './matmul.js';
import { softmax, softmaxNaive } from './softmax.js';

export type { AdamStepOptions } from './adam.js';
export type { AttentionOptions } from './attention.js';
export type { CrossEntropyOptions } from './cross_entropy.js';
export type { DropoutOptions } from './dropout.js';
export type { MatmulOptions } from './matmul.js';

export const ops = {
  matmul,
  linear,
  scaledDotProductAttention,
  relu,
  gelu,
  biasRelu,
  biasGelu,
  dropout,
  embedding,
  addBias,
  add,
  adamStep,
  layerNorm,
  addLayerNorm,
  softmax,
  crossEntropy,
  naive: {
    matmul: matmulNaive,
    linear: linearNaive,
    scaledDotProductAttention: scaledDotProductAttentionNaive,
    relu: reluNaive,
    gelu: geluNaive,
    biasRelu: biasReluNaive,
    biasGelu: biasGeluNaive,
    dropout: dropoutNaive,
    embedding: embeddingNaive,
    addBias: addBiasNaive,
    add: addNaive,
    adamStep: adamStepNaive,
    layerNorm: layerNormNaive,
    addLayerNorm: addLayerNormNaive,
    softmax: softmaxNaive,
    crossEntropy: crossEntropyNaive,
  },
};
