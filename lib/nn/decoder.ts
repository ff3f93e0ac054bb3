/**
 * The decoder (§3.1, Figure 1 right): N layers of masked self-attention, cross-attention over the
 * encoder's memory and feed-forward, each in a residual connection with LayerNorm, then a final LayerNorm.
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

export class DecoderLayer extends Module {
  readonly selfAttn: MultiHeadAttention;
  readonly crossAttn: MultiHeadAttention;
  readonly ffn: FeedForward;
  readonly norm1: SublayerConnection;
  readonly norm2: SublayerConnection;
  readonly norm3: SublayerConnection;

  constructor(c: LayerConfig, rng: Rng) {
    super();
    this.selfAttn = this.registerModule('selfAttn', new MultiHeadAttention(c.dModel, c.heads, rng));
    this.crossAttn = this.registerModule('crossAttn', new MultiHeadAttention(c.dModel, c.heads, rng));
    this.ffn = this.registerModule('ffn', new FeedForward(c.dModel, c.ffnDim, c.activation, c.dropout, rng));
    this.norm1 = this.registerModule('norm1', new SublayerConnection(c.dModel, c.dropout, c.normFirst, rng));
    this.norm2 = this.registerModule('norm2', new SublayerConnection(c.dModel, c.dropout, c.normFirst, rng));
    this.norm3 = this.registerModule('norm3', new SublayerConnection(c.dModel, c.dropout, c.normFirst, rng));
  }

  /** x [B, Lt, d] (tgtLengths real positions) attending to memory [B, Ls, d] (srcLengths real positions). */
  forward(x: Tensor, memory: Tensor, tgtLengths: Int32Array, srcLengths: Int32Array): Tensor {
    let h = this.norm1.connect(x, (y) => this.selfAttn.forward(y, null, { causal: true, kvLengths: tgtLengths }));
    h = this.norm2.connect(h, (y) => this.crossAttn.forward(y, memory, { kvLengths: srcLengths }));
    return this.norm3.connect(h, (y) => this.ffn.forward(y));
  }
}

export class Decoder extends Module {
  readonly layers: ModuleList<DecoderLayer>;
  readonly norm: LayerNorm;

  constructor(c: LayerConfig & { layers: number }, rng: Rng) {
    super();
    this.layers = this.registerModule('layers', new ModuleList(Array.from({ length: c.layers }, () => new DecoderLayer(c, rng))));
    this.norm = this.registerModule('norm', new LayerNorm(c.dModel));
  }

  forward(x: Tensor, memory: Tensor, tgtLengths: Int32Array, srcLengths: Int32Array): Tensor {
    for (const layer of this.layers.items) x = layer.forward(x, memory, tgtLengths, srcLengths);
    return this.norm.forward(x);
  }
}
