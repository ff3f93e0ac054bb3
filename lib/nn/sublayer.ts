/**
 * The residual connection around each sublayer (§3.1 of the paper), with its LayerNorm and dropout:
 * - post-norm (`normFirst` false, the paper and nn.Transformer's default): LayerNorm(x + Dropout(f(x))),
 *   the add and the norm fused in one kernel;
 * - pre-norm (`normFirst` true): x + Dropout(f(LayerNorm(x))), which trains deeper stacks without warmup.
 * It is a LayerNorm (its `weight` and `bias` are the norm's), so a layer's connections are named norm1,
 * norm2, norm3 as in PyTorch.
 */
import type { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { add } from '../ops/add.js';
import { Dropout } from './dropout.js';
import { LayerNorm } from './layer_norm.js';

export class SublayerConnection extends LayerNorm {
  readonly dropout: Dropout;

  constructor(dim: number, p: number, readonly normFirst: boolean, rng: Rng) {
    super(dim);
    this.dropout = this.registerModule('dropout', new Dropout(p, rng));
  }

  connect(x: Tensor, sublayer: (h: Tensor) => Tensor): Tensor {
    if (this.normFirst) return add(x, this.dropout.forward(sublayer(this.forward(x))));
    return this.forwardResidual(this.dropout.forward(sublayer(x)), x);
  }
}
