/**
 * LayerNorm over the last dimension with a learnt gain γ (ones) and bias β (zeros), eps 1e-5 as PyTorch;
 * parameters `weight` and `bias` as PyTorch names them.
 */
import { addLayerNorm, layerNorm } from '../ops/layer_norm.js';
import { ones, zeros } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';

export class LayerNorm extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly dim: number, readonly eps = 1e-5) {
    super();
    this.weight = this.registerParameter('weight', ones([dim]));
    this.bias = this.registerParameter('bias', zeros([dim]));
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }

  /** LN(x + residual) in one fused pass. */
  forwardResidual(x: Tensor, residual: Tensor): Tensor {
    return addLayerNorm(x, residual, this.weight, this.bias, this.eps).out;
  }
}
