/** The layers of the Transformer, in the paper's order, and the models built from them. */
export { MultiHeadAttention, type AttentionMasks } from './attention.js';
export { padBatch, type PaddedBatch, type TokenBatch } from './batch.js';
export type { ResolvedConfig, TransformerConfig } from './config.js';
export { Decoder, DecoderLayer } from './decoder.js';
export { Dropout } from './dropout.js';
export { Embedding } from './embedding.js';
export { Encoder, EncoderLayer } from './encoder.js';
export { type Activation, FeedForward } from './feed_forward.js';
export { type HeadConfig, type Pooling, SequenceClassifier, TokenClassifier } from './heads.js';
export { LayerNorm } from './layer_norm.js';
export { Linear } from './linear.js';
export { type LoadStateDictOptions, Module, ModuleList } from './module.js';
export { PositionalEncoding } from './positional_encoding.js';
export { SublayerConnection } from './sublayer.js';
export { type LoadOptions, type Quantization, type QuantizeOptions, type SaveOptions, type StateDictOptions, Transformer } from './transformer.js';
