/**
 * The encoder (§3.1, Figure 1 left): N identical layers of self-attention and feed-forward sublayers,
 * each wrapped in a residual connection with LayerNorm, then a final LayerNorm as nn.Transformer adds.
 */
import type { Rng } from '../tensor/random.js';
import type { Tensor } from '../tensor/tensor.js';
import { MultiHeadAttention } from './attention.js';
import type { ResolvedConfig } from './config.js';
import { FeedForward } from './feed_forward.js';
import { LayerNorm } from './layer_norm.js';
import { Module, ModuleList } from './module.js';
import { SublayerConnection } from './sublayer.js';

type LayerConfig = Pick<ResolvedConfig, 'dModel' | 'heads' | 'ffnDim' | 'dropout' | 'activation' | 'normFirst'>;

export class EncoderLayer extends Module {
  readonly selfAttn: MultiHeadAttention;
  readonly ffn: FeedForward;
  readonly norm1: SublayerConnection;
  readonly norm2: SublayerConnection;

  constructor(c: LayerConfig, rng: Rng) {
    super();
    this.selfAttn = this.registerModule('selfAttn', new MultiHeadAttention(c.dModel, c.heads, rng));
    this.ffn = this.registerModule('ffn', new FeedForward(c.dModel, c.ffnDim, c.activation, c.dropout, rng));
    this.norm1 = this.registerModule('norm1', new SublayerConnection(c.dModel, c.dropout, c.normFirst, rng));
    this.norm2 = this.registerModule('norm2', new SublayerConnection(c.dModel, c.dropout, c.normFirst, rng));
  }

  /** x [B, L, d] with `lengths` real positions per row. */
  forward(x: Tensor, lengths: Int32Array): Tensor {
    const h = this.norm1.connect(x, (y) => this.selfAttn.forward(y, null, { kvLengths: lengths }));
    return this.norm2.connect(h, (y) => this.ffn.forward(y));
  }
}

export class Encoder extends Module {
  readonly layers: ModuleList<EncoderLayer>;
  readonly norm: LayerNorm;

  constructor(c: LayerConfig & { layers: number }, rng: Rng) {
    super();
    this.layers = this.registerModule('layers', new ModuleList(Array.from({ length: c.layers }, () => new EncoderLayer(c, rng))));
    this.norm = this.registerModule('norm', new LayerNorm(c.dModel));
  }

  forward(x: Tensor, lengths: Int32Array): Tensor {
    for (const layer of this.layers.items) x = layer.forward(x, lengths);
    return this.norm.forward(x);
  }
}
