/**
 * Linear: y = x·Wᵀ + b with W [out, in] and b [out] (PyTorch's layout and default init,
 * U(±1/√in) for both), over the last dimension of x [..., in].
 *
 * @example
 * const proj = new Linear(512, 2048, { rng: new Rng(0) });
 * const h = proj.forward(x);   // x [B, L, 512] → [B, L, 2048]
 */
import { linear } from '../ops/linear.js';
import { matmul } from '../ops/matmul.js';
import { zeros } from '../tensor/create.js';
import type { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { uniformFanIn } from './init.js';
import { Module } from './module.js';

export class Linear extends Module {
  weight: Tensor;
  readonly bias: Tensor;

  constructor(readonly inFeatures: number, readonly outFeatures: number, opts: { rng: Rng }) {
    super();
    this.weight = this.registerParameter('weight', zeros([outFeatures, inFeatures]));
    this.bias = this.registerParameter('bias', zeros([outFeatures]));
    uniformFanIn(this.weight, opts.rng, inFeatures);
    uniformFanIn(this.bias, opts.rng, inFeatures);
  }

  /** x·Wᵀ without the bias (for callers that fuse the bias into the next kernel). */
  project(x: Tensor): Tensor {
    return matmul(x, this.weight, { transB: true });
  }

  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  /** Uses `weight` (same shape) as this layer's weight: weight tying. */
  tie(weight: Tensor): void {
    this.replaceParameter('weight', weight);
    this.weight = weight;
  }
}
