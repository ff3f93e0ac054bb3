/**
 * The position-wise feed-forward network (§3.3 of the paper): FFN(x) = W₂·act(W₁x + b₁) + b₂ with ReLU
 * (the paper) or GELU, and dropout after the activation as in nn.TransformerEncoderLayer. The first
 * bias and the activation run as one fused kernel.
 */
import { biasGelu, biasRelu } from '../ops/activation.js';
import type { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { Dropout } from './dropout.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

export type Activation = 'relu' | 'gelu';

export class FeedForward extends Module {
  readonly linear1: Linear;
  readonly dropout: Dropout;
  readonly linear2: Linear;

  constructor(dModel: number, ffnDim: number, readonly activation: Activation, p: number, rng: Rng) {
    super();
    this.linear1 = this.registerModule('linear1', new Linear(dModel, ffnDim, { rng }));
    this.dropout = this.registerModule('dropout', new Dropout(p, rng));
    this.linear2 = this.registerModule('linear2', new Linear(ffnDim, dModel, { rng }));
  }

  forward(x: Tensor): Tensor {
    const h = this.linear1.project(x);
    const a = this.activation === 'relu' ? biasRelu(h, this.linear1.bias) : biasGelu(h, this.linear1.bias);
    return this.linear2.forward(this.dropout.forward(a));
  }
}
