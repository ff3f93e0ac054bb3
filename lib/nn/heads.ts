/**
 * Task heads over the Transformer's encoder, for the NLP task families it serves:
 * - `SequenceClassifier`: one label per sequence (sentiment, topic, entailment…), from the encoder's
 *   output pooled by the mean over real positions (default) or taken at the first token (a [CLS]-style
 *   token) → logits [B, numLabels];
 * - `TokenClassifier`: one label per token (tagging, NER) → logits [B, L, numLabels].
 * Both take `config & { numLabels }` where config is a Transformer config (`srcVocabSize` is the
 * vocabulary; the decoder fields are ignored).
 *
 * @example
 * const clf = new SequenceClassifier({ srcVocabSize: 8000, dModel: 128, heads: 4, encoderLayers: 2, numLabels: 3 });
 * const logits = clf.forward([ids1, ids2]);                           // [2, 3]
 * ops.crossEntropy(logits, new Int32Array([0, 2])).backward();
 */
import { checkInteger, checkOneOf } from '../check.js';
import { Rng } from '../tensor/random.js';
import { onDevice, Tensor } from '../tensor/tensor.js';
import { padBatch, type TokenBatch } from './batch.js';
import { type ResolvedConfig, resolveConfig, type TransformerConfig } from './config.js';
import { Embedding } from './embedding.js';
import { Encoder } from './encoder.js';
import { xavierUniform } from './init.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import { PositionalEncoding } from './positional_encoding.js';

export type HeadConfig = Omit<TransformerConfig, 'tgtVocabSize'> & { tgtVocabSize?: number; numLabels: number };
export type Pooling = 'mean' | 'first';

/** Embeddings, positions and the encoder stack, with a Linear head on top. */
abstract class EncoderWithHead extends Module {
  readonly config: ResolvedConfig;
  readonly numLabels: number;
  readonly embedding: Embedding;
  readonly positionalEncoding: PositionalEncoding;
  readonly encoder: Encoder;
  readonly classifier: Linear;

  constructor(config: HeadConfig, extraKeys: readonly string[]) {
    super();
    const c = resolveConfig(config, { encoderOnly: true, extraKeys: ['numLabels', ...extraKeys] });
    this.config = c;
    this.numLabels = checkInteger(config.numLabels, 'config.numLabels', 1, 2 ** 24);
    const rng = new Rng(c.seed);
    this.embedding = this.registerModule('embedding', new Embedding(c.srcVocabSize, c.dModel, Math.sqrt(c.dModel)));
    this.positionalEncoding = this.registerModule('positionalEncoding', new PositionalEncoding(c.dModel, c.maxLength, c.dropout, rng));
    this.encoder = this.registerModule('encoder', new Encoder({ ...c, layers: c.encoderLayers }, rng));
    this.classifier = this.registerModule('classifier', new Linear(c.dModel, this.numLabels, { rng }));
    for (const p of this.parameters()) if (p.rank > 1) xavierUniform(p, rng);
  }

  /** The encoder's output [B, L, dModel] and the real length of each row. */
  protected encode(src: TokenBatch): { h: Tensor; lengths: Int32Array } {
    const { ids, lengths } = padBatch(src, this.config.padId, this.config.srcVocabSize, this.config.maxLength, 'src', this.device);
    return { h: this.encoder.forward(this.positionalEncoding.forward(this.embedding.forward(ids)), lengths), lengths };
  }
}

export class SequenceClassifier extends EncoderWithHead {
  readonly pooling: Pooling;

  constructor(config: HeadConfig & { pooling?: Pooling }) {
    super(config, ['pooling']);
    this.pooling = config.pooling === undefined ? 'mean' : checkOneOf(config.pooling, 'config.pooling', ['mean', 'first'] as const);
  }

  /** Logits [B, numLabels], one row per sequence. */
  forward(src: TokenBatch): Tensor {
    const { h, lengths } = this.encode(src);
    const [batch, length] = h.shape as [number, number, number];
    // Pooling as a weighted sum over positions: 1/len on real positions (mean) or 1 on the first.
    const w = new Float32Array(batch * length);
    lengths.forEach((len, b) => {
      if (this.pooling === 'first') w[b * length] = 1;
      else w.fill(1 / len, b * length, b * length + len);
    });
    const pooled = h.mul(new Tensor(onDevice(w, h.device), Object.freeze([batch, length, 1]))).sum({ dims: 1 });
    return this.classifier.forward(pooled);
  }
}

export class TokenClassifier extends EncoderWithHead {
  constructor(config: HeadConfig) {
    super(config, []);
  }

  /** Logits [B, L, numLabels]: a label distribution per token (padded positions included; mask them in the loss). */
  forward(src: TokenBatch): Tensor {
    return this.classifier.forward(this.encode(src).h);
  }
}
